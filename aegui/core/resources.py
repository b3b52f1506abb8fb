"""Where the bundled checkpoints and reference digits live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aegui.core.idx import read_images_and_labels


def _resources_dir() -> Path:
    """``aegui/resources`` in an installed wheel; the repository's ``resources/`` in a checkout."""
    installed = Path(__file__).resolve().parents[1] / "resources"
    return installed if (installed / "checkpoints").is_dir() else Path(__file__).resolve().parents[2] / "resources"


RESOURCES_DIR = _resources_dir()
CHECKPOINTS_DIR = RESOURCES_DIR / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "mnist-conv-k32.ckpt"
REFERENCE_IMAGES = RESOURCES_DIR / "data" / "mnist-sample-images-idx3-ubyte.gz"
REFERENCE_LABELS = RESOURCES_DIR / "data" / "mnist-sample-labels-idx1-ubyte.gz"
ICON = RESOURCES_DIR / "icons" / "aegui.png"
NEAR_OOD_PARTS = ("calibration", "report")  # made by scripts/make_near_ood.py  # 256 x 256, drawn by scripts/make_icon.py


@dataclass(frozen=True)
class LabelledImages:
    """28 x 28 images (float32 in [0, 1]) with a label each: the bundled MNIST test digits
    behind the map and the neighbours, or the near-OOD characters and shapes."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_labelled_images(images_path: Path, labels_path: Path, limit: int | None = None) -> LabelledImages:
    images, labels = read_images_and_labels(images_path, labels_path)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return LabelledImages(images.astype(np.float32) / 255.0, labels)


def load_reference_digits(limit: int | None = None) -> LabelledImages:
    """The bundled MNIST test digits (the first ``limit`` of them)."""
    return load_labelled_images(REFERENCE_IMAGES, REFERENCE_LABELS, limit)


def bundled_checkpoints() -> list[Path]:
    return sorted(CHECKPOINTS_DIR.glob("*.ckpt"))


def load_near_ood(part: str) -> LabelledImages:
    """Characters and shapes that are not digits, prepared as sketches are (labels: 0 letter,
    1 symbol, 2 shape); ``calibration`` fits the combined anomaly score, ``report`` measures it."""
    if part not in NEAR_OOD_PARTS:
        raise ValueError(f"near-OOD part must be one of {NEAR_OOD_PARTS}, got {part!r}")
    folder = RESOURCES_DIR / "data"
    return load_labelled_images(folder / f"near-ood-{part}-images-idx3-ubyte.gz", folder / f"near-ood-{part}-labels-idx1-ubyte.gz")
