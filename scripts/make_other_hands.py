"""Make the "other hands" and "drawn shapes" evaluation sets: is the verdict fair to real digits
that do not look like MNIST's, and does it still flag drawings that are not digits?

    python scripts/make_other_hands.py --data-dir /work/shared/data/mnist

Needs the MNIST IDX files and the handwriting fonts of Debian's fonts-bwht, fonts-comic-neue,
fonts-dancingscript, fonts-kaushanscript, fonts-breip, fonts-dkg-handwriting, fonts-klee,
fonts-humor-sans, fonts-ecolier-court, fonts-femkeklaver, fonts-kristi, fonts-leckerli-one and
the pictograms of fonts-symbola. Writes standard IDX files into ``resources/data/``:

``other-hands-{calibration,report}``: real digits written unlike MNIST, each prepared as a
sketch is (``to_mnist``) or imported as a photo is (``image_import``). Label = 10 * group +
digit, groups: 0 a handwriting font (seeded tilt and pen weight), 1 thick strokes, 2 blurred,
3 low resolution (a 9-14 px scan enlarged), 4 photographed and imported
(``training.photographed``). The two parts never share a font or a digit image: calibration
takes digits of the MNIST training file (the bundled models learnt them, unaltered) and half
the fonts; report takes MNIST test digits and the other fonts.

``drawn-shapes-{calibration,report}``: pen drawings and pictograms that are not digits (label
= index into SHAPE_KINDS). The report part has every kind the issue names (hearts, arrows,
ticks, stars, pictograms) drawn with other seeds, plus kinds the calibration part never has.
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
from aegui.core.image_import import prepare_photo  # noqa: E402
from aegui.core.preprocess import to_mnist  # noqa: E402
from training.datasets import load_split  # noqa: E402
from training.photographed import photographed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_near_ood import draw_pen_strokes  # noqa: E402  (the same pen as the near-OOD shapes)

FONTS = Path("/usr/share/fonts")
CALIBRATION_FONTS = (
    "opentype/bwht/BecauseWeBuild-Regular.otf", "opentype/bwht/BecauseWeConnect-Regular.otf", "opentype/bwht/BecauseWeCreate-Regular.otf",
    "opentype/comic-neue/ComicNeue-Regular.otf", "opentype/comic-neue/ComicNeue-Bold.otf", "opentype/comic-neue/ComicNeue-Italic.otf",
    "opentype/dancingscript/DancingScript-Regular.otf", "truetype/breip/Breip.ttf", "truetype/fifthhorseman/dkg.ttf",
    "truetype/fifthhorseman/dkgBd.ttf", "truetype/klee/KleeOne-Regular.ttf", "truetype/humor-sans/Humor-Sans.ttf",
    "truetype/kristi/Kristi.ttf",
)  # fmt: skip
REPORT_FONTS = (
    "opentype/bwht/BecauseWeLearn-Regular.otf", "opentype/bwht/BecauseWeMentor-Regular.otf", "opentype/bwht/BecauseWeOrganize-Regular.otf",
    "opentype/comic-neue/ComicNeue-Light.otf", "opentype/comic-neue/ComicNeue-LightItalic.otf", "opentype/comic-neue/ComicNeue-BoldItalic.otf",
    "opentype/dancingscript/DancingScript-Bold.otf", "opentype/kaushanscript/KaushanScript-Regular.otf", "truetype/breip/breipfont.ttf",
    "truetype/fifthhorseman/dkgIt.ttf", "truetype/klee/KleeOne-SemiBold.ttf", "truetype/ecolier-court/Ecolier-court.ttf",
    "truetype/femkeklaver/femkeklaver.ttf", "truetype/leckerli-one/LeckerliOne-Regular.ttf",
)  # fmt: skip
GROUPS = ("handwriting font", "thick strokes", "blurred", "low resolution", "photographed and imported")
RENDERINGS_PER_FONT_DIGIT = 6
DIGITS_PER_GROUP = 600
SYMBOLA = FONTS / "truetype/ancient-scripts/Symbola_hint.ttf"
SHAPE_KINDS = (
    "heart", "arrow", "tick", "star", "smiley", "moon", "sun", "cloud", "note", "flower", "envelope", "spiral",
    "♥", "♡", "★", "☆", "✓", "✔", "✗", "➜", "➔", "⇦", "☺", "☹", "☀", "☁", "☂", "♪", "♫", "✉", "✈", "⚓", "✂", "☎", "♠", "♣", "♦", "⌂", "✿", "❄", "⚡", "☯", "⚑", "☕",
)  # fmt: skip
CALIBRATION_SHAPES = ("heart", "tick", "star", "smiley", "cloud", "spiral", "♡", "☆", "✔", "➔", "☹", "☁", "♫", "✂", "♣", "❄", "☯")
REPORT_SHAPES = tuple(kind for kind in SHAPE_KINDS if kind not in ("spiral", "☯", "✂", "♣"))  # named kinds again (new drawings) and kinds never calibrated on
DRAWINGS_PER_KIND = 30
CANVAS = 336


def font_digit(digit: int, font: Path, rng: random.Random) -> np.ndarray:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), str(digit), fill=255, font=ImageFont.truetype(str(font), size=200), anchor="mm")
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.MaxFilter(rng.choice((3, 5, 7, 9))))
    return to_mnist(np.asarray(image.rotate(rng.uniform(-10, 10), resample=Image.BILINEAR, fillcolor=0), dtype=np.uint8))


def enlarged(digit: np.ndarray, side: int = 112) -> Image.Image:
    return Image.fromarray(np.round(digit * 255).astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)


def written_otherwise(digit: np.ndarray, group: int, rng: random.Random) -> np.ndarray:
    """One MNIST digit (floats, 28 x 28) as group ``group`` writes it."""
    if group == 1:  # a felt pen: 2-4 px wider strokes at MNIST's scale
        return to_mnist(np.asarray(enlarged(digit).filter(ImageFilter.MaxFilter(rng.choice((7, 9, 11, 13, 15)))), dtype=np.uint8))
    if group == 2:  # out of focus, contrast stretched as a scanner does half the time
        blurred = np.asarray(enlarged(digit).filter(ImageFilter.GaussianBlur(rng.uniform(3.0, 7.0))), dtype=np.float32) / 255
        if rng.random() < 0.5:
            blurred = blurred / max(float(blurred.max()), 1e-6)
        return to_mnist(blurred)
    if group == 3:  # a low-resolution scan, often of a heavier pen, enlarged again
        side = rng.randint(9, 14)
        small = Image.fromarray(np.round(digit * 255).astype(np.uint8)).resize((side, side), Image.Resampling.BOX)
        if rng.random() < 0.5:
            small = small.filter(ImageFilter.MaxFilter(3)) if side >= 12 else small
        return to_mnist(np.asarray(small.resize((112, 112), Image.Resampling.BILINEAR), dtype=np.uint8))
    photo = photographed(digit, np.random.default_rng(rng.randrange(2**32)))
    return prepare_photo(photo.astype(np.float32) / 255.0).digit


def other_hands(fonts: tuple[str, ...], mnist: np.ndarray, mnist_labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    images, labels = [], []
    for font in fonts:
        for digit in range(10):
            for _ in range(RENDERINGS_PER_FONT_DIGIT):
                images.append(font_digit(digit, FONTS / font, rng))
                labels.append(digit)
    order = rng.sample(range(len(mnist)), DIGITS_PER_GROUP * (len(GROUPS) - 1))
    for number, index in enumerate(order):
        group = 1 + number // DIGITS_PER_GROUP
        images.append(written_otherwise(mnist[index], group, rng))
        labels.append(10 * group + int(mnist_labels[index]))
    return np.round(np.clip(np.stack(images), 0, 1) * 255).astype(np.uint8), np.array(labels, dtype=np.uint8)


def shape_strokes(kind: str, rng: random.Random) -> list[list[tuple[float, float]]]:
    """A drawn shape's pen strokes in the unit square, with seeded jitter."""
    def j(x: float, y: float) -> tuple[float, float]:
        return x + rng.gauss(0, 0.02), y + rng.gauss(0, 0.02)

    def arc(cx, cy, r, start, stop, n=24, ry=None):
        return [j(cx + r * math.cos(t), cy + (ry or r) * math.sin(t)) for t in np.linspace(start, stop, n)]

    if kind == "heart":
        points = [j(0.5 + 0.4 * math.sin(t) ** 3, 0.45 - 0.3 * math.cos(t) + 0.12 * math.cos(2 * t) + 0.05 * math.cos(3 * t) + 0.02 * math.cos(4 * t)) for t in np.linspace(0, 2 * math.pi, 48)]
        return [points]
    if kind == "arrow":
        angle = rng.choice((0, math.pi / 2, math.pi, 3 * math.pi / 2, math.pi / 4, -math.pi / 4))
        rot = lambda x, y: (0.5 + (x - 0.5) * math.cos(angle) - (y - 0.5) * math.sin(angle), 0.5 + (x - 0.5) * math.sin(angle) + (y - 0.5) * math.cos(angle))  # noqa: E731
        return [[j(*rot(0.1, 0.5)), j(*rot(0.9, 0.5))], [j(*rot(0.6, 0.2)), j(*rot(0.9, 0.5)), j(*rot(0.6, 0.8))]]
    if kind == "tick":
        return [[j(0.1, 0.55), j(0.38, 0.85), j(0.9, 0.12)]]
    if kind == "star":
        return [[j(0.5 + (0.45 if i % 2 == 0 else 0.18) * math.sin(i * math.pi / 5), 0.5 - (0.45 if i % 2 == 0 else 0.18) * math.cos(i * math.pi / 5)) for i in range(11)]]
    if kind == "smiley":
        return [arc(0.5, 0.5, 0.42, 0, 2 * math.pi, 40), [j(0.36, 0.38), j(0.37, 0.4)], [j(0.64, 0.38), j(0.63, 0.4)], arc(0.5, 0.52, 0.22, 0.2 * math.pi, 0.8 * math.pi, 16)]
    if kind == "moon":
        return [arc(0.5, 0.5, 0.42, 0.5 * math.pi, 1.5 * math.pi, 24) + arc(0.62, 0.5, 0.3, 1.4 * math.pi, 0.6 * math.pi, 24)]
    if kind == "sun":
        rays = [[j(0.5 + 0.3 * math.cos(t), 0.5 + 0.3 * math.sin(t)), j(0.5 + 0.47 * math.cos(t), 0.5 + 0.47 * math.sin(t))] for t in np.linspace(0, 2 * math.pi, 9)[:-1]]
        return [arc(0.5, 0.5, 0.2, 0, 2 * math.pi, 24)] + rays
    if kind == "cloud":
        return [arc(0.3, 0.6, 0.15, 0.5 * math.pi, 1.5 * math.pi, 12) + arc(0.5, 0.45, 0.2, math.pi, 2 * math.pi, 16) + arc(0.72, 0.6, 0.15, 1.5 * math.pi, 2.5 * math.pi, 12) + [j(0.3, 0.75)]]
    if kind == "note":
        return [arc(0.35, 0.78, 0.12, 0, 2 * math.pi, 20, 0.08), [j(0.47, 0.78), j(0.47, 0.1), j(0.75, 0.25)]]
    if kind == "flower":
        petals = [arc(0.5 + 0.22 * math.cos(t), 0.35 + 0.22 * math.sin(t), 0.12, 0, 2 * math.pi, 14) for t in np.linspace(0, 2 * math.pi, 6)[:-1]]
        return petals + [[j(0.5, 0.5), j(0.5, 0.95)]]
    if kind == "envelope":
        return [[j(0.1, 0.25), j(0.9, 0.25), j(0.9, 0.75), j(0.1, 0.75), j(0.1, 0.25)], [j(0.1, 0.25), j(0.5, 0.55), j(0.9, 0.25)]]
    if kind == "spiral":
        turns = rng.uniform(2.0, 3.0)
        return [[j(0.5 + 0.4 * t * math.cos(2 * math.pi * turns * t), 0.5 + 0.4 * t * math.sin(2 * math.pi * turns * t)) for t in np.linspace(0.05, 1, 60)]]
    raise ValueError(kind)


