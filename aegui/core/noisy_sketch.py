"""A sketch analysed with noise on its input, beside the clean sketch's code.

Kept apart from ``aegui.core.noise`` (which the checkpoint schema reads, below the session):
this module sits above the session and uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aegui.core.noise import NoiseSettings, apply_noise, code_drift

if TYPE_CHECKING:
    from aegui.core.session import Analysis, ModelSession


@dataclass(frozen=True)
class NoiseEffect:
    """What the noise did to one sketch: the clean input and its code beside the noisy ones."""

    settings: NoiseSettings
    clean_image: np.ndarray
    clean_code: np.ndarray
    drift: float  # code_drift(clean, noisy)
    clean_digit: int | None  # the probe's reading of the clean sketch (None without a probe)
    noisy_digit: int | None


def analyse_with_noise(session: ModelSession, clean_image: np.ndarray, settings: NoiseSettings, origin: str) -> Analysis:
    """The analysis of the noisy input, with ``extras["noise"]`` saying how far its code moved
    from the clean sketch's. Both are encoded in one batch of two."""
    clean_image = np.asarray(clean_image, dtype=np.float32)
    noisy_image = apply_noise(clean_image, settings)
    (clean_code, _), noisy_encoded = session.encode_images(np.stack([clean_image, noisy_image]))
    analysis = session.analyse_image(noisy_image, origin, encoded=noisy_encoded)
    clean_code = session.clamp_code(clean_code)
    clean_probabilities = session.digit_probabilities(clean_code)
    analysis.extras["noise"] = NoiseEffect(
        settings=settings,
        clean_image=clean_image,
        clean_code=clean_code,
        drift=code_drift(clean_code, analysis.code, session.latent_std),
        clean_digit=None if clean_probabilities is None else int(np.argmax(clean_probabilities)),
        noisy_digit=None if analysis.digit_probabilities is None else int(np.argmax(analysis.digit_probabilities)),
    )
    return analysis
