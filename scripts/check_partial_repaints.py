"""Do the live views' partial repaints leave on screen what painting them whole draws, at a scale?

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1200x24" python scripts/check_partial_repaints.py 1.25

A check, not a test: it needs a real X11 screen (under the offscreen platform a whole-window
grab comes back at logical size and a region grab of a dock's view can come back empty, and a
widget's own ``grab()`` cannot be compared with the screen at a fractional scale). It opens the
window on the default model at ``QT_SCALE_FACTOR`` = the argument, draws a stroke fast (one
analysis per pen event, the paced numbers waiting as in use), and every 15 pen events grabs each
live view from the screen, repaints it and its children whole, and grabs it again. It prints,
per view, the largest channel difference over the checks where nothing shown changed between
the two grabs (no analysis arrived, no paced value was shown; 0: the partial repaints left
exactly what a whole repaint draws).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_SCALE_FACTOR"] = sys.argv[1] if len(sys.argv) > 1 else "1.25"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from tests.qt.conftest import canvas_points, send_mouse  # noqa: E402
from tests.qt.test_live_views import on_screen, pixels  # noqa: E402


def main() -> None:
    app = QApplication([])
    from aegui.__main__ import create_window
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
    from aegui.qt.painting.pace import Pace

    window = create_window(QSettings(tempfile.mkdtemp() + "/check.ini", QSettings.Format.IniFormat), load_reference_digits())
    window.show()
    window.resize(1350, 728)
    window.sliders_dock.show()
    loaded = []
    window.model_shown.connect(loaded.append)
    window.open_model(DEFAULT_CHECKPOINT)
    while not loaded:
        app.processEvents()
    views = {"decoded": window.decoded_view, "sliders": window.sliders.viewport(), "meter": window.anomaly_meter, "probabilities": window.probabilities.viewport(), "bars": window.latent_bars.viewport(), "nearest": window.nearest_digits, "map": window.latent_map.viewport()}
    views = {name: view for name, view in views.items() if view.isVisible() and not on_screen(view).isNull()}
    canvas, left = window.canvas, Qt.MouseButton.LeftButton
    points = canvas_points(canvas, "zero", count=120)
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    worst, checks, paces = dict.fromkeys(views, 0), 0, window.findChildren(Pace)
    for index, (x, y) in enumerate(points[1:]):
        shown = []
        window.analysis_shown.connect(shown.append)
        send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        while not shown:
            app.processEvents()
        window.analysis_shown.disconnect(shown.append)
        app.processEvents()
        if index % 15 != 14:
            continue
        analysis, shown_values = window.explorer.analysis, [pace.shown for pace in paces]
        partial = {name: pixels(on_screen(view)) for name, view in views.items()}
        for view in views.values():
            for widget in (view, *view.findChildren(QWidget)):
                widget.update()
        for _ in range(5):
            app.processEvents()
        if window.explorer.analysis is not analysis or [pace.shown for pace in paces] != shown_values:
            continue  # a late result or a paced value changed what is shown: not comparable
        checks += 1
        for name, view in views.items():
            worst[name] = max(worst[name], int(np.abs(partial[name] - pixels(on_screen(view))).max()))
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    print(f"scale {window.devicePixelRatioF()}, {checks} checks; largest difference from a whole repaint per view: {worst}")


if __name__ == "__main__":
    main()
