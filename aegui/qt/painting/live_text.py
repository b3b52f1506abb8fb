"""Text that changes with every pen event without relayouting its panel."""

from __future__ import annotations

import os

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    """Text that changes with every pen event, in a box of fixed height (up to ``lines``).

    A QLabel asks its parent layout to recompute on every setText, which relayouts and
    repaints the whole column; this widget only repaints itself.
    """

    FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap

    def __init__(self, text: str = "", lines: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = text
        self._lines = lines
        self._longest: list[str] = []
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the panel behind needs no repaint
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)

    def fit_height_to(self, texts: list[str]) -> None:
        """Keep the box tall enough for the longest of ``texts`` word-wrapped at the current
        width (at least ``lines`` lines): the height follows the width on a resize, which
        relayouts anyway, and never changes while the text does."""
        self._longest = list(texts)
        self._fit_height()

    def _fit_height(self) -> None:
        if not self._longest:
            return
        box = QRect(0, 0, max(1, self.width() - 4), 100_000)
        needed = max(self.fontMetrics().boundingRect(box, self.FLAGS, text).height() for text in self._longest)
        height = max(needed, self.fontMetrics().lineSpacing() * self._lines) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            changed = self._changed_rects(self._text, text)
            self._text = text
            for rect in changed:
                self.update(rect)

    def _changed_rects(self, old: str, new: str) -> list[QRect]:
        """The parts of the box a new text changes: on a pen event most of it is the same words
        with other numbers, so each changed line is repainted from its first changed character
        to the end of the longer of its two versions and the rest stays on screen. The whole
        box when the lines differ in number or any line wraps (then words move)."""
        whole = self.rect()
        old_lines, new_lines = old.split("\n"), new.split("\n")
        width = self.width() - 4
        metrics = self.fontMetrics()
        if len(old_lines) != len(new_lines) or any(metrics.horizontalAdvance(line) > width for line in old_lines + new_lines):
            return [whole]
        block = metrics.boundingRect(self.rect().adjusted(2, 0, -2, 0), self.FLAGS, new)
        line_height = block.height() / len(new_lines)
        changed = []
        for index, (before, after) in enumerate(zip(old_lines, new_lines)):
            if before == after:
                continue
            common = len(os.path.commonprefix((before, after)))
            # a glyph may reach a little left of its advance (kerning, italics): two pixels spare
            left = max(0, block.left() + metrics.horizontalAdvance(after[:common]) - 2)
            top = int(block.top() + index * line_height) - 2
            right = block.left() + max(metrics.horizontalAdvance(before), metrics.horizontalAdvance(after)) + 3
            changed.append(QRect(left, top, right - left, int(line_height + 0.999) + 4).intersected(whole))
        return changed

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._text) + 8, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.rect().adjusted(2, 0, -2, 0), self.FLAGS, self._text)
        painter.end()
