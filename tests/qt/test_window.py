"""The window driven like a person would: real mouse events, real files, real checkpoint."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QStyle, QStyleOptionGroupBox

from tests.core.code_files import load_code
from aegui.qt.painting.slider_rows import STEPS
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, draw_stroke, send_mouse, wait_until_idle


def state(window):
    return (
        window.latent_bars.bar_heights(),
        window.latent_map.marker_position(),
        window.decoded_view.reconstruction(),
    )


def test_drawing_changes_bars_marker_and_decoded_image_while_drawing(qtbot, window):
    bars, marker, decoded = state(window)
    shown = []
    window.analysis_shown.connect(lambda analysis: shown.append(analysis.origin))
    canvas, points = window.canvas, canvas_points(window.canvas, "zero")
    left = Qt.MouseButton.LeftButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, QPointF(*points[0]), left, left)
    for index, (x, y) in enumerate(points[1:]):
        send_mouse(canvas, QEvent.Type.MouseMove, QPointF(x, y), Qt.MouseButton.NoButton, left)
        if index % 10 == 9:  # a pause now and then, the button still held: the views follow
            wait_until_idle(qtbot, window)
    during_stroke = shown.count("sketch")
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(*points[-1]), left, Qt.MouseButton.NoButton)
    wait_until_idle(qtbot, window)
    new_bars, new_marker, new_decoded = state(window)
    assert not np.allclose(new_bars, bars)
    assert not np.allclose(new_marker, marker)
    assert np.abs(new_decoded - decoded).mean() > 0.01
    assert during_stroke >= 5  # updated during the stroke, not only on release
    assert len(window.explorer.trail) >= 2
    assert window.latent_map.trail_length() == len(window.explorer.trail)  # the trail is drawn
    model_input = window.decoded_view.model_input()
    assert model_input.shape == (28, 28) and model_input.max() > 0.5


def test_clear_and_undo_restore_the_previous_state(qtbot, window):
    blank = state(window)
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    one = state(window)
    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    assert not np.allclose(state(window)[0], one[0])
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the second stroke
    wait_until_idle(qtbot, window)
    for now, before in zip(state(window), one):
        assert np.allclose(now, before, atol=1e-5)
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)  # clear
    wait_until_idle(qtbot, window)
    for now, before in zip(state(window), blank):
        assert np.allclose(now, before, atol=1e-5)
    assert not window.canvas.has_ink()
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the clear
    wait_until_idle(qtbot, window)
    assert np.allclose(state(window)[0], one[0], atol=1e-5)
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # redo
    wait_until_idle(qtbot, window)
    assert not window.canvas.has_ink()


def test_right_button_erases(qtbot, window):
    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    ink_before = window.canvas.raster().sum()
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"), button=Qt.MouseButton.RightButton)
    wait_until_idle(qtbot, window)
    assert window.canvas.raster().sum() < ink_before


def drag_slider(window, index: int, fraction: float) -> None:
    """Press on slider ``index`` in the middle and drag it to ``fraction`` of its track."""
    window.sliders_dock.show()
    rows = window.sliders.rows
    rect = rows.row_rect(index)
    window.sliders.ensureVisible(rect.center().x(), rect.center().y())
    QApplication.processEvents()
    left, right = rows.track_span()
    start, end = QPointF((left + right) / 2, rect.center().y()), QPointF(left + fraction * (right - left), rect.center().y())
    button = Qt.MouseButton.LeftButton
    send_mouse(rows, QEvent.Type.MouseButtonPress, start, button, button)
    for step in np.linspace(0, 1, 5)[1:]:
        send_mouse(rows, QEvent.Type.MouseMove, start + (end - start) * float(step), Qt.MouseButton.NoButton, button)
    send_mouse(rows, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


def test_moving_a_slider_changes_decoded_image_bar_and_marker(qtbot, window):
    _, marker, decoded = state(window)
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        drag_slider(window, 3, 1.0)
    wait_until_idle(qtbot, window)
    bars, new_marker, new_decoded = state(window)
    assert bars[3] == np.float32(window.sliders.value_of_step(3, STEPS))
    assert np.abs(new_decoded - decoded).mean() > 1e-3
    assert not np.allclose(new_marker, marker)
    assert window.explorer.analysis.origin == "sliders"
    assert window.sliders.step(3) == STEPS  # the update did not bounce back into the slider
    assert window.sliders.rows.value_texts[3] == f"{window.explorer.analysis.code[3]:+.2f}"


def test_pressing_a_sliders_name_chooses_it_without_moving_it(qtbot, window):
    window.sliders_dock.show()
    rows = window.sliders.rows
    rect = rows.row_rect(2)
    window.sliders.ensureVisible(rect.center().x(), rect.center().y())
    before = window.sliders.step(2)
    left = Qt.MouseButton.LeftButton
    send_mouse(rows, QEvent.Type.MouseButtonPress, QPointF(rect.left() + 2, rect.center().y()), left, left)
    send_mouse(rows, QEvent.Type.MouseButtonRelease, QPointF(rect.left() + 2, rect.center().y()), left, Qt.MouseButton.NoButton)
    assert rows.current_row == 2 and window.sliders.step(2) == before


def test_slider_moves_with_the_keyboard(qtbot, window):
    window.sliders_dock.show()
    rows = window.sliders.rows
    rows.setFocus()
    QTest.keyClick(rows, Qt.Key.Key_Down)  # to the second dimension
    before = window.sliders.step(1)
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        QTest.keyClick(rows, Qt.Key.Key_PageUp)
    assert window.sliders.step(1) == min(before + STEPS // 10, STEPS)
    assert window.explorer.analysis.code[1] == np.float32(window.sliders.value_of_step(1, window.sliders.step(1)))


def test_a_scroll_area_around_controls_is_not_a_tab_stop_of_its_own(qtbot, window):
    """A scroll area that takes focus shows no focus mark, so a Tab press seems to go nowhere
    before it reaches the controls inside (the Train dialog's form and the direction sliders'
    area did): Tab goes straight to the controls, and the area scrolls to them."""
    from PySide6.QtWidgets import QScrollArea, QWidget

    from aegui.qt.views.train_dialog import TrainDialog

    dialog = TrainDialog(window.settings.plan_for_new_run(), window)
    qtbot.addWidget(dialog)
    tab = Qt.FocusPolicy.TabFocus

    def holds_controls(area: QScrollArea) -> bool:
        return any(child.focusPolicy() & tab for child in area.widget().findChildren(QWidget))

    areas = [area for area in window.findChildren(QScrollArea) + dialog.findChildren(QScrollArea) if holds_controls(area)]
    assert dialog.form_area in areas and any(type(area.widget()).__name__ == "DirectionPanel" for area in areas)
    assert [type(area.widget()).__name__ for area in areas if area.focusPolicy() & tab] == []


def test_sliders_scroll_for_large_k_and_keep_the_chosen_row_in_view(qtbot, window):
    window.sliders_dock.show()
    window.sliders_dock.resize(300, 200)
    QApplication.processEvents()
    rows = window.sliders.rows
    assert rows.height() > window.sliders.viewport().height()  # 32 rows do not fit: it scrolls
    rows.setFocus()
    for _ in range(31):
        QTest.keyClick(rows, Qt.Key.Key_Down)
    assert rows.current_row == 31
    bar = window.sliders.verticalScrollBar()
    assert bar.value() > 0 and rows.row_rect(31).bottom() - bar.value() <= window.sliders.viewport().height()


def test_tabbing_back_into_the_sliders_shows_the_row_the_keys_move(qtbot, window):
    """Tab into the rows scrolled the list to its top, so Right moved a chosen row further down
    with no outline or value in view."""
    window.sliders_dock.show()
    window.sliders_dock.resize(300, 200)
    QApplication.processEvents()
    rows, bar = window.sliders.rows, window.sliders.verticalScrollBar()
    rows.setFocus()
    for _ in range(20):
        QTest.keyClick(rows, Qt.Key.Key_Down)
    window.canvas.setFocus()
    bar.setValue(0)  # where the area's own scroll to the rows on Tab leaves it
    rows.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: bar.value() > 0)
    shown = rows.row_rect(20).translated(0, -bar.value())
    assert rows.current_row == 20 and 0 <= shown.top() and shown.bottom() <= window.sliders.viewport().height()


def test_clicking_the_map_decodes_that_point(qtbot, window):
    _, _, decoded = state(window)
    view_box = window.latent_map.getPlotItem().vb
    target = window.latent_map.getPlotItem().vb.viewRect().center()
    target.setX(target.x() + 0.3 * view_box.viewRect().width())
    scene_point = view_box.mapViewToScene(target)
    widget_point = window.latent_map.mapFromScene(scene_point)
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        QTest.mouseClick(window.latent_map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    assert analysis.origin == "map"
    assert np.allclose(analysis.map_position, [target.x(), target.y()], atol=0.05 * view_box.viewRect().width())
    assert np.abs(window.decoded_view.reconstruction() - decoded).mean() > 1e-3


def test_random_and_mean_buttons(qtbot, window):
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        QTest.mouseClick(window.slider_panel.random_button, Qt.MouseButton.LeftButton)
    random_code = window.explorer.analysis.code
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        QTest.mouseClick(window.slider_panel.mean_button, Qt.MouseButton.LeftButton)
    assert np.allclose(window.explorer.analysis.code, window.explorer.session.latent_mean)
    assert not np.allclose(random_code, window.explorer.session.latent_mean)


def test_back_to_sketch_after_moving_a_slider(qtbot, window):
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    sketch_code = window.explorer.analysis.code.copy()
    drag_slider(window, 1, 0.0)
    wait_until_idle(qtbot, window)
    assert window.slider_panel.back_to_sketch_button.isEnabled()
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        QTest.mouseClick(window.slider_panel.back_to_sketch_button, Qt.MouseButton.LeftButton)
    wait_until_idle(qtbot, window)
    assert np.allclose(window.explorer.analysis.code, sketch_code, atol=1e-5)


def test_open_another_checkpoint_switches_model_and_reencodes_the_sketch(qtbot, window, k2_checkpoint):
    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)
    wait_until_idle(qtbot, window)
    assert window.explorer.session.latent_dim == 2
    assert window.explorer.analysis.origin == "sketch" and window.explorer.analysis.code.shape == (2,)
    assert len(window.latent_bars.bar_heights()) == 2
    assert window.projection_combo.currentText() == "the code itself" and not window.projection_combo.isEnabled()  # no projection at k = 2
    assert "the code itself (k = 2)" in window.latent_map.getPlotItem().titleLabel.text
    assert "k = 2" in window.windowTitle()
    assert "mnist-conv-k2.ckpt" in window.model_panel.text() and "512 × 2 layers" in window.model_panel.text()
    assert str(k2_checkpoint.resolve()) in window.recent_files()


def test_dropping_a_checkpoint_opens_it(qtbot, window, k2_checkpoint):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(k2_checkpoint))])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.dropEvent(event)
    assert window.explorer.session.latent_dim == 2


def test_broken_file_shows_the_problem_and_keeps_the_model(qtbot, window, tmp_path):
    session = window.explorer.session
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    with qtbot.waitSignal(window.model_refused, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        window.open_model(broken)
    assert "Git LFS pointer" in blocker.args[0]
    assert window.explorer.session is session
    assert window._error_box is not None and "Git LFS pointer" in window._error_box.text()
    assert session.model.path.name in window._error_box.text()  # it says which model stays loaded
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))  # and the app still works
    wait_until_idle(qtbot, window)
    assert window.explorer.analysis.origin == "sketch"


def test_recent_files_menu_survives_missing_and_garbage_entries(qtbot, reference, settings, tmp_path):
    from aegui.__main__ import create_window

    settings.setValue("files/recent", [str(tmp_path / "gone.ckpt"), 42])
    window = create_window(settings, reference)
    qtbot.addWidget(window)
    assert window.recent_files() == []
    assert not window.recent_menu.isEnabled()
    window.executor.shutdown()


def test_exports_write_png_and_codes(qtbot, window, tmp_path):
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    window.exports.export_sketch(tmp_path / "sketch.png")
    window.exports.export_decoded(tmp_path / "decoded.png")
    wait_until_idle(qtbot, window)  # written off the GUI thread
    from PySide6.QtGui import QImage

    sketch = QImage(str(tmp_path / "sketch.png"))
    decoded = QImage(str(tmp_path / "decoded.png"))
    assert sketch.width() == 336 and decoded.width() == 28
    code = window.explorer.analysis.code
    for suffix in (".json", ".csv", ".npy"):
        window.exports.export_code(tmp_path / f"code{suffix}")
        wait_until_idle(qtbot, window)
        assert np.allclose(load_code(tmp_path / f"code{suffix}"), code)


def test_a_name_typed_without_a_suffix_is_written_as_the_file_type_chosen(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    answers = [(tmp_path / "mycode", "NumPy array (*.npy)"), (tmp_path / "mysketch", "PNG image (*.png)"), (tmp_path / "tilted.v2", "PNG image (*.png)")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(answers[0][0]), answers.pop(0)[1])))
    actions = {action.text().replace("&", ""): action for action in window.menuBar().actions()[0].menu().actions()}
    for name in ("Export latent code (JSON, CSV, NPY)…", "Export sketch as PNG…", "Export sketch as PNG…"):
        with qtbot.waitSignal(window.exports.saved, timeout=SIGNAL_TIMEOUT_MS):
            actions[name].trigger()
    assert np.allclose(np.load(tmp_path / "mycode.npy"), window.explorer.analysis.code)
    from PySide6.QtGui import QImage

    assert QImage(str(tmp_path / "mysketch.png")).width() == 336 and QImage(str(tmp_path / "tilted.v2.png")).width() == 336
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mycode.npy", "mysketch.png", "settings.ini", "tilted.v2.png"]


def test_bar_hover_shows_dimension_and_value(qtbot, window):
    plot = window.latent_bars.getPlotItem()
    widget_point = window.latent_bars.mapFromScene(plot.vb.mapViewToScene(QPointF(2, 0)))
    QTest.mouseMove(window.latent_bars.viewport(), widget_point)  # a hover: no button held
    qtbot.waitUntil(lambda: window.latent_bars.hover_text().startswith("dimension 2"), timeout=2000)


def test_a_bars_hover_text_stays_inside_the_plot_and_goes_when_the_pointer_leaves(qtbot, window):
    bars = window.latent_bars
    plot = bars.getPlotItem()
    inside = bars.mapFromScene(plot.vb.sceneBoundingRect()).boundingRect()  # in the view's pixels
    for dimension in (0, window.explorer.session.latent_dim - 1):  # the first bar and the last, at the right edge
        point = QPointF(bars.mapFromScene(plot.vb.mapViewToScene(QPointF(dimension, 0))))

        def hovered(point=point, dimension=dimension) -> bool:  # moved again until seen: pyqtgraph drops moves closer than a frame apart
            send_mouse(bars.viewport(), QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
            return bars.hover_text().startswith(f"dimension {dimension}")

        qtbot.waitUntil(hovered, timeout=2000)
        origin, box = bars.mapFromScene(bars._hover.scenePos()), bars._hover.boundingRect()  # the text ignores the plot's scale: its box is in pixels
        left, right = origin.x() + box.left(), origin.x() + box.right()
        assert inside.left() - 1 <= left and right <= inside.right() + 1, (dimension, left, right, inside)
    QApplication.sendEvent(bars, QEvent(QEvent.Type.Leave))
    assert bars.hover_text() == ""


def choose_projection_with_the_keyboard(qtbot, window, key) -> None:
    """Focus the map's projection box and press a key, as a person choosing a map would."""
    window.projection_combo.setFocus()
    QTest.keyClick(window.projection_combo, key)


