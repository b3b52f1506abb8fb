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
    window.executor.shutdown()
