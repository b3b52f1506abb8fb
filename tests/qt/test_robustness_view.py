"""The Compare tab shows the compared models' noise robustness as numbers and a plot."""

from __future__ import annotations

from tests.qt.conftest import SIGNAL_TIMEOUT_MS, wait_until_idle


def test_comparing_two_models_shows_their_robustness_side_by_side(qtbot, window, default_checkpoint, k2_checkpoint):
    window.robustness.digits = 100  # fewer reference digits than the app's 500: a quicker test
    view = window.compare_panel.robustness_view
    assert not view.isVisible()
    window.explore_tabs.setCurrentWidget(window.compare_panel)
    window.explorer.open_comparison([default_checkpoint, k2_checkpoint])
    qtbot.waitUntil(lambda: len(view.curves) == 2, timeout=3 * SIGNAL_TIMEOUT_MS)
    wait_until_idle(qtbot, window)
    text = view.numbers.text()
    assert "mnist-conv-k2" in text and "mnist-conv-k32" in text and ">0.5</th>" in text
    for index, curve in enumerate(view.curves):  # each name in its curve's colour: the table is the legend
        assert f"color:{curve.opts['pen'].color().name()}'><b>" in text.split("<tr>")[index + 2]
    assert view.isVisible()
    ys = [curve.getData()[1] for curve in view.curves]
    assert all(len(y) == 4 and y[0] > y[-1] for y in ys)  # accuracy falls with the noise, for both


def test_two_compared_models_captions_stand_apart(qtbot, window, default_checkpoint, k2_checkpoint):
    """In nine cells for two models, "A: k=16" and "B: k=32" ran together; the strip shows as
    many cells as models (at least four), each caption inside its own cell with room to spare."""
    from PySide6.QtWidgets import QApplication

    window.robustness.digits = 100
    window.resize(1366, 740)
    window.explore_tabs.setCurrentWidget(window.compare_panel)
    window.explorer.open_comparison([default_checkpoint, k2_checkpoint])
    strip = window.compare_panel.strip
    qtbot.waitUntil(lambda: len(strip.images) == 2, timeout=3 * SIGNAL_TIMEOUT_MS)
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    cell = strip.width() / strip.count
    for index in range(2):
        first_line = strip.caption(index).split("\n")[0]
        assert first_line.startswith(("A: k=", "B: k="))
        assert strip.fontMetrics().horizontalAdvance(first_line) + 12 <= cell, (first_line, cell)


def test_the_robustness_plots_tick_labels_are_not_cut_off_on_a_laptop(qtbot, window, default_checkpoint, k2_checkpoint):
    """At a first start's 1366 x 740 layout the Compare panel squeezed the robustness view to 78
    px of its plot's 90 and cut the x axis's numbers in half: the status now sits beside the
    buttons."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    from aegui.qt import window_layout

    window.robustness.digits = 100
    window_layout.reset_layout(window, QRect(0, 0, 1366, 740))
    window.explore_tabs.setCurrentWidget(window.compare_panel)
    view = window.compare_panel.robustness_view
    window.explorer.open_comparison([default_checkpoint, k2_checkpoint])
    qtbot.waitUntil(lambda: len(view.curves) == 2, timeout=3 * SIGNAL_TIMEOUT_MS)
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QFontMetrics

    plot = view.plot
    axis = plot.getPlotItem().getAxis("bottom")
    axis_top = plot.mapFromScene(axis.sceneBoundingRect().topLeft()).y()
    font = axis.style["tickFont"] or plot.font()
    numbers_bottom = QPoint(plot.width() // 2, int(axis_top + max(0, axis.style["tickLength"]) + axis.style["tickTextOffset"][1] + QFontMetrics(font).height()))
    widget = plot  # every widget up to the window shows that point: none clips the numbers
    while widget is not window:
        point = plot.mapTo(widget, numbers_bottom) if widget is not plot else numbers_bottom
        assert widget.rect().contains(point), (type(widget).__name__, widget.rect(), point, view.height())
        widget = widget.parentWidget()


def test_three_bundled_models_robustness_table_is_whole_on_a_laptops_first_start(qtbot, window, default_checkpoint, k2_checkpoint):
    """The three bundled models compared at a first start's 1366 x 740 layout: the table's last
    line was cut through behind a scroll bar (its note on the kinds of noise now sits in the
    header row's empty first cell)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    from aegui.qt import window_layout

    window.robustness.digits = 100
    window_layout.reset_layout(window, QRect(0, 0, 1366, 740))
    window.explore_tabs.setCurrentWidget(window.compare_panel)
    view = window.compare_panel.robustness_view
    window.explorer.open_comparison([k2_checkpoint, default_checkpoint.with_name("mnist-conv-k32-denoising.ckpt"), default_checkpoint])
    qtbot.waitUntil(lambda: len(view.curves) == 3, timeout=3 * SIGNAL_TIMEOUT_MS)
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    assert view.numbers_area.verticalScrollBar().maximum() == 0, (view.numbers.sizeHint(), view.numbers_area.viewport().size())
    assert "mean of 4 kinds" in view.numbers.text()
