"""What the live views put on screen: partial repaints leave no stale pixels, the map's
hover names the digit, the anomaly gauge and the image rows show what they were given."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from aegui.core.anomaly import NOT_A_DIGIT_ABOVE, TYPICAL_BELOW
from aegui.qt.painting.live_text import LiveText
from aegui.qt.painting.pixel_images import PixelImageRow
from aegui.qt.views.anomaly_meter import VERDICT_COLOURS, AnomalyGauge, gauge_fraction
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, draw_stroke, send_mouse, wait_until_idle


def on_screen(widget) -> QImage:
    """The widget's pixels as the window last presented them (not a fresh render)."""
    window = widget.window()
    screen = window.windowHandle().screen()
    top_left = widget.mapTo(window, QPoint(0, 0))
    shot = screen.grabWindow(window.winId(), top_left.x(), top_left.y(), widget.width(), widget.height())
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def rendered(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def pixels(image: QImage) -> np.ndarray:
    view = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return view[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[:, :, 2::-1].astype(int)  # BGRA in memory -> RGB


def test_canvas_repaints_only_around_the_pen_yet_shows_the_whole_stroke(qtbot, window):
    canvas = window.canvas
    points = canvas_points(canvas, "zero")
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    for x, y in points[1:]:  # mid-stroke, button still held: only partial repaints so far
        send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        QApplication.processEvents()
    wait_until_idle(qtbot, window)
    shown, fresh = pixels(on_screen(canvas)), pixels(rendered(canvas))
    assert shown.shape == fresh.shape
    assert (shown > 128).any()  # the stroke is there
    # every pixel the screen shows matches a full repaint (antialiasing may differ by a level)
    assert np.abs(shown - fresh).max() <= 2


@pytest.mark.parametrize("size", [(1400, 860), (1350, 728), (1300, 900)])  # images land on whole and half pixels
def test_every_live_view_shows_what_a_full_repaint_would_after_a_stroke(qtbot, window, size):
    """Views repaint only what changed on each pen event (images without their captions,
    sliders whose value moved); none may show other pixels than a full repaint would."""
    window.resize(*size)
    QApplication.processEvents()
    canvas = window.canvas
    points = canvas_points(canvas, "zero", count=30)
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    for x, y in points[1:]:  # each move is answered and painted before the next
        send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        wait_until_idle(qtbot, window)
        QApplication.processEvents()
    trail = np.array(window.explorer.trail)
    assert len(trail) >= 10 and np.allclose(window.latent_map.trail_points(), trail, atol=1e-6)  # drawn point by point
    views = {"decoded": window.decoded_view, "nearest": window.nearest_digits, "sliders": window.sliders.viewport(), "gauge": window.anomaly_meter}
    for name, view in views.items():
        shown, fresh = pixels(on_screen(view)), pixels(rendered(view))
        assert shown.shape == fresh.shape, name
        assert np.abs(shown - fresh).max() <= 2, name


def test_hovering_a_reference_point_on_the_map_names_its_digit(qtbot, window):
    latent_map = window.latent_map
    session = window.explorer.session
    index = 7
    x, y = session.reference_positions[index]
    view_box = latent_map.getPlotItem().vb
    point = latent_map.mapFromScene(view_box.mapViewToScene(QPointF(float(x), float(y))))
    hovered = []
    latent_map.reference_hovered.connect(lambda i, digit: hovered.append(digit))
    viewport = latent_map.viewport()
    for offset in (QPointF(-6, 0), QPointF(0, 0)):
        position = QPointF(point) + offset
        QApplication.sendEvent(viewport, QMouseEvent(QEvent.Type.MouseMove, position, viewport.mapToGlobal(position), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: latent_map.hovered_digit is not None, timeout=5000)
    # several digits may lie under the pointer: the one named is one of them
    near = np.linalg.norm(session.reference_positions - session.reference_positions[index], axis=1)
    candidates = set(session.reference.labels[near <= np.sort(near)[10]].tolist())
    assert latent_map.hovered_digit in candidates and hovered[-1] == latent_map.hovered_digit


def test_the_maps_reference_digits_keep_true_bounds_through_zoom_resize_hover_and_another_model(qtbot, window, k2_checkpoint):
    """The map keeps its reference digits' bounding rectangle between changes (Qt asks for it
    on every pen event); whatever changes, the kept one is the one pyqtgraph computes now, so
    no digit at the edge is cut off or left behind when the map repaints."""
    import pyqtgraph as pg

    latent_map = window.latent_map
    references = latent_map._references

    def kept_is_true() -> bool:
        kept = references.boundingRect()
        return kept == pg.ScatterPlotItem.boundingRect(references) and kept.width() > 0

    assert kept_is_true()
    latent_map.getPlotItem().vb.scaleBy((0.5, 0.5))  # zoomed in
    QApplication.processEvents()
    assert kept_is_true()
    window.resize(window.width() - 120, window.height() - 60)
    qtbot.waitUntil(lambda: QApplication.processEvents() or kept_is_true(), timeout=5000)
    x, y = window.explorer.session.reference_positions[7]
    point = latent_map.mapFromScene(latent_map.getPlotItem().vb.mapViewToScene(QPointF(float(x), float(y))))
    viewport = latent_map.viewport()
    QApplication.sendEvent(viewport, QMouseEvent(QEvent.Type.MouseMove, QPointF(point), viewport.mapToGlobal(QPointF(point)), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: latent_map.hovered_digit is not None, timeout=5000)  # a hovered spot is drawn larger
    assert kept_is_true()
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)  # other digits' positions
    wait_until_idle(qtbot, window)
    assert kept_is_true()


def test_the_plots_axes_keep_true_bounds_through_resizes_and_another_model(qtbot, window, k2_checkpoint):
    """The bars', probabilities' and map's axes keep their bounding rectangles between changes
    (with a grid an axis spans its plot: Qt asks for it on every pen event); after a resize in
    either direction and a model with other ranges, each kept one is the one pyqtgraph
    computes now."""
    import pyqtgraph as pg

    axes = [view.getPlotItem().getAxis(name) for view in (window.latent_bars, window.probabilities, window.latent_map) for name in ("left", "bottom")]

    def kept_are_true() -> bool:
        return all(axis.boundingRect() == pg.AxisItem.boundingRect(axis) for axis in axes)

    assert kept_are_true()
    for width, height in ((-140, 0), (0, -70), (140, 70)):  # narrower only: the left axes keep their geometry, their grids do not
        window.resize(window.width() + width, window.height() + height)
        qtbot.waitUntil(lambda: QApplication.processEvents() or kept_are_true(), timeout=5000)
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)
    wait_until_idle(qtbot, window)
    assert kept_are_true()


def test_the_gauge_and_a_live_text_repaint_only_what_a_new_value_changes_yet_show_a_full_repaint(qtbot):
    """On a pen event the gauge's fill end and number move and a live text's numbers change:
    only those parts are repainted, and after every step both show what a full repaint would."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    host = QWidget()
    layout = QVBoxLayout(host)
    gauge, text = AnomalyGauge(), LiveText("", lines=2)
    layout.addWidget(gauge)
    layout.addWidget(text)
    qtbot.addWidget(host)
    host.resize(420, 90)
    host.show()
    qtbot.waitExposed(host)
    painted: dict[object, list[int]] = {gauge: [], text: []}  # pixels per paint

    class PaintRecorder(QObject):
        recording = False  # not while grab() renders a widget afresh to compare

        def eventFilter(self, watched, event):
            if self.recording and event.type() == QEvent.Type.Paint and watched in painted:
                painted[watched].append(sum(rect.width() * rect.height() for rect in event.region()))
            return False

    recorder = PaintRecorder()
    for widget in painted:
        widget.installEventFilter(recorder)
    steps = [(12.0, "typical digit"), (12.04, "typical digit"), (13.7, "typical digit"), (55.5, "typical digit"), (94.9, "typical digit"), (95.3, "unusual"), (96.1, "unusual"), (40.0, "typical digit"), (99.6, "not a digit")]
    for percentile, verdict in steps:
        for rects in painted.values():
            rects.clear()
        gauge.set_fill(percentile)
        gauge.set_reading(percentile, verdict)
        text.setText(f"reconstruction error = {percentile / 1000:.4f}\nrebuild {percentile:.0f} · distance 12 (percentiles)")
        recorder.recording = True
        QApplication.processEvents()
        recorder.recording = False
        for widget in painted:
            shown, fresh = pixels(on_screen(widget)), pixels(rendered(widget))
            assert np.abs(shown - fresh).max() <= 2, (type(widget).__name__, percentile)
        if percentile == 13.7:  # same verdict, another number: a part of each repainted
            for widget in painted:
                assert 0 < sum(painted[widget]) < widget.width() * widget.height() / 2, (type(widget).__name__, painted[widget])


def test_a_cell_already_showing_a_keyed_image_is_left_alone_and_a_moved_one_is_redrawn(qtbot):
    """The nearest digits come with their reference index as a key: a neighbour still in its
    place costs nothing on a pen event, one that moved shows its new digit."""
    row = PixelImageRow(3)
    qtbot.addWidget(row)
    row.resize(300, 80)
    row.show()
    qtbot.waitExposed(row)
    first, second = np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32)
    row.set_images([first, second], tooltips=["digit 0", "digit 1"], keys=[10, 11])
    QApplication.processEvents()
    updates = []
    row.update = lambda *area: updates.append(area)  # what each call asks to repaint
    row.set_images([first, second], tooltips=["digit 0", "digit 1"], keys=[10, 11])
    assert updates == []  # the same digits in the same cells: nothing to repaint
    row.set_images([second, first], tooltips=["digit 1", "digit 0"], keys=[11, 10])
    assert len(updates) == 2 and row.image(0).max() == 1 and row.image(1).max() == 0 and row.tooltips == ["digit 1", "digit 0", ""]


def test_the_gauges_number_never_reads_as_another_verdict_than_its_own():
    """99.03 is "not a digit" (above the 99th); shown as "99.0" it read as "unusual ≤ 99th"."""
    from aegui.core.anomaly import verdict
    from aegui.qt.views.anomaly_meter import percentile_text

    assert percentile_text(99.03) == "99.1" and percentile_text(95.0) == "95.0" and percentile_text(94.96) == "95.0" and percentile_text(42.3) == "42.3"
    values = np.concatenate([np.linspace(94, 100, 60_001), np.random.default_rng(0).uniform(0, 100, 10_000)])
    assert all(verdict(float(value)) == verdict(float(percentile_text(float(value)))) for value in values)


def test_gauge_places_the_thresholds_apart_and_fills_in_the_verdict_colour(qtbot):
    assert gauge_fraction(0) == 0 and gauge_fraction(100) == 1
    assert gauge_fraction(TYPICAL_BELOW) == 0.6 and gauge_fraction(NOT_A_DIGIT_ABOVE) == 0.8
    values = [gauge_fraction(p) for p in np.linspace(0, 100, 201)]
    assert all(a <= b for a, b in zip(values, values[1:]))
    gauge = AnomalyGauge()
    qtbot.addWidget(gauge)
    gauge.resize(300, 22)
    gauge.set_fill(99.5)
    gauge.set_reading(99.5, "not a digit")
    image = pixels(rendered(gauge))
    red = QColor(VERDICT_COLOURS["not a digit"])
    column = int(0.85 * 300)  # inside the fill (99.5 -> 0.9 of the width)
    assert np.abs(image[6, column] - [red.red(), red.green(), red.blue()]).max() < 10
    column = int(0.95 * 300)  # beyond the fill: only the faint zone tint
    assert np.abs(image[6, column] - [red.red(), red.green(), red.blue()]).max() > 60


def test_image_row_draws_each_image_pixel_for_pixel_and_the_live_text(qtbot):
    row = PixelImageRow(2, captions=["a", "b"])
    qtbot.addWidget(row)
    row.resize(2 * 80, 100)
    checker = (np.indices((28, 28)).sum(0) % 2).astype(np.float32)
    row.set_image(0, checker)
    row.set_image(1, None)
    image = pixels(rendered(row))
    rect = row.image_rect(0)
    centre = rect.center()
    cell = rect.width() / 28
    at = lambda i, j: image[int(rect.y() + (i + 0.5) * cell), int(rect.x() + (j + 0.5) * cell)]  # noqa: E731
    assert at(0, 0).max() < 10 and at(0, 1).min() > 245  # black, white: no smoothing between pixels
    assert image[int(centre.y()), int(row.image_rect(1).center().x())].min() > 245  # the empty cell stays blank
    assert np.array_equal(row.shown_images(), checker[None])
    text = LiveText("x")
    qtbot.addWidget(text)
    height = text.height()
    text.setText("reconstruction error 0.0123 " * 3)
    assert text.text().startswith("reconstruction error") and text.height() == height


def test_hovering_a_nearest_digit_names_it(qtbot, window):
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    row = window.nearest_digits.images
    session = window.explorer.session
    first = int(window.nearest_digits.shown_indices[0])
    centre = row.image_rect(0).center().toPoint()
    QApplication.sendEvent(row, QHelpEvent(QEvent.Type.ToolTip, centre, row.mapToGlobal(centre)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    assert QToolTip.text() == f"digit {session.reference.labels[first]}"
    QToolTip.hideText()


def test_image_row_reuses_the_pixels_of_a_keyed_image_and_forgets_them_on_request(qtbot):
    row = PixelImageRow(2)
    qtbot.addWidget(row)
    row.resize(160, 80)
    first, second = np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32)
    row.set_image(0, first, key=7)
    row.set_image(0, second, key=8)
    row.set_image(0, first, key=7)  # back to digit 7: its converted pixels are reused
    centre = row.image_rect(0).center()
    assert pixels(rendered(row))[int(centre.y()), int(centre.x())].max() < 10
    row.set_image(0, second, key=7)  # the key, not the array, picks the pixels: no conversion
    assert pixels(rendered(row))[int(centre.y()), int(centre.x())].max() < 10
    row.forget_converted()
    row.set_image(0, second, key=7)  # key 7 now names another image
    assert pixels(rendered(row))[int(centre.y()), int(centre.x())].min() > 245
    assert np.array_equal(row.image(0), second)


def test_the_map_rings_the_reference_digits_nearest_the_sketchs_code(qtbot, window):
    canvas = window.canvas
    points = canvas_points(canvas, "zero")
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    for x, y in points[1:]:
        send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    expected = window.explorer.session.reference_positions[analysis.neighbours]
    assert np.allclose(window.latent_map.ringed_positions(), expected, atol=1e-4)
    assert list(window.nearest_digits.shown_indices) == list(analysis.neighbours)  # the same digits as the row beneath the probe


@pytest.mark.parametrize("size", [(1400, 860), (1000, 700)])
def test_the_meters_explanation_is_never_cut_off(qtbot, window, size):
    """The longest explanations (a verdict, why, and five parts' percentiles) word-wrap to more
    lines than two in a narrow panel: the box is as tall as the longest needs at its width, so
    every word of the one on show is painted."""
    window.resize(*size)
    QApplication.processEvents()
    canvas, label = window.canvas, window.anomaly_meter.explanation_label
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2
    draw_stroke(canvas, [(x0 + side * 0.3, y0 + side * (0.15 + 0.7 * i / 19)) for i in range(20)] + [(x0 + side * (0.3 + 0.45 * i / 19), y0 + side * 0.85) for i in range(1, 20)])
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    text = label.text()
    assert text.startswith("not a digit: ") and "\ndetector " not in text and " · detector " in text

    def needed(shown: str) -> int:
        return label.fontMetrics().boundingRect(QRect(0, 0, label.width() - 4, 100_000), LiveText.FLAGS, shown).height()

    assert needed(text) <= label.height() - 4
    longest = "not a digit: rebuilt well, but the encoder's inner layer sees it unlike any digit\nrebuild 100 · distance 100 · doubt 100 · inner 100 · detector 100 (percentiles)"
    assert needed(longest) <= label.height() - 4
    if size[0] <= 1000:
        assert needed(longest) > 2 * label.fontMetrics().lineSpacing()  # the case: more than two lines


class LayoutRequests(QObject):
    """Counts the layout recomputations Qt runs on a widget (each one repaints its whole area)."""

    def __init__(self, widget):
        super().__init__()
        self.widget, self.count = widget, 0
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget:
            self.count += 1
        return False

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)


def test_a_verdict_that_changes_mid_stroke_does_not_relayout_the_window(qtbot, window):
    """The meter's verdict flips as a digit turns into an L; the views must not move or be
    repainted whole for it (a relayout of the window costs a pen event several milliseconds)."""
    canvas = window.canvas
    draw_stroke(canvas, canvas_points(canvas, "one"))
    wait_until_idle(qtbot, window)
    assert window.anomaly_meter.verdict == "typical digit"
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2
    foot = [(x0 + side * (0.5 + 0.4 * i / 19), y0 + side * 0.85) for i in range(20)]  # the one becomes an L
    verdicts = set()
    requests = LayoutRequests(window)
    try:
        left = Qt.MouseButton.LeftButton
        send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*foot[0]), left, left)
        for x, y in foot[1:]:
            send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
            wait_until_idle(qtbot, window)
            QApplication.processEvents()
            verdicts.add(window.anomaly_meter.verdict)
    finally:
        requests.remove()
    assert len(verdicts) > 1  # the verdict did change during the stroke
    assert requests.count == 0


class PaintPasses(QObject):
    """Numbers the window's paint passes and notes the pass in which each watched widget paints."""

    def __init__(self, window, watched: dict):
        super().__init__()
        self.window, self.watched, self.current = window, watched, 0
        self.painted: dict[str, list[int]] = {name: [] for name in watched}
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, target, event) -> bool:
        if event.type() == QEvent.Type.UpdateRequest and target is self.window:
            self.current += 1
        elif event.type() == QEvent.Type.Paint:
            for name, widget in self.watched.items():
                if target is widget:
                    self.painted[name].append(self.current)
        return False

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)


def test_the_bars_and_probabilities_are_painted_in_one_window_pass(qtbot, window):
    """A pen event changes both plots; Qt must paint them together, not the window once per plot."""
    canvas = window.canvas
    points = canvas_points(canvas, "zero", count=20)
    # the probe's words follow at a readable pace; when a stroke pauses (as it does here, idle
    # after each move) the last of them comes in a pass of its own, which is not this test's
    window.probabilities._prediction_pace.interval = 0
    passes = PaintPasses(window, {"bars": window.latent_bars.viewport(), "probabilities": window.probabilities.viewport()})
    left = Qt.MouseButton.LeftButton
    try:
        send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
        for x, y in points[1:]:  # one analysis shown per pen event, as when drawing
            send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
            wait_until_idle(qtbot, window)
            QApplication.processEvents()
    finally:
        passes.remove()
    bars, probabilities = passes.painted["bars"], passes.painted["probabilities"]
    assert len(bars) >= 5 and len(probabilities) >= 5  # both plots changed with the pen
    assert set(probabilities) <= set(bars)  # every pass that painted the probabilities painted the bars too


def test_slider_rows_at_every_step_and_value_show_what_drawing_them_paints(qtbot):
    """Handles and values are copied from pixmaps drawn once per step and per text; each row must
    match, pixel for pixel, the antialiased handle and the text drawn straight onto the row."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter, QStaticText

    from aegui.qt.painting.slider_rows import HANDLE_COLOUR, HANDLE_WIDTH, MARGIN, ROW_HEIGHT, STEPS, SliderRows

    rows = SliderRows()
    qtbot.addWidget(rows)
    rows.set_rows([f"{index} stroke" for index in range(32)])
    rows.resize(347, 32 * ROW_HEIGHT + 2 * MARGIN)  # a track length that puts handles between pixels
    rng = np.random.default_rng(0)
    for start in range(0, STEPS + 1, 32):
        steps = (np.arange(32) + start) % (STEPS + 1)
        values = rng.normal(0, 3, 32).astype(np.float32)
        values[start % 32] = -12345.5  # wider than its column
        rows.set_row_values(steps, values)
        shown = rows.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        expected = rows._static_layer().toImage().convertToFormat(QImage.Format.Format_RGB32)
        painter = QPainter(expected)
        text_top = MARGIN + (ROW_HEIGHT - rows.fontMetrics().height()) / 2
        for row, text in enumerate(rows.value_texts):
            static = QStaticText(text)
            static.prepare(font=rows.font())
            painter.drawStaticText(QPointF(rows.width() - MARGIN - static.size().width(), row * ROW_HEIGHT + text_top), static)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(HANDLE_COLOUR)
        left, right = rows.track_span()
        for row, step in enumerate(steps.tolist()):
            x = left + (right - left) / STEPS * step - HANDLE_WIDTH / 2
            painter.drawRoundedRect(QRectF(x, MARGIN + 3 + row * ROW_HEIGHT, HANDLE_WIDTH, ROW_HEIGHT - 6), 3, 3)
        painter.end()
        assert (pixels(shown) == pixels(expected)).all(), f"steps from {start}"


def test_no_plot_offers_pyqtgraphs_context_menu(qtbot, window):
    """The plots are views of the model, not plotting tools: a right click opens no menu of
    pyqtgraph's (export, axis ranges, log scale), on any plot of the window or its docks."""
    import pyqtgraph as pg

    plots = window.findChildren(pg.PlotWidget)
    assert len(plots) >= 6  # bars, probabilities, map, the training dock's three, ...
    for plot in plots:
        item = plot.getPlotItem()
        assert not item.menuEnabled() and item.getViewBox().menu is None, type(plot).__name__


def test_a_new_prediction_text_is_repainted_even_when_the_bars_barely_move(qtbot, window):
    """The prediction ("2 (48%)") is drawn in pixels at the plot's top right whatever the axes'
    scale; the plot repaints only where items changed, so the text's change must name its own
    pixels (the bars moved a hundredth: their repaint missed it and the old text stayed)."""
    from types import SimpleNamespace

    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QRegion

    view = window.probabilities
    painted = QRegion()

    class Painted(QObject):
        def eventFilter(self, watched, event):
            nonlocal painted
            if event.type() == QEvent.Type.Paint:
                painted = painted.united(event.region())
            return False

    recorder = Painted()
    view.viewport().installEventFilter(recorder)
    try:
        first, second = np.full(10, 0.005, np.float32), np.full(10, 0.005, np.float32)
        first[2], first[8], second[2], second[8] = 0.46, 0.47, 0.46 - 0.01, 0.48  # the same digit, another percentage: the text stays in its corner
        view.show_analysis(SimpleNamespace(digit_probabilities=first, origin="sketch"))
        wait_until_idle(qtbot, window)
        QApplication.processEvents()
        painted = QRegion()
        view._prediction_pace.interval = 0  # the text changing with the bars, in their pass (as when the pace is due)
        view.show_analysis(SimpleNamespace(digit_probabilities=second, origin="sketch"))
        qtbot.waitUntil(lambda: not painted.isEmpty())  # the bars' change, painted with the window
        for _ in range(3):  # and anything posted after it
            QApplication.processEvents()
        assert view.prediction_text == "8 (48%)"
        text = view.prediction_device_rect()
        assert not text.isEmpty() and painted.contains(text), (painted.boundingRect(), text)
    finally:
        view.viewport().removeEventFilter(recorder)


def test_the_explorer_knows_when_a_stroke_is_under_way(qtbot, window):
    """Pen down to pen up: what follows whole strokes (the training dock's rebuilt sketch) waits
    for the pen to lift, with real mouse events."""
    canvas, explorer = window.canvas, window.explorer
    points = canvas_points(canvas, "one")
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    send_mouse(canvas, QEvent.Type.MouseMove, QPointF(*points[10]), Qt.MouseButton.NoButton, left)
    assert explorer.drawing
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[10]), left, Qt.MouseButton.NoButton)
    assert not explorer.drawing
    wait_until_idle(qtbot, window)


