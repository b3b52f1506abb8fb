"""The drawing surface: antialiased strokes with mouse or pen, eraser, undo/redo, clear.

The canvas keeps its strokes as data, renders them into a fixed-size ink raster (0 = paper,
255 = ink) and emits that raster after every pen movement, so the model follows the stroke
as it is drawn, not only on release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPen, QTabletEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout, QWidget

from aegui.qt.views.noise_control import NoiseControl

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer

RASTER_SIZE = 336
DEFAULT_BRUSH = 24
BRUSH_RANGE = (6, 60)
INVITATION = "Draw a digit here\n(left button draws, right button erases)"
MAX_UNDO_STEPS = 200  # bounds memory over long use: each step keeps its strokes' points


@dataclass
class Stroke:
    width: float
    erase: bool
    points: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, pressure
    picture: QImage | None = None  # an imported image: ink painted under the strokes after it


CANVAS_MINIMUM = 200  # 7 screen pixels per MNIST pixel: room for a watched run on a 720-pixel screen
CANVAS_MINIMUM_WITH_NOISE = 140  # 5 per MNIST pixel: the noise sliders' rows fit a 720-pixel screen beside the Compare tab


class DrawingCanvas(QWidget):
    stroke_started = Signal()
    stroke_finished = Signal()
    raster_changed = Signal(object)  # np.ndarray (RASTER_SIZE, RASTER_SIZE) uint8 ink, 255 = full
    history_changed = Signal(bool, bool)  # can undo, can redo

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(CANVAS_MINIMUM, CANVAS_MINIMUM)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Draw a digit. Right button erases. Esc clears, Ctrl+Z undoes.")
        self.brush_width = float(DEFAULT_BRUSH)
        self._image = QImage(RASTER_SIZE, RASTER_SIZE, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._strokes: list[Stroke] = []
        self._undo: list[list[Stroke]] = []
        self._redo: list[list[Stroke]] = []
        self._current: Stroke | None = None

    # --- public API ------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(RASTER_SIZE, RASTER_SIZE)

    def has_ink(self) -> bool:
        return bool(self._strokes)

    def ink(self) -> np.ndarray:
        """A copy of the ink as uint8 (255 = full ink), RASTER_SIZE square."""
        view = np.frombuffer(self._image.constBits(), dtype=np.uint8).reshape(RASTER_SIZE, self._image.bytesPerLine())
        return view[:, :RASTER_SIZE].copy()

    def raster(self) -> np.ndarray:
        """The ink as float32 in [0, 1], RASTER_SIZE square."""
        return self.ink().astype(np.float32) / np.float32(255)  # the same floats to_mnist makes of the ink

    def image(self) -> QImage:
        return self._image.copy()

    def set_brush_width(self, width: float) -> None:
        self.brush_width = float(width)

    def clear(self) -> None:
        """Clear everything (undoable)."""
        if not self._strokes:
            return
        self._push_history()
        self._strokes = []
        self._render_all()

    def set_ink(self, ink: np.ndarray) -> None:
        """Replace the sketch with ``ink`` ((RASTER_SIZE, RASTER_SIZE) uint8, 255 = full ink),
        an imported image: undoable, and strokes drawn after it draw on it or erase it."""
        ink = np.ascontiguousarray(ink, dtype=np.uint8)
        if ink.shape != (RASTER_SIZE, RASTER_SIZE):
            raise ValueError(f"the canvas holds {RASTER_SIZE} x {RASTER_SIZE} pixels, not {ink.shape[1]} x {ink.shape[0]}")
        picture = QImage(ink.data, RASTER_SIZE, RASTER_SIZE, RASTER_SIZE, QImage.Format.Format_Grayscale8).copy()
        self._push_history()
        self._strokes = [Stroke(width=0.0, erase=False, picture=picture)]
        self._render_all()

    def undo(self) -> None:
        if not self._undo:
            return
        self._redo.append(self._strokes)
        self._strokes = self._undo.pop()
        self._render_all()

    def redo(self) -> None:
        if not self._redo:
            return
        self._undo.append(self._strokes)
        self._strokes = self._redo.pop()
        self._render_all()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    # --- geometry --------------------------------------------------------------------------
    def _target_rect(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_raster(self, position: QPointF) -> tuple[float, float]:
        rect = self._target_rect()
        scale = RASTER_SIZE / max(rect.width(), 1.0)
        return (position.x() - rect.x()) * scale, (position.y() - rect.y()) * scale

    def _widget_rect_around(self, points, width: float) -> QRect:
        """The widget pixels a brush of ``width`` through raster ``points`` can touch.

        Repainting only these keeps a pen movement's repaint to a few hundred pixels.
        """
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        margin = width / 2 + 2
        rect = self._target_rect()
        scale = rect.width() / RASTER_SIZE
        left, top = rect.x() + (min(xs) - margin) * scale, rect.y() + (min(ys) - margin) * scale
        right, bottom = rect.x() + (max(xs) + margin) * scale, rect.y() + (max(ys) + margin) * scale
        return QRectF(left, top, right - left, bottom - top).toAlignedRect().adjusted(-1, -1, 1, 1)

    # --- strokes ---------------------------------------------------------------------------
    def _begin(self, position: QPointF, pressure: float, erase: bool) -> None:
        if not self._strokes:
            self.update()  # the invitation to draw goes with the first stroke
        self._push_history()
        self._current = Stroke(width=self.brush_width * (2.0 if erase else 1.0), erase=erase)
        self._strokes = self._strokes + [self._current]
        self.stroke_started.emit()
        self._extend(position, pressure)

    def _extend(self, position: QPointF, pressure: float) -> None:
        stroke = self._current
        if stroke is None:
            return
        x, y = self._to_raster(position)
        if stroke.points and abs(stroke.points[-1][0] - x) < 0.5 and abs(stroke.points[-1][1] - y) < 0.5:
            return
        stroke.points.append((x, y, pressure))
        painter = QPainter(self._image)
        self._paint_piece(painter, stroke, len(stroke.points) - 1)
        painter.end()
        self.update(self._widget_rect_around(stroke.points[-3:], stroke.width))
        self.raster_changed.emit(self.ink())

    def _end(self) -> None:
        stroke = self._current
        if stroke is None:
            return
        self._current = None
        painter = QPainter(self._image)
        self._paint_tail(painter, stroke)
        painter.end()
        self.update()
        self.history_changed.emit(self.can_undo(), self.can_redo())
        self.stroke_finished.emit()  # before the stroke's last raster: its analysis is the settled one
        self.raster_changed.emit(self.ink())

    def _push_history(self) -> None:
        self._undo.append(self._strokes)
        del self._undo[:-MAX_UNDO_STEPS]
        self._redo.clear()
        self.history_changed.emit(self.can_undo(), self.can_redo())

    @staticmethod
    def _pen(stroke: Stroke, pressure: float) -> QPen:
        colour = QColor(0, 0, 0) if stroke.erase else QColor(255, 255, 255)
        return QPen(colour, stroke.width * _pressure_scale(pressure), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)

    @classmethod
    def _paint_piece(cls, painter: QPainter, stroke: Stroke, index: int) -> None:
        """Paint what point ``index`` adds: a dot for the first point, then a quadratic curve
        through the previous point between segment midpoints (smooth, no corners).

        Live drawing and a full re-render paint exactly the same pieces in the same order,
        so undo and redo give back the very same pixels.
        """
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        points = stroke.points
        if index == 0:
            x, y, pressure = points[0]
            radius = stroke.width * _pressure_scale(pressure) / 2
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0) if stroke.erase else QColor(255, 255, 255))
            painter.drawEllipse(QPointF(x, y), radius, radius)
            return
        x0, y0, p0 = points[index - 1]
        x1, y1, p1 = points[index]
        painter.setPen(cls._pen(stroke, (p0 + p1) / 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        end = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
        if index == 1:
            painter.drawLine(QPointF(x0, y0), end)
            return
        xp, yp, _ = points[index - 2]
        path = QPainterPath(QPointF((xp + x0) / 2, (yp + y0) / 2))
        path.quadTo(QPointF(x0, y0), end)
        painter.drawPath(path)

    @classmethod
    def _paint_tail(cls, painter: QPainter, stroke: Stroke) -> None:
        """The last half segment, painted when the stroke ends."""
        if len(stroke.points) < 2:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        (x0, y0, p0), (x1, y1, p1) = stroke.points[-2:]
        painter.setPen(cls._pen(stroke, p1))
        painter.drawLine(QPointF((x0 + x1) / 2, (y0 + y1) / 2), QPointF(x1, y1))

    def _render_all(self) -> None:
        self._image.fill(0)
        painter = QPainter(self._image)
        for stroke in self._strokes:
            if stroke.picture is not None:
                painter.drawImage(0, 0, stroke.picture)
                continue
            for index in range(len(stroke.points)):
                self._paint_piece(painter, stroke, index)
            if stroke is not self._current:
                self._paint_tail(painter, stroke)
        painter.end()
        self.update()
        self.history_changed.emit(self.can_undo(), self.can_redo())
        self.raster_changed.emit(self.ink())

    # --- Qt events -------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self._target_rect(), self._image)  # Qt scales only the exposed pixels
        if self.hasFocus():  # the keys (Esc clears) go here: say so, as every focused control does
            painter.setPen(QPen(self.palette().highlight().color(), 2))
            painter.drawRect(self._target_rect().adjusted(1, 1, -1, -1))
        else:
            painter.setPen(QPen(QColor(90, 90, 90), 1, Qt.PenStyle.DashLine))
            painter.drawRect(self._target_rect().adjusted(0, 0, -1, -1))
        if not self._strokes:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self._target_rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, INVITATION)
        painter.end()

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton) and self._current is None:
            self._begin(event.position(), 1.0, erase=event.button() == Qt.MouseButton.RightButton)
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is not None and event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            self._extend(event.position(), 1.0)
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._current is not None:
            self._end()
            event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        erase = event.pointerType() == event.pointerType().Eraser
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position(), event.pressure(), erase)
        elif kind == QTabletEvent.Type.TabletMove:
            self._extend(event.position(), event.pressure())
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            event.accept()
        else:
            super().keyPressEvent(event)


def _pressure_scale(pressure: float) -> float:
    """Pen pressure 0..1 to a width factor; a mouse reports 1.0, which keeps the set width."""
    return 0.35 + 0.65 * min(max(pressure, 0.0), 1.0)


class SketchPanel(QWidget):
    """The canvas with its brush width, Clear, Undo and Redo; hands every raster to the explorer."""

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(*BRUSH_RANGE)
        self.brush_slider.setValue(int(self.canvas.brush_width))
        self.brush_slider.setToolTip("Brush width")
        self.brush_slider.setAccessibleName("brush width")
        self.clear_button = QPushButton("Clear")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        brush_row = QHBoxLayout()
        brush_row.addWidget(QLabel("Brush"))
        brush_row.addWidget(self.brush_slider, 1)
        buttons = QHBoxLayout()
        for button in (self.clear_button, self.undo_button, self.redo_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        # no hint line above: the empty canvas invites drawing itself, and its tooltip says how
        layout.addWidget(self.canvas, 1)
        layout.addLayout(brush_row)
        layout.addLayout(buttons)
        self.noise_control = NoiseControl(explorer)
        layout.addWidget(self.noise_control)
        # the canvas's own controls keep the keys with the canvas when clicked (Esc still clears
        # after a click on Clear, the brush or the noise); Tab still reaches each of them
        for control in (self.brush_slider, self.clear_button, self.undo_button, self.redo_button, self.noise_control, *self.noise_control.sliders.values()):
            control.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.brush_slider.valueChanged.connect(self.canvas.set_brush_width)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.redo_button.clicked.connect(self.canvas.redo)
        self.canvas.history_changed.connect(self._on_canvas_history_changed)
        self.canvas.stroke_started.connect(explorer.begin_stroke)
        self.canvas.stroke_finished.connect(explorer.end_stroke)
        self.canvas.raster_changed.connect(explorer.set_sketch)
        explorer.noise_changed.connect(self._on_explorer_noise_changed)

    def _on_explorer_noise_changed(self, settings) -> None:
        """Noise on: the canvas may give up some height to the sliders (only where the window lacks it)."""
        side = CANVAS_MINIMUM_WITH_NOISE if settings.enabled else CANVAS_MINIMUM
        self.canvas.setMinimumSize(side, side)

    def _on_canvas_history_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)
