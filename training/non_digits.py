"""Non-digits made from digits: what outlier exposure trains against and the code detector
learns to recognise. Plain torch, so the statistics can use it without Lightning."""

from __future__ import annotations

import torch


def non_digits_from(images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One non-digit per digit, of a kind chosen at random: mirrored (not 0, 1 or 8, which stay
    digits), turned a quarter, the top half of one digit over the bottom half of another, or
    two different digits drawn over each other. ``images`` is (n, 1, 28, 28)."""
    n = len(images)
    device = images.device
    order = torch.randperm(n, generator=generator).to(device)
    other, other_labels = images[order], labels[order]
    kind = torch.randint(0, 4, (n,), generator=generator).to(device)
    symmetric = (labels == 0) | (labels == 1) | (labels == 8)
    kind = torch.where((kind == 0) & symmetric, torch.ones_like(kind), kind)
    kind = torch.where((kind >= 2) & (labels == other_labels), torch.ones_like(kind), kind)
    choice = kind.view(-1, 1, 1, 1)
    mirrored = images.flip(-1)
    turned = images.rot90(1, (-2, -1))
    halves = torch.cat([images[..., :14, :], other[..., 14:, :]], dim=-2)
    overlaid = torch.maximum(images, other)
    return torch.where(choice == 0, mirrored, torch.where(choice == 1, turned, torch.where(choice == 2, halves, overlaid)))


STROKE_CANVAS = 112  # px: drawn at four times MNIST's size, then prepared as a sketch is


def random_strokes(count: int, seed: int = 0) -> torch.Tensor:
    """``count`` random pen drawings of straight segments (one or two polylines of 3 to 6
    points, a third of them closed, pen 5 to 11 px on a 112 px canvas), each prepared by
    the app's own ``to_mnist`` as a drawn sketch is. Random strokes rarely make a digit, and
    they show the detector corners and straight runs that handwritten digits lack.
    Returns (count, 1, 28, 28) floats in [0, 1]."""
    import random

    import numpy as np
    from PIL import Image, ImageDraw

    from aegui.core.preprocess import to_mnist

    rng = random.Random(seed)
    images = np.zeros((count, 1, 28, 28), dtype=np.float32)
    for index in range(count):
        canvas = Image.new("L", (STROKE_CANVAS, STROKE_CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        width = rng.randint(5, 11)
        for _ in range(rng.choice((1, 1, 2))):
            points = [(rng.uniform(8, STROKE_CANVAS - 8), rng.uniform(8, STROKE_CANVAS - 8)) for _ in range(rng.randint(3, 6))]
            if rng.random() < 0.3:
                points.append(points[0])
            draw.line(points, fill=255, width=width, joint="curve")
        images[index, 0] = to_mnist(np.asarray(canvas, dtype=np.uint8))
    return torch.from_numpy(images)
