"""Traversal strip and A-to-B interpolation, driven through the widgets."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, draw_stroke, wait_until_idle


def click_bar(window, dimension: int) -> None:
    plot = window.latent_bars.getPlotItem()
    scene_point = plot.vb.mapViewToScene(QPointF(dimension, 0))
    QTest.mouseClick(window.latent_bars.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, window.latent_bars.mapFromScene(scene_point))


def test_clicking_a_bar_shows_the_traversal_of_that_dimension(qtbot, window):
    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        click_bar(window, 4)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    dimension, values, images = analysis.extras["traversal"]
    assert dimension == 4 and window.traversal_panel.dimension_combo.currentData() == 4
    strip = window.traversal_panel.strip.images
    assert np.allclose(strip, images)
    assert np.abs(strip[0] - strip[-1]).mean() > 0.005  # the sweep changes the digit
    # the strip is the current code with only dimension 4 changed
    session = window.explorer.session
    expected = session.decode_many(np.repeat(analysis.code[None], len(values), 0) * (np.arange(session.latent_dim) != 4) + np.outer(values, np.arange(session.latent_dim) == 4))
    assert np.allclose(strip, expected, atol=1e-4)


def test_interpolating_between_two_kept_sketches(qtbot, window):
    panel = window.interpolation_panel
    window.explore_tabs.setCurrentWidget(panel)
    window.resize(1366, 740)
    window.resizeDocks([window.explore_dock], [1], Qt.Orientation.Vertical)  # as short as it goes: a small screen's layout
    QApplication.processEvents()
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    canvas_at = (window.canvas.mapTo(window, window.canvas.rect().topLeft()), window.canvas.size())  # the pen's target, before the strip fills
    code_a = window.explorer.analysis.code.copy()
    QTest.mouseClick(panel.keep_a_button, Qt.MouseButton.LeftButton)
    assert not panel.slider.isEnabled()
    window.canvas.clear()
    draw_stroke(window.canvas, canvas_points(window.canvas, "zero"))
    wait_until_idle(qtbot, window)
    code_b = window.explorer.analysis.code.copy()
    QTest.mouseClick(panel.keep_b_button, Qt.MouseButton.LeftButton)
    wait_until_idle(qtbot, window)
    assert panel.slider.isEnabled()
    QApplication.processEvents()
    assert len(panel.strip.images) and (window.canvas.mapTo(window, window.canvas.rect().topLeft()), window.canvas.size()) == canvas_at  # nothing moved or shrank under the pen
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        panel.slider.setValue(50)
    wait_until_idle(qtbot, window)
    analysis = window.explorer.analysis
    assert analysis.origin == "interpolation"
    assert np.allclose(analysis.code, (code_a + code_b) / 2, atol=1e-5)
    strip = panel.strip.images
    session = window.explorer.session
    assert np.allclose(strip[0], session.decode(code_a), atol=1e-4)
    assert np.allclose(strip[-1], session.decode(code_b), atol=1e-4)
    assert np.allclose(window.decoded_view.reconstruction(), session.decode((code_a + code_b) / 2), atol=1e-4)


def test_compare_view_reconstructs_the_sketch_with_a_family(qtbot, window, tmp_path, default_checkpoint, k2_checkpoint):
    import json
    import shutil

    shutil.copy(default_checkpoint, tmp_path / "k32.ckpt")
    shutil.copy(k2_checkpoint, tmp_path / "k2.ckpt")
    (tmp_path / "broken.ckpt").write_bytes(b"<html>404</html>")
    (tmp_path / "family.json").write_text(json.dumps({"checkpoints": ["k32.ckpt", "k2.ckpt", "broken.ckpt"]}))
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    window.open_family(tmp_path / "family.json")
    wait_until_idle(qtbot, window)
    rows = window.compare_panel.rows
    assert [row.latent_dim for row in rows] == [2, 32]  # the broken file is reported, not fatal
    assert "broken.ckpt" in window.compare_panel.status.text() and "web page" in window.compare_panel.status.text()
    image = window.explorer.analysis.input_image
    errors = {row.latent_dim: row.reconstruction_error for row in rows}
    assert errors[2] > errors[32]  # the 2-number bottleneck loses more of the sketch
    assert np.allclose(window.compare_panel.strip.images[1], rows[1].reconstruction)
    assert np.isclose(errors[32], np.mean((image - rows[1].reconstruction) ** 2), rtol=1e-5)
    assert window.compare_panel.status.text().endswith("Each was given your sketch.")
    # noise on the model's input: the models get the noisy sketch, and the panel says so ("your sketch" it said)
    from aegui.core.noise import NoiseSettings

    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.set_noise(NoiseSettings(strengths=(("gaussian", 0.5),)))
    wait_until_idle(qtbot, window)
    assert window.compare_panel.status.text().endswith("Each was given your sketch with the noise on it (Noise on the model's input, under the canvas).")
    assert np.isclose(window.compare_panel.rows[1].reconstruction_error, np.mean((window.explorer.analysis.input_image - window.compare_panel.rows[1].reconstruction) ** 2), rtol=1e-5)
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.set_noise(NoiseSettings(strengths=(("gaussian", 0.5),), enabled=False))
    wait_until_idle(qtbot, window)
    assert window.compare_panel.status.text().endswith("Each was given your sketch.")
    # a generated code on show: the models get the digit on show, and the panel says it is not the sketch
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.sample_random()
    wait_until_idle(qtbot, window)
    assert "the digit on show, decoded from a generated code, not your sketch" in window.compare_panel.status.text()
    assert np.isclose(window.compare_panel.rows[1].reconstruction_error, np.mean((window.explorer.analysis.reconstruction - window.compare_panel.rows[1].reconstruction) ** 2), rtol=1e-5)
    QTest.mouseClick(window.compare_panel.clear_button, Qt.MouseButton.LeftButton)
    wait_until_idle(qtbot, window)
    assert window.compare_panel.rows == [] and window.explorer.compared_models == []


def test_a_traversal_exports_as_an_animated_gif_and_a_png_strip(qtbot, window, tmp_path):
    from PIL import Image

    assert not window.exports.export_strip(tmp_path / "empty.gif")  # nothing chosen yet: nothing written
    assert not (tmp_path / "empty.gif").exists() and "strip is empty" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.analysis_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.select_dimension(4)
    wait_until_idle(qtbot, window)
    assert window.exports.export_strip(tmp_path / "traversal.gif")
    wait_until_idle(qtbot, window)  # written off the GUI thread
    assert window.exports.export_strip(tmp_path / "traversal.png")
    wait_until_idle(qtbot, window)
    from aegui.core.export import CAPTION_SIZE

    band = CAPTION_SIZE + 8  # a line of text and its margins: the title above, one caption line below
    animation = Image.open(tmp_path / "traversal.gif")
    width, height = animation.size  # a title wider than the digits widens the frames
    assert animation.n_frames == 16 and width >= 224 and height == 224 + 2 * band and animation.info["loop"] == 0  # 9 steps there and back
    frames = []
    for index in range(9):
        animation.seek(index)
        frames.append(np.asarray(animation.convert("L"), dtype=np.float32)[band : band + 224 : 8, :224:8] / 255)
    assert np.abs(np.array(frames) - window.traversal_panel.strip.images).max() < 0.01  # the frames are the strip's images
    strip = np.asarray(Image.open(tmp_path / "traversal.png"))
    assert strip.shape == (112 + 2 * band, 9 * 112 + 8 * 4)
    assert strip[:band].min() < 128  # a title: which dimension was swept
    captions = strip[band + 112 :]  # each image's value written under it, within its own column
    assert all(captions[:, column * 116 : column * 116 + 112].min() < 128 for column in range(9))
    assert window.statusBar().currentMessage() == f"Saved the Explore strip to {tmp_path / 'traversal.png'}"


def test_the_thicker_slider_thickens_the_decoded_digit_and_a_new_stroke_resets_it(qtbot, window):
    from training.stroke_properties import thickness

    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)  # Edit by meaning
    slider = window.direction_panel.sliders["thickness"]
    before = float(thickness(window.decoded_view.reconstruction()[None].astype(np.float64))[0])
    slider.setFocus()
    for _ in range(4):  # Page Up, as a keyboard user moves it: +10 steps each
        QTest.keyClick(slider, Qt.Key.Key_PageUp)
    wait_until_idle(qtbot, window)
    after = float(thickness(window.decoded_view.reconstruction()[None].astype(np.float64))[0])
    assert window.explorer.analysis.origin == "direction" and slider.value() == 40 and after > before + 0.3
    assert int(np.argmax(window.probabilities.probabilities)) == 7  # still a seven, only thicker
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    assert slider.value() == 0  # the new sketch is the new starting point


def test_the_decoded_digits_checkbox_shows_and_hides_the_decoded_map(qtbot, window):
    assert not window.latent_map.decoded_grid_shown()
    with qtbot.waitSignal(window.explorer.decoded_map_changed, timeout=SIGNAL_TIMEOUT_MS):
        window.decoded_map_box.click()
    qtbot.waitUntil(window.latent_map.decoded_grid_shown, timeout=SIGNAL_TIMEOUT_MS)
    window.decoded_map_box.click()
    assert not window.latent_map.decoded_grid_shown()


def test_the_decoded_digits_come_back_on_after_a_restart(qtbot, window, reference, settings, default_checkpoint):
    """The map's decoded digits came back unticked on every start."""
    from aegui.__main__ import create_window

    with qtbot.waitSignal(window.explorer.decoded_map_changed, timeout=SIGNAL_TIMEOUT_MS):
        window.decoded_map_box.click()
    again = create_window(settings, reference)  # the next start, with the same settings
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        again.open_model(default_checkpoint)
    assert again.decoded_map_box.isChecked()
    qtbot.waitUntil(again.latent_map.decoded_grid_shown, timeout=SIGNAL_TIMEOUT_MS)
    again.executor.shutdown()


