"""Window fixtures: a real MainWindow with isolated settings, loaded with a real checkpoint."""

from __future__ import annotations

import gc
import math
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from aegui.__main__ import create_window

SIGNAL_TIMEOUT_MS = 20000


@pytest.fixture(autouse=True)
def collect_qt_garbage_after_each_test(request):
    """Python's cyclic collector frees Qt objects whose wrappers it collects. Left to run at any
    moment, it once ran inside a Qt call that held a signal-connection mutex (pyqtgraph's
    ``disconnect`` while the next test built its window) and destroyed a closed window's menu,
    whose destructor waited on that same mutex: the worker hung. Torn down last (an autouse
    fixture is set up first), this collects the test's windows, closed by qtbot, while Qt holds
    nothing."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()
        gc.freeze()  # what survived lives on (modules, shared sessions): the next collection skips it


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


_BUNDLED_SESSIONS: dict = {}


@pytest.fixture
def shared_bundled_sessions(monkeypatch):
    """Each test gets its own window, but a bundled model is loaded (checkpoint read, reference
    digits encoded, map fitted) once per test process. A session is a frozen value (another map
    is another session), so windows can share it as they share any value."""
    from aegui.core.resources import CHECKPOINTS_DIR
    from aegui.core.session import ModelSession

    load = ModelSession.from_file  # bound to the class

    def load_once(cls, path, reference, projection_method="pca", projection_cache=None):
        path = Path(path)
        if path.parent.resolve() != CHECKPOINTS_DIR.resolve():
            return load(path, reference, projection_method, projection_cache)
        key = (path.resolve(), id(reference), projection_method, projection_cache)
        if key not in _BUNDLED_SESSIONS:
            _BUNDLED_SESSIONS[key] = load(path, reference, projection_method, projection_cache)
        return _BUNDLED_SESSIONS[key]

    monkeypatch.setattr(ModelSession, "from_file", classmethod(load_once))


@pytest.fixture
def window(qtbot, reference, settings, default_checkpoint, shared_bundled_sessions):
    window = create_window(settings, reference)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(default_checkpoint)
    wait_until_idle(qtbot, window)
    yield window
    window.executor.shutdown()


def wait_until_idle(qtbot, window) -> None:
    """Wait until every submitted job has run and its result reached the views, and the
    numbers in words that follow at a readable pace show the last result too."""
    from aegui.qt.painting.pace import Pace

    qtbot.waitUntil(window.executor.is_idle, timeout=SIGNAL_TIMEOUT_MS)
    QApplication.processEvents()
    paces = window.findChildren(Pace)
    qtbot.waitUntil(lambda: not any(pace.waiting for pace in paces), timeout=SIGNAL_TIMEOUT_MS)


def send_mouse(widget, kind: QEvent.Type, point: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def draw_stroke(widget, points, button=Qt.MouseButton.LeftButton) -> None:
    """Press, move with the button held (real QMouseEvents), release."""
    first = QPointF(*points[0])
    send_mouse(widget, QEvent.Type.MouseButtonPress, first, button, button)
    for x, y in points[1:]:
        send_mouse(widget, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, button)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), button, Qt.MouseButton.NoButton)


def canvas_points(canvas, shape: str, count: int = 60):
    """Points of a digit-like stroke in widget coordinates, scaled to the canvas."""
    side = min(canvas.width(), canvas.height())
    x0 = (canvas.width() - side) / 2
    y0 = (canvas.height() - side) / 2

    def at(u, v):
        return (x0 + u * side, y0 + v * side)

    if shape == "zero":
        return [at(0.5 + 0.22 * math.sin(2 * math.pi * i / (count - 1)), 0.5 - 0.32 * math.cos(2 * math.pi * i / (count - 1))) for i in range(count)]
    if shape == "one":
        return [at(0.52 - 0.04 * i / (count - 1), 0.18 + 0.64 * i / (count - 1)) for i in range(count)]
    if shape == "seven":
        half = count // 2
        top = [at(0.28 + 0.44 * i / (half - 1), 0.2) for i in range(half)]
        return top + [at(0.72 - 0.25 * i / (half - 1), 0.2 + 0.62 * i / (half - 1)) for i in range(half)]
    raise ValueError(shape)
