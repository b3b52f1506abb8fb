"""A pyqtgraph plot whose axes the code sets: no pan, zoom, context menu or autoscale button."""

from __future__ import annotations

import pyqtgraph as pg


class FixedPlot(pg.PlotWidget):
    def __init__(self, parent=None, minimum_height: int = 100):
        super().__init__(parent, background="w")
        self.setMinimumHeight(minimum_height)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
