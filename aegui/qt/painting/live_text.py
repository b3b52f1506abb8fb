"""Text that changes during a stroke (with every pen event, or at a readable pace) without
relayouting its panel."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QStaticText
from PySide6.QtWidgets import QSizePolicy, QWidget

from aegui.qt.painting.pace import Pace, words_of

MAX_PIECES = 2048  # words kept laid out: a stroke shows a few hundred numbers


class WordPieces:
    """A line of text drawn word by word from words laid out once (``QStaticText``).

    On a pen event the words stay and a few numbers change. Laying a whole line out again
    costs most of a live text's paint (shaping, and font fallback for ‖, − and x̂); a word laid
    out before is only copied, and the words left of a change are not drawn at all. A line's
    words sit at the sum of the advances before them (Qt's own layout of the whole line
    differs by kerning across spaces, which text fonts do not have).
    """

    def __init__(self) -> None:
        self._static: dict[str, QStaticText] = {}
        self._advances: dict[str, float] = {}
        self._measured_lines: dict[str, list[tuple[float, float, str]]] = {}

    def forget(self) -> None:
        """Drop every word laid out (the font changed)."""
        self._static.clear()
        self._advances.clear()
        self._measured_lines.clear()

    def spans(self, metrics: QFontMetricsF, line: str) -> list[tuple[float, float, str]]:
        """(start, end, word) of each word of ``line``, in pixels from the line's start
        (fractional, as Qt places glyphs: whole pixels per word would add up along a line).
        A line met before is not measured again."""
        known = self._measured_lines.get(line)
        if known is not None:
            return known
        if len(self._advances) > MAX_PIECES:
            self._advances.clear()
        if len(self._measured_lines) > MAX_PIECES:
            self._measured_lines.clear()
        spans, x = [], 0
        space = self._advance(metrics, " ")
        for index, word in enumerate(line.split(" ")):
            if index:
                x += space
            end = x + self._advance(metrics, word)
            spans.append((x, end, word))
            x = end
        self._measured_lines[line] = spans
        return spans

    def wrapped(self, metrics: QFontMetricsF, text: str, width: float) -> list[list[tuple[float, float, str]]]:
        """The lines of ``text`` wrapped at spaces to ``width`` (a word wider than that keeps a
        line of its own), each as ``spans``."""
        lines = []
        for paragraph in text.split("\n"):
            line: list[tuple[float, float, str]] = []
            offset = 0.0  # where this visual line starts within the paragraph
            for start, end, word in self.spans(metrics, paragraph):
                if line and end - offset > width:
                    lines.append(line)
                    line, offset = [], start
                line.append((start - offset, end - offset, word))
            lines.append(line)
        return lines

    def _advance(self, metrics: QFontMetricsF, word: str) -> float:
        advance = self._advances.get(word)
        if advance is None:
            advance = self._advances[word] = metrics.horizontalAdvance(word)
        return advance

    def draw(self, painter: QPainter, left: float, top: float, spans: list[tuple[float, float, str]], exposed: QRect) -> None:
        """The words of a line whose top-left is (left, top) that reach into ``exposed`` (two
        pixels spare either side: a glyph may reach a little past its advance)."""
        if len(self._static) > MAX_PIECES:
            self._static.clear()
        low, high = exposed.left() - left - 2, exposed.right() + 1 - left + 2
        for start, end, word in spans:
            if word and end >= low and start <= high:
                static = self._static.get(word)
                if static is None:
                    static = self._static[word] = QStaticText(word)
                    static.setTextFormat(Qt.TextFormat.PlainText)
                painter.drawStaticText(QPointF(left + start, top), static)


class LiveText(QWidget):
    """Text that changes with every pen event, in a box of fixed height (up to ``lines``).

    A QLabel asks its parent layout to recompute on every setText, which relayouts and
    repaints the whole column; this widget only repaints itself, and of itself only the words
    that changed.
    """

    FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap

    def __init__(self, text: str = "", lines: int = 1, pace: float = 0.0, words_at_once: bool = False, parent: QWidget | None = None):
        """``pace``: the least time between two texts shown, in seconds (``Pace``; 0: each at
        once); with ``words_at_once`` only texts that differ in numbers alone wait."""
        super().__init__(parent)
        self._text = text
        self._pace = Pace(self._show, shown=text, interval=pace, kind=words_of if words_at_once else None, parent=self)
        self._lines = lines
        self._longest: list[str] = []
        self._pieces = WordPieces()
        self._spans = self._line_spans(text)
        self._block_key: tuple | None = None
        self._block_value = (0, 0, 1.0)
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
        metrics = QFontMetricsF(self.font())
        lines = max(len(self._pieces.wrapped(metrics, text, self.width() - 4)) for text in self._longest)
        needed = max([self.fontMetrics().boundingRect(box, self.FLAGS, text).height() for text in self._longest] + [self.fontMetrics().boundingRect(box, self.FLAGS, "\n".join(["x"] * lines)).height()])
        height = max(needed, self.fontMetrics().lineSpacing() * self._lines) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()
            self._spans = self._line_spans(self._text)  # wrapped again at the new width

    def text(self) -> str:
        """The text shown (at a pace, a newer one may be waiting)."""
        return self._text

    def setText(self, text: str) -> None:
        self._pace.request(text)

    def _show(self, text: str) -> None:
        if text != self._text:
            spans = self._line_spans(text)
            changed = self._changed_rects(self._spans, spans)
            self._text, self._spans = text, spans
            for rect in changed:
                self.update(rect)

    def _line_spans(self, text: str) -> list[list[tuple[float, float, str]]]:
        return self._pieces.wrapped(QFontMetricsF(self.font()), text, self.width() - 4)

    def _changed_rects(self, old: list, new: list) -> list[QRect]:
        """The parts of the box a new text changes: on a pen event most of it is the same words
        with other numbers, so each changed line (as wrapped) is repainted from its first
        changed word to the end of the longer of its two versions and the rest stays on
        screen. The whole box when the lines differ in number."""
        whole = self.rect()
        if len(old) != len(new):
            return [whole]
        left, top, line_height = self._block(len(new))
        changed = []
        for index, (before, after) in enumerate(zip(old, new)):
            if before == after:
                continue
            first = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
            start = after[first][0] if first < len(after) else after[-1][1]
            start = max(0, int(left + start) - 2)  # a glyph may reach a little left of its advance
            line_top = int(top + index * line_height) - 2
            right = int(left + max(before[-1][1] if before else 0, after[-1][1] if after else 0)) + 4
            changed.append(QRect(start, line_top, right - start, int(line_height + 0.999) + 4).intersected(whole))
        return changed

    def _block(self, count: int) -> tuple[int, int, float]:
        """(left, top, line height) of ``count`` unwrapped lines laid out in the box: the same
        for any such text of that many lines, so worked out once per size and line count."""
        key = (count, self.width(), self.height())
        if self._block_key != key:
            block = self.fontMetrics().boundingRect(self.rect().adjusted(2, 0, -2, 0), self.FLAGS, "\n".join(["x"] * count))
            self._block_key, self._block_value = key, (block.left(), block.top(), block.height() / count)
        return self._block_value

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._text) + 8, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.height())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # laid out again in the new font
            self._pieces.forget()
            self._block_key = None
            self._spans = self._line_spans(self._text)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, self.palette().window())
        painter.setPen(self.palette().windowText().color())
        left, top, line_height = self._block(len(self._spans))
        for index, spans in enumerate(self._spans):
            line_top = top + index * line_height
            if line_top - 2 <= exposed.bottom() and line_top + line_height + 2 >= exposed.top():
                self._pieces.draw(painter, left, line_top, spans, exposed)
        painter.end()
