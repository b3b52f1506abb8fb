"""A pyqtgraph plot whose axes the code sets: no pan, zoom, context menu or autoscale button."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsView


def cache_in_device_pixels(*items: QGraphicsItem) -> None:
    """Keep each item's rendering as a pixmap until the item itself changes.

    Axes with a grid cover the whole plot, so without this every live update of a bar or a
    marker replays the axes' text and grid lines; with it, Qt copies pixels instead.
    """
    for item in items:
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def repaint_one_rect(view: pg.GraphicsView) -> None:
    """Repaint the bounding rectangle of all changes at once: when 32 bars move, one clip
    rectangle is cheaper to repaint than a region of 32."""
    view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)


def paint_with_the_window(view: pg.GraphicsView) -> None:
    """Let the view's changes wait for the window's one paint pass.

    By default a scene sends its items' changes straight to its views and then makes Qt paint
    the window at once (``QGraphicsScene`` dispatches the window's pending update request), so
    each plot changed by one pen event paints the window in a pass of its own. Once anything is
    connected to the scene's ``changed`` signal, the changes travel through that signal instead
    (a posted event, as every other widget's update) and the plots join the window's one pass.
    The latent map keeps the direct route: through ``changed`` its marker's few pixels would be
    repainted as its trail's whole bounding rectangle (5,500 → 33,000 pixels per pen event).
    """
    view.scene().changed.connect(_on_scene_changed)


def _on_scene_changed(_rects) -> None:
    """The view repaints the rectangles itself (Qt connects it once this slot is connected)."""


def cache_axes(plot: pg.PlotItem) -> None:
    cache_in_device_pixels(*(plot.getAxis(name) for name in ("left", "bottom", "right", "top")))


class FixedPlot(pg.PlotWidget):
    def __init__(self, parent=None, minimum_height: int = 100):
        super().__init__(parent, background="w", enableMenu=False, axisItems=axes_with_kept_bounds())  # no context menu: not even built
        for widget in (self, self.viewport()):  # no keys of its own: not a Tab stop without a focus mark
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumHeight(minimum_height)
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        cache_axes(plot)
        repaint_one_rect(self)
        paint_with_the_window(self)


class RectBars:
    """Bars as one Qt path item inside a pyqtgraph plot.

    Live values change on every pen event; the bars are rebuilt as one QPainterPath (one
    rectangle each) and handed to one QGraphicsPathItem, which Qt paints in C++: one item
    changes per pen event instead of one per bar, and pyqtgraph's BarGraphItem would rebuild
    and replay a picture in Python each time.
    """

    def __init__(self, plot: pg.PlotItem, width: float, brush, z_value: float = 0.0):
        self._width = width
        self._item = QGraphicsPathItem()
        self._item.setPen(QPen(Qt.PenStyle.NoPen))
        self._item.setBrush(pg.mkBrush(brush))
        self._item.setZValue(z_value)
        plot.addItem(self._item, ignoreBounds=True)
        self.heights = np.zeros(0, dtype=np.float64)

    def set_heights(self, heights) -> None:
        heights = np.asarray(heights, dtype=np.float64).reshape(-1)
        if np.array_equal(heights, self.heights):
            return
        path = QPainterPath()
        half, width = self._width / 2, self._width
        for index, height in enumerate(heights.tolist()):
            if height:
                path.addRect(index - half, min(0.0, height), width, abs(height))
        self._item.setPath(path)
        self.heights = heights


class ScatterWithKeptBounds(pg.ScatterPlotItem):
    """A scatter that works out its bounding rectangle once per change, not on every repaint.

    Qt asks each item in a repainted area for its bounding rectangle, three times per pen
    event for the map's reference digits under the moving marker, and pyqtgraph computes it in
    Python each time (data bounds and pixel padding, about 80 µs). The rectangle is kept with
    what it was computed from: the item's scene transform (zoom, pan, resize), its data
    bounds (pyqtgraph replaces that list when the data change) and its widest spot in pixels
    (a hovered spot is larger); ``prepareGeometryChange`` drops it too, as Qt's contract says.
    """

    def __init__(self, *args, **kwargs):
        self._kept_bounds: tuple | None = None
        super().__init__(*args, **kwargs)

    def prepareGeometryChange(self) -> None:
        self._kept_bounds = None
        super().prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        transform, kept = self.sceneTransform(), self._kept_bounds
        padding = self.pixelPadding()  # pyqtgraph's public measure of the widest spot
        if kept is None or kept[1] is not self.bounds or kept[2] != padding or kept[0] != transform:
            kept = self._kept_bounds = (transform, self.bounds, padding, super().boundingRect())
        return QRectF(kept[3])


class AxisWithKeptBounds(pg.AxisItem):
    """An axis that works out its bounding rectangle once per change, not on every repaint.

    With a grid an axis spans its plot, so Qt asks it for its rectangle whenever anything in
    the plot repaints (about 24 times per pen event over the bars', probabilities' and map's
    axes), and pyqtgraph computes it in Python each time. It follows from the axis's geometry,
    its linked view's (the grid's extent) and its style: the kept one is dropped when either
    geometry changes or the style or grid is set.
    """

    def __init__(self, *args, **kwargs):
        self._kept_bounds: QRectF | None = None
        super().__init__(*args, **kwargs)
        self.geometryChanged.connect(self._on_geometry_changed)

    def _on_geometry_changed(self) -> None:
        self._kept_bounds = None

    def prepareGeometryChange(self) -> None:  # pyqtgraph calls it when the grid or font is set
        self._kept_bounds = None
        super().prepareGeometryChange()

    def setStyle(self, **kwargs):
        self._kept_bounds = None
        return super().setStyle(**kwargs)

    def linkToView(self, view) -> None:
        super().linkToView(view)
        view.geometryChanged.connect(self._on_geometry_changed)
        self._kept_bounds = None

    def boundingRect(self) -> QRectF:
        if self._kept_bounds is None:
            self._kept_bounds = super().boundingRect()
        return QRectF(self._kept_bounds)


def axes_with_kept_bounds() -> dict[str, AxisWithKeptBounds]:
    """The two axes a plot shows (pyqtgraph shows every axis it is given; top and right stay
    its own, hidden)."""
    return {name: AxisWithKeptBounds(name) for name in ("left", "bottom")}
