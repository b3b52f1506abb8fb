"""``aegui --watch DIR``: the window opens watching a run folder, as File ▸ Watch does."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication

import aegui.__main__ as entry
from tests.qt.conftest import SIGNAL_TIMEOUT_MS


def write_run(folder) -> None:
    folder.mkdir(parents=True)
    lines = [{"event": "start", "max_epochs": 4}, {"event": "epoch", "epoch": 0, "val_mse": 0.05, "elapsed": 3.0, "eta": 9.0}]
    (folder / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_watch_takes_a_folder_and_refuses_anything_else_in_one_line(tmp_path, capsys):
    assert entry.parse_args(["--watch", str(tmp_path)]).watch == tmp_path
    assert entry.parse_args([]).watch is None
    (tmp_path / "file.txt").write_text("not a folder")
    for wrong, problem in ((tmp_path / "missing", "does not exist (yet): start the run first (aegui-train fit makes its --progress-dir as it starts)"), (tmp_path / "file.txt", "is not a folder")):
        with pytest.raises(SystemExit) as exited:
            entry.parse_args(["--watch", str(wrong)])
        assert exited.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [f"aegui: argument --watch: {wrong} {problem} (aegui --help lists the options)"]


def test_a_misspelt_option_gets_the_closest_one_suggested(capsys):
    with pytest.raises(SystemExit) as exited:
        entry.parse_args(["--setings", "x.ini"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == ["aegui: unrecognized arguments: --setings (did you mean --settings?)"]


def test_aegui_watch_opens_the_window_following_the_run(qtbot, tmp_path, monkeypatch):
    """The whole start-up path (main), with the event loop run by the test until the run shows."""
    progress = tmp_path / "run" / "progress"
    write_run(progress)
    windows = []
    create_window = entry.create_window
    monkeypatch.setattr(entry, "create_window", lambda *args: windows.append(create_window(*args)) or windows[-1])
    monkeypatch.setattr(entry, "log_file_path", lambda: tmp_path / "aegui.log")
    monkeypatch.setattr(entry, "configure_process_for_live_drawing", lambda: None)
    monkeypatch.setattr(entry, "install_exception_dialog", lambda path: None)

    def run_until_watching(application) -> int:
        window = windows[-1]
        qtbot.waitUntil(lambda: window.training_run.state.epoch == 0 and window.training_dock.isVisible(), timeout=SIGNAL_TIMEOUT_MS)
        return 0

    monkeypatch.setattr(QApplication, "exec", run_until_watching)
    try:
        assert entry.main(["--watch", str(progress), "--settings", str(tmp_path / "settings.ini")]) == 0
        window = windows[-1]
        assert window.training_run.folder == progress
        assert window.training_view.status.text().startswith("Epoch 1 of 4 done")
        assert window.training_view.stop_button.isEnabled()
    finally:
        for window in windows:
            window.training_view.stop_watching()
            window.executor.shutdown()
            window.close()
