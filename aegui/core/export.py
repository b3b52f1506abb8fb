"""Save a latent code as JSON, CSV or NPY (chosen by the file suffix), the sketch and the decoded
digit as PNG, and the Explore strips (a traversal, an interpolation, a comparison, a direction's
sweep) as one PNG strip or an animated GIF. Every function here runs off the GUI thread: the
window captures the values and hands the writing to the executor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from aegui.core.dimension_labels import label_shown

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


CAPTION_SIZE = 13  # px: the captions' font (Pillow's own, so no system font is needed)


def _with_text(pixels: np.ndarray, title: str, captions: list[str], width: int) -> np.ndarray:
    """``pixels`` with ``title`` in a white band above and each caption centred under its
    ``width``-pixel column (plus the gap) in a band below: an exported strip says what it shows."""
    from PIL import Image, ImageDraw, ImageFont

    if not title and not any(captions):
        return pixels
    font = ImageFont.load_default(size=CAPTION_SIZE)
    line = CAPTION_SIZE + 4
    lines = max((caption.count("\n") + 1 for caption in captions if caption), default=0)
    top, bottom = (line + 4 if title else 0), (lines * line + 4 if lines else 0)
    wide = max(pixels.shape[1], int(font.getlength(title)) + 8 if title else 0)  # a long title widens the picture, never cut
    canvas = Image.new("L", (wide, top + pixels.shape[0] + bottom), 255)
    canvas.paste(Image.fromarray(pixels, mode="L"), (0, top))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 2), title, fill=0, font=font)
    for index, caption in enumerate(captions):
        centre = index * (width + STRIP_GAP) + width / 2
        draw.multiline_text((centre, top + pixels.shape[0] + 2), caption, fill=0, font=font, anchor="ma", align="center")
    return np.asarray(canvas)


def save_strip_png(path: str | Path, images: np.ndarray, title: str = "", captions: list[str] | None = None) -> Path:
    """The images side by side, white gaps between them, as one greyscale PNG; with a title
    above and a caption under each image when given."""
    from PIL import Image

    blocks = _to_pixels(images, STRIP_SCALE)
    if not blocks:
        raise ValueError("there is no strip to save yet")
    height = blocks[0].shape[0]
    gap = np.full((height, STRIP_GAP), 255, np.uint8)
    strip = np.concatenate([part for block in blocks for part in (block, gap)][:-1], axis=1)
    strip = _with_text(strip, title, list(captions or []), blocks[0].shape[1])
    path = Path(path)
    Image.fromarray(strip, mode="L").save(path, format="PNG")
    return path


def save_animation_gif(path: str | Path, images: np.ndarray, frame_ms: int = 120, title: str = "", captions: list[str] | None = None) -> Path:
    """The images as frames of a looping GIF that plays forward and back (a traversal or an
    interpolation runs there and home again), each frame with its caption under it."""
    from PIL import Image

    frames = _to_pixels(images, GIF_SCALE)
    if not frames:
        raise ValueError("there is no strip to save yet")
    captions = list(captions or [])
    frames = [_with_text(frame, title, [captions[index]] if index < len(captions) else [], frame.shape[1]) for index, frame in enumerate(frames)]
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


def strip_text(analysis, kind: str) -> tuple[str, list[str]]:
    """(a title, a caption per image) saying what an Explore strip shows, as the analysis on
    show holds it: ("", []) when it holds none."""
    entry = analysis.extras.get(kind) if analysis is not None else None
    if entry is None:
        return "", []
    if kind == "traversal":
        dimension, values, _ = entry
        labels = getattr(analysis.session, "dimension_labels", [])
        label = label_shown(labels[dimension]) if dimension < len(labels) and labels[dimension] else ""
        return f"dimension {dimension}{f' ({label})' if label else ''} swept over mean ± 3 std", [f"{float(value):+.2f}" for value in values]
    if kind == "interpolation":
        fractions, _ = entry
        return "from code A to code B", ["A" if index == 0 else "B" if index == len(fractions) - 1 else f"{float(fraction):.2f}" for index, fraction in enumerate(fractions)]
    if kind == "comparison":
        models = ", ".join(f"{row.name} (k = {row.latent_dim})" for row in entry)
        return f"one input rebuilt by {models}; the MSE under each", [f"k={row.latent_dim}\n{row.reconstruction_error:.4f}" for row in entry]
    if kind == "direction_sweep":
        name, images = entry
        return direction_text(name, len(images))
    return "", []


def direction_text(name: str, count: int) -> tuple[str, list[str]]:
    """A direction's sweep from -3 to +3 spreads of the training codes."""
    return f"{name}: the code moved along its direction", [f"{float(value):+.1f}" for value in np.linspace(-3.0, 3.0, count)]


def save_strip(path: str | Path, images: np.ndarray, title: str = "", captions: list[str] | None = None) -> Path:
    """``.gif``: an animation that plays forward and back; anything else: one PNG strip."""
    if len(images) == 0:
        raise ValueError("there is no strip to save yet")
    if Path(path).suffix.lower() == ".gif":
        return save_animation_gif(path, images, title=title, captions=captions)
    return save_strip_png(path, images, title, captions)
