"""The anomaly meter: the sketch's reconstruction error as a percentile of held-out digits' errors."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from aegui.core.anomaly import FEATURE_LABELS, NOT_A_DIGIT_ABOVE, REASONS, TYPICAL_BELOW, VERDICTS, explain
from aegui.qt.painting.colours import HINT, toward_text
from aegui.qt.painting.live_text import LiveText, WordPieces
from aegui.qt.painting.pace import READABLE_PACE, Pace

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis

VERDICT_COLOURS = {"typical digit": "#2e9d3a", "unusual": "#d98c00", "not a digit": "#c62828"}


BAR_HEIGHT = 14


def bold(font: QFont) -> QFont:
    font = QFont(font)
    font.setBold(True)
    return font
ZONES = ((0.0, TYPICAL_BELOW, 0.6), (TYPICAL_BELOW, NOT_A_DIGIT_ABOVE, 0.8), (NOT_A_DIGIT_ABOVE, 100.0, 1.0))


def parts_line(parts: dict[str, float]) -> str:
    """Each part's percentile, in the order the score lists them (empty for one part)."""
    if len(parts) <= 1:
        return ""
    return " · ".join(f"{FEATURE_LABELS[name]} {value:.0f}" for name, value in parts.items()) + " (percentiles)"


def longest_explanations(thresholds: str) -> list[str]:
    """Every first line the meter can show (the thresholds, or a verdict and its reason), each
    above the widest parts line: the box is sized for these, so no explanation is cut off."""
    widest_parts = parts_line({name: 100.0 for name in FEATURE_LABELS})
    reasons = {explain(verdict, {name: 100.0, "reconstruction": low}) for verdict in VERDICTS[1:] for name in REASONS for low in (0.0, 100.0)}
    reasons.add(explain(VERDICTS[1], dict.fromkeys(REASONS, 0.0)))
    firsts = [thresholds] + [f"{verdict}: {reason}" for verdict in VERDICTS[1:] for reason in reasons]
    firsts += [f"{VERDICTS[0]}: {explain(VERDICTS[0], {name: 100.0, 'reconstruction': 0.0})}" for name in REASONS if name != "reconstruction"]
    return [f"{first}\n{widest_parts}" for first in firsts]


# what the gauge says with no input image to judge (its wording, then a shorter one)
UNJUDGED_BLANK = ("draw a digit to see how unusual it is", "draw to see how unusual")
UNJUDGED_CODE = ("a generated code: only a drawing is judged", "only drawings are judged")


def percentile_text(percentile: float) -> str:
    """One decimal, rounded up: the verdicts' thresholds are "≤ 95th" and "≤ 99th", so a value
    just above one (99.03, "not a digit") must not read as the threshold itself ("99.0")."""
    return f"{math.ceil(percentile * 10 - 1e-9) / 10:.1f}"


def gauge_fraction(percentile: float) -> float:
    """Where a percentile sits on the gauge: 0-95 fill the first 60 %, 95-99 the next 20 %,
    99-100 the last 20 %, so the two thresholds that matter are far enough apart to read."""
    start_fraction = 0.0
    for low, high, end_fraction in ZONES:
        if percentile <= high:
            return start_fraction + (end_fraction - start_fraction) * (max(percentile, low) - low) / (high - low)
        start_fraction = end_fraction
    return 1.0


