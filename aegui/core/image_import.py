"""A photo or scan of a digit on paper, made to look like an MNIST digit.

MNIST digits are light ink on black, cropped to the ink, fitted into 20 x 20 and centred by
mass (``preprocess.to_mnist``). A photo is the opposite in most ways: dark ink on light
paper, lit unevenly, in colour, with paper texture and JPEG blocks, the digit small in a big
frame and drawn with a pen much thinner than MNIST's. Each step below undoes one of those,
and every step's image is kept so the app can show what was done:

grey -> ink bright on black (inverted when the paper is light) -> background levelled (a
large-scale estimate of the paper, subtracted) -> soft threshold (paper noise to zero, ink
kept with its anti-aliased edge) -> cropped to the ink, strokes thickened to MNIST's weight
-> placed on the drawing canvas and prepared as a sketch is.

Numpy and Pillow only: no Qt, so tests, benchmarks and evaluation sets run the very same path.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from aegui.core.preprocess import MNIST_BOX, MNIST_SIZE, centre_of_mass, ink_bounding_box, to_mnist

WORKING_SIDE = 256  # px on the longer side: enough for a digit, fast on any photo
MAX_PIXELS = 80_000_000  # a larger image is refused, not decoded (a decompression bomb)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
BACKGROUND_SIDE = 48  # px: the paper's light is estimated at this resolution
BACKGROUND_WINDOW = 7  # px at BACKGROUND_SIDE: wider than any stroke of a digit filling the frame
BACKGROUND_RANK = 0.2  # a low quantile of the window: paper even where ink covers part of it
MASS_KEPT = 0.995  # the crop keeps this share of the ink's mass: specks of paper noise fall outside
FAINT_INK = 0.1  # softer than this after the threshold is a shadow's edge or paper, not a stroke's
MNIST_STROKE = 0.11  # a typical MNIST stroke's width over its digit's longer side
THINNEST_STROKE = 0.08  # thinner strokes (a ballpoint pen in a photo) are thickened to MNIST_STROKE


class ImageImportError(ValueError):
    """The file is not an image this app can read; the message is one line for the user."""


@dataclass(frozen=True)
class ImportStep:
    title: str
    image: np.ndarray  # (h, w) float32 in [0, 1], or (h, w, 3) for the photo itself


@dataclass(frozen=True)
class ImportedImage:
    """What preparation made of an image: each step, the canvas raster and the 28 x 28 digit."""

    steps: tuple[ImportStep, ...]
    canvas: np.ndarray  # (side, side) uint8 ink, 255 = full: what the drawing canvas holds
    digit: np.ndarray  # (28, 28) float32: what the model sees (``to_mnist`` of ``canvas``)
    inverted: bool  # whether the paper was lighter than the ink


def read_image(source: str | Path | bytes) -> np.ndarray:
    """An image file (or its bytes) as RGB float32 in [0, 1], shrunk to about WORKING_SIDE.

    Transparent pixels become white paper; the camera's orientation tag is applied. Anything
    Pillow cannot read, or an image of more than MAX_PIXELS, raises ImageImportError."""
    name = "the pasted image" if isinstance(source, bytes) else Path(source).name
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageImportError(f"{name} is {image.width} x {image.height} pixels; images up to {MAX_PIXELS // 1_000_000} megapixels open")
            image.draft("RGB", (WORKING_SIDE * 2, WORKING_SIDE * 2))  # a JPEG decodes at a fraction of its size
            image = ImageOps.exif_transpose(image)
            if max(image.size) > WORKING_SIDE:
                image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(paper, image.convert("RGBA"))
            rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except ImageImportError:
        raise
    except FileNotFoundError:
        raise ImageImportError(f"{name} does not exist") from None
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ImageImportError(f"{name} is not an image aegui can read (PNG, JPEG, BMP, GIF, TIFF, WebP)") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated or damaged data
        raise ImageImportError(f"{name} is damaged: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
    if min(rgb.shape[:2]) < 4:
        raise ImageImportError(f"{name} is only {rgb.shape[1]} x {rgb.shape[0]} pixels")
    return rgb


def import_image(source: str | Path | bytes, canvas_side: int = 336) -> ImportedImage:
    """``prepare_photo`` of an image file or its bytes."""
    return prepare_photo(read_image(source), canvas_side)


def _pillow(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(values, 0.0, 1.0) * 255).astype(np.uint8))


def _floats(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def _shrunk(rgb: np.ndarray) -> np.ndarray:
    """The photo at no more than WORKING_SIDE (an array given directly may be any size)."""
    height, width = rgb.shape[:2]
    if max(height, width) <= WORKING_SIDE:
        return rgb
    scale = WORKING_SIDE / max(height, width)
    image = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return _floats(image.resize((max(4, round(width * scale)), max(4, round(height * scale))), Image.Resampling.LANCZOS))


def grey(rgb: np.ndarray) -> np.ndarray:
    """Luminance (ITU-R 601): coloured ink on white paper stays darker than the paper."""
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim == 2:
        return rgb
    return rgb[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def ink_is_dark(grey_image: np.ndarray) -> bool:
    """Whether the ink is darker than the paper. The paper is most of the picture, so its
    brightness is the median's; ink lies to the far side of it. The tails are read at a tenth
    of a percent: one digit on a whole page covers under 1 % of it, and a page photographed
    on a lighter desk has a quarter of the picture brighter than its paper."""
    low, median, high = np.percentile(grey_image, [0.1, 50, 99.9])
    return bool(median - low >= high - median)


def level_background(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(levelled ink, background): the paper's light estimated at low resolution by a low
    quantile over a window wider than a stroke, smoothed, and subtracted."""
    height, width = ink.shape
    scale = BACKGROUND_SIDE / max(height, width)
    small = _pillow(ink).resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
    rank = int(BACKGROUND_RANK * BACKGROUND_WINDOW**2)
    paper = small.filter(ImageFilter.RankFilter(BACKGROUND_WINDOW, rank)).filter(ImageFilter.GaussianBlur(2))
    background = _floats(paper.resize((width, height), Image.Resampling.BILINEAR))
    return np.clip(ink - background, 0.0, 1.0), background


