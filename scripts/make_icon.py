"""Draw aegui's icon (``resources/icons/aegui.png``, 256 x 256): python scripts/make_icon.py.

A latent map in miniature: clusters of coloured points (the map's digit colours) around a
star, the current code. Drawn with QPainter so it needs nothing beyond Qt; run it again
only to change the icon.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPen, QPolygonF

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aegui.qt.views.latent_map import DIGIT_COLOURS  # noqa: E402


def draw(size: int = 256) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(250, 250, 250))
    painter.drawRoundedRect(QRectF(8, 8, size - 16, size - 16), 40, 40)
    rng = random.Random(7)
    for digit, colour in enumerate(DIGIT_COLOURS):
        angle = 2 * math.pi * digit / len(DIGIT_COLOURS)
        centre = QPointF(size / 2 + 78 * math.cos(angle), size / 2 + 78 * math.sin(angle))
        painter.setBrush(QColor(*colour, 210))
        for _ in range(9):
            offset = QPointF(rng.gauss(0, 11), rng.gauss(0, 11))
            painter.drawEllipse(centre + offset, 7, 7)
    star = QPolygonF([QPointF(size / 2 + (34 if i % 2 == 0 else 14) * math.sin(i * math.pi / 5), size / 2 - (34 if i % 2 == 0 else 14) * math.cos(i * math.pi / 5)) for i in range(10)])
    painter.setPen(QPen(QColor(30, 30, 30), 4))
    painter.setBrush(QBrush(QColor(255, 215, 0)))
    painter.drawPolygon(star)
    painter.end()
    return image


if __name__ == "__main__":
    app = QGuiApplication(sys.argv[:1])
    output = REPO / "resources" / "icons" / "aegui.png"
    output.parent.mkdir(parents=True, exist_ok=True)
    draw().save(str(output))
    print(f"wrote {output}")
