"""``aegui BADFILE``: the file is refused with its reason, and the bundled default opens instead."""

from __future__ import annotations

from aegui.__main__ import create_window, open_first_model
from aegui.core.resources import DEFAULT_CHECKPOINT
from tests.qt.conftest import SIGNAL_TIMEOUT_MS


def test_a_refused_file_on_the_command_line_says_why_and_opens_the_bundled_default(qtbot, reference, settings, tmp_path, capfd):
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"PK\x03\x04 a zip header and nothing else")
    window = create_window(settings, reference)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS) as shown:
        open_first_model(window, broken)
    assert shown.args[0].model.path == DEFAULT_CHECKPOINT and window.explorer.session.model.path == DEFAULT_CHECKPOINT
    error = capfd.readouterr().err
    assert f"aegui: could not open {broken}: " in error and error.rstrip().endswith("Opening the bundled default model instead.")
    assert "broken.ckpt" in window._error_box.text()  # the window's message says why, too
    assert window._error_box.text().endswith("The bundled default model opens instead.")  # and what happens now
    assert window.statusBar().currentMessage() == f"Could not open broken.ckpt; showing the bundled default model ({DEFAULT_CHECKPOINT.name}: k = 32)"  # not replaced by "Loaded …"
    window.executor.shutdown()


def test_aegui_without_a_file_reopens_the_model_it_closed_with(qtbot, reference, settings, k2_checkpoint, tmp_path):
    from aegui.__main__ import first_model_path

    window = create_window(settings, reference)
    qtbot.addWidget(window)
    assert first_model_path(window, None) == DEFAULT_CHECKPOINT  # a first start: the bundled default
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)
    window.close()
    window.executor.shutdown()
    again = create_window(settings, reference)  # the next start, with the same settings
    qtbot.addWidget(again)
    assert first_model_path(again, None) == k2_checkpoint
    assert first_model_path(again, tmp_path / "named.ckpt") == tmp_path / "named.ckpt"  # a file given wins
    with qtbot.waitSignal(again.model_shown, timeout=SIGNAL_TIMEOUT_MS) as shown:
        open_first_model(again, first_model_path(again, None))
    assert shown.args[0].model.path == k2_checkpoint
    again.executor.shutdown()
