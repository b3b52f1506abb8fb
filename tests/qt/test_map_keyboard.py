"""The latent map by keyboard: Tab reaches it, a focus mark shows, the arrows move the star."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aegui.qt.views.latent_map import FOCUS_FRAME, KEY_STEP, KEY_STEP_LARGE
from tests.qt.conftest import wait_until_idle


def tab_to(window, target, limit: int = 80) -> bool:
    window.activateWindow()
    window.canvas.setFocus()
    for _ in range(limit):
        window.focusNextPrevChild(True)
        if window.focusWidget() is target:
            return True
    return False


def edge_colour(view) -> str:
    image = view.grab().toImage()
    return image.pixelColor(FOCUS_FRAME // 2, image.height() // 2).name()


def test_tab_reaches_the_map_and_a_focus_mark_shows_while_it_has_the_keys(qtbot, window):
    latent_map = window.latent_map
    highlight = latent_map.palette().color(QPalette.ColorRole.Highlight).name()
    assert edge_colour(latent_map) != highlight
    assert tab_to(window, latent_map)
    QApplication.processEvents()
    assert edge_colour(latent_map) == highlight
    window.canvas.setFocus()
    QApplication.processEvents()
    assert edge_colour(latent_map) != highlight


def test_the_arrows_move_the_star_and_decode_where_it_lands_as_a_click_does(qtbot, window):
    latent_map, explorer = window.latent_map, window.explorer
    assert tab_to(window, latent_map)
    start = latent_map.marker_position()
    (x0, x1), (y0, y1) = latent_map.view_range()
    for _ in range(5):  # pressed faster than the results come back: none is lost
        QTest.keyClick(latent_map, Qt.Key.Key_Right)
    wait_until_idle(qtbot, window)
    assert explorer.origin == "map" and window.decoded_view.images.image(1) is not None
    moved = latent_map.marker_position() - start
    assert np.allclose(moved, [5 * KEY_STEP * (x1 - x0), 0], atol=1e-3 * (x1 - x0))
    before = latent_map.marker_position()
    QTest.keyClick(latent_map, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    wait_until_idle(qtbot, window)
    assert np.allclose(latent_map.marker_position() - before, [0, KEY_STEP_LARGE * (y1 - y0)], atol=1e-3 * (y1 - y0))
    for _ in range(40):  # held down: the star stops at the edge of the view, still in sight
        QTest.keyClick(latent_map, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    wait_until_idle(qtbot, window)
    assert y0 < latent_map.marker_position()[1] < y0 + 0.05 * (y1 - y0)


def test_home_shows_every_reference_digit_again(qtbot, window):
    latent_map = window.latent_map
    home = latent_map.view_range()
    latent_map.getPlotItem().setXRange(0, 1, padding=0)
    assert latent_map.view_range() != home
    assert tab_to(window, latent_map)
    QTest.keyClick(latent_map, Qt.Key.Key_Home)
    assert np.allclose(latent_map.view_range(), home)