def test_selecting_a_dimension_shows_where_it_looks_in_the_sketch(qtbot, window):
    assert window.decoded_view.saliency() is None
    assert window.decoded_view.images.caption(3) == "where h looks\n(click a bar)"  # the empty cell says how to fill it
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    with qtbot.waitSignal(window.explorer.saliency_changed, timeout=SIGNAL_TIMEOUT_MS, check_params_cb=lambda dimension, gradient: gradient is not None):
        window.explorer.select_dimension(5)
    wait_until_idle(qtbot, window)
    saliency = window.decoded_view.saliency()
    assert saliency is not None and window.decoded_view.saliency_dimension == 5
    expected = window.explorer.session.saliency(window.explorer.analysis.input_image, 5)
    assert np.allclose(saliency, expected / np.abs(expected).max(), atol=1e-5)
    assert window.decoded_view.images.caption(3) == "∂h5 / ∂x"
    window.explorer.select_dimension(None)
    assert window.decoded_view.saliency() is None and window.decoded_view.images.caption(3).endswith("(click a bar)")


def test_a_direction_sweep_exports_as_a_gif(qtbot, window, tmp_path):
    from PIL import Image

    from training.stroke_properties import thickness

    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)  # Edit by meaning
    window.direction_panel.sliders["thickness"].setValue(20)
    wait_until_idle(qtbot, window)
    assert window.exports.export_strip(tmp_path / "thicker.gif")
    wait_until_idle(qtbot, window)
    animation = Image.open(tmp_path / "thicker.gif")
    assert animation.n_frames == 16
    frames = []
    for index in (0, 8):
        animation.seek(index)
        frames.append(np.asarray(animation.convert("L"), dtype=np.float64)[::8, ::8] / 255)
    widths = thickness(np.array(frames))
    assert widths[1] > widths[0]  # from thinner to thicker