def test_choosing_tsne_refits_the_map_off_the_gui_thread_and_is_remembered(qtbot, window, tmp_path):
    import pytest

    from aegui.qt.settings import PROJECTION

    pytest.importorskip("openTSNE")
    window.explorer.projection_cache_dir = tmp_path
    with qtbot.waitSignal(window.map_shown, timeout=120_000):
        choose_projection_with_the_keyboard(qtbot, window, Qt.Key.Key_End)  # the last entry: t-SNE
        assert window.busy_bar.isVisible()  # the fit runs in the background, the window stays live
    assert window.explorer.session.projection.name == "tsne"
    assert "t-SNE" in window.latent_map.getPlotItem().titleLabel.text
    assert window.settings.read(PROJECTION) == "tsne"
    assert window.projection_actions["tsne"].isChecked()
    assert list(tmp_path.glob("tsne-*.npy"))
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    assert np.isfinite(window.latent_map.marker_position()).all()


def test_a_new_map_keeps_the_analysis_of_the_sketch_on_the_canvas(qtbot, window, tmp_path):
    import pytest

    pytest.importorskip("openTSNE")
    window.explorer.projection_cache_dir = tmp_path
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    seen_before = window.decoded_view.model_input()
    assert seen_before.max() > 0.5 and window.anomaly_meter.percentile is not None
    with qtbot.waitSignal(window.map_shown, timeout=120_000):
        choose_projection_with_the_keyboard(qtbot, window, Qt.Key.Key_End)
    wait_until_idle(qtbot, window)
    # the digit is still on the canvas: what the model sees, its error and its verdict stay
    assert np.allclose(window.decoded_view.model_input(), seen_before)
    assert window.anomaly_meter.percentile is not None and window.anomaly_meter.verdict is not None
    assert window.explorer.analysis.origin == "sketch"
    assert "no input to compare" not in window.decoded_view.error_label.text()


