"""Is the verdict fair to other hands? The "other hands" and "drawn shapes" sets in figures.

``other-hands``: real digits written unlike MNIST (handwriting fonts, thick, blurred, low
resolution, photographed and imported); the verdict should call few of them "not a digit".
``drawn-shapes``: hearts, arrows, ticks, stars and pictograms; it should flag nearly all.
Both sets are made by ``scripts/make_other_hands.py`` and ship in ``resources/data`` in two
parts: ``calibration`` (what the anomaly tables may be fitted on) and ``report`` (held out:
only ever measured, never fitted or tuned on).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from aegui.core.anomaly import NOT_A_DIGIT_ABOVE
from aegui.core.idx import read_idx
from aegui.core.resources import RESOURCES_DIR

OTHER_HANDS_GROUPS = ("handwriting font", "thick strokes", "blurred", "low resolution", "photographed and imported")
EVALUATION_SETS = ("other-hands", "drawn-shapes")
PARTS = ("calibration", "report")
NAMED_SHAPE_KINDS = {"heart": ("heart", "♥", "♡"), "arrow": ("arrow", "➜", "➔", "⇦"), "tick": ("tick", "✓", "✔"), "star": ("star", "★", "☆")}
# index = label of drawn-shapes (scripts/make_other_hands.py SHAPE_KINDS)
SHAPE_KINDS = (
    "heart", "arrow", "tick", "star", "smiley", "moon", "sun", "cloud", "note", "flower", "envelope", "spiral",
    "♥", "♡", "★", "☆", "✓", "✔", "✗", "➜", "➔", "⇦", "☺", "☹", "☀", "☁", "☂", "♪", "♫", "✉", "✈", "⚓", "✂", "☎", "♠", "♣", "♦", "⌂", "✿", "❄", "⚡", "☯", "⚑", "☕",
)  # fmt: skip


def load_evaluation_set(name: str, part: str) -> tuple[torch.Tensor, np.ndarray]:
    """(images (n, 1, 28, 28) floats in [0, 1], labels) of one part of one set."""
    if name not in EVALUATION_SETS or part not in PARTS:
        raise ValueError(f"no evaluation set {name}-{part}")
    folder = RESOURCES_DIR / "data"
    images = read_idx(folder / f"{name}-{part}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{name}-{part}-labels-idx1-ubyte.gz")
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1), labels.astype(np.int64)


def fairness_figures(verdict_percentiles: Callable[[torch.Tensor], np.ndarray], probe_reads: Callable[[torch.Tensor], np.ndarray]) -> dict:
    """The report parts' figures: shares flagged "not a digit" (percentile above the 99th)
    overall and by group or kind, and how often the probe reads an other hand's digit right.
    ``verdict_percentiles`` and ``probe_reads`` take images and give a value per image."""
    hands, hand_labels = load_evaluation_set("other-hands", "report")
    flagged = verdict_percentiles(hands) > NOT_A_DIGIT_ABOVE
    groups = hand_labels // 10
    read_right = probe_reads(hands) == hand_labels % 10
    shapes, shape_labels = load_evaluation_set("drawn-shapes", "report")
    shape_flagged = verdict_percentiles(shapes) > NOT_A_DIGIT_ABOVE
    _, calibration_labels = load_evaluation_set("drawn-shapes", "calibration")
    unseen = ~np.isin(shape_labels, np.unique(calibration_labels))
    by_kind = {SHAPE_KINDS[label]: float(shape_flagged[shape_labels == label].mean()) for label in np.unique(shape_labels)}
    named = {name: float(shape_flagged[np.isin(shape_labels, [SHAPE_KINDS.index(kind) for kind in kinds])].mean()) for name, kinds in NAMED_SHAPE_KINDS.items()}
    return {
        "other_hands_flagged_share": float(flagged.mean()),
        "other_hands_flagged_by_group": {group: float(flagged[groups == number].mean()) for number, group in enumerate(OTHER_HANDS_GROUPS)},
        "other_hands_probe_accuracy": float(read_right.mean()),
        "n_other_hands": int(len(flagged)),
        "drawn_shapes_flagged_share": float(shape_flagged.mean()),
        "drawn_shapes_flagged_unseen_kinds": float(shape_flagged[unseen].mean()) if unseen.any() else None,
        "drawn_shapes_flagged_named": named,
        "drawn_shapes_least_flagged": dict(sorted(by_kind.items(), key=lambda item: item[1])[:5]),
        "n_drawn_shapes": int(len(shape_flagged)),
    }
