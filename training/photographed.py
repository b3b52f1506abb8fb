"""MNIST digits as if written on paper and photographed: the test set for image import.

Each digit is enlarged, written in a pen colour on paper of a random tint, turned up to
±15 degrees, placed off-centre in a larger frame, then lit by a light gradient, given paper
texture, blurred as a phone camera blurs and saved as a JPEG of middling quality. Seeded, so
a set is the same on every machine. Numpy and Pillow only.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

PEN_COLOURS = {
    "black": (0.08, 0.08, 0.1),
    "blue": (0.1, 0.15, 0.55),
    "red": (0.7, 0.1, 0.1),
    "green": (0.1, 0.4, 0.15),
    "pencil": (0.35, 0.35, 0.38),
}


def photographed(digit: np.ndarray, rng: np.random.Generator, frame: int | None = None) -> np.ndarray:
    """One MNIST digit ((28, 28) ink in [0, 1] or uint8) as an RGB photo, uint8 (h, w, 3)."""
    digit = np.asarray(digit, dtype=np.float32)
    if digit.max() > 1.0:
        digit = digit / 255.0
    frame = frame or int(rng.integers(160, 320))
    size = int(frame * rng.uniform(0.45, 0.8))  # the digit's share of the frame
    ink = Image.fromarray(np.round(digit * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    ink = ink.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    canvas = Image.new("L", (frame, frame), 0)
    left = int(rng.integers(0, max(1, frame - ink.width + 1)))
    top = int(rng.integers(0, max(1, frame - ink.height + 1)))
    canvas.paste(ink, (left - max(0, left + ink.width - frame), top - max(0, top + ink.height - frame)))
    alpha = np.asarray(canvas, dtype=np.float32)[..., None] / 255.0
    pen = np.array(list(PEN_COLOURS.values())[int(rng.integers(len(PEN_COLOURS)))], dtype=np.float32)
    pen = np.clip(pen + rng.normal(0, 0.04, 3), 0, 1)
    paper = np.clip(np.array([0.93, 0.92, 0.88]) + rng.normal(0, 0.03, 3), 0.75, 1.0).astype(np.float32)
    strength = rng.uniform(0.75, 1.0)  # a pen that does not cover fully
    rgb = paper * (1 - strength * alpha) + pen * strength * alpha
    yy, xx = np.mgrid[0:frame, 0:frame].astype(np.float32) / frame
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) * rng.uniform(0.2, 0.6)
    light = 1.0 + gradient - rng.uniform(0.0, 0.25)  # uneven and often dim
    texture = np.asarray(Image.fromarray(np.round(np.clip(rng.normal(128, 40, (frame, frame)), 0, 255)).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float32)
    texture = (texture - 128) / 128 * rng.uniform(0.03, 0.1)
    rgb = rgb * light[..., None] + texture[..., None] + rng.normal(0, 0.015, (frame, frame, 3))
    image = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.8))))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(35, 90)))
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def photographed_set(digits: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """``photographed`` of each digit, seeded."""
    rng = np.random.default_rng(seed)
    return [photographed(digit, rng) for digit in digits]
