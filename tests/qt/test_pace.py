"""Numbers in words follow the pen at a readable pace, and always end on the last value."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication

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
    for value in range(41):  # a value every 1/128 s for 0.3 s, the event loop running between them
        pace.request(value)
        QApplication.processEvents()
        clock.now += 1 / 128
    assert shown == [0, 16, 32]
    assert pace.waiting and pace.latest() == 40


def test_paces_due_together_show_on_different_requests(qtbot, monkeypatch):
    """Paces started by the same pen event fall due together; each shows its value with a
    different analysis, so no pen event carries every text's layout and paint at once."""
    clock = Clock()
    monkeypatch.setattr(pace_module.time, "monotonic", clock)
    shown: dict[str, list[int]] = {"meter": [], "sliders": [], "fresh": []}
    paces = {name: Pace(values.append, interval=0.125) for name, values in shown.items() if name != "fresh"}
    for value in range(30):  # an analysis every 1/64 s, each asking every pace in one event
        for pace in paces.values():
            pace.request(value)
        QApplication.processEvents()  # the event loop runs between analyses
        clock.now += 1 / 64
    assert shown["meter"] == [0, 8, 16, 24] and shown["sliders"] == [1, 9, 17, 25]
    fresh = Pace(shown["fresh"].append, interval=0.125)  # never shown yet, due, but another pace took this event
    clock.now += 2 / 64  # the meter is due again
    paces["meter"].request(32)
    fresh.request(30)
    assert shown["meter"][-1] == 32
    assert shown["fresh"] == [] and fresh.waiting
    instant: list[int] = []
    Pace(instant.append, interval=0).request(7)  # no pace at all: never held back, holds none back
    assert instant == [7]
    qtbot.waitUntil(lambda: not fresh.waiting, timeout=SIGNAL_TIMEOUT_MS)  # its timer, as no more values come
    assert shown["fresh"] == [30]


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
    rows = window.sliders.rows
    watched = {"parts": lambda: meter.explanation_label.text(), "number": lambda: gauge.shown_percentile, "error line": lambda: decoded.error_label.text(), "slider values": lambda: tuple(rows.value_texts), "fill": lambda: gauge.percentile, "handles": lambda: tuple(rows.steps.tolist())}
    changes = dict.fromkeys(watched, 0)
    canvas = window.canvas
    points = canvas_points(canvas, "zero", count=200)  # about half a second of drawing
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
        # what the meter says is one reading: the verdict, the gauge's colour and the reason agree
        first_line = meter.explanation_label.text().split("\n")[0]
        assert gauge.verdict == meter.verdict and gauge.shown_percentile == meter.percentile, (gauge.verdict, meter.verdict)
        assert first_line.startswith(f"{meter.verdict}:") or first_line == meter.thresholds, (meter.verdict, first_line)
    elapsed = time.monotonic() - started
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    allowed = elapsed / READABLE_PACE + 2
    assert changes["fill"] >= 0.6 * analyses and changes["handles"] >= 0.6 * analyses  # the graphics: nearly every event
    for name in ("parts", "number", "error line", "slider values"):
        assert 2 <= changes[name] <= allowed, (name, changes, analyses, elapsed)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    assert gauge.shown_percentile == gauge.percentile == analysis.anomaly_percentile
    assert meter.explanation_label.text().endswith("\n" + parts_line(dict(analysis.anomaly_parts)))
    assert f"= {analysis.reconstruction_error:.4f}" in decoded.error_label.text()
    assert rows.value_texts == [f"{value:+.2f}" for value in analysis.code.tolist()]
    probabilities = analysis.digit_probabilities
    assert window.probabilities.prediction_text == f"{int(np.argmax(probabilities))} ({float(np.max(probabilities)):.0%})"


def test_a_dragged_slider_shows_its_own_value_at_once(qtbot, window):
    """The pace is for values that move by themselves while a digit is drawn: the slider the
    user drags shows its value with every movement, with real mouse events."""
    window.sliders_dock.show()
    rows = window.sliders.rows
    rect = rows.row_rect(5)
    window.sliders.ensureVisible(rect.center().x(), rect.center().y())
    wait_until_idle(qtbot, window)
    left, right = rows.track_span()
    button = Qt.MouseButton.LeftButton
    start = QPointF(left + 0.2 * (right - left), rect.center().y())
    send_mouse(rows, QEvent.Type.MouseButtonPress, start, button, button)
    for fraction in np.linspace(0.25, 0.9, 14):
        send_mouse(rows, QEvent.Type.MouseMove, QPointF(left + fraction * (right - left), rect.center().y()), Qt.MouseButton.NoButton, button)
        assert rows.value_texts[5] == f"{window.sliders.value_of_step(5, int(rows.steps[5])):+.2f}"
    send_mouse(rows, QEvent.Type.MouseButtonRelease, QPointF(left + 0.9 * (right - left), rect.center().y()), button, Qt.MouseButton.NoButton)
    wait_until_idle(qtbot, window)
    assert rows.value_texts[5] == f"{window.explorer.analysis.code[5]:+.2f}"


def test_views_at_a_pace_show_what_a_full_repaint_would_mid_stroke_and_after(qtbot, window):
    """Handles repainted without their values' column, numbers waiting for the pace: at any
    moment of a fast stroke, and once it is over, no view shows other pixels than a full
    repaint of what it holds."""
    from PySide6.QtWidgets import QApplication

    from tests.qt.test_live_views import on_screen, pixels, rendered

    window.resize(1350, 728)  # handles between whole pixels
    QApplication.processEvents()
    canvas = window.canvas
    points = canvas_points(canvas, "zero", count=60)
    left = Qt.MouseButton.LeftButton
    views = {"decoded": window.decoded_view, "sliders": window.sliders.viewport(), "meter": window.anomaly_meter, "probabilities": window.probabilities.viewport()}

    def check(moment: str) -> None:
        for name, view in views.items():
            shown, fresh = pixels(on_screen(view)), pixels(rendered(view))
            assert np.abs(shown - fresh).max() <= 2, (name, moment)

    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    waited = 0
    for index, (x, y) in enumerate(points[1:]):
        with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
            send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        QApplication.processEvents()  # painted as in use, the paces' numbers possibly waiting
        if index % 10 == 9:
            waited += window.sliders.rows._value_pace.waiting
            check(f"move {index}")
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    check("after")
    assert waited  # some checks were made while the sliders' values waited
