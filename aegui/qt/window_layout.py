"""Where the window's views go, and where the window goes on the screen.

Designed for a 1366 x 768 laptop and still whole at 1280 x 720 (docs/layout.md has the checked
matrix): the canvas, the code and the map share the width; the nearest digits sit under the
canvas and the digit probe under the map, so the code's bars keep their height; the two right docks share one column as tabs; the
bottom dock is as short as what it shows (a hint takes two lines, not a third of the screen).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from aegui.qt.settings import WINDOW_GEOMETRY, WINDOW_STATE, Settings

PREFERRED_SIZE = QSize(1400, 860)
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum" (PySide6 does not export the constant)
# What a window manager adds around the client area (title bar, borders), before the window
# is shown and its real frame is known.
FRAME_ALLOWANCE = QSize(16, 40)
SPLIT = (0.28, 0.38, 0.34)  # sketch, code, map: shares of the central width


def window_rect_for(available: QRect, minimum: QSize, preferred: QSize = PREFERRED_SIZE) -> QRect:
    """The client rect of a new window on a screen with ``available`` geometry: the preferred
    size shrunk to fit (frame included), never below ``minimum``, centred."""
    width = max(minimum.width(), min(preferred.width(), available.width() - FRAME_ALLOWANCE.width()))
    height = max(minimum.height(), min(preferred.height(), available.height() - FRAME_ALLOWANCE.height()))
    left = available.x() + max(0, (available.width() - width - FRAME_ALLOWANCE.width()) // 2) + FRAME_ALLOWANCE.width() // 2
    top = available.y() + max(0, (available.height() - height - FRAME_ALLOWANCE.height()) // 2) + FRAME_ALLOWANCE.height() - FRAME_ALLOWANCE.width() // 2
    return QRect(left, top, width, height)


def keep_on_screen(window: QMainWindow) -> None:
    """A window that grew past the screen's bottom (its minimum height rose: a panel opened)
    moves up as far as it fits, instead of hiding its status bar and bottom dock off screen."""
    if window.isMaximized() or window.isFullScreen() or window.screen() is None:
        return
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if frame == window.geometry():  # no frame known yet: allow for one
        frame = frame.adjusted(0, -(FRAME_ALLOWANCE.height() - FRAME_ALLOWANCE.width() // 2), 0, FRAME_ALLOWANCE.width() // 2)
    overflow = frame.bottom() - available.bottom()
    if overflow > 0:
        window.move(window.x(), window.y() - min(overflow, max(0, frame.top() - available.top())))


def restore_layout(window: QMainWindow, settings: Settings, available: QRect | None = None) -> None:
    """The size, place and docks of last time, on the screen as it is now.

    A first start, or a saved layout that no longer fits the screen (a smaller monitor, another
    resolution, docks whose minimum height needs more than the screen has), gets the preferred
    size shrunk to the available screen area.
    """
    if available is None:
        screen = window.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
    geometry = settings.read(WINDOW_GEOMETRY)
    state = settings.read(WINDOW_STATE)
    if state is not None:
        window.restoreState(state)
    restored = geometry is not None and window.restoreGeometry(geometry)
    minimum = window.minimumSizeHint()
    if minimum.height() > available.height() - FRAME_ALLOWANCE.height() or minimum.width() > available.width() - FRAME_ALLOWANCE.width():
        window.restoreState(window.default_state)  # docks from a larger screen: the default layout
        minimum = window.minimumSizeHint()
    if not restored or not available.contains(window.geometry()) or window.width() < minimum.width() or window.height() < minimum.height():
        window.setGeometry(window_rect_for(available, minimum))


def save_layout(window: QMainWindow, settings: Settings) -> None:
    settings.write(WINDOW_GEOMETRY, window.saveGeometry())
    settings.write(WINDOW_STATE, window.saveState())


def scrolled(widget: QWidget) -> QScrollArea:
    """Every row reachable however short its dock."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def column(*rows, margins: int = 4) -> QWidget:
    """Widgets (or (widget, stretch) pairs, or layouts) stacked in a column."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(margins, margins, margins, margins)
    for row in rows:
        item, stretch = row if isinstance(row, tuple) else (row, 0)
        if isinstance(item, QWidget):
            layout.addWidget(item, stretch)
        else:
            layout.addLayout(item, stretch)
    return widget


def map_controls(window) -> QHBoxLayout:
    """The map's row: the projection, decoded digits behind the points, Reset view."""
    row = QHBoxLayout()
    row.addWidget(QLabel("Map"))
    row.addWidget(window.projection_combo)
    row.addStretch(1)
    window.decoded_map_box = QCheckBox("decoded digits")
    window.decoded_map_box.setToolTip("Show what lives where: digits decoded on a grid over the map, behind its points (computed in the background once per model and map)")
    window.decoded_map_box.toggled.connect(window.explorer.show_decoded_map)
    row.addWidget(window.decoded_map_box)
    window.map_reset_button = QPushButton("Reset view")
    window.map_reset_button.setToolTip("Show every reference digit again (or double-click the map). Drag to pan, wheel to zoom.")
    window.map_reset_button.clicked.connect(window.latent_map.reset_view)
    row.addWidget(window.map_reset_button)
    return row


def central_splitter(window) -> QSplitter:
    """Sketch and its nearest digits | the code (decoded, anomaly, bars) | the map and the digit probe."""
    left = column((window.sketch_panel, 5), (window.nearest_digits, 1), margins=2)
    middle = column((window.decoded_view, 3), window.anomaly_meter, (window.latent_bars, 4))
    window.map_hint = QLabel("Click the map to decode that point; drag to pan, wheel to zoom.")
    window.map_hint.setStyleSheet("color: #666")
    window.map_hint.setWordWrap(True)
    right = column(map_controls(window), (window.latent_map, 5), window.digit_legend, (window.probabilities, 2), window.map_hint)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.setChildrenCollapsible(False)
    for index, widget in enumerate((left, middle, right)):
        splitter.addWidget(widget)
        splitter.setStretchFactor(index, int(SPLIT[index] * 100))
    splitter.setSizes([int(share * 1000) for share in SPLIT])
    return splitter