def test_decoded_map_cells_are_tinted_by_the_digit_the_probe_reads_there(qtbot, window):
    from aegui.core.session import DecodedGrid
    from aegui.qt.views.latent_map import DIGIT_COLOURS

    digits = np.array([[1, 7], [0, -1]])
    grid = DecodedGrid(low=np.array([0.0, 0.0]), high=np.array([1.0, 1.0]), cells=2, images=np.zeros((2, 2, 28, 28), np.float32), digits=digits)
    window.latent_map.show_decoded_grid(grid)
    mosaic = window.latent_map._decoded.image[::-1]  # top row first again
    for (row, col), digit in np.ndenumerate(digits):
        colour = np.array(DIGIT_COLOURS[digit] if digit >= 0 else (160, 160, 160)) / 255
        assert np.allclose(mosaic[row * 28 + 5, col * 28 + 5], 0.7 + 0.3 * colour, atol=1e-6)


def test_watching_a_real_training_run_shows_its_curves_and_replays_its_map(qtbot, window, tiny_mnist_dir, tmp_path):
    from tests.training.fitting import fit_args
    from training.cli import main as cli_main

    progress = tmp_path / "progress"
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "3", "--trainer.log_every_n_steps", "3", "--progress-dir", str(progress)))
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    view = window.training_view
    window.watch_training_run(progress)
    assert window.training_dock.isVisible()
    qtbot.waitUntil(lambda: len(window.training_run.maps) == 3 and view.epoch_slider.isEnabled(), timeout=SIGNAL_TIMEOUT_MS)
    assert view.status.text().startswith("Finished after") and "test MSE" in view.status.text()
    assert len(view.val_curve.getData()[0]) == 3 and len(view.loss_curve.getData()[0]) >= 3
    assert list(view.val_curve.getData()[0]) == [1, 2, 3]  # epochs count from 1, as the slider and the status line do
    assert window.training_run.selected_epoch == 2 and len(view.map_points.data) == 1000  # the newest epoch, all reference digits
    qtbot.waitUntil(lambda: view.sketch_row.image(1) is not None, timeout=SIGNAL_TIMEOUT_MS)  # the sketch rebuilt by the run's model
    from aegui.core.model_files.snapshot import read_snapshot

    network = read_snapshot(progress / "snapshots" / "epoch-0002.pt").network
    import torch

    with torch.no_grad():
        expected = network(torch.from_numpy(window.explorer.analysis.input_image).reshape(1, 1, 28, 28))[0, 0].numpy()
    assert np.allclose(view.sketch_row.image(1), expected, atol=1e-5)
    view.epoch_slider.setValue(0)
    assert window.training_run.selected_epoch == 0
    assert not np.allclose(window.training_run.maps[0], window.training_run.maps[2])  # the map formed between the epochs
    view.stop_watching()


