"""Simple measurable properties of digit images, to name what latent dimensions encode.

Each function takes a batch of 28x28 images (N, 28, 28) with ink in [0, 1] and returns one
number per image. At the end of training the correlation of every latent dimension with
every property is stored in the checkpoint; the app labels the most correlated dimensions.
"""

from __future__ import annotations

import numpy as np

from aegui.core.model_format import IMAGE_SIZE

INK = 0.5
PAPER = 0.3


def _ink_mask(images: np.ndarray) -> np.ndarray:
    return images > INK


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift a batch of masks by (dy, dx), filling with False."""
    out = np.zeros_like(mask)
    h, w = mask.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[:, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out


def thickness(images: np.ndarray) -> np.ndarray:
    """Mean stroke width in pixels: ink area divided by half the ink boundary length."""
    ink = _ink_mask(images)
    interior = ink & _shift(ink, 1, 0) & _shift(ink, -1, 0) & _shift(ink, 0, 1) & _shift(ink, 0, -1)
    area = ink.sum(axis=(1, 2)).astype(np.float64)
    boundary = (ink & ~interior).sum(axis=(1, 2)).astype(np.float64)
    return 2.0 * area / np.maximum(boundary, 1.0)


def slant(images: np.ndarray) -> np.ndarray:
    """Horizontal shift of the ink per row upwards (positive: the top leans right)."""
    mass = images.sum(axis=(1, 2)) + 1e-9
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    centre_row = (images * rows).sum(axis=(1, 2)) / mass
    centre_col = (images * cols).sum(axis=(1, 2)) / mass
    dr = rows[None] - centre_row[:, None, None]
    dc = cols[None] - centre_col[:, None, None]
    covariance = (images * dr * dc).sum(axis=(1, 2)) / mass
    row_variance = (images * dr * dr).sum(axis=(1, 2)) / mass
    return -covariance / np.maximum(row_variance, 1e-9)


def _extent(mask: np.ndarray, axis: int) -> np.ndarray:
    present = mask.any(axis=axis)
    first = present.argmax(axis=1)
    last = present.shape[1] - 1 - present[:, ::-1].argmax(axis=1)
    return np.where(present.any(axis=1), last - first + 1, 0).astype(np.float64)


def width(images: np.ndarray) -> np.ndarray:
    return _extent(images > 0.2, axis=1)


def height(images: np.ndarray) -> np.ndarray:
    return _extent(images > 0.2, axis=2)


def _grow(mask: np.ndarray) -> np.ndarray:
    """The mask and its 4-neighbours (one step of a flood fill)."""
    grown = mask.copy()
    grown[:, 1:, :] |= mask[:, :-1, :]
    grown[:, :-1, :] |= mask[:, 1:, :]
    grown[:, :, 1:] |= mask[:, :, :-1]
    grown[:, :, :-1] |= mask[:, :, 1:]
    return grown


def loops(images: np.ndarray, min_size: int = 2) -> np.ndarray:
    """Closed loops: regions of paper not connected to the border (0 for 1, 1 for 0, 2 for 8).

    Vectorised over the batch: a flood fill from the border finds the holes, then each hole
    pixel takes the smallest pixel index of its hole, and holes of ``min_size`` pixels or more
    are counted per image with one ``bincount``.
    """
    paper = images < PAPER
    reached = paper.copy()
    reached[:, 1:-1, 1:-1] = False  # paper on the border
    while True:
        grown = _grow(reached) & paper
        if np.array_equal(grown, reached):
            break
        reached = grown
    holes = paper & ~reached
    counts = np.zeros(len(images))
    with_holes = np.flatnonzero(holes.any(axis=(1, 2)))
    if len(with_holes) == 0:
        return counts
    holes = holes[with_holes]
    big = np.iinfo(np.int32).max
    pixel_index = np.arange(IMAGE_SIZE * IMAGE_SIZE, dtype=np.int32).reshape(IMAGE_SIZE, IMAGE_SIZE)
    labels = np.where(holes, pixel_index[None], big)
    while True:
        spread = labels.copy()
        np.minimum(spread[:, 1:, :], labels[:, :-1, :], out=spread[:, 1:, :])
        np.minimum(spread[:, :-1, :], labels[:, 1:, :], out=spread[:, :-1, :])
        np.minimum(spread[:, :, 1:], labels[:, :, :-1], out=spread[:, :, 1:])
        np.minimum(spread[:, :, :-1], labels[:, :, 1:], out=spread[:, :, :-1])
        spread[~holes] = big
        if np.array_equal(spread, labels):
            break
        labels = spread
    image_of_pixel = np.broadcast_to(np.arange(len(holes))[:, None, None], holes.shape)[holes]
    sizes = np.bincount(image_of_pixel * pixel_index.size + labels[holes], minlength=len(holes) * pixel_index.size)
    counts[with_holes] = (sizes.reshape(len(holes), pixel_index.size) >= min_size).sum(axis=1)
    return counts


PROPERTIES = {"thickness": thickness, "slant": slant, "width": width, "height": height, "loops": loops}


def measure(images: np.ndarray) -> dict[str, np.ndarray]:
    images = np.asarray(images, dtype=np.float64).reshape(-1, 28, 28)
    return {name: function(images) for name, function in PROPERTIES.items()}


def correlations(codes: np.ndarray, properties: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pearson correlation of each latent dimension with each property: {name: (k,)}."""
    codes = np.asarray(codes, dtype=np.float64)
    centred = codes - codes.mean(axis=0)
    code_norm = np.sqrt((centred**2).sum(axis=0)) + 1e-12
    result = {}
    for name, values in properties.items():
        values = values - values.mean()
        result[name] = (centred.T @ values) / (code_norm * (np.sqrt((values**2).sum()) + 1e-12))
    return result
