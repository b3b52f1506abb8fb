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
class ReferenceDigits:
    """Real MNIST test digits (float32 in [0, 1]) with their labels, for the map and neighbours."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_reference_digits(images_path: Path = REFERENCE_IMAGES, labels_path: Path = REFERENCE_LABELS, limit: int | None = None) -> ReferenceDigits:
    images, labels = read_images_and_labels(images_path, labels_path)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return ReferenceDigits(images.astype(np.float32) / 255.0, labels)


def bundled_checkpoints() -> list[Path]:
    return sorted(CHECKPOINTS_DIR.glob("*.ckpt"))


def load_near_ood(part: str) -> ReferenceDigits:
    """Characters and shapes that are not digits, prepared as sketches are (labels: 0 letter,
    1 symbol, 2 shape); ``calibration`` fits the combined anomaly score, ``report`` measures it."""
    if part not in NEAR_OOD_PARTS:
        raise ValueError(f"near-OOD part must be one of {NEAR_OOD_PARTS}, got {part!r}")
    folder = RESOURCES_DIR / "data"
    return load_reference_digits(folder / f"near-ood-{part}-images-idx3-ubyte.gz", folder / f"near-ood-{part}-labels-idx1-ubyte.gz")