def test_anomaly_meter_probe_and_neighbours_follow_the_sketch(qtbot, window):
    import math

    canvas = window.canvas
    draw_stroke(canvas, canvas_points(canvas, "one"))
    wait_until_idle(qtbot, window)
    assert window.anomaly_meter.verdict == "typical digit"
    assert int(np.argmax(window.probabilities.probabilities)) == 1
    session = window.explorer.session
    assert np.mean(session.reference.labels[window.nearest_digits.shown_indices] == 1) >= 0.6
    # now scribble a dense zig-zag over the whole canvas: clearly not a digit
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2
    zigzag = [(x0 + side * (0.1 + 0.8 * (i % 2)), y0 + side * (0.1 + 0.8 * i / 15)) for i in range(16)]
    window.sketch_panel.brush_slider.setValue(40)
    draw_stroke(canvas, zigzag)
    draw_stroke(canvas, [(x0 + side * (0.1 + 0.8 * i / 15), y0 + side * (0.5 + 0.4 * math.sin(i))) for i in range(16)])
    wait_until_idle(qtbot, window)
    assert window.anomaly_meter.verdict == "not a digit"
    assert window.anomaly_meter.percentile > 99


def test_undo_history_is_bounded(qtbot, window):
    from aegui.qt.views.canvas import MAX_UNDO_STEPS

    canvas = window.canvas
    for index in range(MAX_UNDO_STEPS + 30):
        draw_stroke(canvas, canvas_points(canvas, "one", count=4))
        if index % 10 == 9:
            canvas.clear()
    undone = 0
    while canvas.can_undo():
        canvas.undo()
        undone += 1
    assert undone == MAX_UNDO_STEPS
    wait_until_idle(qtbot, window)


