"""Greys for secondary text and marks, made from the desktop's palette, light or dark.

A fixed grey (#666 hints, #555 labels, #333 titles, near-black gauge text) read well on a light
window and vanished on a dark one (#333 on #353535). These are the same share of the way from
the window's colour to its text's colour, so on a light theme they are the greys they were and
on a dark one they keep their contrast.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

TITLE = 0.8  # small titles: about #333 on a light window
LABEL = 0.65  # a table's labels: about #555
HINT = 0.6  # hints, statuses, explanations: about #666
FAINT = 0.45  # fine print beside a figure: about #888
MARK = 0.3  # grooves and ticks drawn under a handle


def toward_text(share: float, palette: QPalette | None = None) -> QColor:
    """The colour ``share`` of the way from the palette's window colour to its text colour."""
    palette = palette if palette is not None else QApplication.palette()
    text, window = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    return QColor.fromRgbF(*(share * ink + (1.0 - share) * paper for ink, paper in zip(text.getRgbF()[:3], window.getRgbF()[:3])))


def text_style(share: float) -> str:
    """A style sheet's text colour at ``share`` (for a QLabel)."""
    return f"color: {toward_text(share).name()}"
