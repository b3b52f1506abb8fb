"""One slider per latent dimension, ranged mean ± 3 std of the training codes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSlider, QWidget

from aegui.core.session import ModelSession

STEPS = 1000


class LatentSliders(QScrollArea):
    dimension_changed = Signal(int, float)  # the user moved dimension i to value v

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(240)
        self._sliders: list[QSlider] = []
        self._values: list[QLabel] = []
        self._names: list[QLabel] = []
        self._low = np.zeros(0, np.float32)
        self._high = np.zeros(0, np.float32)

    def set_session(self, session: ModelSession, labels: list[str] | None = None) -> None:
        container = QWidget()
        grid = QGridLayout(container)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setVerticalSpacing(2)
        self._low, self._high = session.slider_low.astype(np.float32), session.slider_high.astype(np.float32)
        labels = labels or [""] * session.latent_dim
        self._sliders, self._values, self._names = [], [], []
        for index in range(session.latent_dim):
            name = QLabel(f"{index}" + (f" {labels[index]}" if labels[index] else ""))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, STEPS)
            slider.setAccessibleName(f"latent dimension {index}")
            slider.valueChanged.connect(lambda step, i=index: self._on_slider_value_changed(i, step))
            value = QLabel("+0.00")
            # a fixed size keeps setText from relayouting the grid on every pen event
            value.setFixedSize(value.fontMetrics().horizontalAdvance("+000.00") + 6, value.sizeHint().height())
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for widget in (slider, value):
                widget.setAutoFillBackground(True)  # opaque: a change repaints it, not the panel behind
            grid.addWidget(name, index, 0)
            grid.addWidget(slider, index, 1)
            grid.addWidget(value, index, 2)
            self._names.append(name)
            self._sliders.append(slider)
            self._values.append(value)
        grid.setRowStretch(session.latent_dim, 1)
        self.setWidget(container)
        self.show_code(session.latent_mean)

    def slider(self, index: int) -> QSlider:
        return self._sliders[index]

    def value_of_step(self, index: int, step: int) -> float:
        return float(self._low[index] + (self._high[index] - self._low[index]) * step / STEPS)

    def steps_of_code(self, code: np.ndarray) -> list[int]:
        """The slider step of every dimension of ``code`` (clipped to the slider range)."""
        span = np.where(self._high > self._low, self._high - self._low, 1.0)
        return np.rint(np.clip((np.asarray(code, dtype=np.float32) - self._low) / span, 0.0, 1.0) * STEPS).astype(int).tolist()

    def show_code(self, code: np.ndarray) -> None:
        """Reflect a code without emitting dimension_changed (no feedback loop)."""
        code = np.asarray(code, dtype=np.float32)
        steps = self.steps_of_code(code)
        for slider, label, step, value in zip(self._sliders, self._values, steps, code.tolist()):
            if step != slider.value():  # an unchanged slider is not repainted
                slider.blockSignals(True)
                slider.setValue(step)
                slider.blockSignals(False)
            text = f"{value:+.2f}"
            if text != label.text():
                label.setText(text)

    def _on_slider_value_changed(self, index: int, step: int) -> None:
        value = self.value_of_step(index, step)
        self._values[index].setText(f"{value:+.2f}")
        self.dimension_changed.emit(index, value)