def run_window_probe(tmp_path, screen: tuple[int, int], *resize: int) -> dict:
    """The window on a screen of ``screen`` pixels (Qt's offscreen platform, configured)."""
    config = tmp_path / f"screen-{screen[0]}x{screen[1]}.json"
    config.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": screen[0], "height": screen[1], "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    environment = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    command = [sys.executable, str(Path(__file__).with_name("window_geometry_probe.py")), str(tmp_path / "settings.ini"), *map(str, resize)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_window_fits_a_1366x768_screen_and_remembers_its_size(tmp_path):
    first = run_window_probe(tmp_path, (1366, 768), 1320, 680)  # above the minimum in any font (1280 wide in DejaVu Sans)
    x, y, width, height = first["frame"]
    assert first["available"] == [0, 0, 1366, 768]
    assert x >= 0 and y >= 0 and x + width <= 1366 and y + height <= 768  # every edge on screen
    assert first["minimum"][0] <= 1366 - 16 and first["minimum"][1] <= 768 - 40 - 30  # room for a panel and a title bar
    again = run_window_probe(tmp_path, (1366, 768))
    assert again["size"] == [1320, 680]  # the size it was closed at


def test_a_size_saved_on_a_large_screen_is_fitted_to_a_smaller_one(tmp_path):
    run_window_probe(tmp_path, (1920, 1200), 1800, 1100)
    small = run_window_probe(tmp_path, (1366, 768))
    x, y, width, height = small["frame"]
    assert x >= 0 and y >= 0 and x + width <= 1366 and y + height <= 768


def test_before_any_drawing_the_app_invites_drawing_and_says_what_it_shows(qtbot, window):
    assert "Nothing drawn yet" in window.decoded_view.error_label.text()
    assert window.probabilities.prediction_text.startswith("mean code: ")
    shot = window.canvas.grab().toImage()
    middle = range(shot.height() // 2 - 24, shot.height() // 2 + 24)
    assert any(QColor(shot.pixel(x, y)).red() > 100 for y in middle for x in range(0, shot.width(), 2))  # the invitation's text on black paper
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    assert "reconstruction error" in window.decoded_view.error_label.text()
    assert not window.probabilities.prediction_text.startswith("mean code")


def test_help_lists_the_menus_shortcuts_and_about_names_versions_and_credits(qtbot, window):
    rows = dict((what, keys) for keys, what in window.shortcut_rows())
    assert rows["Open model"] == QKeySequence(QKeySequence.StandardKey.Open).toString(QKeySequence.SequenceFormat.NativeText)
    assert rows["Clear"] == "Esc" and "Undo stroke" in rows and "erase on the canvas" in rows
    about = window.about_text()
    assert importlib.metadata.version("torch") in about and "Qt " in about and "MIT" in about and "LeCun" in about
    assert not window.windowIcon().isNull()


def test_export_says_where_it_wrote(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    with qtbot.waitSignal(window.exports.saved, timeout=SIGNAL_TIMEOUT_MS):
        window.exports.export_sketch(Path("sketch.png"))
    assert window.statusBar().currentMessage() == f"Saved the sketch to {tmp_path / 'sketch.png'}"


def test_status_messages_clear_when_the_work_is_done(qtbot, window, k2_checkpoint, default_checkpoint):
    with qtbot.waitSignal(window.explorer.comparison_changed, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.open_comparison([k2_checkpoint, default_checkpoint])
    wait_until_idle(qtbot, window)
    assert window.statusBar().currentMessage() == "" and window.busy_bar.isHidden()
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    assert window.compare_panel.status.text().endswith("Each was given your sketch.")
    with qtbot.waitSignal(window.explorer.comparison_changed, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.clear_comparison()
    assert window.compare_panel.status.text() == "No models to compare."  # not "... Each was given your sketch."


def test_the_explore_panels_say_what_they_will_show_before_there_is_anything(qtbot, window):
    strip = window.traversal_panel.strip
    assert len(strip.images) == 0 and "latent bar" in strip.placeholder
    shot = strip.grab().toImage()
    assert any(QColor(shot.pixel(x, shot.height() // 2)).red() < 200 for x in range(shot.width()))  # text, not a blank area


def test_a_map_method_that_is_not_installed_says_how_to_install_it(qtbot, reference, settings, monkeypatch):
    import aegui.qt.views.latent_map
    import aegui.qt.window_menus
    from aegui.__main__ import create_window

    monkeypatch.setattr(aegui.qt.views.latent_map, "available_methods", lambda: ["pca"])
    monkeypatch.setattr(aegui.qt.window_menus, "available_methods", lambda: ["pca"])
    window = create_window(settings, reference)
    qtbot.addWidget(window)
    combo = window.projection_combo
    umap = combo.findData("umap")
    assert combo.itemText(umap) == "UMAP (not installed)" and not combo.model().item(umap).isEnabled()  # short: the box stays narrow
    # a command that works from any folder (pip install aegui[maps] asked PyPI for another package)
    assert combo.itemData(umap, Qt.ItemDataRole.ToolTipRole) == "UMAP needs the optional packages; install them with pip install umap-learn openTSNE and restart aegui"
    assert window.projection_actions["tsne"].text() == "t-SNE (not installed: pip install umap-learn openTSNE)" and not window.projection_actions["tsne"].isEnabled()
    window.executor.shutdown()


def test_the_meter_explains_which_part_says_not_a_digit(qtbot, window):
    """A drawn capital L: the decoder rebuilds it well (below the 95th percentile of digits),
    but its code is far from every digit's; the meter says so, with each part's percentile."""
    canvas = window.canvas
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2

    def line(u0, v0, u1, v1, count=20):
        return [(x0 + side * (u0 + (u1 - u0) * i / (count - 1)), y0 + side * (v0 + (v1 - v0) * i / (count - 1))) for i in range(count)]

    window.sketch_panel.brush_slider.setValue(24)
    draw_stroke(canvas, line(0.3, 0.15, 0.3, 0.85) + line(0.3, 0.85, 0.75, 0.85)[1:])
    wait_until_idle(qtbot, window)
    meter = window.anomaly_meter
    assert meter.verdict == "not a digit"
    assert set(meter.parts) == {"reconstruction", "code_distance", "probe_doubt", "inner_distance", "code_detector"}
    reason = window.explorer.analysis.anomaly_reason
    first, second = meter.explanation_label.text().split("\n")
    assert reason.startswith("rebuilt well, but ") and first == f"not a digit: {reason}"
    assert second.startswith("rebuild ") and all(f" · {label} " in second for label in ("distance", "doubt", "inner", "detector"))
    draw_stroke(canvas, canvas_points(canvas, "one"))
    window.canvas.clear()
    draw_stroke(canvas, canvas_points(canvas, "one"))
    wait_until_idle(qtbot, window)
    first, second = meter.explanation_label.text().split("\n")
    assert meter.verdict == "typical digit" and first.startswith("typical ≤ 95th percentile") and second.startswith("rebuild ")


def test_the_bundled_model_loaded_is_checked_in_its_menu(qtbot, window, k2_checkpoint, default_checkpoint, monkeypatch):
    checked = lambda: [path.stem for path, action in window.bundled_actions.items() if action.isChecked()]  # noqa: E731
    assert checked() == [default_checkpoint.stem]
    k2_action = window.bundled_actions[k2_checkpoint]
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        k2_action.trigger()
    assert checked() == [k2_checkpoint.stem]
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        k2_action.trigger()  # clicked again: the same model, still checked (a click alone would uncheck it)
    assert checked() == [k2_checkpoint.stem]
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(default_checkpoint)
    assert checked() == [default_checkpoint.stem]
    monkeypatch.undo()  # each model read afresh, not shared by absolute path between tests
    monkeypatch.chdir(k2_checkpoint.parent.parent)
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(Path(k2_checkpoint.parent.name) / k2_checkpoint.name)  # as `aegui resources/checkpoints/...` names it
    assert not window.explorer.session.model.path.is_absolute() and checked() == [k2_checkpoint.stem]
    wait_until_idle(qtbot, window)
    assert all(action.actionGroup() is not None and action.actionGroup().isExclusive() for action in window.bundled_actions.values())  # radio items: one model at a time


def test_model_file_dialogs_open_in_the_bundled_models_folder_until_a_model_is_opened_from_elsewhere(window, tmp_path):
    from aegui.core.resources import CHECKPOINTS_DIR
    from aegui.qt.settings import LAST_MODEL_DIR

    from PySide6.QtCore import QSettings

    from aegui.qt.settings import Settings

    first_start = Settings(QSettings(str(tmp_path / "first.ini"), QSettings.Format.IniFormat))
    assert first_start.read(LAST_MODEL_DIR) == ""  # no folder remembered on a first start (it was the home folder)
    remembered = window.settings.read(LAST_MODEL_DIR)
    try:
        window.settings.write(LAST_MODEL_DIR, "")
        assert window.models_folder() == str(CHECKPOINTS_DIR)
        window.settings.write(LAST_MODEL_DIR, str(tmp_path))
        assert window.models_folder() == str(tmp_path)
    finally:
        window.settings.write(LAST_MODEL_DIR, remembered if remembered is not None else "")


def test_tab_stops_are_controls_that_take_keys_not_plots_or_scroll_areas(qtbot, window):
    """A keyboard user tabbing through the window lands only where a focus mark shows and
    keys do something: plots (but the map, whose arrows move the star) and the scroll areas
    around focusable rows are passed over."""
    import pyqtgraph as pg

    stops, widget = [], window.canvas
    for _ in range(400):
        widget = widget.nextInFocusChain()
        if widget is window.canvas:
            break
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.focusProxy() is None:  # as Qt's Tab: a proxied widget hands its focus on
            stops.append(widget)
    plots = [stop for stop in stops if isinstance(stop, pg.GraphicsView) or isinstance(stop.parentWidget(), pg.GraphicsView)]
    assert plots == [window.latent_map]  # tests/qt/test_map_keyboard.py: its keys and its focus mark
    assert window.sliders.rows in stops and window.sliders not in stops and window.centralWidget() not in stops


def test_tab_passes_over_what_is_behind_another_docks_tab(qtbot, window):
    """The Model dock shares its place with the Latent sliders (raised): Tab never lands in it,
    nor on a tab bar Qt parks off the window."""
    from aegui.qt.window_layout import on_show

    window.activateWindow()
    window.canvas.setFocus()
    landed = []
    for _ in range(60):
        window.focusNextPrevChild(True)
        landed.append(window.focusWidget())
        if window.focusWidget() is window.canvas:
            break
    assert window.canvas in landed and window.sliders.rows in landed  # round the whole window
    assert [widget for widget in landed if not on_show(window, widget)] == []
    assert not any(window.model_dock.isAncestorOf(widget) for widget in landed)


def test_an_empty_strip_is_refused_before_the_file_dialog_opens(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: asked.append(args) or ("", "")))
    actions = {action.text().replace("&", ""): action for action in window.menuBar().actions()[0].menu().actions()}
    with qtbot.waitSignal(window.exports.nothing_to_export, timeout=SIGNAL_TIMEOUT_MS) as said:
        actions["Export Explore strip (PNG strip or animated GIF)…"].trigger()
    assert asked == [] and said.args == ["Nothing to export: the Traverse a dimension strip is empty."]
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)  # Edit by meaning, no slider moved: only its hint on show
    with qtbot.waitSignal(window.exports.nothing_to_export, timeout=SIGNAL_TIMEOUT_MS) as said:
        actions["Export Explore strip (PNG strip or animated GIF)…"].trigger()
    assert asked == [] and said.args == ["Nothing to export: the Edit by meaning strip is empty (move one of its sliders first)."]


def test_the_canvas_shows_when_it_has_the_keys(qtbot, window):
    canvas = window.canvas
    window.activateWindow()
    window.sketch_panel.clear_button.setFocus()
    qtbot.waitUntil(lambda: not canvas.hasFocus())
    edge = canvas._target_rect().topLeft() + QPointF(1, 1).toPoint()
    edge = (edge.x(), edge.y())
    unfocused = canvas.grab().toImage().pixelColor(*edge)
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    focused = canvas.grab().toImage().pixelColor(*edge)
    assert focused == canvas.palette().highlight().color() and unfocused != focused


def test_a_model_that_learnt_other_data_says_the_map_digits_are_new_to_it(qtbot, window, k2_checkpoint, tmp_path):
    """A model trained on Fashion-MNIST placed MNIST digits on a map titled as if they were its
    own; the map and the status bar now say what it learnt."""
    import torch

    from aegui.core.model_format import STATISTICS_KEY

    checkpoint = torch.load(k2_checkpoint, weights_only=True)
    checkpoint[STATISTICS_KEY]["dataset"] = {**checkpoint[STATISTICS_KEY]["dataset"], "name": "fashion-mnist"}
    torch.save(checkpoint, tmp_path / "fashion.ckpt")
    title = window.latent_map.getPlotItem().titleLabel
    assert "learnt" not in title.text  # the bundled MNIST model
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(tmp_path / "fashion.ckpt")
    assert "MNIST test digits (the model learnt fashion-mnist)" in title.text
    assert window.statusBar().currentMessage().endswith("; it learnt fashion-mnist, not these MNIST digits")
    assert "fashion-mnist: " in window.model_panel.text() and " validation images" in window.model_panel.text()  # clothes, not digits


def test_edit_by_meaning_marks_a_direction_the_code_barely_holds(qtbot, window, k2_checkpoint):
    """On the k = 2 model "thicker" has R² 0.02: dragging it hardly thickens the digit, and
    the panel said nothing of it."""
    from PySide6.QtWidgets import QLabel

    def quality(name: str) -> QLabel:
        panel = window.direction_panel
        row = panel._grid.getItemPosition(panel._grid.indexOf(panel.sliders[name]))[0]
        return panel._grid.itemAtPosition(row, 3).widget()

    assert "weak" not in quality("thickness").text()  # the default model: R² 0.87
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)
    assert quality("thickness").text() == "R² 0.02 (weak)" and "barely holds thickness" in quality("thickness").toolTip()
    assert "weak" not in quality("width").text()  # R² 0.46


def test_esc_clears_in_the_canvas_only_not_from_another_control(qtbot, window):
    """Esc meant to close a combo box's popup (already closed) wiped the sketch."""
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    for control in (window.projection_combo, window.sliders.rows):
        control.setFocus()
        QTest.keyClick(control, Qt.Key.Key_Escape)
        QApplication.processEvents()
        assert window.canvas.has_ink(), type(control).__name__
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert not window.canvas.has_ink()


def test_esc_after_a_click_on_a_button_the_map_or_a_tab_clears_the_sketch(qtbot, window):
    """Drawn, then Keep as A clicked (or the map, or a tab): Esc cleared nothing and the next
    digit was drawn over the last, though the help says Esc clears."""
    explore = window.interpolation_panel
    keep_a = next(button for button in explore.findChildren(QPushButton) if "Keep as A" in button.text())
    clicks = [(keep_a, None), (window.latent_map.viewport(), None), (window.explore_tabs.tabBar(), window.explore_tabs.tabBar().tabRect(1).center())]
    window.explore_tabs.setCurrentWidget(explore)
    for widget, position in clicks:
        draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
        wait_until_idle(qtbot, window)
        window.explore_tabs.setCurrentWidget(explore)
        QApplication.processEvents()
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=position or widget.rect().center())
        wait_until_idle(qtbot, window)
        assert window.focusWidget() is not window.canvas, type(widget).__name__  # the click took the keys
        QTest.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
        assert not window.canvas.has_ink(), type(widget).__name__


def test_a_click_on_the_canvass_own_controls_leaves_esc_to_the_canvas(qtbot, window):
    """Drawn, then the noise ticked off or the brush changed with the mouse: Esc still clears
    (the canvas had lost the keys to the control clicked, and the next sketch was drawn over)."""
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))  # the press gives the canvas the keys
    wait_until_idle(qtbot, window)
    assert window.focusWidget() is window.canvas
    noise = window.sketch_panel.noise_control
    option = QStyleOptionGroupBox()
    noise.initStyleOption(option)
    was_on = noise.isChecked()
    QTest.mouseClick(noise, Qt.MouseButton.LeftButton, pos=noise.style().subControlRect(QStyle.ComplexControl.CC_GroupBox, option, QStyle.SubControl.SC_GroupBoxCheckBox, noise).center())
    assert noise.isChecked() != was_on  # the click hit its check box
    QTest.mouseClick(window.sketch_panel.brush_slider, Qt.MouseButton.LeftButton)
    wait_until_idle(qtbot, window)
    assert window.focusWidget() is window.canvas
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
    assert not window.canvas.has_ink()


def test_every_menu_item_has_its_own_alt_letter(window):
    """The View menu's dock items had none, so a keyboard user could not reach them by letter."""
    for menu_action in window.menuBar().actions():
        items = [action for action in menu_action.menu().actions() if not action.isSeparator()]
        letters = []
        for action in items:
            text = action.text().replace("&&", "")
            assert "&" in text, f"{menu_action.text()}: {text!r} has no Alt letter"
            letters.append(text[text.index("&") + 1].lower())
        assert len(letters) == len(set(letters)), f"{menu_action.text()}: Alt letters repeat: {letters}"
    assert window.sliders_dock.windowTitle() == "Latent sliders"  # the dock's own title has no marker


def test_view_reset_layout_puts_the_docks_back_where_a_first_start_has_them(qtbot, window, monkeypatch):
    """A layout kept from another screen or scale (every dock under the views) stayed, even
    maximised, until each dock was dragged back by hand."""
    from PySide6.QtCore import QRect

    from aegui.qt import window_layout

    right, laptop = Qt.DockWidgetArea.RightDockWidgetArea, QRect(0, 0, 1366, 740)
    window_layout.bring_docks_below(window)
    window.training_dock.show()  # a run on show
    assert window.dockWidgetArea(window.sliders_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    window_layout.reset_layout(window, laptop)
    QApplication.processEvents()
    assert window.dockWidgetArea(window.sliders_dock) == right and window.dockWidgetArea(window.model_dock) == right
    assert window.sliders_dock.isVisible() and window.training_dock.isVisible()
    assert laptop.contains(window.geometry())
    called = []
    monkeypatch.setattr(window_layout, "reset_layout", lambda *args: called.append(args))
    actions = {action.text().replace("&", ""): action for action in window.menuBar().actions()[2].menu().actions()}
    actions["Reset layout"].trigger()
    assert called == [(window,)]


def test_the_nearest_digits_line_up_with_the_canvas_above_them(qtbot, window):
    """Maximised on a laptop, the nearest digits and their title sat 2-4 px from the window's
    left edge, under a canvas 11 px in."""
    from PySide6.QtCore import QPoint

    window.resize(1366, 740)
    QApplication.processEvents()

    def span(widget) -> tuple[int, int]:
        left = widget.mapTo(window, QPoint(0, 0)).x()
        return left, left + widget.width()

    assert span(window.nearest_digits.images) == span(window.canvas)


def test_a_menu_closing_does_not_wipe_the_loaded_models_message(qtbot, window, k2_checkpoint):
    """A menu sends an empty status tip as it closes, which cleared "Loaded …" as the menu that
    loaded the model closed (a new user saw an empty status bar after every load)."""
    from PySide6.QtGui import QStatusTipEvent

    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)
    loaded = window.statusBar().currentMessage()
    assert loaded.startswith("Loaded ") and "k = 2" in loaded
    QApplication.sendEvent(window, QStatusTipEvent(""))  # the pointer leaves a menu
    assert window.statusBar().currentMessage() == loaded
    QApplication.sendEvent(window, QStatusTipEvent("Open a model file"))  # a hovered item's tip shows
    assert window.statusBar().currentMessage() == "Open a model file"
    QApplication.sendEvent(window, QStatusTipEvent(""))  # and the message it covered comes back
    assert window.statusBar().currentMessage() == loaded


def test_the_view_menu_brings_a_dock_tabbed_behind_another_to_the_front(qtbot, window):
    """The Model dock sits behind Latent sliders: View ▸ Model (keyboard: Alt+V, M) hid it,
    and a second time showed it still behind. It now comes to the front; a dock in view hides."""
    from PySide6.QtWidgets import QApplication

    window.show()
    QApplication.processEvents()
    view_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&View")
    model = next(action for action in view_menu.actions() if action.text() == "&Model")
    assert window.model_dock in window.tabifiedDockWidgets(window.sliders_dock)
    assert window.model_dock.visibleRegion().isEmpty() and not window.sliders_dock.visibleRegion().isEmpty()  # behind, at a first start
    model.trigger()
    QApplication.processEvents()
    assert not window.model_dock.visibleRegion().isEmpty() and window.sliders_dock.visibleRegion().isEmpty()  # in front
    assert model.isChecked()
    model.trigger()
    QApplication.processEvents()
    assert window.model_dock.isHidden() and not model.isChecked()
    model.trigger()
    QApplication.processEvents()
    assert not window.model_dock.isHidden() and not window.model_dock.visibleRegion().isEmpty() and model.isChecked()


def test_tabbing_out_of_the_sliders_leaves_the_list_where_it_is(qtbot, window):
    """Tab from the rows moved the focus on and scrolled the list by a few rows (the scroll
    area brought its last focused child, the rows, into view as the focus left)."""
    window.show()
    window.sliders_dock.show()
    window.sliders_dock.raise_()
    window.sliders_dock.resize(300, 200)
    QApplication.processEvents()
    rows, bar = window.sliders.rows, window.sliders.verticalScrollBar()
    rows.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(20):
        QTest.keyClick(rows, Qt.Key.Key_Down)
    QApplication.processEvents()
    before = bar.value()
    assert before > 0 and rows.hasFocus()
    QTest.keyClick(rows, Qt.Key.Key_Tab)
    QApplication.processEvents()
    assert not rows.hasFocus() and bar.value() == before
