"""Numbers in words follow the pen at a readable pace, and always end on the last value."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt

from aegui.qt.painting import pace as pace_module
from aegui.qt.painting.pace import READABLE_PACE, Pace, words_of
from aegui.qt.views.anomaly_meter import parts_line
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, send_mouse, wait_until_idle


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_value_shows_at_once_and_the_last_of_a_burst_after_the_interval(qtbot):
    shown: list[str] = []
    pace = Pace(shown.append, shown="", interval=0.15)
    started = time.monotonic()
    pace.request("a")
    assert shown == ["a"]  # after a pause: at once
    pace.request("b")
    pace.request("c")
    assert shown == ["a"] and pace.waiting and pace.latest() == "c"
    qtbot.waitUntil(lambda: not pace.waiting, timeout=SIGNAL_TIMEOUT_MS)
    assert shown == ["a", "c"]  # "b" was overtaken: the latest wins
    assert time.monotonic() - started >= 0.15
    pace.request("c")  # the value shown: nothing to do, nothing waits
    assert shown == ["a", "c"] and not pace.waiting


def test_a_steady_stream_shows_a_value_per_interval_in_its_own_requests(qtbot, monkeypatch):
    """While values keep coming, the one past the interval is shown with its own request (in the
    paint pass of the views that changed with it); the timer is only for the last of a stroke."""
    clock = Clock()
    monkeypatch.setattr(pace_module.time, "monotonic", clock)
    shown: list[int] = []
    pace = Pace(shown.append, interval=0.125)
    for value in range(41):  # a value every 1/128 s for 0.3 s, without the event loop running
        pace.request(value)
        clock.now += 1 / 128
    assert shown == [0, 16, 32]
    assert pace.waiting and pace.latest() == 40


def test_a_value_of_another_kind_is_shown_at_once(qtbot):
    shown: list[str] = []
    pace = Pace(shown.append, shown="", interval=10.0, kind=words_of)
    pace.request("error 0.0123")
    pace.request("error 0.0124")  # only a number changed: waits
    assert shown == ["error 0.0123"] and pace.waiting
    pace.request("nothing drawn yet")  # other words: now, and nothing older waits any more
    assert shown == ["error 0.0123", "nothing drawn yet"] and not pace.waiting
    assert words_of("rebuild 13 · doubt 99.5 (percentiles)") == "rebuild # · doubt # (percentiles)"


def test_numbers_in_words_change_at_a_readable_pace_while_drawing_and_end_on_the_last_analysis(qtbot, window):
    """Drawn with real mouse events, one analysis shown per pen event: the bars and the gauge's
    fill follow every event, the meter's parts, the gauge's number and the error line at most
    about ten times a second; once the pen stops they all show the last analysis."""
    meter, decoded, gauge = window.anomaly_meter, window.decoded_view, window.anomaly_meter.gauge
    watched = {"parts": lambda: meter.explanation_label.text(), "number": lambda: gauge.shown_percentile, "error line": lambda: decoded.error_label.text(), "fill": lambda: gauge.percentile}
    changes = dict.fromkeys(watched, 0)
    canvas = window.canvas
    points = canvas_points(canvas, "zero", count=80)
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    wait_until_idle(qtbot, window)
    started, analyses = time.monotonic(), 0
    for x, y in points[1:]:
        before = {name: read() for name, read in watched.items()}
        with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
            send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        analyses += 1
        for name, read in watched.items():
            changes[name] += read() != before[name]
    elapsed = time.monotonic() - started
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    allowed = elapsed / READABLE_PACE + 2
    assert changes["fill"] >= 0.6 * analyses  # the graphics: nearly every event (a few percentiles repeat)
    for name in ("parts", "number", "error line"):
        assert 2 <= changes[name] <= allowed, (name, changes, analyses, elapsed)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    assert gauge.shown_percentile == gauge.percentile == analysis.anomaly_percentile
    assert meter.explanation_label.text().endswith("\n" + parts_line(dict(analysis.anomaly_parts)))
    assert f"= {analysis.reconstruction_error:.4f}" in decoded.error_label.text()
    probabilities = analysis.digit_probabilities
    assert window.probabilities.prediction_text == f"{int(np.argmax(probabilities))} ({float(np.max(probabilities)):.0%})"