def test_the_gauge_says_a_generated_code_is_not_judged_rather_than_asking_for_a_drawing(qtbot, window):
    from aegui.qt.views.anomaly_meter import UNJUDGED_BLANK, UNJUDGED_CODE

    gauge = window.anomaly_meter.gauge
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    assert gauge.percentile is not None
    qtbot.mouseClick(window.slider_panel.random_button, Qt.MouseButton.LeftButton)  # a code from the sliders' side, the 7 still drawn
    wait_until_idle(qtbot, window)
    assert gauge.percentile is None and gauge.unjudged == UNJUDGED_CODE
    window.canvas.clear()
    wait_until_idle(qtbot, window)
    assert gauge.percentile is None and gauge.unjudged == UNJUDGED_BLANK


def test_a_named_slider_row_says_what_its_name_and_sign_mean(qtbot, window):
    """A row is named in words for where its slider goes up ("17 fewer loops"), as Edit by
    meaning names its sliders' ends: "17 loops-" read as a name cut off. Its tooltip says it."""
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    from aegui.core.dimension_labels import label_meaning, label_shown
    from aegui.qt.painting.slider_rows import MARGIN, ROW_HEIGHT

    assert label_meaning("loops-") == "tracks the stroke's loops most: it grows as this value falls"
    assert label_meaning("thickness") == "tracks the stroke's thickness most: it grows as this value rises"
    assert (label_shown("loops-"), label_shown("loops"), label_shown("slant-"), label_shown("thickness")) == ("fewer loops", "more loops", "leans left", "thicker")
    labels, rows = window.explorer.session.dimension_labels, window.sliders.rows
    falling = next(index for index, label in enumerate(labels) if label.endswith("-"))
    assert rows.names[falling] == f"{falling} {label_shown(labels[falling])}" and not any(name.endswith("-") for name in rows.names)
    centre = QPoint(MARGIN + 10, MARGIN + falling * ROW_HEIGHT + ROW_HEIGHT // 2)
    window.sliders.ensureVisible(centre.x(), centre.y())
    QApplication.sendEvent(rows, QHelpEvent(QEvent.Type.ToolTip, centre, rows.mapToGlobal(centre)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    assert QToolTip.text().endswith(label_meaning(labels[falling]))
    QToolTip.hideText()
    combo = window.traversal_panel.dimension_combo  # the same words wherever a dimension is named
    assert combo.itemText(combo.findData(falling)) == f"{falling} ({label_shown(labels[falling])})"


def test_a_bar_beyond_the_plots_range_ends_under_an_arrow_not_cut_off(qtbot, window):
    """A code further out than mean ± 3 std (a k = 2 model's code of a letter reached -89
    where the plot ended at -57) looked like a shorter bar."""
    session, bars = window.explorer.session, window.latent_bars
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.set_dimension(3, float(session.latent_mean[3] - 5 * (session.slider_high[3] - session.slider_low[3])))
    assert bars.dimensions_beyond_the_plot() == [3]
    bottom = bars.getPlotItem().getViewBox().viewRange()[1][0]
    arrow = bars._beyond.path().boundingRect()
    assert 2.5 < arrow.center().x() < 3.5 and abs(arrow.top() - bottom) < 1e-6  # at dimension 3, on the bottom edge
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.reset_to_mean()
    assert bars.dimensions_beyond_the_plot() == [] and bars._beyond.path().isEmpty()


def test_each_latent_bar_and_probability_bar_is_drawn_from_zero_to_its_value(qtbot, window):
    """The bars are one painted shape: at every dimension's place the bar colour must run from
    the zero line to the code's value (up or down), and at every digit's from 0 to its
    probability, as the user reads them."""
    from aegui.qt.views.digit_probabilities import DigitProbabilities
    from aegui.qt.views.latent_bars import BAR_COLOUR

    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    analysis = window.explorer.analysis
    code = analysis.code
    assert (code > 0.3).any() and (code < -0.3).any()  # bars both ways

    def drawn_extent(view, x: float, colour) -> tuple[float, float] | None:
        """(top, bottom) in data units of the rows in the bar colour at data x, or None."""
        image = pixels(view.grab().toImage())
        view_box = view.getPlotItem().vb
        column = int(round(view.mapFromScene(view_box.mapViewToScene(QPointF(x, 0))).x() * view.devicePixelRatioF()))
        rows = np.flatnonzero(np.abs(image[:, column, :3].astype(int) - colour).max(axis=1) < 12)
        if not len(rows):
            return None
        to_value = lambda row: view_box.mapSceneToView(view.mapToScene(QPoint(column, int(row)))).y()  # noqa: E731
        return to_value(rows[0]), to_value(rows[-1])

    bars = window.latent_bars
    y_bottom, y_top = bars.getPlotItem().vb.viewRange()[1]
    pixel = (y_top - y_bottom) / bars.getPlotItem().vb.height()
    for dimension, value in enumerate(code.tolist()):
        extent = drawn_extent(bars, dimension, BAR_COLOUR)
        if abs(value) < 3 * pixel:
            continue  # a bar a pixel or two tall may be hidden under the mean line
        assert extent is not None, dimension
        top, bottom = extent
        assert abs(top - max(value, 0.0)) < 3 * pixel and abs(bottom - min(value, 0.0)) < 3 * pixel, (dimension, value, extent)
    probabilities = window.probabilities
    colour = np.array([90, 160, 90])
    assert isinstance(probabilities, DigitProbabilities)
    y_bottom, y_top = probabilities.getPlotItem().vb.viewRange()[1]
    pixel = (y_top - y_bottom) / probabilities.getPlotItem().vb.height()
    for digit, value in enumerate(analysis.digit_probabilities.tolist()):
        extent = drawn_extent(probabilities, digit, colour)
        if value < 3 * pixel:
            continue
        assert extent is not None and abs(extent[0] - value) < 3 * pixel and abs(extent[1]) < 5 * pixel, (digit, value, extent)  # the axis line covers its foot


def test_the_prediction_never_covers_the_predicted_digits_bar(qtbot, window):
    """"8 (97%)" was drawn over the bar of 8 (the text sat top right whatever the digit): it now
    sits over the half of the plot the predicted digit's bar is not in."""
    from types import SimpleNamespace

    from PySide6.QtCore import QRectF

    view = window.probabilities
    view_box = view.getPlotItem().getViewBox()
    for digit in range(10):
        probabilities = np.full(10, 0.03 / 9, np.float32)
        probabilities[digit] = 0.97
        view.show_analysis(SimpleNamespace(digit_probabilities=probabilities, origin="sketch"))
        wait_until_idle(qtbot, window)
        QApplication.processEvents()
        bar = view.mapFromScene(view_box.mapViewToScene(QRectF(digit - 0.35, 0.0, 0.7, 0.97))).boundingRect()
        text = view.prediction_device_rect().adjusted(2, 2, -2, -2)  # without the repaint margin
        assert view.prediction_text == f"{digit} (97%)"
        assert not text.intersects(bar), (digit, text, bar)
        assert view.viewport().rect().contains(text), (digit, text)  # inside the plot, never cut
