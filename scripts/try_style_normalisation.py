"""Would redrawing an image in MNIST's pen before it is scored make the verdict fair to other hands?

    python scripts/try_style_normalisation.py --data-dir /work/shared/data/mnist [--checkpoint CKPT]

An experiment, not part of the app: it measures on the *calibration* parts of the evaluation
sets only (``training/fairness.py``; the report parts stay held out) and prints the share
flagged "not a digit" per set. The redrawing: ink above 40 % of the image's darkest pixel,
thinned to a one-pixel skeleton (Zhang-Suen), redrawn with a three-pixel pen, softened
(Gaussian, sigma 0.6) and prepared as a sketch is (``to_mnist``). It is applied only to images
whose style MNIST rarely has: strokes deeper than 1.6 px on average (chessboard distance) or
more than 65 % of the ink in grey pixels, each MNIST's 99th percentile. Columns:

- ``as is``: the bundled verdict, unchanged;
- ``redrawn, same tables``: redrawn images scored with the bundled percentiles;
- ``every image redrawn``: every image redrawn (not only those unlike MNIST), bundled tables;
- ``every image redrawn``: every image redrawn (not only those unlike MNIST), bundled tables;
- ``redrawn, own threshold``: redrawn images flagged above the 99th percentile of 3,000 MNIST
  training digits redrawn the same way (the tables otherwise unchanged);
- ``style threshold``: no redrawing; an image unlike MNIST is flagged above the 99th
  percentile of 3,000 other MNIST training digits restyled (``training.non_digits.restyled``:
  thick, blurred, low resolution, even pen) that are unlike MNIST too, never below the
  bundled threshold: a verdict that judges a style among digits written in it;
- ``..., probe sure``: the same, only for images the probe reads as one digit with at least
  ``READ_ABOVE`` of its probability (the threshold from such restyled digits).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from aegui.core.anomaly import NOT_A_DIGIT_ABOVE, AnomalyScorer, percentiles
from aegui.core.model_files import load_model
from aegui.core.preprocess import to_mnist
from aegui.core.resources import CHECKPOINTS_DIR, load_near_ood
from training.datasets import load_split
from training.digit_tensors import images_to_tensor
from training.fairness import OTHER_HANDS_GROUPS, load_evaluation_set
from training.non_digits import restyled
from training.metrics import encode_dataset, encode_inner

DEPTH_ABOVE, GREY_ABOVE = 1.6, 0.65  # MNIST's 99th percentiles (training digits)
READ_ABOVE = 0.8  # the probe's top probability for "style threshold, probe sure"


def neighbours(ink: torch.Tensor) -> list[torch.Tensor]:
    """The eight neighbours of every pixel, clockwise from north."""
    padded = F.pad(ink, (1, 1, 1, 1))
    height, width = ink.shape[-2:]
    return [
        padded[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
        for dy, dx in (
            (-1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
            (1, 0),
            (1, -1),
            (0, -1),
            (-1, -1),
        )
    ]


def thinned(ink: torch.Tensor) -> torch.Tensor:
    """Zhang-Suen thinning of binary images (n, 1, h, w): a one-pixel skeleton."""
    ink = ink.clone()
    for _ in range(20):
        changed = False
        for step in (0, 1):
            around = neighbours(ink)
            north, _, east, _, south, _, west, _ = around
            count = sum(around)
            crossings = sum(((around[i] == 0) & (around[(i + 1) % 8] == 1)).float() for i in range(8))
            ends = ((north * east * south == 0) & (east * south * west == 0)) if step == 0 else ((north * east * west == 0) & (north * south * west == 0))
            remove = (ink == 1) & (count >= 2) & (count <= 6) & (crossings == 1) & ends
            if remove.any():
                ink[remove] = 0
                changed = True
        if not changed:
            break
    return ink


def redrawn(images: torch.Tensor) -> torch.Tensor:
    peak = images.amax((1, 2, 3), keepdim=True).clamp(min=1e-6)
    skeleton = thinned((images / peak > 0.4).float())
    north, _, east, _, south, _, west, _ = neighbours(skeleton)
    drawn = (skeleton + north + east + south + west).clamp(0, 1)
    offsets = torch.arange(-2, 3, dtype=torch.float32)
    bell = torch.exp(-(offsets**2) / (2 * 0.6**2))
    kernel = (bell[:, None] * bell[None, :] / bell.sum() ** 2)[None, None]
    soft = F.conv2d(drawn, kernel, padding=2)
    soft = (soft / soft.amax((1, 2, 3), keepdim=True).clamp(min=1e-6)).clamp(0, 1)
    return torch.from_numpy(np.stack([to_mnist(image[0].numpy()) for image in soft])).unsqueeze(1)


def unlike_mnist(images: torch.Tensor) -> np.ndarray:
    """Strokes deeper, or ink greyer, than 99 % of MNIST's."""
    ink = (images > 0.5).float()
    depth, layer = torch.zeros_like(ink), ink
    for _ in range(14):
        depth, layer = depth + layer, -F.max_pool2d(-layer, 3, 1, 1)
    mean_depth = depth.sum((1, 2, 3)) / ink.sum((1, 2, 3)).clamp(min=1)
    grey = ((images > 0.1) & (images < 0.9)).float()
    grey_share = (images * grey).sum((1, 2, 3)) / images.sum((1, 2, 3)).clamp(min=1e-6)
    return ((mean_depth > DEPTH_ABOVE) | (grey_share > GREY_ABOVE)).numpy()