def drawn_shape(kind: str, rng: random.Random) -> np.ndarray:
    image = Image.new("L", (CANVAS, CANVAS), 0)
    if len(kind) == 1:  # a pictogram from Symbola
        ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), kind, fill=255, font=ImageFont.truetype(str(SYMBOLA), size=220), anchor="mm")
        if rng.random() < 0.5:
            image = image.filter(ImageFilter.MaxFilter(rng.choice((3, 5, 7))))
    else:
        width = rng.randint(14, 30)
        draw_pen_strokes(image, shape_strokes(kind, rng), width)
    return to_mnist(np.asarray(image.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR, fillcolor=0), dtype=np.uint8))


def drawn_shapes(kinds: tuple[str, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    images = [drawn_shape(kind, rng) for kind in kinds for _ in range(DRAWINGS_PER_KIND)]
    labels = [SHAPE_KINDS.index(kind) for kind in kinds for _ in range(DRAWINGS_PER_KIND)]
    return np.round(np.clip(np.stack(images), 0, 1) * 255).astype(np.uint8), np.array(labels, dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder with the MNIST IDX files")
    parser.add_argument("--output-dir", type=Path, default=REPO / "resources" / "data")
    args = parser.parse_args()
    train, train_labels, _ = load_split(args.data_dir, "train")
    test, test_labels, _ = load_split(args.data_dir, "test")
    parts = {
        "calibration": (CALIBRATION_FONTS, train.astype(np.float32) / 255, train_labels, CALIBRATION_SHAPES, 11),
        "report": (REPORT_FONTS, test.astype(np.float32) / 255, test_labels, REPORT_SHAPES, 12),
    }
    for name, (fonts, digits, labels, shapes, seed) in parts.items():
        images, hand_labels = other_hands(fonts, digits, labels, seed)
        write_idx(args.output_dir / f"other-hands-{name}-images-idx3-ubyte.gz", images)
        write_idx(args.output_dir / f"other-hands-{name}-labels-idx1-ubyte.gz", hand_labels)
        counts = ", ".join(f"{group} {int((hand_labels // 10 == number).sum())}" for number, group in enumerate(GROUPS))
        print(f"other-hands-{name}: {len(images)} digits ({counts}) from {len(fonts)} fonts")
        shape_images, shape_labels = drawn_shapes(shapes, seed)
        write_idx(args.output_dir / f"drawn-shapes-{name}-images-idx3-ubyte.gz", shape_images)
        write_idx(args.output_dir / f"drawn-shapes-{name}-labels-idx1-ubyte.gz", shape_labels)
        print(f"drawn-shapes-{name}: {len(shape_images)} drawings of {len(shapes)} kinds")


if __name__ == "__main__":
    main()
