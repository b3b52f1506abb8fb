"""One bar per latent dimension, over the training distribution (mean ± std) of that dimension."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsPathItem

from aegui.core.dimension_labels import label_shown
from aegui.qt.painting.fixed_plot import FixedPlot, RectBars, cache_in_device_pixels

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis, ModelSession

BAR_COLOUR = (70, 140, 230)
BEYOND_COLOUR = (170, 30, 30)  # the arrow on a bar that goes on past the plot's edge
DISTRIBUTION_COLOUR = (200, 200, 200, 90)
MEAN_COLOUR = (120, 120, 120)


class LatentBars(FixedPlot):
    dimension_selected = Signal(int)

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent, minimum_height=115)  # a 60-pixel data area above its dimension numbers and label
        plot = self.getPlotItem()
        plot.setLabel("bottom", "latent dimension")
        self.setToolTip("Hover a bar for its dimension's name and value; click it to traverse that dimension")
        plot.showGrid(y=True, alpha=0.2)
        # Training distribution (a box from mean - std to mean + std, a line at the mean) and
        # the zero line are plain Qt items: the scene asks every item in a repainted area for
        # its bounds, and pyqtgraph's items answer in Python, on every pen event.
        self._distribution = QGraphicsPathItem()
        self._distribution.setPen(QPen(Qt.PenStyle.NoPen))
        self._distribution.setBrush(pg.mkBrush(DISTRIBUTION_COLOUR))
        self._mean = QGraphicsPathItem()
        self._mean.setPen(pg.mkPen(MEAN_COLOUR, width=2, cosmetic=True))
        self._mean.setZValue(2)
        self._zero = QGraphicsLineItem()
        self._zero.setPen(pg.mkPen((150, 150, 150), width=1, cosmetic=True))
        for item in (self._distribution, self._zero, self._mean):
            plot.addItem(item, ignoreBounds=True)
        self._bars = RectBars(plot, width=0.55, brush=BAR_COLOUR, z_value=1)
        # A code may lie further out than the plot's range (mean ± 3 std of the training codes):
        # its bar ends at the edge under an arrow pointing on, not cut off with no sign.
        self._beyond = QGraphicsPathItem()
        self._beyond.setPen(QPen(Qt.PenStyle.NoPen))
        self._beyond.setBrush(pg.mkBrush(BEYOND_COLOUR))
        self._beyond.setZValue(3)
        plot.addItem(self._beyond, ignoreBounds=True)
        self._beyond_dimensions = np.zeros(0, dtype=np.int64)
        self._y_range = (-np.inf, np.inf)
        cache_in_device_pixels(self._distribution, self._zero, self._mean)  # fixed per model
        self._hover = pg.TextItem(anchor=(0, 1), color=(20, 20, 20), fill=(255, 255, 255, 220))
        self._hover.setZValue(10)
        self._hover.hide()
        plot.addItem(self._hover, ignoreBounds=True)
        self._code = np.zeros(0, dtype=np.float32)
        self._labels: list[str] = []
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        explorer.model_changed.connect(self.set_session)
        explorer.analysis_changed.connect(self._on_explorer_analysis_changed)
        self.dimension_selected.connect(explorer.select_dimension)

    def set_session(self, session: ModelSession) -> None:
        k = session.latent_dim
        low, high = session.slider_low, session.slider_high
        std = session.latent_std
        boxes, means = QPainterPath(), QPainterPath()
        for index, (mean, spread) in enumerate(zip(session.latent_mean.tolist(), std.tolist())):
            boxes.addRect(QRectF(index - 0.4, mean - spread, 0.8, 2 * spread))
            means.moveTo(index - 0.4, mean)
            means.lineTo(index + 0.4, mean)
        self._distribution.setPath(boxes)
        self._mean.setPath(means)
        self._zero.setLine(-1.0, 0.0, float(k), 0.0)
        self._labels = session.dimension_labels
        plot = self.getPlotItem()
        margin = 0.05 * float(high.max() - low.min())
        self._y_range = (float(low.min()) - margin, float(high.max()) + margin)
        plot.setYRange(*self._y_range, padding=0)
        self._beyond_dimensions = np.zeros(0, dtype=np.int64)
        self._beyond.setPath(QPainterPath())
        self._fit_ticks()
        self.show_code(session.latent_mean.astype(np.float32))

    def _fit_ticks(self) -> None:
        """Dimension numbers, every one or every n-th, as many as fit side by side without
        touching (names, which would collide, are in the hover text and the Explore dock)."""
        k = len(self.__dict__.get("_labels", ()))  # resized before the first model, too
        if not k:
            return
        axis = self.getPlotItem().getAxis("bottom")
        pixels_per_dimension = max(1.0, axis.width()) / k
        widest = self.fontMetrics().horizontalAdvance(str(k - 1)) + 8
        stride = next(step for step in (1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, k) if step * pixels_per_dimension >= widest or step >= k)
        axis.setTicks([[(index, str(index)) for index in range(0, k, stride)]])
        # room beside the first and last bars for half a number each: an axis drops a tick
        # label that would reach past its ends
        margin = max(0.7, (widest / 2 + 2) / pixels_per_dimension)
        self.getPlotItem().setXRange(-margin, k - 1 + margin, padding=0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_ticks()

    def _on_explorer_analysis_changed(self, analysis: Analysis) -> None:
        self.show_code(analysis.code)

    def show_code(self, code: np.ndarray) -> None:
        self._code = np.asarray(code, dtype=np.float32)
        self._bars.set_heights(self._code)
        bottom, top = self._y_range
        beyond = np.flatnonzero((self._code < bottom) | (self._code > top))
        if len(beyond) or len(self._beyond_dimensions):  # nearly always neither: nothing to redraw
            self._show_beyond(beyond)

    def _show_beyond(self, dimensions: np.ndarray) -> None:
        bottom, top = self._y_range
        depth = 0.08 * (top - bottom)  # the arrow's height, in the plot's units
        arrows = QPainterPath()
        for index in dimensions.tolist():
            edge, inward = (top, -depth) if self._code[index] > top else (bottom, depth)
            arrows.moveTo(index - 0.35, edge + inward)
            arrows.lineTo(index + 0.35, edge + inward)
            arrows.lineTo(index, edge)
            arrows.closeSubpath()
        self._beyond.setPath(arrows)
        self._beyond_dimensions = dimensions

    def dimensions_beyond_the_plot(self) -> list[int]:
        """The dimensions whose bars go on past the plot's edge (marked with an arrow)."""
        return self._beyond_dimensions.tolist()

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
        label = f" ({label_shown(self._labels[index])})" if self._labels[index] else ""
        self._hover.setText(f"dimension {index}{label}: {self._code[index]:+.3f}")
        point = self.getPlotItem().vb.mapSceneToView(scene_pos)
        # over the right half the text reads leftwards from the pointer, so it stays in the plot
        self._hover.setAnchor((1, 1) if index >= len(self._code) / 2 else (0, 1))
        self._hover.setPos(point)
        self._hover.show()

    def leaveEvent(self, event) -> None:
        self._hover.hide()  # the pointer left the plot: its text would hide a bar for nothing
        super().leaveEvent(event)

    def hover_text(self) -> str:
        return self._hover.toPlainText() if self._hover.isVisible() else ""

    def _on_scene_mouse_clicked(self, event) -> None:
        index = self._dimension_at(event.scenePos())
        if index is not None:
            self.dimension_selected.emit(index)
