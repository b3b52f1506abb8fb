"""The window against hostile files and absurd pointer input: it keeps its model, its map
stays where the digits are, and no code outside a finite, bounded range reaches a view."""

from __future__ import annotations

import warnings

import numpy as np
from PySide6.QtCore import QPointF

from tests.hostile_corpus import build_corpus
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, wait_until_idle


def test_the_window_refuses_every_hostile_file_and_keeps_its_model(qtbot, window, tmp_path):
    corpus = build_corpus(tmp_path / "hostile")
    session, title = window.explorer.session, window.windowTitle()
    for item in corpus:
        with qtbot.waitSignal(window.model_refused, timeout=SIGNAL_TIMEOUT_MS) as refused:
            window.open_model(item.path)
        assert item.expected in refused.args[0], item.name
        assert window.explorer.session is session and window.windowTitle() == title
    assert len(window._error_box.text()) < 1000  # the dialog shows one bounded message
    window._error_box.close()


def test_the_map_cannot_be_panned_or_zoomed_off_the_digits_and_resets(qtbot, window):
    latent_map = window.latent_map
    home = latent_map.view_range()
    low, high = window.explorer.session.map_bounds
    span = high - low
    view_box = latent_map.getPlotItem().getViewBox()
    view_box.scaleBy((1e60, 1e60))  # what a storm of wheel events asks for
    view_box.translateBy((1e70, -1e70))
    (a0, a1), (b0, b1) = latent_map.view_range()
    assert a1 - a0 <= 10 * span[0] * 1.001 and b1 - b0 <= 10 * span[1] * 1.001  # at most ten times the digits' extent
    assert low[0] - 3 * span[0] - 1e-6 <= a0 and a1 <= high[0] + 3 * span[0] + 1e-6  # and never far off them
    assert low[1] - 3 * span[1] - 1e-6 <= b0 and b1 <= high[1] + 3 * span[1] + 1e-6
    window.map_reset_button.click()
    assert np.allclose(latent_map.view_range(), home)


def test_codes_from_absurd_map_points_and_sliders_are_finite_and_bounded(qtbot, window):
    explorer = window.explorer
    session = explorer.session
    mean, std = session.latent_mean, session.latent_std
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in a cast, no NaN through the views
        for x, y in ((3.6e72, -3.6e72), (float("inf"), 0.0), (1e300, 1e300)):
            explorer.set_map_point(x, y)
            wait_until_idle(qtbot, window)
            code = explorer.analysis.code
            assert np.isfinite(code).all() and (np.abs(code - mean) <= 50.0 * std * (1 + 1e-5)).all()
            assert np.isfinite(explorer.analysis.reconstruction).all()
        explorer.set_dimension(0, float("nan"))
        explorer.set_dimension(1, 1e30)
        wait_until_idle(qtbot, window)
    code = explorer.analysis.code
    assert code[0] == np.float32(mean[0]) and code[1] == np.float32(mean[1] + 50.0 * std[1])
    assert np.isfinite(window.latent_map.marker_position()).all()
    before = explorer.code.copy()
    explorer.set_map_point(float("nan"), 0.0)  # not a point: ignored, the code stays
    wait_until_idle(qtbot, window)
    assert np.array_equal(explorer.code, before) and explorer.origin == "sliders"


def test_a_double_click_on_the_map_resets_its_view(qtbot, window):
    latent_map = window.latent_map
    home = latent_map.view_range()
    latent_map.getPlotItem().getViewBox().scaleBy((4, 4))
    assert not np.allclose(latent_map.view_range(), home)
    centre = QPointF(latent_map.width() / 2, latent_map.height() / 2)
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseDClick(latent_map.viewport(), Qt.MouseButton.LeftButton, pos=centre.toPoint())
    assert np.allclose(latent_map.view_range(), home)
