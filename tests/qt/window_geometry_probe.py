"""Start the window as ``aegui`` does (no model), on the screen Qt was given, and report.

    python tests/qt/window_geometry_probe.py SETTINGS.ini [WIDTH HEIGHT]

Prints one JSON line: the screen's available geometry, the window's frame geometry and its
minimum size. With WIDTH HEIGHT the window is then resized to that and closed, which saves
its geometry into the settings, as closing the app does.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from aegui.__main__ import create_window
from aegui.core.resources import load_reference_digits

app = QApplication(sys.argv[:1])
window = create_window(QSettings(sys.argv[1], QSettings.Format.IniFormat), load_reference_digits(limit=200))
window.restore_layout()
window.show()
app.processEvents()
available = window.screen().availableGeometry()
frame = window.frameGeometry()
print(json.dumps({"available": available.getRect(), "frame": frame.getRect(), "minimum": window.minimumSizeHint().toTuple(), "size": window.size().toTuple()}))
if len(sys.argv) > 3:
    window.resize(int(sys.argv[2]), int(sys.argv[3]))
    app.processEvents()
    window.close()
