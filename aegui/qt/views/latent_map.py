"""The 2-D map: real MNIST test digits placed by their codes, and the current code on top."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPalette, QPen, QTransform
from PySide6.QtWidgets import QComboBox, QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QLabel

from aegui.core.model_names import other_dataset
from aegui.core.projection import MAP_LIMIT_WIDTHS, MAPS_INSTALL, PROJECTION_LABELS, PROJECTION_METHODS, available_methods
from aegui.qt.painting.fixed_plot import ScatterWithKeptBounds, axes_with_kept_bounds, cache_axes, cache_in_device_pixels, repaint_one_rect

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis, ModelSession

DIGIT_COLOURS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]  # fmt: skip


MARKER_SIZE = 22  # pixels
KEY_STEP = 0.02  # an arrow key moves the star this share of the view's width or height
KEY_STEP_LARGE = 0.10  # with Shift
FOCUS_FRAME = 2  # pixels: the map's focus mark, drawn inside its edge while the arrows move the star
_ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
FRESH_TRAIL_POINTS = 8  # the trail's last points, repainted with each pen event


def _polyline(points: list[tuple[float, float]]) -> QPainterPath:
    path = QPainterPath(QPointF(*points[0]))
    for point in points[1:]:
        path.lineTo(*point)
    return path


def _star_path(size: float) -> QPainterPath:
    """pyqtgraph's star symbol scaled to ``size`` pixels."""
    return QTransform.fromScale(size, size).map(Symbols["star"])


class DigitLegend(QLabel):
    """Which colour is which digit, beside the map rather than over its points."""

    def __init__(self, parent=None):
        swatches = "&nbsp;".join(f"<span style='color: rgb{colour}'>&#9679;</span>{digit}" for digit, colour in enumerate(DIGIT_COLOURS))
        super().__init__(swatches, parent)
        self.setTextFormat(Qt.TextFormat.RichText)  # one row, narrow enough for the map column
        self.setToolTip("Colour of each reference digit on the map")


NEIGHBOUR_RINGS = 5  # as many as the nearest digits shown under the probe


