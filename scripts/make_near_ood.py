"""Make the near-OOD benchmark: characters and shapes that are not digits, prepared as a sketch is.

    python scripts/make_near_ood.py [--fonts-dir /usr/share/fonts/truetype/dejavu]

Letters and symbols are rendered from every TrueType font in the folder (DejaVu on a Debian
machine: sans, serif, mono, condensed, bold, oblique), large, with a seeded random tilt and
stroke weight; shapes are drawn as pen strokes with seeded jitter. Each image then goes
through the app's own preparation (``aegui.core.preprocess.to_mnist``: crop to the ink, fit
into 20 x 20, centre by mass), exactly what happens to a drawn sketch.

Characters that look like digits are left out (O o Q D for 0; I l i j J | / for 1; Z z for
2; S s $ for 5; G b for 6; T for 7; B for 8; g q for 9). The set is split by *kind*, not at
random, so the combined anomaly score is fitted on one half and reported on glyphs and shapes
it never saw:

- ``near-ood-calibration``: the calibration characters and shapes below, for fitting;
- ``near-ood-report``: the other characters and shapes, for ``aegui-train evaluate``.

Labels: 0 = letter, 1 = symbol, 2 = shape. Written as standard IDX files into
``resources/data/`` (shipped with the package).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aegui.core.idx import write_idx  # noqa: E402
from aegui.core.preprocess import to_mnist  # noqa: E402

CANVAS = 336
CALIBRATION = {
    "letter": "ACEHKMPUWYacehkmptwy",
    "symbol": "#%&*+<@",
    "shape": ("triangle", "square", "star", "zigzag", "spiral", "scribble"),
}
REPORT = {
    "letter": "FLNRVXfnruvx",
    "symbol": "=>{}~^€",
    "shape": ("cross", "arrow", "hash", "lightning", "house"),
}
KIND_LABELS = {"letter": 0, "symbol": 1, "shape": 2}
SHAPES_PER_KIND = 40


def render_character(character: str, font_path: Path, rng: random.Random) -> np.ndarray:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    font = ImageFont.truetype(str(font_path), size=200)
    draw = ImageDraw.Draw(image)
    draw.text((CANVAS / 2, CANVAS / 2), character, fill=255, font=font, anchor="mm")
    if rng.random() < 0.5:  # heavier strokes, as a felt pen draws them
        image = image.filter(ImageFilter.MaxFilter(rng.choice((3, 5, 7))))
    image = image.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR, fillcolor=0)
    return np.asarray(image, dtype=np.uint8)


def shape_points(kind: str, rng: random.Random) -> list[list[tuple[float, float]]]:
    """Strokes of a shape in the unit square, each a list of points."""
    def jitter(x: float, y: float) -> tuple[float, float]:
        return x + rng.gauss(0, 0.02), y + rng.gauss(0, 0.02)

    if kind == "triangle":
        return [[jitter(0.5, 0.1), jitter(0.9, 0.85), jitter(0.1, 0.85), jitter(0.5, 0.1)]]
    if kind == "square":
        return [[jitter(0.15, 0.15), jitter(0.85, 0.15), jitter(0.85, 0.85), jitter(0.15, 0.85), jitter(0.15, 0.15)]]
    if kind == "star":
        return [[jitter(0.5 + 0.42 * math.sin(i * 4 * math.pi / 5), 0.5 - 0.42 * math.cos(i * 4 * math.pi / 5)) for i in range(6)]]
    if kind == "zigzag":
        return [[jitter(0.1 + 0.16 * i, 0.3 if i % 2 == 0 else 0.7) for i in range(6)]]
    if kind == "spiral":
        turns = rng.uniform(2.0, 3.0)
        return [[jitter(0.5 + 0.4 * t * math.cos(2 * math.pi * turns * t), 0.5 + 0.4 * t * math.sin(2 * math.pi * turns * t)) for t in np.linspace(0.05, 1, 60)]]
    if kind == "scribble":  # a random pen path over the whole canvas
        return [[(rng.uniform(0, 1), rng.uniform(0, 1)) for _ in range(rng.randint(6, 14))]]
    if kind == "cross":
        return [[jitter(0.15, 0.15), jitter(0.85, 0.85)], [jitter(0.85, 0.15), jitter(0.15, 0.85)]]
    if kind == "arrow":
        return [[jitter(0.1, 0.5), jitter(0.9, 0.5)], [jitter(0.6, 0.2), jitter(0.9, 0.5), jitter(0.6, 0.8)]]
    if kind == "hash":
        return [[jitter(0.35, 0.1), jitter(0.3, 0.9)], [jitter(0.7, 0.1), jitter(0.65, 0.9)], [jitter(0.1, 0.35), jitter(0.9, 0.35)], [jitter(0.1, 0.65), jitter(0.9, 0.65)]]
    if kind == "lightning":
        return [[jitter(0.6, 0.05), jitter(0.3, 0.5), jitter(0.7, 0.5), jitter(0.4, 0.95)]]
    if kind == "house":
        return [[jitter(0.15, 0.9), jitter(0.15, 0.45), jitter(0.5, 0.1), jitter(0.85, 0.45), jitter(0.85, 0.9), jitter(0.15, 0.9)]]
    raise ValueError(kind)


def draw_pen_strokes(image: Image.Image, strokes: list[list[tuple[float, float]]], width: int) -> None:
    """Strokes in unit coordinates drawn as a round pen would on the canvas (a 20-pixel margin)."""
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(20 + x * (CANVAS - 40), 20 + y * (CANVAS - 40)) for x, y in stroke]
        draw.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)


def render_shape(kind: str, rng: random.Random) -> np.ndarray:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    width = rng.randint(14, 30)
    draw_pen_strokes(image, shape_points(kind, rng), width)
    image = image.rotate(rng.uniform(-10, 10), resample=Image.BILINEAR, fillcolor=0)
    return np.asarray(image, dtype=np.uint8)


def build(part: dict, fonts: list[Path], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    images, labels = [], []
    for kind in ("letter", "symbol"):
        for character in part[kind]:
            for font in fonts:
                images.append(to_mnist(render_character(character, font, rng)))
                labels.append(KIND_LABELS[kind])
    for shape in part["shape"]:
        for _ in range(SHAPES_PER_KIND):
            images.append(to_mnist(render_shape(shape, rng)))
            labels.append(KIND_LABELS["shape"])
    images = np.round(np.clip(np.stack(images), 0, 1) * 255).astype(np.uint8)
    return images, np.array(labels, dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fonts-dir", type=Path, default=Path("/usr/share/fonts/truetype/dejavu"))
    parser.add_argument("--output-dir", type=Path, default=REPO / "resources" / "data")
    args = parser.parse_args()
    fonts = sorted(path for path in args.fonts_dir.glob("*.ttf") if "Math" not in path.name and "ExtraLight" not in path.name)
    if not fonts:
        raise SystemExit(f"no .ttf fonts in {args.fonts_dir}")
    for name, part, seed in (("calibration", CALIBRATION, 1), ("report", REPORT, 2)):
        images, labels = build(part, fonts, seed)
        write_idx(args.output_dir / f"near-ood-{name}-images-idx3-ubyte.gz", images)
        write_idx(args.output_dir / f"near-ood-{name}-labels-idx1-ubyte.gz", labels)
        print(f"near-ood-{name}: {len(images)} images ({', '.join(f'{kind} {int((labels == label).sum())}' for kind, label in KIND_LABELS.items())}) from {len(fonts)} fonts")


if __name__ == "__main__":
    main()
