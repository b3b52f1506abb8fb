"""A pyqtgraph plot whose axes the code sets: no pan, zoom, context menu or autoscale button."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem


def cache_in_device_pixels(*items: QGraphicsItem) -> None:
    """Keep each item's rendering as a pixmap until the item itself changes.

    Axes with a grid cover the whole plot, so without this every live update of a bar or a
    marker replays the axes' text and grid lines; with it, Qt copies pixels instead.
    """
    for item in items:
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def cache_axes(plot: pg.PlotItem) -> None:
    cache_in_device_pixels(*(plot.getAxis(name) for name in ("left", "bottom", "right", "top")))


class FixedPlot(pg.PlotWidget):
    def __init__(self, parent=None, minimum_height: int = 100):
        super().__init__(parent, background="w")
        self.setMinimumHeight(minimum_height)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        cache_axes(plot)
