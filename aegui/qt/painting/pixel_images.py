"""Small images side by side, drawn pixel for pixel with QPainter, each with a caption.

The decoded digit, its error map and the nearest reference digits change on every pen
event. A QImage drawn by one widget is far cheaper to update and repaint than a plot view per
image (the README's latency section has the figures).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from aegui.core.model_format import IMAGE_SIZE

CAPTION_GAP = 2
MAX_CONVERTED_IMAGES = 1024  # about 4 MB of 28x28 pixels at most


def to_bytes(image: np.ndarray, levels: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """A 2-D float image scaled from ``levels`` to 0..255 (uint8, rounded, clipped)."""
    low, high = levels
    return np.clip((np.asarray(image, dtype=np.float32) - low) * (255.0 / max(high - low, 1e-12)) + 0.5, 0, 255).astype(np.uint8)


def image_to_qimage(image: np.ndarray, levels: tuple[float, float] = (0.0, 1.0)) -> QImage:
    """A 2-D float image scaled from ``levels`` to an 8-bit grey QImage (for saving as PNG).

    The QImage owns a copy of its pixels, so the array may change afterwards.
    """
    pixels = np.ascontiguousarray(to_bytes(image, levels))
    height, width = pixels.shape
    return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def rgb32_table(lookup_table: np.ndarray | None = None) -> np.ndarray:
    """256 opaque 0xffRRGGBB pixels: grey levels, or the rows of a (256, 3+) colour table."""
    if lookup_table is None:
        grey = np.arange(256, dtype=np.uint32)
        red = green = blue = grey
    else:
        table = np.asarray(lookup_table, dtype=np.uint32)
        red, green, blue = table[:, 0], table[:, 1], table[:, 2]
    return (np.uint32(0xFF000000) | (red << 16) | (green << 8) | blue).astype(np.uint32)


class PixelImageRow(QWidget):
    """``count`` square cells in a row; each shows an image (or nothing) under its caption."""

    def __init__(self, count: int, captions: list[str] | None = None, lookup_tables: list[np.ndarray | None] | None = None, levels: list[tuple[float, float]] | None = None, caption_lines: int = 1, whole_captions: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.count = count
        self._whole_captions = whole_captions  # never narrower than its captions need to wrap into their lines, no word cut
        self._caption_width_key: tuple | None = None
        self._caption_width = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._lookup_tables = lookup_tables or [None] * count
        self._levels = levels or [(0.0, 1.0)] * count
        self._caption_lines = caption_lines
        self._captions = list(captions or [""] * count)
        self._qimages: list[QImage | None] = [None] * count
        # 32-bit pixels are what Qt scales fastest (faster than 8-bit grey or RGB888)
        self._tables = [rgb32_table(table) for table in self._lookup_tables]
        self._cell_images: list[np.ndarray | None] = [None] * count
        self._cell_keys: list = [None] * count  # the key of the image each cell shows, if it came with one
        self.tooltips: list[str] = [""] * count
        self._geometry_key: tuple[int, int, int] | None = None
        self._converted: dict[tuple, QImage] = {}  # (key, cell) -> pixels, for images that recur
        self._geometry_cache: list[tuple[QRect, QRectF, QRect]] = []

    def set_image(self, index: int, image: np.ndarray | None, caption: str | None = None, tooltip: str = "", key=None) -> None:
        """Show ``image`` in cell ``index``. An image that comes back often (a reference digit)
        can pass a ``key``: its pixels are then converted once and reused, and a cell that
        shows that key already is left as it is (most neighbours stay when the sketch changes)."""
        if key is not None and self._cell_keys[index] == key and (caption is None or caption == self._captions[index]) and tooltip == self.tooltips[index]:
            return
        self._cell_keys[index] = key if image is not None else None
        self._cell_images[index] = None if image is None else np.array(image, dtype=np.float32)
        if image is None:
            self._qimages[index] = None
        elif key is not None and (key, index) in self._converted:
            self._qimages[index] = self._converted[key, index]
        else:
            pixels = self._tables[index][to_bytes(image, self._levels[index])]
            height, width = pixels.shape
            self._qimages[index] = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGB32).copy()
            if key is not None:
                if len(self._converted) >= MAX_CONVERTED_IMAGES:
                    self._converted.clear()
                self._converted[key, index] = self._qimages[index]
        caption_changed = caption is not None and caption != self._captions[index]
        if caption_changed:
            needed = self.caption_width_needed()
            self._captions[index] = caption
            if self.caption_width_needed() > needed:  # rare (a caption that needs more room): the layout gives it
                self.updateGeometry()
        self.tooltips[index] = tooltip
        # an unchanged caption is not repainted: laying out its text costs more than the image
        cell, _, image_pixels = self._geometry()[index]
        self.update(cell if caption_changed else image_pixels)

    def set_count(self, count: int) -> None:
        """Show ``count`` cells from now on (the images beyond them are dropped): a row of two
        models' images needs wider cells than one of nine steps, or its captions run together."""
        if count == self.count:
            return
        def fitted(values: list, fill) -> list:
            return list(values[:count]) + [fill] * (count - len(values))
        self._lookup_tables, self._levels = fitted(self._lookup_tables, None), fitted(self._levels, (0.0, 1.0))
        self._tables = fitted(self._tables, rgb32_table(None))
        self._captions, self.tooltips = fitted(self._captions, ""), fitted(self.tooltips, "")
        self._qimages, self._cell_images, self._cell_keys = fitted(self._qimages, None), fitted(self._cell_images, None), fitted(self._cell_keys, None)
        self._converted.clear()  # keyed by cell
        self.count = count
        self._geometry_key = self._caption_width_key = None
        self.updateGeometry()
        self.update()

    def forget_converted(self) -> None:
        """Drop the pixels kept for keyed images (their keys may mean other images now)."""
        self._converted.clear()
        self._cell_keys = [None] * self.count

    def set_images(self, images, captions: list[str] | None = None, tooltips: list[str] | None = None, keys: list | None = None) -> None:
        """Show up to ``count`` images from the left; the remaining cells are left empty."""
        images = list(images)[: self.count]
        captions = list(captions or [""] * len(images))
        tooltips = list(tooltips or [""] * len(images))
        keys = list(keys if keys is not None else [None] * len(images))
        for index in range(self.count):
            if index < len(images):
                self.set_image(index, images[index], captions[index], tooltips[index], keys[index])
            elif self._cell_images[index] is not None or self._captions[index]:
                self.set_image(index, None, "")

    def caption(self, index: int) -> str:
        return self._captions[index]

    def image(self, index: int) -> np.ndarray | None:
        """The image cell ``index`` shows, as given (None when empty)."""
        return self._cell_images[index]

    def shown_images(self) -> np.ndarray:
        """The images shown, left to right, up to the first empty cell, as (n, h, w)."""
        shown = []
        for image in self._cell_images:
            if image is None:
                break
            shown.append(image)
        return np.array(shown, dtype=np.float32) if shown else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)

    # --- geometry --------------------------------------------------------------------------
    def _caption_height(self) -> int:
        return self.fontMetrics().height() * self._caption_lines + CAPTION_GAP if any(self._captions) or self._caption_lines > 1 else 0

    def _geometry(self) -> list[tuple[QRect, QRectF, QRect]]:
        """Per cell: its rect, its image's rect, and the pixels to repaint for a new image.

        Computed once per size and caption height: cells are asked for on every pen event.
        """
        top = self._caption_height()
        key = (self.width(), self.height(), top)
        if key != self._geometry_key:
            width = self.width() / self.count
            cells = []
            for index in range(self.count):
                cell = QRect(int(index * width), 0, int(np.ceil(width)) + 1, self.height())
                # Whole-pixel places: an image drawn at a half pixel is sampled differently when
                # Qt repaints it through a clip of several rects than when it repaints it whole.
                side = max(0, min(cell.width() - 4, cell.height() - top - 2))
                image = QRectF(cell.x() + (cell.width() - side) // 2, top + (cell.height() - top - side) // 2, side, side)
                cells.append((cell, image, image.toAlignedRect().adjusted(-1, -1, 1, 1)))
            self._geometry_key, self._geometry_cache = key, cells
        return self._geometry_cache

    def image_rect(self, index: int) -> QRectF:
        return QRectF(self._geometry()[index][1])

    def cell_at(self, x: float) -> int | None:
        index = int(x * self.count / max(self.width(), 1))
        return index if 0 <= index < self.count else None

    def sizeHint(self) -> QSize:
        return QSize(60 * self.count, 60 + self._caption_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(max(20, self.caption_width_needed()) * self.count, 28 + self._caption_height())

    def caption_width_needed(self) -> int:
        """With ``whole_captions``: the narrowest cell in which every caption wraps into its lines
        with no word cut ("reconstruction" cut to "econstructio" in a narrow window); else 0."""
        if not self._whole_captions:
            return 0
        metrics = self.fontMetrics()
        key = (tuple(self._captions), metrics.height())
        if key != self._caption_width_key:
            needed, room = 0, metrics.height() * self._caption_lines + CAPTION_GAP
            for caption in filter(None, self._captions):
                width = max(metrics.horizontalAdvance(word) for word in caption.split()) + 4
                while metrics.boundingRect(QRect(0, 0, width, 10 * room), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, caption).height() > room and width < 400:
                    width += 2
                needed = max(needed, width)
            self._caption_width_key, self._caption_width = key, needed
        return self._caption_width

    # --- Qt events -------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(255, 255, 255))
        caption_height = self._caption_height()
        exposed = event.rect()
        painter.setPen(QColor(68, 68, 68))
        for index, (cell, image_rect, _) in enumerate(self._geometry()):
            if not cell.intersects(exposed):
                continue
            caption_rect = QRect(cell.x(), 0, cell.width(), caption_height)
            if self._captions[index] and caption_rect.intersects(exposed):
                self._draw_caption(painter, caption_rect, self._captions[index])
            image = self._qimages[index]
            if image is not None:
                painter.drawImage(image_rect, image)  # no smoothing: pixels stay pixels
        painter.end()

    def _draw_caption(self, painter: QPainter, rect: QRect, caption: str) -> None:
        """Wrapped over the caption lines, and elided with "…" rather than cut when still too wide."""
        metrics = painter.fontMetrics()
        if self._caption_lines > 1:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, caption)
        else:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, metrics.elidedText(caption, Qt.TextElideMode.ElideRight, rect.width() - 2))

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.cell_at(event.pos().x())
            text = self.tooltips[index] if index is not None else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
