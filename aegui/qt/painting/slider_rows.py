"""The latent sliders' rows: one painted widget, a row per dimension (name | track with handle | value).

While a digit is drawn every dimension moves on every pen event; 32 QSliders and their value
labels are 64 widgets that Qt repaints one by one through the style; one widget painting its
changed rows takes a fraction of that.

Mouse: press or drag on a row's track sets that dimension; a press on its name or value
picks the row. Keyboard: Up/Down choose the row, Left/Right move by 1% of the range,
Page Up/Page Down by 10%, Home/End to the ends.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QStaticText
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from aegui.qt.painting.colours import MARK, toward_text
from aegui.qt.painting.pace import Pace

STEPS = 1000
ROW_HEIGHT = 22
MARGIN = 4
HANDLE_WIDTH = 10
SMALL_STEP, PAGE_STEP = STEPS // 100, STEPS // 10
_TEXT_CACHE_LIMIT, _TILE_CACHE_LIMIT = 4096, 2048  # laid-out texts; value cells of about 5 KB each
SHORT_VALUE = 7  # characters: a value up to "+999.99" fits its column; a longer one spills left over the track
HANDLE_COLOUR = QColor(60, 110, 200)


class SliderRows(QWidget):
    """The painted rows: name | track with handle | value, one row per dimension."""

    step_changed = Signal(int, int)  # the user moved row i to step s

    def __init__(self, pace: float = 0.0, parent: QWidget | None = None):
        """``pace``: the values' texts change at most this often (seconds, ``Pace``); the
        handles follow every change."""
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints every pixel it is asked for
        self.setAccessibleName("latent sliders")
        self.names: list[str] = []
        self.meanings: list[str] = []
        self.steps = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.float32)
        self.value_texts: list[str] = []
        self.current_row = 0
        self._dragged_row: int | None = None
        self._name_texts: list[QStaticText] = []
        self._value_cache: dict[str, tuple[QStaticText, float]] = {}
        self._name_width = 0
        self._value_width = self.fontMetrics().horizontalAdvance("+000.00") + 6
        self._static_key: tuple | None = None
        self._static_pixmap = QPixmap()
        self._handle_tiles: dict[int, tuple[int, QPixmap]] = {}
        self._value_tiles: dict[str, QPixmap] = {}
        self._value_pace = Pace(self._show_values, shown=(), interval=pace, parent=self)

    # --- content ---------------------------------------------------------------------------
    def set_rows(self, names: list[str], meanings: list[str] | None = None) -> None:
        """One row per name; ``meanings``: what each name says, in its tooltip."""
        self.names = list(names)
        self.meanings = list(meanings) if meanings is not None else [""] * len(self.names)
        count = len(self.names)
        self.steps = np.full(count, STEPS // 2, dtype=np.int64)
        self.values = np.zeros(count, dtype=np.float32)
        self.value_texts = ["+0.00"] * count
        self._value_pace.reset(tuple(self.values.tolist()))
        self.current_row = min(self.current_row, max(count - 1, 0))
        self._name_texts = [QStaticText(name) for name in self.names]
        self._name_width = max((self.fontMetrics().horizontalAdvance(name) for name in self.names), default=0) + 8
        self.setMinimumHeight(count * ROW_HEIGHT + 2 * MARGIN)
        self.updateGeometry()
        self.update()

    def set_row_values(self, steps: np.ndarray, values: np.ndarray, at_once: bool = False) -> None:
        """Show new steps and values; only what looks different is repainted. The handles
        move now; the values' texts at the pace (``at_once``: the user's own change)."""
        steps = np.asarray(steps, dtype=np.int64)
        moved = np.flatnonzero(steps != self.steps)
        self.steps = steps.copy()
        self.values = np.asarray(values, dtype=np.float32).copy()
        if moved.size:  # the tracks: a handle's tile ends where the value column starts (``track_span``)
            first, last = self.row_rect(int(moved[0])), self.row_rect(int(moved[-1]))
            self.update(first.united(last).adjusted(self._name_width, 0, -self._value_width, 0))
        self._value_pace.request(tuple(self.values.tolist()), at_once)

    def _show_values(self, values: tuple[float, ...]) -> None:
        texts = [f"{value:+.2f}" for value in values]
        changed = [row for row, (old, new) in enumerate(zip(self.value_texts, texts)) if old != new] if len(texts) == len(self.value_texts) else list(range(len(texts)))
        spilling = any(len(self.value_texts[row]) > SHORT_VALUE or len(texts[row]) > SHORT_VALUE for row in changed if row < len(self.value_texts))
        self.value_texts = texts
        if changed:  # the value column, or the whole rows when a text wider than it changes
            first, last = self.row_rect(changed[0]), self.row_rect(changed[-1])
            self.update(first.united(last).adjusted(self._name_width if spilling else first.width() - self._value_width, 0, 0, 0))

    # --- geometry --------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(self._name_width + 160 + self._value_width, len(self.names) * ROW_HEIGHT + 2 * MARGIN)

    def row_rect(self, row: int) -> QRect:
        return QRect(MARGIN, MARGIN + row * ROW_HEIGHT, max(self.width() - 2 * MARGIN, 0), ROW_HEIGHT)

    def track_span(self) -> tuple[float, float]:
        """x of the handle's centre at step 0 and at STEPS."""
        left = MARGIN + self._name_width + HANDLE_WIDTH / 2
        right = self.width() - MARGIN - self._value_width - HANDLE_WIDTH / 2
        return left, max(right, left + 1)

    def step_at(self, x: float) -> int:
        left, right = self.track_span()
        return int(round(np.clip((x - left) / (right - left), 0.0, 1.0) * STEPS))

    def row_at(self, y: float) -> int | None:
        row = int((y - MARGIN) // ROW_HEIGHT)
        return row if 0 <= row < len(self.names) else None

    # --- user intent -----------------------------------------------------------------------
    def _set_step(self, row: int, step: int) -> None:
        step = int(np.clip(step, 0, STEPS))
        previous, self.current_row = self.current_row, row
        self._update_row(previous)  # its focus ring goes (a click on another row's track)
        self._update_row(row)  # the handle or at least the focus mark moves here
        if step != self.steps[row]:
            self.steps[row] = step
            self.step_changed.emit(row, step)

    def _select_row(self, row: int) -> None:
        previous, self.current_row = self.current_row, int(np.clip(row, 0, len(self.names) - 1))
        self._update_row(previous)
        self._update_row(self.current_row)
        self._show_current_row()

    def _update_row(self, row: int) -> None:
        """Repaint a row and a pixel above and below it: the focus ring's antialiased edge
        reaches that far at a fractional scale (125 %)."""
        self.update(self.row_rect(row).adjusted(0, -1, 0, 1))

    def _show_current_row(self) -> None:
        scroll_area = self.parent().parent() if self.parent() is not None else None
        if isinstance(scroll_area, QScrollArea) and self.names:
            rect = self.row_rect(self.current_row)
            scroll_area.ensureVisible(rect.center().x(), rect.center().y(), 0, ROW_HEIGHT)

    # --- Qt events -------------------------------------------------------------------------
    def _static_layer(self) -> QPixmap:
        """Background, names, grooves and mean marks: drawn once per size, copied per paint."""
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, tuple(self.names))
        if key != self._static_key:
            pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
            pixmap.setDevicePixelRatio(ratio)
            palette = self.palette()
            pixmap.fill(palette.window().color())
            painter = QPainter(pixmap)
            left, right = self.track_span()
            middle_x = int(round((left + right) / 2))
            groove_colour = toward_text(MARK, palette)  # palette.mid() was the window's grey on some dark themes
            text_offset = (ROW_HEIGHT - self.fontMetrics().height()) / 2
            painter.setPen(palette.windowText().color())
            for row, name in enumerate(self._name_texts):
                top = MARGIN + row * ROW_HEIGHT
                centre_y = top + ROW_HEIGHT // 2
                painter.drawStaticText(QPointF(MARGIN + 2, top + text_offset), name)
                painter.fillRect(int(left), centre_y - 2, int(right - left), 4, groove_colour)
                painter.fillRect(middle_x, centre_y - 5, 1, 10, groove_colour)  # the training mean
            painter.end()
            self._static_key, self._static_pixmap = key, pixmap
            self._handle_tiles, self._value_tiles = {}, {}
        return self._static_pixmap

    def _handle_tile(self, step: int, x: float) -> tuple[int, QPixmap]:
        """The handle at ``step`` (left edge ``x``) on the groove, drawn once: every row's track
        looks the same, so the pixels painted there depend on the step alone."""
        left = math.floor(x)
        tile, painter = self._static_tile(left, MARGIN + 3, math.ceil(x + HANDLE_WIDTH) - left, ROW_HEIGHT - 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(HANDLE_COLOUR)
        painter.drawRoundedRect(QRectF(x - left, 0, HANDLE_WIDTH, ROW_HEIGHT - 6), 3, 3)
        painter.end()
        self._handle_tiles[step] = (left, tile)
        return left, tile

    def _static_tile(self, left: int, top: int, width: int, height: int) -> tuple[QPixmap, QPainter]:
        """A pixmap holding the static layer's pixels of that rectangle, and a painter on it."""
        ratio = int(self.devicePixelRatioF())
        tile = QPixmap(width * ratio, height * ratio)
        tile.setDevicePixelRatio(ratio)
        painter = QPainter(tile)
        painter.drawPixmap(0, 0, self._static_pixmap, left * ratio, top * ratio, width * ratio, height * ratio)
        return tile, painter

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        exposed, static = event.rect(), self._static_layer()
        ratio = static.devicePixelRatio()  # the source is in the pixmap's own (device) pixels
        painter.drawPixmap(QRectF(exposed), static, QRectF(exposed.x() * ratio, exposed.y() * ratio, exposed.width() * ratio, exposed.height() * ratio))
        count = len(self.names)
        if not count:
            painter.end()
            return
        # On every pen event each visible row is repainted: only what moves is drawn here,
        # with plain arithmetic and one pen change per kind of thing. With every row in view
        # that is 64 draws, so each row makes as few calls into Qt as it can (a call costs
        # about a microsecond): the text's width is cached with it, the handles' x positions
        # come from one array operation; handles and values are tiles drawn once and copied.
        first = max(0, (exposed.top() - MARGIN) // ROW_HEIGHT)
        last = min(count - 1, (exposed.bottom() - MARGIN) // ROW_HEIGHT)
        left, right = self.track_span()
        palette = self.palette()
        value_right = self.width() - MARGIN
        text_top = MARGIN + (ROW_HEIGHT - self.fontMetrics().height()) / 2
        painter.setPen(palette.windowText().color())
        tiled = ratio == int(ratio)  # tiles copied at whole device pixels: the same pixels as drawing
        draw_text, cache, tiles = painter.drawStaticText, self._value_cache, self._value_tiles
        draw_tile, cell_left, spilled = painter.drawPixmap, value_right - self._value_width, set()
        values_exposed = exposed.right() >= cell_left  # not when only the handles moved
        for row, text in enumerate(self.value_texts[first : last + 1], start=first):
            if tiled and not values_exposed and len(text) <= SHORT_VALUE:
                continue  # its cell is not repainted (a longer text reaches into the track)
            tile = (tiles.get(text) or self._value_tile(text, cell_left, value_right, text_top)) if tiled else None
            if tile is not None:
                draw_tile(cell_left, MARGIN + row * ROW_HEIGHT, tile)
            else:  # a value wider than its column (its handle is drawn over it), or fractional pixels
                spilled.add(row)
                static, width = cache.get(text) or self._value_text(text)
                draw_text(QPointF(value_right - width, row * ROW_HEIGHT + text_top), static)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(HANDLE_COLOUR)
        handle_top, shown = MARGIN + 3, self.steps[first : last + 1]
        lefts, handle_tiles = self._handle_lefts(shown, left, right).tolist(), self._handle_tiles
        for row, (step, x) in enumerate(zip(shown.tolist(), lefts), start=first):
            if row not in spilled:  # copied from its tile: pixel for pixel what drawing it paints
                tile_left, tile = handle_tiles.get(step) or self._handle_tile(step, x)
                draw_tile(tile_left, handle_top + row * ROW_HEIGHT, tile)
            else:
                painter.drawRoundedRect(QRectF(x, handle_top + row * ROW_HEIGHT, HANDLE_WIDTH, ROW_HEIGHT - 6), 3, 3)
        if self.hasFocus() and first <= self.current_row <= last:
            painter.setPen(QPen(palette.highlight().color().darker(140), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(lefts[self.current_row - first], handle_top + self.current_row * ROW_HEIGHT, HANDLE_WIDTH, ROW_HEIGHT - 6), 3, 3)
            painter.drawRoundedRect(QRectF(self.row_rect(self.current_row)).adjusted(1, 1, -1, -1), 4, 4)  # the whole row: seen at a glance
        painter.end()

    @staticmethod
    def _handle_lefts(steps: np.ndarray, left: float, right: float) -> np.ndarray:  # the handles' left edges (left, right: the track span)
        return left + (right - left) / STEPS * np.asarray(steps, dtype=np.float64) - HANDLE_WIDTH / 2

    def _value_tile(self, text: str, cell_left: int, value_right: int, text_top: float) -> QPixmap | None:
        """The value's cell with its text, drawn once per text (values repeat; every row's cell
        looks the same under its text); None when the text is wider than the cell."""
        static, width = self._value_cache.get(text) or self._value_text(text)
        if width > value_right - cell_left - 2:
            return None
        if len(self._value_tiles) >= _TILE_CACHE_LIMIT:
            self._value_tiles.clear()
        tile, painter = self._static_tile(cell_left, MARGIN, self._value_width, ROW_HEIGHT)
        painter.setPen(self.palette().windowText().color())
        painter.drawStaticText(QPointF(value_right - width - cell_left, text_top - MARGIN), static)
        painter.end()
        self._value_tiles[text] = tile
        return tile

    def _value_text(self, text: str) -> tuple[QStaticText, float]:
        """Laid-out value text and its width, cached: values repeat, laying text out is costly."""
        entry = self._value_cache.get(text)
        if entry is None:
            if len(self._value_cache) >= _TEXT_CACHE_LIMIT:
                self._value_cache.clear()
            static = QStaticText(text)
            static.prepare(font=self.font())
            entry = self._value_cache[text] = (static, static.size().width())
        return entry

    def mousePressEvent(self, event) -> None:
        row = self.row_at(event.position().y())
        if event.button() != Qt.MouseButton.LeftButton or row is None:
            return super().mousePressEvent(event)
        left, right = self.track_span()
        x = event.position().x()
        if left - HANDLE_WIDTH <= x <= right + HANDLE_WIDTH:  # on the track: the handle jumps there
            self._dragged_row = row
            self._set_step(row, self.step_at(x))
        else:  # on the name or the value: that row takes the keyboard, its value stays
            self._select_row(row)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._dragged_row is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._set_step(self._dragged_row, self.step_at(event.position().x()))
            event.accept()

    def mouseReleaseEvent(self, event) -> None:
        self._dragged_row = None

    def keyPressEvent(self, event) -> None:
        if not self.names:
            return super().keyPressEvent(event)
        row, step = self.current_row, int(self.steps[self.current_row])
        moves = {
            Qt.Key.Key_Left: step - SMALL_STEP, Qt.Key.Key_Right: step + SMALL_STEP,
            Qt.Key.Key_PageDown: step - PAGE_STEP, Qt.Key.Key_PageUp: step + PAGE_STEP,
            Qt.Key.Key_Home: 0, Qt.Key.Key_End: STEPS,
        }  # fmt: skip
        key = event.key()
        if key in moves:
            self._set_step(row, moves[key])
        elif key == Qt.Key.Key_Up:
            self._select_row(row - 1)
        elif key == Qt.Key.Key_Down:
            self._select_row(row + 1)
        else:
            return super().keyPressEvent(event)
        event.accept()

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._static_key = None
        super().changeEvent(event)

    def focusInEvent(self, event) -> None:
        self._update_row(self.current_row)
        super().focusInEvent(event)
        QTimer.singleShot(0, self._show_current_row)  # after the area's own scroll to this widget's top on Tab, which hid the row the keys move

    def focusOutEvent(self, event) -> None:
        self._update_row(self.current_row)
        super().focusOutEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            row = self.row_at(event.pos().y())
            if row is not None:
                number = self.names[row].partition(" ")[0]
                QToolTip.showText(event.globalPos(), f"dimension {number}: {self.value_texts[row]}" + (f"\n{self.meanings[row]}" if self.meanings[row] else ""), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