def test_a_short_runs_few_logged_steps_are_drawn_as_points(qtbot, window, tmp_path):
    """A line through one point draws nothing: a run that logged a step or two showed an empty
    "train loss by step"."""
    import json

    view = window.training_view
    for name, steps in (("short", [10]), ("long", list(range(10, 210, 10)))):
        folder = tmp_path / name / "progress"
        folder.mkdir(parents=True)
        lines = [{"event": "start", "max_epochs": 1}] + [{"event": "step", "epoch": 0, "step": step, "train_loss": 0.1, "elapsed": 1.0, "eta": 1.0} for step in steps]
        (folder / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
        window.watch_training_run(folder)
        qtbot.waitUntil(lambda steps=steps: len(view.loss_curve.getData()[0] if view.loss_curve.getData()[0] is not None else ()) == len(steps), timeout=SIGNAL_TIMEOUT_MS)
        assert view.loss_curve.opts["symbol"] == ("o" if name == "short" else None)
    wait_until_idle(qtbot, window)


def test_keeping_an_end_with_nothing_drawn_says_it_is_the_average_code(qtbot, window):
    """Keep as A on an empty canvas kept the average code without a word: a morph from a
    blurred 8 the user never drew."""
    panel = window.interpolation_panel
    QTest.mouseClick(panel.keep_a_button, Qt.MouseButton.LeftButton)
    assert "A is the average code: nothing was drawn when it was kept." in panel.status.text()
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    QTest.mouseClick(panel.keep_b_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "Drag the slider to morph from A to B. A is the average code: nothing was drawn when it was kept."
    QTest.mouseClick(panel.keep_a_button, Qt.MouseButton.LeftButton)  # the sketch now
    assert panel.status.text() == "Drag the slider to morph from A to B."


def test_filling_or_emptying_a_strip_moves_nothing_above_it(qtbot, window, k2_checkpoint):
    """A latent bar clicked filled the Traverse strip and the Explore dock grew by its
    preferred height, moving the views and the tabs up under the pointer (a click meant for
    Compare models opened Interpolate); a model that emptied it moved them back down."""
    from PySide6.QtCore import QPoint, QRect

    from aegui.qt import window_layout

    window_layout.reset_layout(window, QRect(0, 0, 1366, 740))  # as a first start on a 1366 x 768 laptop lays it out
    window.explore_tabs.setCurrentWidget(window.traversal_panel)
    QApplication.processEvents()

    def where() -> tuple[int, int, int]:
        QApplication.processEvents()
        return window.explore_tabs.tabBar().mapTo(window, QPoint(0, 0)).y(), window.explore_dock.height(), window.canvas.height()

    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    before = where()
    window.explorer.select_dimension(3)  # as a click on bar 3
    wait_until_idle(qtbot, window)
    assert len(window.traversal_panel.strip.images) > 0 and where() == before
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(k2_checkpoint)  # no dimension chosen in the new model: the strip empties
    wait_until_idle(qtbot, window)
    assert len(window.traversal_panel.strip.images) == 0 and where() == before


def test_edit_by_meaning_sliders_have_about_a_pixel_per_step_on_a_laptop(qtbot, window):
    """At 1366 x 768 the sliders were 75 px long for 121 steps, beside a strip with room to spare,
    and the last of the five rows was cut in half behind a scroll bar."""
    from PySide6.QtCore import QRect

    from aegui.qt import window_layout
    from aegui.qt.views.explore_panels import DIRECTION_STEPS

    window_layout.reset_layout(window, QRect(0, 0, 1366, 740))
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)  # Edit by meaning
    QApplication.processEvents()
    sliders = list(window.direction_panel.sliders.values())
    assert sliders and all(slider.isVisible() and slider.width() >= 2 * DIRECTION_STEPS for slider in sliders), [slider.width() for slider in sliders]
    # and all five rows with the sentence above them, unscrolled (the fifth was cut in half behind a scroll bar)
    assert window.explore_tabs.currentWidget().verticalScrollBar().maximum() == 0
