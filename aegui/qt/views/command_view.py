"""The Train dialog's command: what the run will execute, wrapped between words, in whole lines."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QPlainTextEdit

WORD_JOINER = "\u2060"  # invisible; no line break on either side of it


class CommandView(QPlainTextEdit):
    """The command, wrapped between words only: a line used to end in "--" with the option's
    name on the next (a hyphen is a break opportunity), or a path at a slash. A word joiner
    after each hyphen and slash keeps an option or a path whole; ``command()`` and a copied
    selection leave the joiners out."""

    COMMAND_LINES = 5  # what the quick preset's command wraps to in the dialog's width

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # between words; inside one only if it is longer than a line
        self.setMaximumHeight(self.height_for_lines(self.COMMAND_LINES))

    def height_for_lines(self, lines: int) -> int:
        """The box's height for ``lines`` whole lines (a maximum of 90 px cut the fifth line
        in half in DejaVu Sans): the frame, the document's margins and the lines."""
        frame = self.contentsMargins().top() + self.contentsMargins().bottom()
        return int(frame + self.document().documentMargin() + lines * self.fontMetrics().lineSpacing())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.setMaximumHeight(self.height_for_lines(self.COMMAND_LINES))

    def resizeEvent(self, event) -> None:
        """Whole lines only: the layout may give the box less than five lines' height, and the
        line that did not fit showed cut through its middle. The part of the last line that
        would not fit is left blank; the box scrolls to it."""
        frame = self.contentsMargins().top() + self.contentsMargins().bottom()
        below_margin = self.height() - frame - self.document().documentMargin()  # lines start under the document's margin
        cut = int(below_margin) % self.fontMetrics().lineSpacing() if below_margin > 0 else 0
        if self.viewportMargins().bottom() != cut:
            self.setViewportMargins(0, 0, 0, cut)
        super().resizeEvent(event)

    def set_command(self, command: str) -> None:
        # after a hyphen and after a slash (a path was cut as "--checkpoint.dirpath /" with the
        # rest on the next line); a word longer than a line still wraps (see __init__)
        self.setPlainText(command.replace("-", "-" + WORD_JOINER).replace("/", "/" + WORD_JOINER))

    def command(self) -> str:
        return self.toPlainText().replace(WORD_JOINER, "")

    def createMimeDataFromSelection(self):
        data = super().createMimeDataFromSelection()
        data.setText(data.text().replace(WORD_JOINER, ""))
        return data