def otsu_threshold(values: np.ndarray) -> float:
    """The threshold that best splits ``values`` (in [0, 1]) into two groups (Otsu's method)."""
    histogram = np.bincount(np.clip((values * 255).astype(np.int64).ravel(), 0, 255), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(histogram)
    mass = np.cumsum(histogram * levels)
    total, total_mass = weight[-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between[:-1], nan=0.0, posinf=0.0)
    return float(np.argmax(between) + 0.5) / 255.0


def soft_threshold(levelled: np.ndarray) -> np.ndarray:
    """Paper noise to 0, the ink's core to 1, a linear ramp between: the ink keeps the soft
    edge MNIST's anti-aliasing gives it. A 3 x 3 median first takes out isolated specks."""
    smooth = _floats(_pillow(levelled).filter(ImageFilter.MedianFilter(3)))
    if smooth.max() <= 0.02:  # a blank page
        return np.zeros_like(smooth)
    threshold = otsu_threshold(smooth)
    core = float(np.median(smooth[smooth > threshold])) if np.any(smooth > threshold) else threshold
    low = 0.5 * threshold
    return np.clip((smooth - low) / max(core - low, 1e-3), 0.0, 1.0).astype(np.float32)


def mass_box(ink: np.ndarray, kept: float = MASS_KEPT) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) holding ``kept`` of the ink's mass, trimmed evenly at each
    side: a speck of noise far from the digit does not stretch the box."""
    total = float(ink.sum())
    if total <= 0:
        return None
    cut = (1.0 - kept) / 2
    bounds = []
    for profile in (ink.sum(axis=1), ink.sum(axis=0)):
        cumulative = np.cumsum(profile) / total
        first = int(np.searchsorted(cumulative, cut, side="right"))
        last = int(np.searchsorted(cumulative, 1.0 - cut, side="left"))
        bounds += [first, max(last, first) + 1]
    return bounds[0], bounds[1], bounds[2], bounds[3]


def stroke_width(ink: np.ndarray) -> float:
    """The strokes' mean width in pixels: twice the inked area over the outline's length
    (a stroke of length L and width w has area wL and an outline of about 2L)."""
    mask = ink > 0.5
    area = float(mask.sum())
    outline = float(np.count_nonzero(mask[1:, :] != mask[:-1, :]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1]))
    return 2.0 * area / outline if outline else 0.0


def thickened(ink: np.ndarray) -> np.ndarray:
    """Thin strokes grown to about MNIST's weight for their digit's size (a max filter)."""
    width = stroke_width(ink)
    side = max(ink.shape)
    if width <= 0 or width >= THINNEST_STROKE * side:
        return ink
    grow = int(round(MNIST_STROKE * side - width))
    size = grow + 1 if grow % 2 == 0 else grow  # an odd window
    if size < 3:
        return ink
    grown = _floats(_pillow(np.pad(ink, size // 2 + 1)).filter(ImageFilter.MaxFilter(size)))
    top, bottom, left, right = ink_bounding_box(grown)
    return grown[top:bottom, left:right]


def on_canvas(ink: np.ndarray, side: int) -> np.ndarray:
    """The cropped ink fitted into the canvas's 20/28 box and centred by mass, as uint8: the
    canvas shows it at its own resolution and prepares it as it prepares a drawing."""
    canvas = np.zeros((side, side), dtype=np.uint8)
    height, width = ink.shape
    box = side * MNIST_BOX / MNIST_SIZE
    scale = box / max(height, width)
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    fitted = _floats(_pillow(ink).resize((new_width, new_height), Image.Resampling.LANCZOS))
    row_mass, col_mass = centre_of_mass(fitted)
    top = int(np.clip(round(side / 2 - row_mass), 0, side - new_height))
    left = int(np.clip(round(side / 2 - col_mass), 0, side - new_width))
    canvas[top : top + new_height, left : left + new_width] = np.round(np.clip(fitted, 0, 1) * 255).astype(np.uint8)
    return canvas


def prepare_photo(rgb: np.ndarray, canvas_side: int = 336) -> ImportedImage:
    """Every step from a photo (RGB or grey floats in [0, 1]) to an MNIST-like digit."""
    photo = _shrunk(np.asarray(rgb, dtype=np.float32))
    grey_image = grey(photo)
    inverted = ink_is_dark(grey_image)
    ink = 1.0 - grey_image if inverted else grey_image
    levelled, background = level_background(ink)
    soft = soft_threshold(levelled)
    steps = [ImportStep("photo", photo), ImportStep("grey", grey_image), ImportStep("inverted" if inverted else "ink (already light)", ink),
             ImportStep("shading to subtract", background), ImportStep("levelled", levelled), ImportStep("soft threshold", soft)]  # fmt: skip
    box = mass_box(np.where(soft < FAINT_INK, 0.0, soft))  # a shadow's faint band would widen the crop
    if box is None:
        canvas = np.zeros((canvas_side, canvas_side), dtype=np.uint8)
        steps.append(ImportStep("no ink found", np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)))
        return ImportedImage(tuple(steps), canvas, np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32), inverted)
    top, bottom, left, right = box
    cropped = thickened(soft[top:bottom, left:right])
    canvas = on_canvas(cropped, canvas_side)
    digit = to_mnist(canvas)
    steps += [ImportStep("cropped, strokes to MNIST weight", cropped), ImportStep("28 x 28, centred by mass", digit)]
    return ImportedImage(tuple(steps), canvas, digit, inverted)
