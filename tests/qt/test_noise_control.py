"""Noise beside the canvas: ticked and turned up by hand, it changes what the model sees and the
decoded view says how far the code moved."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionGroupBox

from tests.qt.conftest import canvas_points, draw_stroke, wait_until_idle


def click_group_box_tick(qtbot, box) -> None:
    option = QStyleOptionGroupBox()
    box.initStyleOption(option)
    tick = box.style().subControlRect(QStyle.ComplexControl.CC_GroupBox, option, QStyle.SubControl.SC_GroupBoxCheckBox, box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=tick.center())


def test_drawing_with_noise_on_shows_the_noisy_input_and_the_codes_drift(qtbot, window):
    control = window.sketch_panel.noise_control
    assert not control.isChecked() and window.explorer.noise.is_off()
    from aegui.qt.views.canvas import CANVAS_MINIMUM, CANVAS_MINIMUM_WITH_NOISE

    assert window.canvas.minimumHeight() == CANVAS_MINIMUM
    assert control.maximumHeight() <= control.fontMetrics().height() + 6  # off: just the tick, no empty frame under it
    click_group_box_tick(qtbot, control)
    assert control.isChecked() and window.explorer.noise.enabled
    assert window.canvas.minimumHeight() == CANVAS_MINIMUM_WITH_NOISE  # room for the sliders on a 720-pixel screen
    for kind in ("gaussian", "erased_blocks"):
        slider = control.sliders[kind]
        slider.setFocus()
        for _ in range(3):
            qtbot.keyClick(slider, Qt.Key.Key_PageUp)  # three pages of ten hundredths
    assert window.explorer.noise.active == {"gaussian": 0.3, "erased_blocks": 0.3}  # stored at once
    assert [control.values[kind].text() for kind in ("gaussian", "salt_and_pepper", "erased_blocks")] == ["0.30", "0.00", "0.30"]  # each strength as a number
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    effect = window.explorer.analysis.extras["noise"]
    shown = window.decoded_view.model_input()
    assert not np.allclose(shown, effect.clean_image, atol=1 / 255)  # the view shows the noisy input
    assert window.decoded_view.images.caption(0) == "noisy input"
    drift = re.search(r"noise moved the code ([0-9.]+) digit spreads", window.decoded_view.error_label.text())
    assert drift is not None and float(drift.group(1)) > 0
    click_group_box_tick(qtbot, control)  # off again: the clean sketch, no drift line
    wait_until_idle(qtbot, window)
    assert window.canvas.minimumHeight() == CANVAS_MINIMUM
    assert "noise" not in window.explorer.analysis.extras
    assert np.allclose(window.decoded_view.model_input(), effect.clean_image, atol=1 / 255)
    assert "noise moved" not in window.decoded_view.error_label.text()


def test_the_model_panel_says_whether_the_model_was_trained_against_noise(window):
    from aegui.qt.views.model_panel import describe_input_noise

    assert "denoising" in window.model_panel.text() and "no (trained on clean digits)" in window.model_panel.text()
    assert describe_input_noise("gaussian=0.5,erased_blocks=0.3") == "yes, trained to ignore Gaussian up to 0.5, erased blocks up to 0.3"


def test_the_model_panel_says_whether_the_model_was_trained_on_other_hands(window):
    from aegui.qt.views.model_panel import describe_input_restyle

    assert "other hands" in window.model_panel.text() and describe_input_restyle(0.0) == "no: only MNIST's own pen, no thick, blurred or low-resolution digits"  # a bare "no" explained nothing
    assert describe_input_restyle(0.5) == "yes, 50% of training digits thick, blurred, low resolution or an even pen, rebuilt as clean digits"
    assert describe_input_restyle(0.25, "restyled").endswith("25% of training digits thick, blurred, low resolution or an even pen, rebuilt as written")
