"""One slider per latent dimension, ranged mean ± 3 std of the training codes: the rows
(``aegui.qt.painting.slider_rows``) in a scroll area, with Back to sketch, Random sample and
Reset to mean."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from aegui.core.dimension_labels import label_meaning, label_shown
from aegui.qt.painting.pace import READABLE_PACE
from aegui.qt.painting.slider_rows import STEPS, SliderRows

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis, ModelSession


class LatentSliders(QScrollArea):
    dimension_changed = Signal(int, float)  # the user moved dimension i to value v

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the rows, which show their focus and take the keys
        self.setMinimumWidth(240)
        self.rows = SliderRows(pace=READABLE_PACE)  # the values' numbers at a readable pace while drawing
        self.rows.step_changed.connect(self._on_rows_step_changed)
        self.setWidget(self.rows)
        self._low, self._high = np.zeros(0, np.float32), np.zeros(0, np.float32)
        explorer.model_changed.connect(self.set_session)
        explorer.analysis_changed.connect(self._on_explorer_analysis_changed)
        self.dimension_changed.connect(explorer.set_dimension)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab out of the rows leaves the list where it is: QScrollArea's own brought its last
        focused child (the rows, taller than the area) into view as the focus left, scrolling
        by a few rows. The rows show their own row when the focus comes back."""
        return QWidget.focusNextPrevChild(self, next)

    def set_session(self, session: ModelSession) -> None:
        self._low, self._high = session.slider_low.astype(np.float32), session.slider_high.astype(np.float32)
        labels = session.dimension_labels
        self.rows.set_rows(
            [f"{index}" + (f" {label_shown(labels[index])}" if labels[index] else "") for index in range(session.latent_dim)],
            [label_meaning(label) if label else "" for label in labels],
        )
        self.show_code(session.latent_mean)

    def step(self, index: int) -> int:
        """Where slider ``index`` stands, 0..STEPS."""
        return int(self.rows.steps[index])

    def value_of_step(self, index: int, step: int) -> float:
        return float(self._low[index] + (self._high[index] - self._low[index]) * step / STEPS)

    def steps_of_code(self, code: np.ndarray) -> np.ndarray:
        """The slider step of every dimension of ``code`` (clipped to the slider range)."""
        span = np.where(self._high > self._low, self._high - self._low, 1.0)
        return np.rint(np.clip((np.asarray(code, dtype=np.float32) - self._low) / span, 0.0, 1.0) * STEPS).astype(np.int64)

    def _on_explorer_analysis_changed(self, analysis: Analysis) -> None:
        self.show_code(analysis.code)

    def show_code(self, code: np.ndarray) -> None:
        """Reflect a code without emitting dimension_changed (no feedback loop)."""
        code = np.asarray(code, dtype=np.float32)
        self.rows.set_row_values(self.steps_of_code(code), code)

    def _on_rows_step_changed(self, index: int, step: int) -> None:
        value = self.value_of_step(index, step)
        values = self.rows.values.copy()
        values[index] = value
        self.rows.set_row_values(self.rows.steps, values, at_once=True)  # the user's own slider: its value now
        self.dimension_changed.emit(index, value)


class SliderPanel(QWidget):
    """The latent sliders with Back to sketch, Random sample and Reset to mean."""

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self._explorer = explorer
        self.sliders = LatentSliders(explorer)
        self.back_to_sketch_button = QPushButton("Back to sketch")
        self.random_button = QPushButton("Random sample")
        self.random_button.setToolTip("A code drawn where digits' codes lie: a digit class at random, then a Gaussian fitted to that class's codes.\nIndependent random numbers per dimension would mostly decode to blobs: an autoencoder's codes fill only part of the space.")
        self.mean_button = QPushButton("Reset to mean")
        self.back_to_sketch_button.setEnabled(False)
        self.back_to_sketch_button.clicked.connect(explorer.back_to_sketch)
        self.random_button.clicked.connect(explorer.sample_random)
        self.mean_button.clicked.connect(explorer.reset_to_mean)
        buttons = QGridLayout()  # two rows: the dock stays narrow beside the map
        buttons.addWidget(self.back_to_sketch_button, 0, 0, 1, 2)
        buttons.addWidget(self.random_button, 1, 0)
        buttons.addWidget(self.mean_button, 1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.sliders, 1)
        explorer.analysis_changed.connect(self._on_explorer_changed)
        explorer.sketch_changed.connect(self._on_explorer_changed)

    def _on_explorer_changed(self, *_) -> None:
        """Back to sketch makes sense only while the code shown is not the sketch's own."""
        self.back_to_sketch_button.setEnabled(self._explorer.sketch is not None and self._explorer.origin != "sketch")
