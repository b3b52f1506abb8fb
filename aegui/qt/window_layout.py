"""Where the window's views go, and where the window goes on the screen.

Designed for a 1366 x 768 laptop and still whole at 1280 x 720 (docs/layout.md has the checked
matrix): the canvas, the code and the map share the width; the nearest digits sit under the
canvas and the digit probe under the map, so the code's bars keep their height; the two right docks share one column as tabs; the
bottom dock is as short as what it shows (a hint takes two lines, not a third of the screen).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractScrollArea, QCheckBox, QDockWidget, QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from aegui.qt.painting.colours import HINT, text_style
from aegui.qt.settings import DECODED_MAP, WINDOW_GEOMETRY, WINDOW_STATE, Settings

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


def fit_on_screen(widget: QWidget) -> None:
    """A dialog taller or wider than its screen's free area is shrunk to it (its fields scroll)
    and moved onto it, so its buttons can always be reached."""
    if widget.screen() is None:
        return
    available = widget.screen().availableGeometry()
    frame = widget.frameGeometry()
    extra = frame.size() - widget.size() if frame != widget.geometry() else FRAME_ALLOWANCE
    width = min(widget.width(), available.width() - extra.width())
    height = min(widget.height(), available.height() - extra.height())
    if (width, height) != (widget.width(), widget.height()):
        widget.resize(max(width, widget.minimumSizeHint().width()), max(height, widget.minimumSizeHint().height()))
    frame = widget.frameGeometry() if frame != widget.geometry() else QRect(widget.pos(), widget.size() + extra)
    left = min(max(frame.left(), available.left()), max(available.left(), available.right() + 1 - frame.width()))
    top = min(max(frame.top(), available.top()), max(available.top(), available.bottom() + 1 - frame.height()))
    if (left, top) != (frame.left(), frame.top()):
        widget.move(left, top)


def restore_layout(window: QMainWindow, settings: Settings, available: QRect | None = None) -> None:
    """The size, place and docks of last time, on the screen as it is now.

    A first start, or a saved layout that no longer fits the screen (a smaller monitor, another
    resolution, docks whose minimum height needs more than the screen has), gets the preferred
    size shrunk to the available screen area.
    """
    place_window(window, settings.read(WINDOW_GEOMETRY), settings.read(WINDOW_STATE), available)


def reset_layout(window: QMainWindow, available: QRect | None = None) -> None:
    """View ▸ Reset layout: the docks where a first start puts them, the window at its
    preferred size on the screen it is on (a layout kept from another screen or scale goes)."""
    watching = window.training_dock.isVisible()  # a run on show stays on show
    window.showNormal()
    window.centralWidget().set_scrolls(False)
    place_window(window, None, None, available)
    if watching:
        window.training_dock.show()


def place_window(window: QMainWindow, geometry, state, available: QRect | None = None) -> None:
    """Restore ``state`` (the docks) and ``geometry`` if given and they fit the screen, else the default layout."""
    if available is None:
        screen = window.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
    if state is None:
        window.restoreState(window.default_state)
    else:
        window.restoreState(state)
    if not fits(full_minimum(window), available):
        if state is not None and window.dockWidgetArea(window.sliders_dock) == Qt.DockWidgetArea.BottomDockWidgetArea:
            window.centralWidget().set_scrolls(True)  # the docks as the user left them on this small screen
        else:
            window.restoreState(window.default_state)  # docks from a larger screen: the default layout
            if not fits(full_minimum(window), available):
                bring_docks_below(window)  # a screen smaller than the layout: every dock under the views
    restored = geometry is not None and window.restoreGeometry(geometry)  # once the docks (and so the minimum) are settled
    minimum = window.minimumSizeHint()
    if not restored or not available.contains(window.geometry()) or window.width() < minimum.width() or window.height() < minimum.height():
        window.setGeometry(window_rect_for(available, minimum))


def full_minimum(window: QMainWindow) -> QSize:
    """The window's minimum with its central views unscrolled (the scroll area around them can
    shrink further; this is what the layout needs to show them whole)."""
    central = window.centralWidget()
    scrolls = central.scrolls
    central.set_scrolls(False)
    minimum = window.minimumSizeHint()
    central.set_scrolls(scrolls)
    return minimum


def fits(size: QSize, available: QRect) -> bool:
    return size.width() <= available.width() - FRAME_ALLOWANCE.width() and size.height() <= available.height() - FRAME_ALLOWANCE.height()


def bring_docks_below(window: QMainWindow) -> None:
    """For a screen smaller than the layout (a 1366 x 768 laptop at 125 %: 1093 x 614 logical
    pixels): the right docks become tabs of the bottom ones, so the views get the whole width;
    the bottom docks start at their minimum height, and the views scroll when even that leaves
    them too little room.

    The arrangement is made on a stand-in window with docks of the same names and restored
    here: moving this window's tabified docks directly leaves their old tab bars behind, on
    show. The stand-in is deleted at once (not later, and not by the garbage collector)."""
    stand_in = QMainWindow()
    stand_in.setCentralWidget(QWidget())
    docks = {}
    for name in ("explore", "training", "sliders", "model"):
        docks[name] = QDockWidget(name, stand_in)
        docks[name].setObjectName(name)
        stand_in.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks[name])
    for name in ("training", "sliders", "model"):
        stand_in.tabifyDockWidget(docks["explore"], docks[name])
    docks["training"].setVisible(window.training_dock.isVisible())
    docks["explore"].raise_()
    state = stand_in.saveState()
    docks.clear()
    shiboken6.delete(stand_in)
    window.restoreState(state)
    window.centralWidget().set_scrolls(True)
    window.resizeDocks([window.explore_dock], [window.explore_dock.minimumSizeHint().height()], Qt.Orientation.Vertical)  # the rest to the views


class ViewsArea(QScrollArea):
    """The central views. On a screen with room for the layout they are never scrolled: the
    area asks for their whole minimum, so the window grows (and ``keep_on_screen`` keeps it on
    the screen). Once ``bring_docks_below`` found the screen too small, the area may shrink
    below it and scrolls, so the window still fits and every view stays reachable."""

    def __init__(self, views: QWidget):
        super().__init__()
        self.scrolls = False
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the views' own controls (the area scrolls to them)
        self.setWidget(views)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._views = views  # QScrollArea.setWidget already filters the views' events through eventFilter

    def set_scrolls(self, scrolls: bool) -> None:
        self.scrolls = scrolls
        self.updateGeometry()
        if self.parentWidget() is not None and self.parentWidget().layout() is not None:
            self.parentWidget().layout().activate()  # the window's minimum follows at once, not after the next layout pass

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint() if self.scrolls else self._views.minimumSizeHint()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and watched is self._views:
            self.updateGeometry()  # a view's minimum changed (noise on): the window's minimum follows
        return super().eventFilter(watched, event)


def on_show(window: QWidget, widget: QWidget) -> bool:
    """Whether the user can see ``widget``: a dock behind another dock's tab, or a tab bar Qt
    parks off the window, is not (Tab should not land there). A frameless scroll area or
    plot is all viewport: what shows of it is what shows of its viewport."""
    shown = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
    if not widget.isVisible() or shown.visibleRegion().isEmpty():
        return False
    return window.rect().intersects(QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size()))


def save_layout(window: QMainWindow, settings: Settings) -> None:
    settings.write(WINDOW_GEOMETRY, window.saveGeometry())
    settings.write(WINDOW_STATE, window.saveState())


def scrolled(widget: QWidget, *, around_controls: bool = False, as_tall_as_its_minimum: bool = False) -> QScrollArea:
    """Every row reachable however short its dock.

    ``around_controls``: the area is no Tab stop of its own (it shows no focus mark, so a Tab
    press would seem to go nowhere); Tab goes to the controls inside and the area scrolls to
    them. An area around text keeps its stop, so the keyboard can scroll it.
    ``as_tall_as_its_minimum``: the dock never gives it less than the widget's minimum now, so
    it shows the whole widget then; what the widget gains later (a status of several lines)
    scrolls instead of squeezing the rest."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    if around_controls:
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if as_tall_as_its_minimum:
        area.setMinimumHeight(widget.minimumSizeHint().height())
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
    window.decoded_map_box.toggled.connect(lambda shown: window.settings.write(DECODED_MAP, "true" if shown else "false"))
    window.decoded_map_box.setChecked(window.settings.read(DECODED_MAP) == "true")  # as the last session left it
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
    window.map_hint.setStyleSheet(text_style(HINT))
    window.map_hint.setWordWrap(True)
    right = column(map_controls(window), (window.latent_map, 5), window.digit_legend, (window.probabilities, 2), window.map_hint)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.setChildrenCollapsible(False)
    for index, widget in enumerate((left, middle, right)):
        splitter.addWidget(widget)
        splitter.setStretchFactor(index, int(SPLIT[index] * 100))
    splitter.setSizes([int(share * 1000) for share in SPLIT])
    return splitter
