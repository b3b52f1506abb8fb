"""Mathematical text that draws as written: x̂ is an x with a combining circumflex (U+0302),
which some fonts drop or draw beside the x. The font is chosen by drawing it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage, QPainter

X_HAT = "x\u0302"
# families a desktop commonly has that position combining marks over Latin letters
MATH_FAMILIES = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "FreeSans", "Cantarell", "Arial", "Segoe UI", "Helvetica")


def rendered(text: str, font: QFont, size: int = 48) -> np.ndarray:
    """``text`` drawn black on white in ``font`` scaled up, as a (size, 2 * size) grey array."""
    image = QImage(2 * size, size, QImage.Format.Format_Grayscale8)
    image.fill(QColor(255, 255, 255))
    big = QFont(font)
    big.setPixelSize(size // 2)
    painter = QPainter(image)
    painter.setFont(big)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return np.array(image.constBits(), dtype=np.uint8).reshape(size, image.bytesPerLine())[:, : 2 * size].copy()


def draws_hat_over_x(font: QFont) -> bool:
    """x̂ in ``font`` has ink above the x that a plain x lacks, and no more width beside it
    (a hat drawn after the x, or not at all, fails)."""
    hat, plain = rendered(X_HAT, font) < 128, rendered("x", font) < 128
    rows = np.flatnonzero(plain.any(axis=1))
    columns = np.flatnonzero(plain.any(axis=0))
    if not len(rows):
        return False
    above = hat[: rows[0]]
    hat_columns = np.flatnonzero(above.any(axis=0))
    return above.sum() >= 3 and len(hat_columns) > 0 and hat_columns.min() >= columns.min() - 2 and hat_columns.max() <= columns.max() + 2


@lru_cache(maxsize=8)
def _math_family(family: str) -> str:
    if draws_hat_over_x(QFont(family)):
        return family
    installed = set(QFontDatabase.families())
    return next((name for name in MATH_FAMILIES if name in installed and draws_hat_over_x(QFont(name))), family)


def math_font(base: QFont) -> QFont:
    """``base``, or the same size in an installed family that draws x̂ correctly."""
    font = QFont(base)
    family = _math_family(base.family())
    if family != base.family():
        font.setFamily(family)
    return font


PRECOMPOSED_HAT = "\u0177"  # ŷ: one code point, in virtually every font


def math_text(text: str, base: QFont) -> tuple[str, QFont]:
    """The text and font to draw it in: x̂ in a family that draws it over the x, or, where no
    installed family does, the reconstruction written ŷ (precomposed, drawn by any font)."""
    font = math_font(base)
    if X_HAT in text and not draws_hat_over_x(font):
        text = text.replace(X_HAT, PRECOMPOSED_HAT)
    return text, font
