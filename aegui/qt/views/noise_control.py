"""Input noise beside the canvas: a strength slider per kind and a seed, forwarded to the explorer.

The widget holds no state: every move becomes a new ``NoiseSettings`` request on the explorer,
and the widget shows whatever the explorer's ``noise_changed`` reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from aegui.core.noise import KIND_LABELS, NOISE_KINDS, NoiseSettings
from aegui.qt.window_layout import QWIDGETSIZE_MAX

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer

SLIDER_STEPS = 100  # strength 0..1 in hundredths
MIN_SLIDER_WIDTH = 80  # a track a strength can be set on by pointer
KIND_TIPS = {
    "gaussian": "Gaussian pixel noise; strength = its standard deviation (ink runs 0 to 1)",
    "salt_and_pepper": "This share of the pixels set to ink or to paper, half each",
    "erased_blocks": "This share of the 16 blocks of 7 × 7 pixels erased",
    "stroke_across": "A straight stroke across the digit, up to 4 pixels wide",
}


class NoiseControl(QGroupBox):
    """Tick to add noise to what the model sees (the canvas keeps the clean sketch)."""

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__("Noise on the model's input", parent)
        self.setCheckable(True)
        self.setToolTip("Add noise to what the model sees, to watch whether its code ignores it. The same seed gives the same noise on every stroke.")
        self._explorer = explorer
        self.body = QWidget()
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(0)  # one kind per row, and the column still fits a 720-pixel screen
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}  # each strength as a number beside its slider
        for index, kind in enumerate(NOISE_KINDS):
            label = QLabel(KIND_LABELS[kind])
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            slider.setToolTip(KIND_TIPS[kind])
            slider.setAccessibleName(f"{KIND_LABELS[kind]} strength")
            slider.valueChanged.connect(lambda value, kind=kind: self._on_slider_value_changed(kind, value))
            slider.setMinimumWidth(MIN_SLIDER_WIDTH)
            value = QLabel("0.00")
            value.setFixedWidth(value.fontMetrics().horizontalAdvance("0.00") + 4)  # a changing number never relayouts the column
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(label, index, 0)  # one kind per row: two side by side left no track in the sketch column
            grid.addWidget(slider, index, 1)
            grid.addWidget(value, index, 2)
            self.sliders[kind] = slider
            self.values[kind] = value
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 9999)
        self.seed_box.setToolTip("The noise field's seed: another seed, other noise")
        self.seed_box.valueChanged.connect(self._on_seed_box_value_changed)
        grid.addWidget(QLabel("seed"), len(NOISE_KINDS), 0)
        grid.addWidget(self.seed_box, len(NOISE_KINDS), 1, Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.body)
        self.toggled.connect(self._on_toggled)
        explorer.noise_changed.connect(self.show_settings)
        self.show_settings(explorer.noise)

    def show_settings(self, settings: NoiseSettings) -> None:
        for widget in (self, self.seed_box, *self.sliders.values()):
            widget.blockSignals(True)
        self.setChecked(settings.enabled)
        for kind, slider in self.sliders.items():
            slider.setValue(round(settings.strength(kind) * SLIDER_STEPS))
            self.values[kind].setText(f"{settings.strength(kind):.2f}")
        self.seed_box.setValue(settings.seed)
        for widget in (self, self.seed_box, *self.sliders.values()):
            widget.blockSignals(False)
        self._show_body(self.isChecked())

    def _show_body(self, shown: bool) -> None:
        """The sliders while noise is on; off, the box is only its tick (no empty frame beneath)."""
        self.body.setVisible(shown)
        margin = 6 if shown else 0
        self.layout().setContentsMargins(margin, margin // 3, margin, margin // 3)
        self.setMaximumHeight(QWIDGETSIZE_MAX if shown else self.fontMetrics().height() + 6)

    def _on_toggled(self, checked: bool) -> None:
        self._show_body(checked)
        self._explorer.set_noise(self._explorer.noise.switched(checked))

    def _on_slider_value_changed(self, kind: str, value: int) -> None:
        self._explorer.set_noise(self._explorer.noise.with_strength(kind, value / SLIDER_STEPS).switched(True))

    def _on_seed_box_value_changed(self, seed: int) -> None:
        self._explorer.set_noise(self._explorer.noise.with_seed(seed))
