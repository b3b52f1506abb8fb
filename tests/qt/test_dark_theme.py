"""A dark desktop theme: every grey text and mark keeps its contrast (a fixed #333 title was
invisible on a #353535 window). The palette is the application's from its start, so the check
runs in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

COLOURS = r"""
import json, sys, tempfile
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
app = QApplication([])
if sys.argv[1] == "dark":  # as a dark desktop theme sets it
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#353535"), (QPalette.ColorRole.WindowText, "#f0f0f0"), (QPalette.ColorRole.Base, "#2a2a2a"), (QPalette.ColorRole.Text, "#f0f0f0"), (QPalette.ColorRole.Button, "#353535"), (QPalette.ColorRole.ButtonText, "#f0f0f0"), (QPalette.ColorRole.Mid, "#2d2d2d")):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
from aegui.__main__ import create_window
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
from aegui.qt.painting.colours import MARK, toward_text
window = create_window(QSettings(tempfile.mkdtemp() + "/s.ini", QSettings.Format.IniFormat), load_reference_digits(limit=300))
window.show()
shown = []
window.model_shown.connect(shown.append)
window.open_model(DEFAULT_CHECKPOINT)
while not shown:
    app.processEvents()
def style_colour(label):
    sheet = label.styleSheet()
    return sheet.split("color:")[1].strip().split(";")[0] if "color:" in sheet else label.palette().color(QPalette.ColorRole.WindowText).name()
labels = {
    "nearest digits' title": style_colour(window.nearest_digits.findChildren(type(window.map_hint))[0]),
    "map hint": style_colour(window.map_hint),
    "Model panel's labels": window.model_panel.text().split("<td style='color:")[1].split(";")[0],
    "meter's explanation": window.anomaly_meter.explanation_label.palette().color(QPalette.ColorRole.WindowText).name(),
    "sliders' grooves": toward_text(MARK, window.sliders.rows.palette()).name(),
}
print(json.dumps({"window": app.palette().color(QPalette.ColorRole.Window).name(), "colours": labels}))
"""


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb (or #rgb) colours."""
    def luminance(colour: str) -> float:
        digits = colour.strip().lstrip("#")
        digits = "".join(2 * digit for digit in digits) if len(digits) == 3 else digits  # #333 is #333333
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_grey_texts_and_marks_read_on_a_light_and_a_dark_theme(theme):
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", COLOURS, theme], capture_output=True, text=True, timeout=180, env=environment, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name, colour in report["colours"].items():
        needed = 1.8 if name == "sliders' grooves" else 4.5  # WCAG AA for text; a groove need only be seen
        assert contrast(colour, report["window"]) >= needed, (theme, name, colour, report["window"])
