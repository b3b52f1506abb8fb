"""Sketches the core tests draw without a window."""

from __future__ import annotations

import numpy as np

from aegui.core.preprocess import to_mnist


def dense_scribble(seed: int) -> np.ndarray:
    """Fourteen thin pen strokes across the whole canvas, prepared as a sketch is: clearly not
    a digit, and nothing the decoder rebuilds."""
    rng = np.random.default_rng(seed)
    raster = np.zeros((336, 336), np.float32)
    points = rng.uniform(20, 316, size=(14, 2))
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        for t in np.linspace(0, 1, 200):
            x, y = int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0))
            raster[max(0, y - 6) : y + 6, max(0, x - 6) : x + 6] = 1.0
    return to_mnist(raster)
