"""The Linux desktop entry: a launcher and an icon where XDG desktops look for them."""

from __future__ import annotations

import configparser

from aegui.__main__ import main
from aegui.core.resources import ICON


def test_install_desktop_entry_writes_a_launcher_and_its_icon(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    entry = tmp_path / "applications" / "aegui.desktop"
    icon = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "aegui.png"
    assert capsys.readouterr().out.splitlines() == [f"wrote {entry}", f"wrote {icon}"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(entry)
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "aegui" and section["Name"] == "aegui"
    assert "aegui" in section["Exec"] and section["Exec"].endswith("%f")
    assert icon.read_bytes() == ICON.read_bytes() and ICON.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
