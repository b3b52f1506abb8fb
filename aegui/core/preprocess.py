"""Turn raw ink into a 28x28 digit the way MNIST's own digits were made.

MNIST took each scanned digit, fitted it into a 20x20 box keeping its aspect ratio (with
anti-aliasing), then placed it in a 28x28 field so that its centre of mass sits at the
centre. A sketch prepared the same way looks to the model like the digits it learned from.
"""

from __future__ import annotations

import numpy as np

from aegui.core.model_format import IMAGE_SIZE

MNIST_SIZE = IMAGE_SIZE
MNIST_BOX = 20
INK_THRESHOLD = 0.02


def ink_bounding_box(raster: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink, exclusive ends; None when there is no ink."""
    # row maxima, then column maxima of the inked rows only: no full-size mask (twice as fast)
    rows = np.flatnonzero(raster.max(axis=1) > threshold)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(raster[rows[0] : rows[-1] + 1].max(axis=0) > threshold)
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-centre coordinates."""
    total = float(image.sum())
    if total <= 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0], dtype=np.float64)
    cols = np.arange(image.shape[1], dtype=np.float64)
    return float(image.sum(axis=1) @ rows / total), float(image.sum(axis=0) @ cols / total)


def to_mnist(raster: np.ndarray) -> np.ndarray:
    """Crop to the ink, fit into 20x20, centre by mass in 28x28; float32 in [0, 1].

    ``raster`` is ink intensity at any resolution: floats (0 = paper, 1 = full ink) or uint8
    (255 = full ink; only the ink's box is converted, a quarter of the memory traffic of a
    float raster). A raster with no ink gives an all-zero image.
    """
    raster = np.asarray(raster)
    if raster.dtype != np.uint8:
        raster = raster.astype(np.float32, copy=False)
    full_ink = np.float32(255 if raster.dtype == np.uint8 else 1)
    output = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    box = ink_bounding_box(raster, INK_THRESHOLD * full_ink)
    if box is None:
        return output
    top, bottom, left, right = box
    ink = raster[top:bottom, left:right].astype(np.float32) / full_ink
    height, width = ink.shape
    scale = MNIST_BOX / max(height, width)
    new_height = max(1, min(MNIST_BOX, round(height * scale)))
    new_width = max(1, min(MNIST_BOX, round(width * scale)))
    if (new_height, new_width) == (height, width):
        fitted = ink
    else:
        import torch  # here, not at the top: the window imports this module before torch is loaded
        from torch.nn import functional as F

        tensor = torch.from_numpy(np.ascontiguousarray(ink))[None, None]
        fitted = F.interpolate(tensor, size=(new_height, new_width), mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()
    fitted = np.clip(fitted, 0.0, 1.0)
    com_row, com_col = centre_of_mass(fitted)
    centre = (MNIST_SIZE - 1) / 2 + 0.5  # MNIST centres the mass on pixel 14 (0-based)
    row = int(np.clip(round(centre - com_row), 0, MNIST_SIZE - new_height))
    col = int(np.clip(round(centre - com_col), 0, MNIST_SIZE - new_width))
    output[row : row + new_height, col : col + new_width] = fitted
    return output
