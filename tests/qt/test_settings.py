"""Every persisted setting falls back to its default when missing, damaged or unknown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from aegui.qt import settings as settings_table
from aegui.qt.settings import EXPORT_DIR, PROJECTION, RECENT_FILES, WINDOW_GEOMETRY, Setting, Settings


def test_missing_values_read_as_their_defaults(tmp_path):
    settings = Settings(QSettings(str(tmp_path / "empty.ini"), QSettings.Format.IniFormat))
    assert all(settings.read(setting) == setting.default for setting in vars(settings_table).values() if isinstance(setting, Setting))


def test_damaged_and_unknown_values_fall_back(tmp_path):
    path = tmp_path / "damaged.ini"
    path.write_text("[map]\nprojection=isomap\n[files]\nrecent=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x3f)\nexport_dir=@ByteArray(\\xff)\n[window]\ngeometry=3\n")
    settings = Settings(QSettings(str(path), QSettings.Format.IniFormat))
    assert settings.read(PROJECTION) == "pca"
    assert settings.read(RECENT_FILES) == []
    assert settings.read(EXPORT_DIR) == EXPORT_DIR.default
    assert settings.read(WINDOW_GEOMETRY) is None


def test_good_values_round_trip_and_recent_files_skip_missing_ones(tmp_path):
    store = QSettings(str(tmp_path / "good.ini"), QSettings.Format.IniFormat)
    settings = Settings(store)
    model = tmp_path / "model.ckpt"
    model.write_bytes(b"x")
    settings.write(PROJECTION, "tsne")
    settings.write(WINDOW_GEOMETRY, QByteArray(b"\x01\x02"))
    settings.remember_recent(tmp_path / "gone.ckpt")
    settings.remember_recent(model)
    store.sync()
    again = Settings(QSettings(str(tmp_path / "good.ini"), QSettings.Format.IniFormat))
    assert again.read(PROJECTION) == "tsne"
    assert bytes(again.read(WINDOW_GEOMETRY)) == b"\x01\x02"
    assert again.recent_files() == [str(Path(model).resolve())]
