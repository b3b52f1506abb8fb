"""The Explore panels: a dimension's traversal, the interpolation from A to B, and the
comparison of bottleneck sizes, each a strip of decoded digits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QTabWidget, QVBoxLayout, QWidget

from aegui.core.dimension_labels import DIRECTION_WORDS, label_shown
from aegui.core.explorer import DIRECTION
from aegui.core.model_format import IMAGE_SIZE
from aegui.core.model_names import distinguishing_names, model_facts
from aegui.qt.painting.colours import FAINT, HINT, text_style
from aegui.qt.painting.pixel_images import CAPTION_GAP, PixelImageRow
from aegui.qt.window_layout import QWIDGETSIZE_MAX, scrolled
from aegui.qt.views.robustness_view import RobustnessView

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.robustness import RobustnessComparison
    from aegui.core.session import Analysis, ModelSession

STEPS = 9
MIN_COMPARE_CELLS = 4  # Compare's strip: a cell per model, at least four (two models' captions ran together in nine)

MIN_STRIP_IMAGE = IMAGE_SIZE + 4  # px: a strip's digits at least at MNIST's own size (they were squeezed to 6 px)


class ImageStrip(PixelImageRow):
    """``STEPS`` small 28x28 images side by side, each with a caption (up to two lines).

    While empty it shows only its placeholder, two lines high: the Explore dock then shrinks
    to a hint instead of holding a third of the window."""

    filled_changed = Signal(bool)

    def __init__(self, placeholder: str = "", parent=None, count: int = STEPS):
        super().__init__(count, caption_lines=2, parent=parent)
        self.setMinimumHeight(self._hint_height())
        self.setMaximumHeight(150)
        self.images = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)
        self.placeholder = placeholder  # says what will appear here, while nothing does

    def show_images(self, images: np.ndarray, captions: list[str]) -> None:
        """Show up to ``count`` images; the remaining slots are left blank."""
        self.set_images(np.asarray(images, dtype=np.float32)[: self.count], captions)

    def set_images(self, images, captions=None, tooltips=None) -> None:
        was_empty = len(self.images) == 0
        # two caption lines only for captions of two (a model and its error): one-line captions
        # leave that line to the images, which a short dock squeezes first
        lines = 2 if any("\n" in caption for caption in captions or []) else 1
        if lines != self._caption_lines:
            self._caption_lines = lines
            self.update()
        super().set_images(images, captions, tooltips)
        self.images = self.shown_images()
        minimum = self._hint_height() if len(self.images) == 0 else self._caption_height() + MIN_STRIP_IMAGE
        if minimum != self.minimumHeight():  # a filled strip never squeezes its digits below MNIST's own size
            self.setMinimumHeight(minimum)
        if was_empty != (len(self.images) == 0):
            self.update()  # the placeholder spans every cell
            self.updateGeometry()
            self.filled_changed.emit(len(self.images) > 0)

    def _hint_height(self) -> int:
        """Two lines of hint, or the height a filled strip of one-line captions needs if that is
        more: filling it (Keep as B) then moves nothing above it (it moved the views up 9 px)."""
        return max(2 * self.fontMetrics().lineSpacing() + 8, self.fontMetrics().height() + CAPTION_GAP + MIN_STRIP_IMAGE)

    def sizeHint(self) -> QSize:
        """The same height empty or filled: the window gives its docks their preferred heights,
        so a strip that asked for more once filled (a latent bar clicked) moved the views and
        the tabs above it up under the pointer, and back down when a model emptied it."""
        metrics = self.fontMetrics()
        return QSize(super().sizeHint().width(), max(self._hint_height(), 2 * metrics.height() + CAPTION_GAP + MIN_STRIP_IMAGE + 12))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.placeholder and len(self.images) == 0:
            painter = QPainter(self)
            painter.setPen(QColor(120, 120, 120))
            painter.drawText(self.rect().adjusted(12, 2, -12, -2), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            painter.end()

    def clear_strip(self) -> None:
        """Empty the strip; an empty one is left as it is (asked on every pen event)."""
        if len(self.images) or self._caption_lines != 1:
            self.set_images([])


class TraversalPanel(QWidget):
    """The current code decoded with one dimension swept over mean ± 3 std."""

    dimension_chosen = Signal(int)  # -1 for none

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent)
        self.dimension_combo = QComboBox()
        self.dimension_combo.setAccessibleName("dimension to traverse")
        self.dimension_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.dimension_combo.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # never squeezed: the hint wraps instead
        self.dimension_combo.activated.connect(self._on_dimension_combo_activated)
        self.strip = ImageStrip("Click a latent bar (or pick a dimension here) to see the current digit decoded as that one number sweeps from mean − 3 std to mean + 3 std, the rest of the code unchanged.")
        row = QHBoxLayout()
        row.addWidget(QLabel("Sweep dimension"))
        row.addWidget(self.dimension_combo)
        hint = QLabel("over mean ± 3 std; click a latent bar to choose it")
        hint.setStyleSheet(text_style(HINT))
        hint.setWordWrap(True)
        row.addWidget(hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        layout.addWidget(self.strip, 1)
        self._explorer = explorer
        explorer.model_changed.connect(self.set_session)
        explorer.selection_changed.connect(self.select)
        explorer.analysis_changed.connect(self.show_analysis)
        self.dimension_chosen.connect(lambda dimension: explorer.select_dimension(None if dimension < 0 else dimension))

    def set_session(self, session: ModelSession) -> None:
        self.dimension_combo.clear()
        self.dimension_combo.addItem("none", -1)
        for index, label in enumerate(session.dimension_labels):
            self.dimension_combo.addItem(f"{index}" + (f" ({label_shown(label)})" if label else ""), index)  # the sliders' words
        self.strip.clear_strip()
        self.select(self._explorer.selected_dimension)

    def select(self, dimension: int | None) -> None:
        self.dimension_combo.setCurrentIndex(0 if dimension is None else dimension + 1)

    def show_analysis(self, analysis: Analysis) -> None:
        traversal = analysis.extras.get("traversal")
        if traversal is None:
            self.strip.clear_strip()
            return
        _, values, images = traversal
        self.strip.show_images(images, [f"{value:+.1f}" for value in values])

    def _on_dimension_combo_activated(self, index: int) -> None:
        self.dimension_chosen.emit(int(self.dimension_combo.itemData(index)))


class InterpolationPanel(QWidget):
    """Keep two codes, A and B, and walk the straight line between them."""

    keep_requested = Signal(str)
    fraction_changed = Signal(float)

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent)
        self.keep_a_button = QPushButton("Keep as A")
        self.keep_b_button = QPushButton("Keep as B")
        self.keep_a_button.clicked.connect(lambda: self.keep_requested.emit("A"))
        self.keep_b_button.clicked.connect(lambda: self.keep_requested.emit("B"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setEnabled(False)
        self.slider.setAccessibleName("interpolation from A to B")
        self.slider.valueChanged.connect(lambda value: self.fraction_changed.emit(value / 100.0))
        self.status = QLabel("Draw a digit and keep it as A, then another as B.")
        self.status.setStyleSheet(text_style(HINT))
        self._kept: dict = {}
        self.strip = ImageStrip("The straight line from code A to code B, decoded: does the path pass through other digits?")
        row = QHBoxLayout()
        row.addWidget(self.keep_a_button)
        row.addWidget(self.keep_b_button)
        row.addWidget(QLabel("A"))
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("B"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.strip, 1)
        self._explorer = explorer
        self._averaged: set[str] = set()  # ends kept while nothing was drawn: the training codes' mean
        explorer.kept_changed.connect(self.show_kept)
        explorer.analysis_changed.connect(self.show_analysis)
        self.keep_requested.connect(explorer.keep_current)
        self.fraction_changed.connect(explorer.interpolate)

    def show_kept(self, kept: dict) -> None:
        # told as the end is kept, so the explorer's origin is still that of the kept code
        new = {slot for slot in kept if slot not in self._kept or kept[slot] is not self._kept[slot]}
        self._averaged = {slot for slot in self._averaged if slot in kept and slot not in new} | ({slot for slot in new if self._explorer.origin == "mean"})
        self._kept = dict(kept)
        averaged = "".join(f" {slot} is the average code: nothing was drawn when it was kept." for slot in sorted(self._averaged))
        ready = "A" in kept and "B" in kept
        self.slider.setEnabled(ready)
        if ready:
            self.status.setText("Drag the slider to morph from A to B." + averaged)
        elif kept:
            self.status.setText(f"Kept {', '.join(sorted(kept))}; keep the other end too." + averaged)
        else:
            self.status.setText("Draw a digit and keep it as A, then another as B.")
            self.strip.clear_strip()

    def show_analysis(self, analysis: Analysis) -> None:
        interpolation = analysis.extras.get("interpolation")
        if interpolation is None:
            return
        fractions, images = interpolation
        self.strip.show_images(images, [f"{fraction:.2f}" for fraction in fractions])


class ComparePanel(QWidget):
    """The current sketch reconstructed by several models side by side, with each error."""

    family_requested = Signal()
    files_requested = Signal()
    clear_requested = Signal()

    def __init__(self, explorer: Explorer, robustness: RobustnessComparison | None = None, parent=None):
        super().__init__(parent)
        self.family_button = QPushButton("Load sweep family…")
        self.files_button = QPushButton("Add checkpoints…")
        self.clear_button = QPushButton("Clear")
        self.family_button.clicked.connect(self.family_requested)
        self.files_button.clicked.connect(self.files_requested)
        self.clear_button.clicked.connect(self.clear_requested)
        self.status = QLabel("Load the family written by `aegui-train sweep` (family.json) or pick checkpoints.")
        self.status.setStyleSheet(text_style(HINT))
        self.status.setWordWrap(True)
        self.strip = ImageStrip("Your sketch reconstructed by each model, smallest bottleneck first: see what k costs.")
        row = QHBoxLayout()  # the status beside the buttons, not under them: the robustness plot needs the height
        for button in (self.family_button, self.files_button, self.clear_button):
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        body = QHBoxLayout()  # the strip, and beside it how well each model ignores noise
        body.addWidget(self.strip, 1)
        self.robustness_view = RobustnessView(robustness) if robustness is not None else None
        if self.robustness_view is not None:
            body.addWidget(self.robustness_view, 1)
        layout.addLayout(body, 1)
        self.rows = []
        self.model_names: list[str] = []
        self._status_text, self._input_note = self.status.text(), ""
        explorer.comparison_changed.connect(self.show_models)
        explorer.analysis_changed.connect(self.show_analysis)
        self.clear_requested.connect(explorer.clear_comparison)

    def show_models(self, models, problems) -> None:
        """Each model keyed by a letter under its image, named in full (file or run, k, epoch) here."""
        ordered = sorted(models, key=lambda m: m.latent_dim)  # the rows' order
        self.model_names = [f"{chr(ord('A') + index)}: {name} ({model_facts(model)})" for index, (name, model) in enumerate(zip(distinguishing_names([m.path for m in ordered]), ordered))]
        text = f"Comparing {'; '.join(self.model_names)}; under each reconstruction, its error (MSE)." if models else "No models to compare."
        if problems:
            text += " Could not load: " + "; ".join(problems)
        self._status_text = text
        if not models:  # what models were given means nothing without models
            self._input_note, self.rows = "", []
            self.strip.clear_strip()
        self.status.setText(text + self._input_note)

    def show_analysis(self, analysis: Analysis) -> None:
        rows = analysis.extras.get("comparison")
        if rows is None:
            return
        self.rows = rows
        # what the models were given: the sketch, or (a slider, the map, A → B) the digit on show
        note = INPUT_NOTES.get(analysis.extras.get("comparison_input", "sketch"), "")
        if note != self._input_note:
            self._input_note = note
            self.status.setText(self._status_text + note)
        names = self.model_names if len(self.model_names) == len(rows) else [f"{chr(ord('A') + index)}: k = {row.latent_dim}" for index, row in enumerate(rows)]
        # short enough for a cell of a 768-pixel screen's strip: the status line says the number is the MSE
        captions = [f"{name.split(':')[0]}: k={row.latent_dim}\n{row.reconstruction_error:.4f}" for name, row in zip(names, rows)]
        self.strip.set_count(min(max(len(rows), MIN_COMPARE_CELLS), STEPS))
        self.strip.set_images(np.array([row.reconstruction for row in rows]), captions, [f"{name}, reconstruction error {row.reconstruction_error:.4f}" for name, row in zip(names, rows)])


INPUT_NOTES = {
    "sketch": " Each was given your sketch.",
    "noisy sketch": " Each was given your sketch with the noise on it (Noise on the model's input, under the canvas).",
    "decoded": " Each was given the digit on show, decoded from a generated code, not your sketch (Back to sketch gives them your sketch).",
}

DIRECTION_RANGE = 3.0  # spreads of the training codes either way
DIRECTION_STRIP_IMAGE = 56  # px: the sweep's digits, in view at the top of a short dock
DIRECTION_STEPS = 60
DIRECTION_SLIDER_WIDTH = 150  # px: about a pixel per step (they were 75 px at 1366 x 768, beside a strip with room to spare)
WEAK_DIRECTION_R2 = 0.3  # below it a direction explains under a third of the property (k = 2: 0.02-0.46; k = 32: 0.56-0.92)


class DirectionPanel(QWidget):
    """Edit by meaning: one slider per stroke property, moving the code along the direction in
    which that property grows (fitted at the end of training), from the code on show."""

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent)
        self._explorer = explorer
        self.sliders: dict[str, QSlider] = {}
        self._grid = QGridLayout()
        self._grid.setVerticalSpacing(2)  # five rows and the sentence above them in a laptop's dock, unscrolled
        self.status = QLabel("")
        self.status.setStyleSheet(text_style(HINT))
        self.status.setWordWrap(True)
        self.strip = ImageStrip("Move a slider: the digit on show along that direction, from −3 to +3 spreads, appears here as you move it.")
        # the strip beside the sliders, not under them: in a short dock (which scrolls) the
        # sweep of the slider being moved is in view with it
        self.strip.setMaximumHeight(self.strip.fontMetrics().height() + 2 + DIRECTION_STRIP_IMAGE)  # one caption line over the digits
        body = QHBoxLayout()
        body.addLayout(self._grid)
        body.addWidget(self.strip, 1, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)
        explorer.model_changed.connect(self.set_session)
        explorer.analysis_changed.connect(self._on_explorer_analysis_changed)

    def set_session(self, session: ModelSession) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sliders = {}
        directions = session.property_directions
        if not directions:
            self.status.setText("This checkpoint stores no property directions (retrain, or run aegui-train annotate on it).")
            return
        self.status.setText("Each slider moves the digit on show along the direction in which one stroke property grows (Back to sketch: Latent sliders dock).")  # one line on a laptop
        for row, (name, (_, spread, r2)) in enumerate(directions.items()):
            low, high = DIRECTION_WORDS.get(name, (f"less {name}", f"more {name}"))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-DIRECTION_STEPS, DIRECTION_STEPS)
            slider.setMinimumWidth(DIRECTION_SLIDER_WIDTH)
            slider.setAccessibleName(f"{low} or {high}")
            slider.setToolTip(f"{name}: R² {r2:.2f} on held-out digits; the ends are {DIRECTION_RANGE:g} spreads of the training codes ({spread:.2f}) away")
            slider.valueChanged.connect(lambda value, name=name: self._explorer.set_direction(name, value * DIRECTION_RANGE / DIRECTION_STEPS))
            self._grid.addWidget(QLabel(low), row, 0, Qt.AlignmentFlag.AlignRight)
            self._grid.addWidget(slider, row, 1)
            self._grid.addWidget(QLabel(high), row, 2)
            weak = r2 < WEAK_DIRECTION_R2  # the code barely holds this property: the sweep changes little of it
            quality = QLabel(f"R² {r2:.2f}" + (" (weak)" if weak else ""))
            quality.setStyleSheet("color: #a05a00" if weak else text_style(FAINT))
            if weak:
                quality.setToolTip(f"This model's code barely holds {name} (R² {r2:.2f} on held-out digits): moving along it changes the digit, but little of its {name}.")
            self._grid.addWidget(quality, row, 3)
            self.sliders[name] = slider

    def _on_explorer_analysis_changed(self, analysis: Analysis) -> None:
        """A direction moved: its sweep, live. A code that came from elsewhere (a stroke, the
        sliders) is the new starting point."""
        if analysis.origin == DIRECTION:
            sweep = analysis.extras.get("direction_sweep")
            if sweep is not None:
                name, images = sweep
                low, high = DIRECTION_WORDS.get(name, (f"less {name}", f"more {name}"))
                self.strip.show_images(images, [low, *[""] * (len(images) - 2), high])
            return
        self.strip.clear_strip()
        for slider in self.sliders.values():
            if slider.value() != 0:
                slider.blockSignals(True)
                slider.setValue(0)
                slider.blockSignals(False)


class ExploreTabs(QTabWidget):
    """The Explore panels as tabs, as short as the panel on show needs: a panel whose strip is
    still empty (a hint) takes a few lines; one with images may grow."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kinds: dict[QWidget, tuple[str, QWidget]] = {}
        self.currentChanged.connect(self._fit_height)

    def add_panel(self, panel: QWidget, title: str, kind: str) -> None:
        """``kind``: the analysis extras key of the panel's strip (what File ▸ Export writes)."""
        shown = panel
        if isinstance(panel, DirectionPanel):  # rows of sliders must not make the dock taller
            shown = scrolled(panel, around_controls=True)
        self._kinds[shown] = (kind, panel)
        self.addTab(shown, title)
        panel.strip.filled_changed.connect(self._fit_height)

    def strip_kind(self) -> tuple[str, str]:
        """(the extras key of the strip on show, its tab's name)."""
        kind, _ = self._kinds[self.currentWidget()]
        return kind, self.tabText(self.currentIndex())

    def _fit_height(self, *_) -> None:
        _, panel = self._kinds.get(self.currentWidget(), (None, None))
        if panel is None:
            return
        if len(panel.strip.images) or isinstance(panel, DirectionPanel):
            self.setMaximumHeight(QWIDGETSIZE_MAX)
        else:
            self.setMaximumHeight(self.tabBar().sizeHint().height() + panel.sizeHint().height() + 6)
