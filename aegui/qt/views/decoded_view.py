"""Model input | reconstruction | per-pixel error, side by side, with the error as a number."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from aegui.core.model_format import IMAGE_SIZE
from aegui.qt.painting.live_text import LiveText
from aegui.qt.painting.pace import READABLE_PACE
from aegui.qt.painting.math_text import X_HAT, math_text
from aegui.qt.painting.pixel_images import PixelImageRow

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.noisy_sketch import NoiseEffect
    from aegui.core.session import Analysis

ERROR_LEVELS = (0.0, 0.5)  # per-pixel squared error range of the heatmap
BLANK = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
ORIGIN_NAMES = {"sliders": "the sliders", "map": "a point picked on the map", "random": "a random sample", "interpolation": "the A → B interpolation", "direction": "the named directions (Edit by meaning)"}
NOTHING_DRAWN = "Nothing drawn yet: this is the average code of the training digits, decoded. Draw a digit on the left."
SALIENCY_COLOURS = pg.colormap.get("CET-D1").getLookupTable(nPts=256)  # blue, white, red
ERROR_COLOURS = pg.colormap.get("inferno").getLookupTable(nPts=256)


def describe_noise_effect(noise: NoiseEffect) -> str:
    """One line: how far the noise moved the code, and whether the probe's digit changed."""
    text = f"noise moved the code {noise.drift:.2f} digit spreads from the clean sketch's code"
    if noise.clean_digit is not None:
        text += f" (reads {noise.noisy_digit}, clean {noise.clean_digit})"
    return text


WHERE_H_LOOKS = "where h looks\n(click a bar)"
WHERE_H_LOOKS_TIP = "Click a latent bar: this shows which pixels move that dimension of the code"


class DecodedView(QWidget):
    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.error_caption, font = math_text(f"error (x − {X_HAT})²", self.font())
        self.setFont(font)  # draws x̂ over the x (checked by drawing it), for every text below
        self.images = PixelImageRow(
            4,
            captions=["model input", "reconstruction", self.error_caption, "where h looks"],
            caption_lines=2,
            whole_captions=True,
            lookup_tables=[None, None, ERROR_COLOURS, SALIENCY_COLOURS],
            levels=[(0.0, 1.0), (0.0, 1.0), ERROR_LEVELS, (-1.0, 1.0)],
        )
        self.images.setMinimumHeight(92)  # the images at least about twice MNIST's 28 pixels, even when the views scroll
        self.images.setToolTip("model input: the sketch prepared the MNIST way (28 × 28, centred); reconstruction: decoded from its code; error: " + self.error_caption.removeprefix("error ") + " per pixel")
        self.error_label = LiveText("Draw a digit on the left.", lines=2, pace=READABLE_PACE, words_at_once=True)
        self.error_formula, _ = math_text(f"‖x − {X_HAT}‖² / 784", font)
        noisy = f"reconstruction error {self.error_formula} = 0.0000\nnoise moved the code 10.00 digit spreads from the clean sketch's code (reads 8, clean 8)"
        self.error_label.fit_height_to([NOTHING_DRAWN, noisy, f"Decoded from a code set by {max(ORIGIN_NAMES.values(), key=len)}; no input to compare with."])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.images, 1)
        layout.addWidget(self.error_label)
        for index in range(3):
            self.images.set_image(index, BLANK)
        self.images.set_image(3, None, WHERE_H_LOOKS, WHERE_H_LOOKS_TIP)  # an empty cell says how to fill it
        self.saliency_dimension: int | None = None
        self._explorer = explorer
        explorer.analysis_changed.connect(self.show_analysis)
        explorer.saliency_changed.connect(self.show_saliency)

    def show_analysis(self, analysis: Analysis) -> None:
        noise = analysis.extras.get("noise")
        caption = "noisy input" if noise is not None else "model input"
        self.images.set_image(0, analysis.input_image if analysis.input_image is not None else BLANK, caption, f"what the model sees: the sketch with {noise.settings.describe()}" if noise is not None else "")
        self.images.set_image(1, analysis.reconstruction)
        self.images.set_image(2, analysis.error_map if analysis.error_map is not None else BLANK)
        if analysis.reconstruction_error is None and analysis.origin == "mean":
            text = "The average code of the training digits, decoded."
            if self._explorer.sketch is None:
                text = NOTHING_DRAWN
        elif analysis.reconstruction_error is None:
            text = f"Decoded from a code set by {ORIGIN_NAMES.get(analysis.origin, analysis.origin)}; no input to compare with."
        else:
            text = f"reconstruction error {self.error_formula} = {analysis.reconstruction_error:.4f}"
            if noise is not None:
                text += "\n" + describe_noise_effect(noise)
        self.error_label.setText(text)

    def show_saliency(self, dimension: int | None, gradient: np.ndarray | None) -> None:
        """d h[dimension] / d x on a blue-white-red scale: red pixels push that dimension up."""
        if gradient is None:
            if self.saliency_dimension is not None or self.images.image(3) is not None:  # only once: nothing to repaint per pen event
                self.images.set_image(3, None, WHERE_H_LOOKS, WHERE_H_LOOKS_TIP)
            self.saliency_dimension = None
            return
        self.saliency_dimension = dimension
        scale = float(np.abs(gradient).max()) or 1.0
        self.images.set_image(3, gradient / scale, f"∂h{dimension} / ∂x", f"d h[{dimension}] / d x: red pixels raise dimension {dimension}, blue ones lower it")

    def saliency(self) -> np.ndarray | None:
        image = self.images.image(3)
        return None if image is None else np.array(image)

    def reconstruction(self) -> np.ndarray:
        return np.array(self.images.image(1))

    def model_input(self) -> np.ndarray:
        return np.array(self.images.image(0))
