"""Save a screenshot of the real window with a drawn digit: ``python scripts/screenshot.py OUT.png``.

Run it under ``xvfb-run -a -s "-screen 0 1366x768x24"`` for a real X11 window (or with
QT_QPA_PLATFORM=offscreen). The window takes the size a first start gives it on that screen.
It opens the bundled default model, grabs the window before drawing (``OUT-before.png`` with
``--before``), draws the recorded handwritten "2" from ``tests/benchmarks/stroke-200.json``
with real mouse events, and grabs the window again.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aegui.__main__ import create_window  # noqa: E402
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits  # noqa: E402

STROKE = json.loads((REPO / "tests" / "benchmarks" / "stroke-200.json").read_text())["points"]


def send(widget, kind, point, button, buttons) -> None:
    QApplication.sendEvent(widget, QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons, Qt.KeyboardModifier.NoModifier))


def draw_recorded_stroke(canvas) -> None:
    """The recorded handwritten "2", as real mouse events with the button held."""
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2
    points = [QPointF(x0 + x * side, y0 + y * side) for x, y, _ in STROKE]
    left = Qt.MouseButton.LeftButton
    send(canvas, QEvent.Type.MouseButtonPress, points[0], left, left)
    for point in points[1:]:
        send(canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, left)
        QApplication.processEvents()
    send(canvas, QEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton)


def main(output: Path, before: bool = False) -> None:
    app = QApplication(sys.argv[:1])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "screenshot.ini"), QSettings.Format.IniFormat)
    window = create_window(settings, load_reference_digits())
    window.restore_layout()
    window.show()

    def start(_session) -> None:
        if before:  # once the mean code's analysis is on screen
            window.analysis_shown.connect(grab_before)
        else:
            draw()

    def grab_before(_analysis) -> None:
        window.analysis_shown.disconnect(grab_before)
        QApplication.processEvents()
        window.grab().save(str(output.with_name(output.stem + "-before.png")))
        draw()

    def draw() -> None:
        draw_recorded_stroke(window.canvas)
        labels = window.explorer.session.dimension_labels
        slant = next((index for index, label in enumerate(labels) if label.startswith("slant")), 0)
        window.explorer.select_dimension(slant)  # as a click on that bar does
        wait_for_strip()

    def wait_for_strip() -> None:  # the traversal decoded (slow machines take a while)
        if len(window.traversal_panel.strip.images) and window.executor.is_idle():
            QTimer.singleShot(300, save)
        else:
            QTimer.singleShot(100, wait_for_strip)

    def save() -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(output))
        print(f"wrote {output} ({app.platformName()} platform)")
        window.close()
        app.quit()

    window.model_shown.connect(start)
    window.open_model(DEFAULT_CHECKPOINT)
    app.exec()


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--before"]
    main(Path(arguments[0]) if arguments else REPO / "docs" / "screenshot.png", before="--before" in sys.argv)