class LatentMap(pg.PlotWidget):
    point_clicked = Signal(float, float)  # map coordinates of a click
    reference_hovered = Signal(int, int)  # (reference index, digit); (-1, -1) when none

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent, background="w", enableMenu=False, axisItems=axes_with_kept_bounds())  # no context menu: not even built
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the arrows move the star: a Tab stop, with a focus mark
        self._keyed: tuple | None = None  # (session, code, point) of the last point the keys chose
        self.setMinimumSize(200, 150)  # grows with the window; 150 leaves room for a watched run on a 720-pixel screen
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setAspectLocked(False)
        self._digit_brushes = [pg.mkBrush(*colour, 150) for colour in DIGIT_COLOURS]
        # All reference digits in one item, kept as one pixmap: when the marker moves, Qt
        # copies the pixels under it instead of drawing 3,000 points again (no grid either:
        # a grid spans the whole plot and would be redrawn with every move).
        self._references = ScatterWithKeptBounds(size=5, pen=None, hoverable=True, hoverSize=9, hoverPen=pg.mkPen("k"), tip=None)
        self._references.sigHovered.connect(self._on_references_hovered)
        cache_in_device_pixels(self._references)
        plot.addItem(self._references)
        # Marker and trail are plain Qt items (painted in C++, no Python per repaint): the
        # marker keeps its pixel size at any zoom, the trail is one path in map coordinates.
        self._marker = QGraphicsPathItem(_star_path(MARKER_SIZE))
        self._marker.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._marker.setPen(pg.mkPen("k", width=1.5))
        self._marker.setBrush(pg.mkBrush(255, 215, 0))
        self._marker.setZValue(6)
        self._marker.hide()
        # The trail is two paths: the last few points, which grow with each pen event and are
        # all that is repainted then, and the rest, settled and kept as a pixmap. One growing
        # path would repaint the whole stroke's extent on every event.
        trail_pen = pg.mkPen((30, 30, 30, 160), width=2)
        trail_pen.setCosmetic(True)
        self._trail_settled, self._trail_fresh = QGraphicsPathItem(), QGraphicsPathItem()
        for item in (self._trail_settled, self._trail_fresh):
            item.setPen(trail_pen)
            item.setZValue(5)
            plot.addItem(item, ignoreBounds=True)
        cache_in_device_pixels(self._trail_settled)
        self._trail_points: list[tuple[float, float]] = []
        self._settled_count = 0  # points in the settled path
        self._trail_start: np.ndarray | None = None  # first point of the trail drawn
        plot.addItem(self._marker, ignoreBounds=True)
        # rings around the nearest reference digits: plain Qt items of a fixed pixel size
        self._rings = []
        for _ in range(NEIGHBOUR_RINGS):
            ring = QGraphicsEllipseItem(-6, -6, 12, 12)
            ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            ring.setPen(pg.mkPen((20, 20, 20), width=1.5))
            ring.setZValue(4)
            ring.hide()
            plot.addItem(ring, ignoreBounds=True)
            self._rings.append(ring)
        self._ringed = np.zeros(0, dtype=np.int64)
        self._marker_xy = np.array([np.nan, np.nan])
        self._hover_label = pg.TextItem(anchor=(0, 1), color=(20, 20, 20), fill=(255, 255, 255, 220))
        self._hover_label.setZValue(10)
        self._hover_label.hide()
        plot.addItem(self._hover_label, ignoreBounds=True)
        cache_axes(plot)
        repaint_one_rect(self)
        # decoded digits on a grid, behind everything (one image item; off unless asked for)
        self._decoded = pg.ImageItem(axisOrder="row-major")
        self._decoded.setZValue(-10)
        self._decoded.setOpacity(0.45)
        self._decoded.hide()
        plot.addItem(self._decoded, ignoreBounds=True)
        self._labels = np.zeros(0, dtype=np.int64)
        self._home_range: tuple[np.ndarray, np.ndarray] | None = None
        self.hovered_digit: int | None = None
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self._explorer = explorer
        explorer.model_changed.connect(self.set_session)
        explorer.projection_changed.connect(self.set_session)
        explorer.analysis_changed.connect(self._on_explorer_analysis_changed)
        explorer.decoded_map_changed.connect(self.show_decoded_grid)
        self.point_clicked.connect(explorer.set_map_point)

    def show_decoded_grid(self, grid) -> None:
        """Faint decoded digits tiling the map, each cell tinted by the probe's digit there, or none."""
        if grid is None:
            self._decoded.hide()
            return
        cells, size = grid.cells, grid.images.shape[-1]
        # each cell tinted with the colour of the digit the probe reads there, ink dark on it
        palette = np.array([*DIGIT_COLOURS, (160, 160, 160)], dtype=np.float32) / 255.0
        tints = 0.7 + 0.3 * palette[np.where(grid.digits >= 0, grid.digits, len(DIGIT_COLOURS))]  # (cells, cells, 3)
        ink = grid.images[..., None]  # (cells, cells, 28, 28, 1)
        cells_rgb = tints[:, :, None, None, :] * (1.0 - 0.85 * ink)
        mosaic = cells_rgb.transpose(0, 2, 1, 3, 4).reshape(cells * size, cells * size, 3)
        self._decoded.setImage(np.ascontiguousarray(mosaic[::-1]), levels=(0.0, 1.0))  # row 0 at the bottom: y grows upwards
        self._decoded.setRect(QRectF(float(grid.low[0]), float(grid.low[1]), float(grid.high[0] - grid.low[0]), float(grid.high[1] - grid.low[1])))
        self._decoded.show()

    def decoded_grid_shown(self) -> bool:
        return self._decoded.isVisible()

    def set_session(self, session: ModelSession) -> None:
        positions = session.reference_positions
        labels = session.reference.labels
        self._labels = labels
        self._ringed = np.zeros(0, dtype=np.int64)  # reference points moved: ring them again at the next analysis
        for ring in self._rings:
            ring.hide()
        brushes = [self._digit_brushes[int(digit) % len(self._digit_brushes)] for digit in labels]
        self._references.setData(x=positions[:, 0], y=positions[:, 1], data=np.arange(len(labels)), brush=brushes)
        plot = self.getPlotItem()
        title = {"latent": f"the code itself (k = {session.latent_dim})", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
        learnt = other_dataset(session.model)  # the digits are not what such a model learnt: said where they are shown
        plot.setTitle(f"{len(labels):,} MNIST test digits{f' (the model learnt {learnt})' if learnt else ''} · {title.get(session.projection.name, session.projection.name)}", size="9pt")
        low, high = session.map_bounds
        span = high - low
        # Pan and zoom stay where the digits are: at most three map widths off them, no further
        # out than ten times their extent, no closer in than a thousandth of it.
        plot.getViewBox().setLimits(
            xMin=float(low[0] - MAP_LIMIT_WIDTHS * span[0]), xMax=float(high[0] + MAP_LIMIT_WIDTHS * span[0]),
            yMin=float(low[1] - MAP_LIMIT_WIDTHS * span[1]), yMax=float(high[1] + MAP_LIMIT_WIDTHS * span[1]),
            maxXRange=float(10 * span[0]), maxYRange=float(10 * span[1]), minXRange=float(span[0] / 1000), minYRange=float(span[1] / 1000),
        )  # fmt: skip
        self._home_range = (low, high)
        self.reset_view()
        self._set_trail([])

    def reset_view(self) -> None:
        """Show every reference digit again, as the map first opened."""
        if self._home_range is None:
            return
        low, high = self._home_range
        margin = 0.08 * (high - low)
        plot = self.getPlotItem()
        plot.enableAutoRange(False)
        plot.setXRange(float(low[0] - margin[0]), float(high[0] + margin[0]), padding=0)
        plot.setYRange(float(low[1] - margin[1]), float(high[1] + margin[1]), padding=0)

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        (x0, x1), (y0, y1) = self.getPlotItem().getViewBox().viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def mouseDoubleClickEvent(self, event) -> None:
        self.reset_view()
        event.accept()

    def keyPressEvent(self, event) -> None:
        """The arrows move the star across the map (Shift: five times farther) and decode where
        it lands, as a click there does; Home shows every reference digit again."""
        key, explorer = event.key(), self._explorer
        if key == Qt.Key.Key_Home:
            self.reset_view()
        elif key in _ARROWS and explorer.session is not None:
            (x0, x1), (y0, y1) = self.view_range()
            session, code = explorer.session, explorer.code
            if self._keyed is not None and self._keyed[0] is session and self._keyed[1] is code:
                start = self._keyed[2]  # the point the keys chose, while its result may still be on the way
            elif self._marker.isVisible() and np.all(np.isfinite(self._marker_xy)):
                start = self._marker_xy
            else:
                start = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            step = KEY_STEP_LARGE if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else KEY_STEP
            (dx, dy), margin = _ARROWS[key], 0.02
            x = float(np.clip(start[0] + dx * step * (x1 - x0), x0 + margin * (x1 - x0), x1 - margin * (x1 - x0)))  # the star stays in view
            y = float(np.clip(start[1] + dy * step * (y1 - y0), y0 + margin * (y1 - y0), y1 - margin * (y1 - y0)))
            self.point_clicked.emit(x, y)
            self._keyed = (explorer.session, explorer.code, np.array([x, y]))
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.hasFocus():  # the focus mark: a frame inside the edge, in the palette's highlight
            painter = QPainter(self.viewport())
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawRect(QRectF(self.viewport().rect()).adjusted(FOCUS_FRAME / 2, FOCUS_FRAME / 2, -FOCUS_FRAME / 2, -FOCUS_FRAME / 2))
            painter.end()

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.viewport().update()

    def _on_explorer_analysis_changed(self, analysis: Analysis) -> None:
        self.show_position(analysis.map_position, self._explorer.trail if analysis.origin == "sketch" else None)
        self.show_neighbours(analysis.neighbours)

    def show_neighbours(self, indices: np.ndarray) -> None:
        """Rings around the reference digits whose codes are nearest the current code: on the
        map, how far the code sits from the digits (moved only when the neighbours change)."""
        indices = np.asarray(indices)
        if np.array_equal(indices, self._ringed):
            return
        self._ringed = indices
        positions = self._explorer.session.reference_positions if self._explorer.session is not None else None
        for ring, index in zip(self._rings, list(indices) + [None] * len(self._rings)):
            if index is None or positions is None or index >= len(positions):
                ring.hide()
            else:
                ring.setPos(float(positions[index, 0]), float(positions[index, 1]))
                ring.show()

    def ringed_positions(self) -> np.ndarray:
        return np.array([[ring.pos().x(), ring.pos().y()] for ring in self._rings if ring.isVisible()])

    def show_position(self, position: np.ndarray, trail: list[np.ndarray] | None = None) -> None:
        self._marker_xy = np.array([float(position[0]), float(position[1])])
        self._marker.setPos(*self._marker_xy)
        self._marker.show()
        trail = trail or []
        if trail and len(trail) == len(self._trail_points) + 1 and trail[0] is self._trail_start:
            self._extend_trail(trail[-1])  # the stroke went on: one more point
        elif len(trail) != len(self._trail_points) or (trail and trail[0] is not self._trail_start):
            self._set_trail(trail)

    def _set_trail(self, trail: list[np.ndarray]) -> None:
        self._trail_points = [(float(x), float(y)) for x, y in trail]
        self._trail_start = trail[0] if trail else None
        self._settled_count = len(self._trail_points) if len(self._trail_points) > 1 else 0
        self._trail_settled.setPath(_polyline(self._trail_points) if self._settled_count else QPainterPath())
        self._trail_fresh.setPath(QPainterPath())

    def _extend_trail(self, point: np.ndarray) -> None:
        self._trail_points.append((float(point[0]), float(point[1])))
        fresh = self._trail_points[max(self._settled_count - 1, 0) :]
        if len(fresh) > FRESH_TRAIL_POINTS:  # settle them: one larger repaint every few events
            self._settled_count = len(self._trail_points)
            self._trail_settled.setPath(_polyline(self._trail_points))
            self._trail_fresh.setPath(QPainterPath())
        else:
            self._trail_fresh.setPath(_polyline(fresh) if len(fresh) > 1 else QPainterPath())

    def marker_position(self) -> np.ndarray:
        return self._marker_xy.copy()

    def trail_length(self) -> int:
        """Points on the trail drawn over the map (0 when none)."""
        return len(self.trail_points())

    def trail_points(self) -> np.ndarray:
        """The trail drawn over the map as (n, 2) map coordinates, read from its two paths."""
        settled, fresh = self._trail_settled.path(), self._trail_fresh.path()
        points = [(settled.elementAt(i).x, settled.elementAt(i).y) for i in range(settled.elementCount())]
        fresh_points = [(fresh.elementAt(i).x, fresh.elementAt(i).y) for i in range(fresh.elementCount())]
        if points and fresh_points:
            fresh_points = fresh_points[1:]  # the fresh part starts where the settled one ends
        return np.array(points + fresh_points, dtype=np.float64).reshape(-1, 2)

    def _on_references_hovered(self, item, points, event) -> None:
        if len(points):
            index = int(points[0].data())
            digit = int(self._labels[index])
            self.hovered_digit = digit
            self._hover_label.setText(f"digit {digit}")
            self._hover_label.setPos(points[0].pos())
            self._hover_label.show()
            self.reference_hovered.emit(index, digit)
        elif self.hovered_digit is not None:
            self.hovered_digit = None
            self._hover_label.hide()
            self.reference_hovered.emit(-1, -1)

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view_box = self.getPlotItem().vb
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view_box.mapSceneToView(event.scenePos())
        self.point_clicked.emit(point.x(), point.y())


class ProjectionChoice(QComboBox):
    """PCA, UMAP or t-SNE for the map; methods whose package is missing say how to get it."""

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent)
        installed = available_methods()
        for method in PROJECTION_METHODS:
            if method in installed:
                self.addItem(PROJECTION_LABELS[method], method)
            else:  # short in the box; how to get it in the tooltip
                self.addItem(f"{PROJECTION_LABELS[method]} (not installed)", method)
                index = self.count() - 1
                self.model().item(index).setEnabled(False)
                self.setItemData(index, f"{PROJECTION_LABELS[method]} needs the optional packages; install them with {MAPS_INSTALL} and restart aegui", Qt.ItemDataRole.ToolTipRole)
        self.addItem("the code itself", "latent")  # a code of two numbers is its own map (k ≤ 2)
        self.model().item(self.count() - 1).setEnabled(False)
        self._explorer = explorer
        self.show_method(explorer.projection_method)
        explorer.projection_method_changed.connect(self.show_method)
        explorer.model_changed.connect(self._on_explorer_model_changed)
        self.activated.connect(lambda index: explorer.set_projection_method(self.itemData(index)))

    def show_method(self, method: str) -> None:
        session = self._explorer.session
        if session is not None and session.latent_dim <= 2:
            self.setCurrentIndex(self.count() - 1)
            self.setEnabled(False)
            self.setToolTip("A code of two numbers is drawn as it is: no projection to choose")
            return
        self.setEnabled(True)
        self.setToolTip("How the codes are laid out on the map")
        self.setCurrentIndex(PROJECTION_METHODS.index(method))

    def _on_explorer_model_changed(self, session) -> None:
        self.show_method(self._explorer.projection_method)
