"""Turn raw ink into a 28x28 digit the way MNIST's own digits were made.

MNIST took each scanned digit, fitted it into a 20x20 box keeping its aspect ratio (with
anti-aliasing), then placed it in a 28x28 field so that its centre of mass sits at the
centre. A sketch prepared the same way looks to the model like the digits it learned from.
"""

from __future__ import annotations

import functools

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


def resize_weights(size: int, new_size: int) -> np.ndarray:
    """(new_size, size): antialiased bilinear resampling of one axis as torch's
    ``interpolate(mode="bilinear", antialias=True, align_corners=False)`` weighs it: a triangle
    filter widened by the scale when shrinking, each row normalised to 1."""
    scale = size / new_size
    support, inverse = (scale, 1.0 / scale) if scale >= 1.0 else (1.0, 1.0)
    centres = scale * (np.arange(new_size) + 0.5)
    low = np.maximum((centres - support + 0.5).astype(np.int64), 0)
    high = np.minimum((centres + support + 0.5).astype(np.int64), size)
    source = np.arange(size)
    weights = np.maximum(0.0, 1.0 - np.abs((source[None, :] - centres[:, None] + 0.5) * inverse))
    weights[(source[None, :] < low[:, None]) | (source[None, :] >= high[:, None])] = 0.0
    totals = weights.sum(axis=1, keepdims=True)
    return (weights / np.where(totals == 0, 1.0, totals)).astype(np.float32)


@functools.lru_cache(maxsize=256)
def resize_matrix(size: int, new_size: int):
    """``resize_weights`` as a torch tensor, kept: a stroke's ink box keeps its size over many
    pen events. Two products with these cost a pen event 0.16-0.17 ms of the worker's CPU in
    the app where ``interpolate`` itself cost 0.21-0.23 ms (``pen_event_costs.py``, to_mnist),
    and they resample a box one pixel wide too, which ``interpolate`` gets wrong (it filled
    such a column with its first pixel's ink, or blanked a lone dot). (numpy's
    product is faster still, but its BLAS starts a thread per core for a box this size, which
    then spins between pen events.)"""
    import torch

    return torch.from_numpy(resize_weights(size, new_size))


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

        rows, columns = resize_matrix(height, new_height), resize_matrix(width, new_width)
        fitted = torch.mm(torch.mm(rows, torch.from_numpy(np.ascontiguousarray(ink))), columns.T).numpy()
    fitted = np.clip(fitted, 0.0, 1.0)
    com_row, com_col = centre_of_mass(fitted)
    centre = (MNIST_SIZE - 1) / 2 + 0.5  # MNIST centres the mass on pixel 14 (0-based)
    row = int(np.clip(round(centre - com_row), 0, MNIST_SIZE - new_height))
    col = int(np.clip(round(centre - com_col), 0, MNIST_SIZE - new_width))
    output[row : row + new_height, col : col + new_width] = fitted
    return output
