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
from aegui.qt.views.latent_sliders import MARGIN, ROW_HEIGHT, SliderRows
rows = SliderRows()
rows.set_rows([f"{i} dim" for i in range(12)])
rows.resize(300, 12 * ROW_HEIGHT + 2 * MARGIN)
rows.set_row_values(np.arange(12) * 80, np.arange(12) * 0.5)
rows.show()
app.processEvents()
image = rows.grab().toImage()
ratio = rows.devicePixelRatioF()
groove = rows.palette().mid().color()
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
