"""Text that changes with every pen event without relayouting its panel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    """Text that changes with every pen event, in a box of fixed height (up to ``lines``).

    A QLabel asks its parent layout to recompute on every setText, which relayouts and
    repaints the whole column; this widget only repaints itself.
    """

    def __init__(self, text: str = "", lines: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = text
        self._lines = lines
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the panel behind needs no repaint
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._text) + 8, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(self.rect().adjusted(2, 0, -2, 0), flags, self._text)
        painter.end()
