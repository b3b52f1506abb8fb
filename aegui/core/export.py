"""Save a latent code as JSON, CSV or NPY (chosen by the file suffix), the sketch and the decoded
digit as PNG, and the Explore strips (a traversal, an interpolation, a comparison, a direction's
sweep) as one PNG strip or an animated GIF. Every function here runs off the GUI thread: the
window captures the values and hands the writing to the executor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

CODE_FORMATS = {".json": "JSON", ".csv": "CSV", ".npy": "NumPy array"}


def save_code(path: str | Path, code: np.ndarray, metadata: dict | None = None) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    code = np.asarray(code, dtype=np.float32).reshape(-1)
    if suffix == ".json":
        payload = {**(metadata or {}), "latent_dim": int(code.size), "code": [float(v) for v in code]}
        path.write_text(json.dumps(payload, indent=2) + "\n")
    elif suffix == ".csv":
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["dimension", "value"])
            writer.writerows((index, repr(float(value))) for index, value in enumerate(code))
    elif suffix == ".npy":
        np.save(path, code, allow_pickle=False)
    else:
        raise ValueError(f"unknown format {suffix!r}; use one of {', '.join(CODE_FORMATS)}")
    return path


STRIP_SCALE = 4  # screen pixels per MNIST pixel in a saved strip
GIF_SCALE = 8
STRIP_GAP = 4


def _to_pixels(images: np.ndarray, scale: int) -> list[np.ndarray]:
    """28 x 28 float images in [0, 1] as uint8, each pixel a ``scale`` x ``scale`` block."""
    frames = np.clip(np.nan_to_num(np.asarray(images, dtype=np.float32)), 0.0, 1.0)
    return [np.kron(np.round(frame * 255).astype(np.uint8), np.ones((scale, scale), np.uint8)) for frame in frames]


def save_strip_png(path: str | Path, images: np.ndarray) -> Path:
    """The images side by side, white gaps between them, as one greyscale PNG."""
    from PIL import Image

    blocks = _to_pixels(images, STRIP_SCALE)
    if not blocks:
        raise ValueError("there is no strip to save yet")
    height = blocks[0].shape[0]
    gap = np.full((height, STRIP_GAP), 255, np.uint8)
    strip = np.concatenate([part for block in blocks for part in (block, gap)][:-1], axis=1)
    path = Path(path)
    Image.fromarray(strip, mode="L").save(path, format="PNG")
    return path


def save_animation_gif(path: str | Path, images: np.ndarray, frame_ms: int = 120) -> Path:
    """The images as frames of a looping GIF that plays forward and back (a traversal or an
    interpolation runs there and home again)."""
    from PIL import Image

    frames = _to_pixels(images, GIF_SCALE)
    if not frames:
        raise ValueError("there is no strip to save yet")
    sequence = frames + frames[-2:0:-1] if len(frames) > 2 else frames
    pictures = [Image.fromarray(frame, mode="L") for frame in sequence]
    path = Path(path)
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return path


def save_image_png(path: str | Path, image: np.ndarray, levels: tuple[float, float] = (0.0, 1.0)) -> Path:
    """A 2-D image (floats in ``levels``, or uint8) as one greyscale PNG, pixel for pixel."""
    from PIL import Image

    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        low, high = levels
        pixels = np.clip((np.nan_to_num(pixels.astype(np.float32)) - low) * (255.0 / max(high - low, 1e-12)) + 0.5, 0, 255).astype(np.uint8)
    path = Path(path)
    Image.fromarray(np.ascontiguousarray(pixels), mode="L").save(path, format="PNG")
    return path


def strip_images(analysis, kind: str) -> np.ndarray | None:
    """The images of an Explore strip as the analysis on show holds them (None when it holds
    none): a traversal, an interpolation, a comparison or a direction's sweep."""
    if analysis is None:
        return None
    entry = analysis.extras.get(kind)
    if entry is None:
        return None
    if kind == "comparison":
        return np.array([row.reconstruction for row in entry], dtype=np.float32)
    return np.asarray(entry[-1], dtype=np.float32)


def save_strip(path: str | Path, images: np.ndarray) -> Path:
    """``.gif``: an animation that plays forward and back; anything else: one PNG strip."""
    if len(images) == 0:
        raise ValueError("there is no strip to save yet")
    return save_animation_gif(path, images) if Path(path).suffix.lower() == ".gif" else save_strip_png(path, images)