class AnomalyGauge(QWidget):
    """A bar over three tinted zones (typical, unusual, not a digit), painted in one pass.

    Painted by hand rather than a QProgressBar, whose setValue repaints synchronously on
    every pen event.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(120, BAR_HEIGHT + self.fontMetrics().height() + 2)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the panel behind needs no repaint
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.percentile: float | None = None  # where the fill ends
        self.shown_percentile: float | None = None  # the number beneath (the meter paces it)
        self.verdict: str | None = None  # the fill's colour, with the number
        self.unjudged = UNJUDGED_BLANK  # what the bar says when there is nothing to judge
        self._pieces = WordPieces()  # the words beneath, laid out once each
        self._metrics = QFontMetricsF(self.font())
        self._text_top_key: int | None = None
        self._text_top_value = 0.0
        self._background_key: tuple | None = None
        self._background_pixmap = QPixmap()

    def set_fill(self, percentile: float | None) -> None:
        """Where the fill ends (on every pen event: only the part between its two ends repaints)."""
        before, self.percentile = self.percentile, percentile
        if before is None or percentile is None:
            if before != percentile:
                self.update()
        elif percentile != before:
            width = self.width() - 1.0
            ends = sorted(0.5 + gauge_fraction(value) * width for value in (before, percentile))
            self.update(QRect(int(ends[0]) - 2, 0, int(ends[1] - ends[0]) + 6, BAR_HEIGHT))  # two pixels spare for antialiasing

    def set_reading(self, percentile: float | None, verdict: str | None, unjudged: tuple[str, str] = UNJUDGED_BLANK) -> None:
        """The number beneath and the verdict's colour: what the gauge says."""
        before = self.shown_percentile
        if (verdict, unjudged) != (self.verdict, self.unjudged) or before is None or percentile is None:
            changed = (verdict, unjudged, percentile) != (self.verdict, self.unjudged, before)
            self.shown_percentile, self.verdict, self.unjudged = percentile, verdict, unjudged
            if changed:
                self.update()
            return
        self.shown_percentile = percentile
        if percentile_text(before) != percentile_text(percentile):
            self.update(self._changed_text_rect(before, percentile))

    def _changed_text_rect(self, before: float, after: float) -> QRect:
        """The text from its first changed word on: the zones, their lines and the words before
        it stay on screen."""
        old, new = self._spans(self._text(before)), self._spans(self._text(after))
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)) - 1)
        number_at = int(min(old[first][0], new[first][0])) - 2
        end = int(max(old[-1][1], new[-1][1])) + 4
        return QRect(number_at, BAR_HEIGHT, end - number_at, self.height() - BAR_HEIGHT)

    def _spans(self, text: str) -> list[tuple[float, float, str]]:
        return self._pieces.spans(self._metrics, text)

    def _text_top(self) -> float:
        """Where the words' line starts, centred under the bar (worked out once per height)."""
        if self._text_top_key != self.height():
            text_area = QRectF(0, BAR_HEIGHT + 1, self.width(), self.height() - BAR_HEIGHT - 1)
            self._text_top_value = self._metrics.boundingRect(text_area, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "x").top()
            self._text_top_key = self.height()
        return self._text_top_value

    def _text(self, percentile: float | None) -> str:
        """The words beneath the bar: the longest wording that fits, never an elided one."""
        texts = list(self.unjudged) if percentile is None else [f"percentile {percentile_text(percentile)} of held-out digits", f"percentile {percentile_text(percentile)}"]
        return next((text for text in texts if self._spans(text)[-1][1] <= self.width()), texts[-1])

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._pieces.forget()
            self._metrics = QFontMetricsF(self.font())
            self._text_top_key = None

    def sizeHint(self) -> QSize:
        return QSize(240, BAR_HEIGHT + self.fontMetrics().height() + 2)

    def _background(self) -> QPixmap:
        """The tinted zones, their lines and the frame, drawn once per size: on a pen event
        only the fill and the number change."""
        key = (self.width(), self.height(), self.devicePixelRatioF(), self.palette().window().color().rgba())
        if self._background_key != key:
            ratio = self.devicePixelRatioF()
            pixmap = QPixmap(int(round(self.width() * ratio)), int(round(self.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(self.palette().window().color())
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            area = self._bar_area()
            start = 0.0
            for (_, _, end), verdict in zip(ZONES, VERDICT_COLOURS):
                tint = QColor(VERDICT_COLOURS[verdict])
                tint.setAlpha(45)
                painter.fillRect(QRectF(area.x() + start * area.width(), area.y(), (end - start) * area.width(), area.height()), tint)
                start = end
            painter.end()
            self._background_key, self._background_pixmap = key, pixmap
        return self._background_pixmap

    def _bar_area(self) -> QRectF:
        return QRectF(0.5, 0.5, self.width() - 1.0, BAR_HEIGHT - 1.0)  # the bar; its text goes beneath

    def paintEvent(self, event) -> None:
        exposed = event.rect()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._background())  # Qt clips it to the exposed part
        area = self._bar_area()
        if exposed.top() <= BAR_HEIGHT:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self.percentile is not None and self.verdict is not None:
                filled = QRectF(area.x(), area.y() + 3, gauge_fraction(self.percentile) * area.width(), area.height() - 6)
                painter.fillRect(filled, QColor(VERDICT_COLOURS[self.verdict]))
            painter.setPen(QColor(150, 150, 150))
            for _, _, end in ZONES[:-1]:
                x = area.x() + end * area.width()
                painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            painter.drawRect(area)
        if exposed.bottom() > BAR_HEIGHT:
            painter.setPen(toward_text(HINT, self.palette()) if self.shown_percentile is None else self.palette().windowText().color())
            self._pieces.draw(painter, 0.0, self._text_top(), self._spans(self._text(self.shown_percentile)), exposed)
        painter.end()


class AnomalyMeter(QWidget):
    """Is the sketch a digit? The combined anomaly score (or, for older checkpoints, the
    reconstruction error) as a percentile of held-out MNIST digits, each part's percentile,
    and in words which part says "not a digit"."""

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.gauge = AnomalyGauge()
        self.verdict_label = QLabel("")
        # Fixed in both directions, sized for the widest verdict: a QLabel's setText asks its
        # layout to recompute unless its size cannot change, and that relayout repaints the
        # whole window in the middle of a stroke (on about one pen event in ten, when the
        # verdict flips). The height also keeps the views beneath from moving.
        self.verdict_label.setFixedSize(max(QFontMetrics(bold(self.verdict_label.font())).horizontalAdvance(verdict) for verdict in VERDICTS) + 12, self.gauge.minimumHeight())
        self.thresholds = f"typical ≤ {TYPICAL_BELOW:.0f}th percentile < unusual ≤ {NOT_A_DIGIT_ABOVE:.0f}th < not a digit"
        # painted text, as tall as the longest explanation needs at the panel's width: the
        # explanation changes during a stroke, and a QLabel's setText would relayout the column
        self.explanation_label = LiveText(self.thresholds, lines=2)
        font = self.explanation_label.font()
        font.setPointSizeF(9)
        self.explanation_label.setFont(font)
        self.explanation_label.fit_height_to(longest_explanations(self.thresholds))
        palette = self.explanation_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, toward_text(HINT, palette))
        self.explanation_label.setPalette(palette)
        row = QHBoxLayout()
        row.addWidget(QLabel("Anomaly"))
        row.addWidget(self.gauge, 1)
        row.addWidget(self.verdict_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.explanation_label)
        self.verdict: str | None = None
        self.percentile: float | None = None
        self.parts: dict[str, float] = {}
        self.parts_text = ""
        self.explanation = ""
        self._reading_pace = Pace(self._show_reading, interval=READABLE_PACE, kind=lambda reading: reading is None or (reading[0] is None, reading[2]), parent=self)
        explorer.analysis_changed.connect(self.show_analysis)
        explorer.model_changed.connect(self._on_explorer_model_changed)

    def _on_explorer_model_changed(self, session) -> None:
        combined = session.anomaly_scorer is not None
        self.gauge.setToolTip(
            "Percentiles among held-out MNIST digits: the combined score, then how badly the decoder rebuilds the sketch (rebuild), "
            "how far its code is from the nearest training codes (distance), how unsure the digit probe is (doubt), "
            "how far the encoder's last hidden layer is from every digit class's (inner) and how much the code looks like "
            "a non-digit's to a small detector trained on mirrored, turned, cut and overlaid digits and random strokes (detector)."
            if combined
            else "The sketch's reconstruction error as a percentile of held-out MNIST digits' errors (this checkpoint stores no combined score)."
        )
        self.setToolTip(f"Anomaly score of this model: {session.anomaly_source}. " + self.thresholds + " (percentiles of held-out MNIST digits).")

    def show_analysis(self, analysis: Analysis) -> None:
        # The bar's length follows every pen event; what the meter says (verdict, number,
        # reason, parts) is one reading, shown together at a readable pace, so the words never
        # contradict each other; a sketch judged or not judged shows at once.
        percentile = analysis.anomaly_percentile
        verdict = None if percentile is None else analysis.verdict
        self.gauge.set_fill(percentile)
        unjudged = UNJUDGED_CODE if analysis.origin != "mean" else UNJUDGED_BLANK
        self._reading_pace.request((percentile, verdict, unjudged, analysis.anomaly_reason, tuple(analysis.anomaly_parts.items())))

    def _show_reading(self, reading: tuple) -> None:
        percentile, verdict, unjudged, reason, parts = reading
        self.percentile, self.parts = percentile, dict(parts)
        self.parts_text = parts_line(self.parts)
        self.gauge.set_reading(percentile, verdict, unjudged)
        if verdict != self.verdict:  # rich text is laid out again on every setText: only on a new verdict
            self.verdict = verdict
            colour = VERDICT_COLOURS.get(verdict or "", "#000")
            self.verdict_label.setText(f"<b style='color:{colour}'>{verdict}</b>" if verdict else "")
        self.explanation = f"{verdict}: {reason}" if verdict and reason else ""
        # line 1: which part says so (or the thresholds); line 2: each part's percentile
        self.explanation_label.setText((self.explanation or self.thresholds) + (f"\n{self.parts_text}" if self.parts_text else ""))
