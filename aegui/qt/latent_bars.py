"""One bar per latent dimension, over the training distribution (mean ± std) of that dimension."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from aegui.core.session import ModelSession
from aegui.qt.fixed_plot import FixedPlot, RectBars, cache_in_device_pixels

BAR_COLOUR = (70, 140, 230)
DISTRIBUTION_COLOUR = (200, 200, 200, 90)


class LatentBars(FixedPlot):
    dimension_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, minimum_height=160)
        plot = self.getPlotItem()
        plot.setLabel("bottom", "latent dimension")
        plot.setLabel("left", "value")
        plot.showGrid(y=True, alpha=0.2)
        self._distribution = pg.BarGraphItem(x=[], height=[], y0=[], width=0.8, brush=DISTRIBUTION_COLOUR, pen=None)
        self._mean = pg.ScatterPlotItem(size=10, symbol="t3", pen=None, brush=(120, 120, 120))
        self._zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((150, 150, 150), width=1))
        for item in (self._distribution, self._zero, self._mean):
            plot.addItem(item)
        self._bars = RectBars(plot, width=0.55, brush=BAR_COLOUR, z_value=1)
        self._mean.setZValue(2)
        cache_in_device_pixels(self._distribution, self._zero, self._mean)  # fixed per model
        self._hover = pg.TextItem(anchor=(0, 1), color=(20, 20, 20), fill=(255, 255, 255, 220))
        self._hover.setZValue(10)
        self._hover.hide()
        plot.addItem(self._hover, ignoreBounds=True)
        self._code = np.zeros(0, dtype=np.float32)
        self._labels: list[str] = []
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    def set_session(self, session: ModelSession, labels: list[str] | None = None) -> None:
        k = session.latent_dim
        x = np.arange(k)
        low, high = session.slider_low, session.slider_high
        std = session.latent_std
        self._distribution.setOpts(x=x, y0=session.latent_mean - std, height=2 * std)
        self._mean.setData(x=x, y=session.latent_mean)
        self._labels = labels or [""] * k
        plot = self.getPlotItem()
        plot.setXRange(-0.7, k - 0.3, padding=0)
        margin = 0.05 * float(high.max() - low.min())
        plot.setYRange(float(low.min()) - margin, float(high.max()) + margin, padding=0)
        ticks = [(i, self._labels[i] or str(i)) for i in range(k)] if k <= 16 else [(i, str(i)) for i in range(0, k, max(1, k // 16))]
        plot.getAxis("bottom").setTicks([ticks])
        self.show_code(session.latent_mean.astype(np.float32))

    def show_code(self, code: np.ndarray) -> None:
        self._code = np.asarray(code, dtype=np.float32)
        self._bars.set_heights(self._code)

    def bar_heights(self) -> np.ndarray:
        return self._code.copy()

    def _dimension_at(self, scene_pos) -> int | None:
        plot = self.getPlotItem()
        if not plot.sceneBoundingRect().contains(scene_pos) or not len(self._code):
            return None
        point = plot.vb.mapSceneToView(scene_pos)
        index = int(round(point.x()))
        return index if 0 <= index < len(self._code) else None

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        index = self._dimension_at(scene_pos)
        if index is None:
            self._hover.hide()
            return
        label = f" ({self._labels[index]})" if self._labels[index] else ""
        self._hover.setText(f"dimension {index}{label}: {self._code[index]:+.3f}")
        point = self.getPlotItem().vb.mapSceneToView(scene_pos)
        self._hover.setPos(point)
        self._hover.show()

    def hover_text(self) -> str:
        return self._hover.toPlainText() if self._hover.isVisible() else ""

    def _on_scene_mouse_clicked(self, event) -> None:
        index = self._dimension_at(event.scenePos())
        if index is not None:
            self.dimension_selected.emit(index)
