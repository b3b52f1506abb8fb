"""Fractional display scaling (a laptop's 125 %): what is painted lines up as at 100 %.

Qt's scale factor is fixed when the application starts, so each check runs in a process of
its own with ``QT_SCALE_FACTOR`` set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SLIDER_ROWS = r"""
import json, os, sys
import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
app = QApplication([])
from aegui.qt.painting.slider_rows import MARGIN, ROW_HEIGHT, SliderRows
rows = SliderRows()
rows.set_rows([f"{i} dim" for i in range(12)])
rows.resize(300, 12 * ROW_HEIGHT + 2 * MARGIN)
rows.set_row_values(np.arange(12) * 80, np.arange(12) * 0.5)
rows.show()
app.processEvents()
image = rows.grab().toImage()
ratio = rows.devicePixelRatioF()
from aegui.qt.painting.colours import MARK, toward_text
groove = toward_text(MARK, rows.palette())
left, right = rows.track_span()
x = int((right - 4) * ratio)  # right of every handle: only the groove is drawn there
grooves = [y for y in range(image.height()) if image.pixelColor(x, y).rgb() == groove.rgb()]
bands = [ys for ys in np.split(np.array(grooves), np.flatnonzero(np.diff(grooves) > 1) + 1) if len(ys)]
print(json.dumps({"ratio": ratio, "groove_centres": [float(np.mean(ys)) / ratio for ys in bands]}))
"""


@pytest.mark.parametrize("scale", ["1.25", "2"])
def test_slider_rows_are_painted_where_they_are_at_100_percent(scale):
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", SLIDER_ROWS], capture_output=True, text=True, timeout=120, env=environment, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ratio"] == float(scale)
    expected = [4 + row * 22 + 11 for row in range(12)]  # MARGIN + row * ROW_HEIGHT + ROW_HEIGHT // 2: each row's groove
    assert report["groove_centres"] == pytest.approx(expected, abs=1.5)


FOCUS_RING = r"""
import json, os, sys
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from aegui.qt.painting.slider_rows import MARGIN, ROW_HEIGHT, SliderRows
rows = SliderRows()
rows.set_rows([f"{i} dim" for i in range(12)])
rows.resize(300, 12 * ROW_HEIGHT + 2 * MARGIN)
rows.set_row_values(np.full(12, 500), np.zeros(12))
rows.show()
rows.activateWindow(); rows.setFocus()
QTest.qWaitForWindowActive(rows)
app.processEvents()
left, right = rows.track_span()
def on_screen():
    app.processEvents()
    return rows.screen().grabWindow(rows.winId()).toImage()
for row, fraction in ((3, 0.3), (6, 0.7)):  # a click on each row's track: the handle jumps there, the row takes the keys
    QTest.mouseClick(rows, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(int(left + fraction * (right - left)), MARGIN + row * ROW_HEIGHT + ROW_HEIGHT // 2))
for key in (Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Left):
    QTest.keyClick(rows, key)
partial = on_screen()
rows.update()
whole = on_screen()
print(json.dumps({"focus": rows.hasFocus(), "ratio": rows.devicePixelRatioF(), "same": partial == whole, "size": [whole.width(), whole.height()]}))
"""


@pytest.mark.parametrize("scale", ["1", "1.25"])
def test_a_slider_rows_focus_ring_leaves_no_trace_where_it_was(scale):
    """Clicks on two rows' tracks, then the arrow keys: what is on screen is what a whole
    repaint draws. A click on a second row left the first row's focus ring drawn, and at
    125 % the ring's antialiased edge left a line on the row above."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", FOCUS_RING], capture_output=True, text=True, timeout=120, env=environment, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["focus"] and report["ratio"] == float(scale)
    assert report["same"]


WINDOW_AND_DIALOG = r"""
import json, sys, tempfile
from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication, QDialogButtonBox
app = QApplication([])
from aegui.__main__ import create_window
from aegui.core.resources import load_reference_digits
from aegui.qt.window_layout import FRAME_ALLOWANCE
settings = QSettings(tempfile.mkdtemp() + "/s.ini", QSettings.Format.IniFormat)
reference = load_reference_digits(limit=300)
first = create_window(settings, reference)
first.restore_layout()
first.show()
app.processEvents()
decoded_side = first.decoded_view.images.image_rect(1).width()  # in the window the screen first gets
first.model_dock.raise_()  # the user's own choices on this screen, kept for the next start
first.resize(900, 520)
app.processEvents()
first.close()
window = create_window(settings, reference)
window.restore_layout()
window.show()
app.processEvents()
available = window.screen().availableGeometry()
def framed(widget):  # the frame, or with no frame known, the one a window manager would add
    if widget.frameGeometry() != widget.geometry():
        return widget.frameGeometry()
    return QRect(widget.x() - FRAME_ALLOWANCE.width() // 2, widget.y() - (FRAME_ALLOWANCE.height() - FRAME_ALLOWANCE.width() // 2), widget.width() + FRAME_ALLOWANCE.width(), widget.height() + FRAME_ALLOWANCE.height())
from PySide6.QtWidgets import QScrollArea
views = window.centralWidget().widget() if isinstance(window.centralWidget(), QScrollArea) else window.centralWidget()
tabs = {dock.objectName() for dock in window.tabifiedDockWidgets(window.explore_dock)}
dialog = window.show_train_dialog()
app.processEvents()
train = dialog.train_button
button = QRect(train.mapToGlobal(train.rect().topLeft()), train.size())
print(json.dumps({
    "available": available.getRect(),
    "window_fits": available.contains(framed(window)),
    "status_bar_shown": window.statusBar().isVisible() and window.statusBar().height() > 10,
    "views_whole_in_their_area": views.width() >= views.minimumSizeHint().width() and views.height() >= views.minimumSizeHint().height(),
    "docks_under_the_views": sorted(tabs),
    "size_kept": window.size().toTuple(),
    "model_tab_kept": not window.model_dock.visibleRegion().isEmpty() and window.slider_panel.visibleRegion().isEmpty(),
    "dialog_fits": available.contains(framed(dialog)),
    "train_button_on_screen": available.contains(button) and train.isVisible(),
    "dialog": dialog.frameGeometry().getRect(),
    "decoded_side": decoded_side,
}))
"""


def test_a_1366x768_laptop_at_125_percent_holds_the_window_and_the_train_dialog(tmp_path):
    """1093 x 614 logical pixels: smaller than the layout. The window fits (the views scroll,
    the right docks become tabs under them), and the Train dialog's buttons are on the screen."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    environment = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": "1.25", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", WINDOW_AND_DIALOG], capture_output=True, text=True, timeout=120, env=environment, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["available"] == [0, 0, 1093, 614]
    assert report["window_fits"] and report["status_bar_shown"] and report["views_whole_in_their_area"], report
    assert {"sliders", "model"} <= set(report["docks_under_the_views"])
    assert report["size_kept"] == [900, 520] and report["model_tab_kept"], report  # a restart keeps what the user chose
    assert report["dialog_fits"] and report["train_button_on_screen"], report
    assert report["decoded_side"] >= 2 * 26, report  # the reconstruction about twice MNIST's 28 pixels, not 28 (the views scroll instead)