def scoring(checkpoint: Path):
    """The checkpoint's anomaly scorer, and a function giving a batch of images' five parts and
    the probe's top probability (as the app computes them for a sketch)."""
    model = load_model(checkpoint)
    autoencoder, statistics = model.autoencoder, model.statistics
    scorer = AnomalyScorer.from_table(statistics.anomaly)

    def features(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        codes, errors, _ = encode_dataset(autoencoder, images)
        inner = encode_inner(autoencoder, images)[1].numpy() if scorer.needs_inner else None
        probabilities = torch.softmax(codes @ statistics.probe_weight.T + statistics.probe_bias, 1).numpy()
        return scorer.features(errors.numpy(), codes.numpy(), probabilities, inner), probabilities.max(axis=1)

    return scorer, features


def calibration_sets(data_dir: Path) -> dict[str, torch.Tensor]:
    """MNIST's test digits and the calibration parts of the evaluation sets (never the report
    parts), by name, each as (n, 1, 28, 28)."""
    test, _, _ = load_split(data_dir, "test")
    hands, hand_labels = load_evaluation_set("other-hands", "calibration")
    sets = {"MNIST test digits": images_to_tensor(test)}
    sets.update({f"other hands: {group}": hands[hand_labels // 10 == number] for number, group in enumerate(OTHER_HANDS_GROUPS)})
    sets["drawn shapes"] = load_evaluation_set("drawn-shapes", "calibration")[0]
    sets["near-OOD characters (trained on)"] = torch.from_numpy(load_near_ood("calibration").images).unsqueeze(1)
    return sets


def parse_arguments(description: str) -> argparse.Namespace:
    """``--data-dir`` (MNIST's IDX files) and ``--checkpoint`` (the bundled default); torch on
    one thread, as the app's analysis runs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINTS_DIR / "mnist-conv-k32.ckpt")
    torch.set_num_threads(1)
    return parser.parse_args()


def main() -> None:
    args = parse_arguments(__doc__.split("\n")[0])
    scorer, features = scoring(args.checkpoint)

    def scores(images: torch.Tensor, with_confidence: bool = False):
        parts, confidence = features(images)
        values = scorer.verdict_statistics(parts)
        return (values, confidence) if with_confidence else values

    train, _, _ = load_split(args.data_dir, "train")
    own_threshold = np.quantile(scores(redrawn(images_to_tensor(train[:3000]))), 0.99)
    styled = restyled(images_to_tensor(train[3000:6000]), seed=5)
    styled_unlike = unlike_mnist(styled)
    styled_scores, styled_confidence = scores(styled, with_confidence=True)
    style_threshold = np.quantile(styled_scores[styled_unlike], 0.99)
    read_threshold = np.quantile(styled_scores[styled_unlike & (styled_confidence >= READ_ABOVE)], 0.99)
    sets = calibration_sets(args.data_dir)
    print(f"{'calibration part':40}{'images':>7}{'unlike MNIST':>14}{'as is':>8}{'redrawn, same tables':>22}{'every image redrawn':>21}{'redrawn, own threshold':>24}{'style threshold':>17}{'..., probe sure':>16}")
    for name, images in sets.items():
        as_is = percentiles(scores(images), scorer.verdict_quantiles) > NOT_A_DIGIT_ABOVE
        unlike = unlike_mnist(images)
        again = redrawn(images)
        again_scores = scores(again)
        again_flagged = percentiles(again_scores, scorer.verdict_quantiles) > NOT_A_DIGIT_ABOVE
        same_tables = np.where(unlike, again_flagged, as_is)
        own = np.where(unlike, again_scores > own_threshold, as_is)
        values, confidence = scores(images, with_confidence=True)
        by_style = np.where(unlike, as_is & (values > style_threshold), as_is)  # never laxer than the bundled verdict
        read = unlike & (confidence >= READ_ABOVE)  # the same, only for what the probe reads as one digit
        by_style_read = np.where(read, as_is & (values > read_threshold), as_is)
        print(f"{name:40}{len(images):>7}{unlike.mean():>14.1%}{as_is.mean():>8.1%}{same_tables.mean():>22.1%}{again_flagged.mean():>21.1%}{own.mean():>24.1%}{by_style.mean():>17.1%}{by_style_read.mean():>16.1%}")


if __name__ == "__main__":
    main()
