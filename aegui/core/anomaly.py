"""Is this sketch a digit? Its reconstruction error ranked against held-out MNIST digits.

An autoencoder reconstructs what resembles its training data well, so ||x - x_hat||^2 is low
for digits and high for anything else. The checkpoint stores the error distribution on
held-out digits; a sketch's error becomes a percentile of that distribution.
"""

from __future__ import annotations

import numpy as np

TYPICAL_BELOW = 95.0
NOT_A_DIGIT_ABOVE = 99.0
VERDICTS = ("typical digit", "unusual", "not a digit")


def reconstruction_error(image: np.ndarray, reconstruction: np.ndarray) -> float:
    """Mean squared error per pixel, the same measure training reports as test MSE."""
    return float(np.mean((np.asarray(image, np.float64) - np.asarray(reconstruction, np.float64)) ** 2))


def error_percentile(error: float, quantiles: np.ndarray) -> float:
    """Percentage of held-out digits (0-100) whose error is below ``error``.

    ``quantiles`` are the held-out errors at evenly spaced probabilities 0..1; interpolating
    between them gives the percentile.
    """
    quantiles = np.asarray(quantiles, dtype=np.float64)
    probabilities = np.linspace(0.0, 100.0, len(quantiles))
    if error <= quantiles[0]:
        return 0.0
    if error >= quantiles[-1]:
        return 100.0
    return float(np.interp(error, quantiles, probabilities))


def verdict(percentile: float) -> str:
    if percentile <= TYPICAL_BELOW:
        return VERDICTS[0]
    if percentile <= NOT_A_DIGIT_ABOVE:
        return VERDICTS[1]
    return VERDICTS[2]
