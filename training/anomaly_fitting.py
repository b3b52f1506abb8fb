"""Fitting the combined anomaly score a checkpoint carries (``aegui.core.anomaly`` reads it):
the inner distance's Gaussian, the code detector trained against made-up non-digits, and the
logistic combiner calibrated on held-out digits against the near-OOD calibration set.

Fairer to other hands, as an option measured but not adopted (the constants below and
docs/anomaly.md): digits written unlike MNIST's (thick, blurred, low resolution) can be shown
to the code detector as digits, and non-digits restyled the same way as non-digits, so style
alone tells it nothing; and the combiner can be fitted with the calibration part of the
"other hands" set among the digits and the "drawn shapes" among the non-digits. The held-out
digits alone set the percentiles; the report parts of those sets are never used here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from aegui.core.anomaly import (
    ANOMALY_FEATURES,
    NOT_A_DIGIT_ABOVE,
    CodeDetector,
    InnerDistance,
    anomaly_features,
    percentiles,
    verdict_statistic,
    verdict_values,
)
from aegui.core.model_format import IMAGE_SIZE, N_CLASSES
from aegui.core.networks import Autoencoder
from aegui.core.resources import load_near_ood
from training.command_parsers import STYLE_AWARE_CHOICES
from training.fairness import load_evaluation_set
from training.metrics import encode_dataset, encode_inner, held_out_quantiles, probe_probabilities
from training.non_digits import non_digits_from, random_drawings, random_strokes, restyled, varied_drawings

MAX_DISTANCE_REFERENCE_CODES = 10_000  # training codes kept for the distance score (1.15 MB for 9,000 at k = 32)

def fit_inner_distance(train_inner: torch.Tensor, train_labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Class means and one shared covariance of the encoder's last hidden layer over the
    training digits, stored as a whitening matrix and whitened means (``InnerDistance``).
    Directions the digits barely use (eigenvalues under a millionth of the largest) are
    floored there, so a dead unit cannot make every distance explode."""
    inner = train_inner.double()
    labels = train_labels.long()
    means = torch.zeros(N_CLASSES, inner.shape[1], dtype=torch.float64)
    for digit in range(N_CLASSES):
        members = inner[labels == digit]
        if len(members):
            means[digit] = members.mean(0)
    centred = inner - means[labels]
    covariance = centred.T @ centred / max(len(inner), 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    floor = max(float(eigenvalues.max()) * 1e-6, 1e-12)
    whitening = (eigenvectors / eigenvalues.clamp_min(floor).sqrt()).T
    return {"inner_whitening": whitening.float().contiguous(), "inner_class_means": (means @ whitening.T).float().contiguous()}

def style_aware_inner(autoencoder: Autoencoder, train_images: torch.Tensor, train_labels: torch.Tensor, train_inner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What the inner distance's Gaussian is fitted on: the training digits' inner layers and
    labels, and with ``STYLE_AWARE_INNER`` also those of up to ``MAX_RESTYLED`` of them
    restyled (``restyled``: thick, blurred, low resolution, even pen), so a digit in another
    hand is not far from its class for its style alone. (Fitting the probe on them as well
    was measured: other hands 3.2 -> 2.9 % flagged on the calibration part, not worth changing
    how the app reads digits.)"""
    if not STYLE_AWARE_INNER:
        return train_inner, train_labels
    chosen = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(1))[:MAX_RESTYLED]
    _, inner = encode_inner(autoencoder, restyled(train_images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float()[chosen], seed=5))
    return torch.cat([train_inner, inner]), torch.cat([train_labels, train_labels[chosen]])


DETECTOR_HIDDEN = 64
DETECTOR_ROUNDS = 2  # non-digits made from each training digit
DETECTOR_MAX_STEPS = 1500  # Adam steps of 512 codes: 3000 cost 3 s at the end of fit for no better detector
MAX_RANDOM_STROKES = 10_000  # random pen drawings (as many as training digits, up to this)
MAX_RESTYLED = 3_000  # training digits, and as many non-digits, restyled for the detector (8 ms each)
MAX_RANDOM_DRAWINGS = 3_000  # lobed curves and pictograms for the detector
SHAPE_REPEATS = 8  # the detector's half of the drawn shapes' calibration part, shown this often (255 drawings)
RECONSTRUCTION_OPINION_MARGIN = 0.01  # of the calibration characters flagged (8 of 780)
# Fairness to other hands, measured and NOT adopted (docs/anomaly.md, "Fair to other hands"):
# with the style-aware detector and weights 0.02 / 5.0 (chosen on the calibration parts), the
# held-out other hands fell from 41.8 % to 2.2 % flagged, but near-OOD AUROC fell from 0.993
# to 0.982, near-OOD flagged from 81 % to 69 % and drawn shapes from 76 % to 68 %. Off (0, 0,
# False), ``fit`` makes the tables it made before.
OTHER_HANDS_WEIGHT = 0.0  # the other hands' share of the digits' weight in the combiner (held-out MNIST digits: 1)
DRAWN_SHAPES_WEIGHT = 0.0  # the drawn shapes' weight among the non-digits (near-OOD characters: 1)
STYLE_AWARE_DETECTOR = False  # the detector also learns restyled digits (and restyled non-digits) and drawings
VARIED_DRAWINGS = 0  # drawings of seven families (``varied_drawings``) the detector learns, with the style-aware detector
STYLE_AWARE_INNER = False  # the inner distance's Gaussian also fitted on restyled training digits
DETECTOR_SHAPES = True  # the style-aware detector also learns half the drawn shapes' calibration part

def use_style_aware_tables(choice: str) -> None:
    """Set the options above for this process (``aegui-train annotate --style-aware``):
    "inner" fits the inner distance on restyled training digits too; "all" also gives the
    code detector restyled digits and non-digits and varied drawings (not the drawn shapes'
    calibration part, which it learnt instead of "drawings"); "off" is what ``fit`` makes."""
    global STYLE_AWARE_INNER, STYLE_AWARE_DETECTOR, VARIED_DRAWINGS, DETECTOR_SHAPES
    if choice not in STYLE_AWARE_CHOICES:
        raise ValueError(f"--style-aware {choice}: must be one of {', '.join(STYLE_AWARE_CHOICES)}")
    STYLE_AWARE_INNER = choice in ("inner", "all")
    STYLE_AWARE_DETECTOR = choice == "all"
    VARIED_DRAWINGS = 3_000 if choice == "all" else 0
    DETECTOR_SHAPES = choice != "all"


@dataclass(frozen=True)
class Calibration:
    """One calibration group for the combiner: its images' codes, errors and inner layers."""

    codes: torch.Tensor
    errors: torch.Tensor
    inner: torch.Tensor
    is_digit: bool
    weight: float

    @classmethod
    def of(cls, autoencoder: Autoencoder, images: torch.Tensor, is_digit: bool, weight: float) -> Calibration:
        codes, errors, _ = encode_dataset(autoencoder, images)
        return cls(codes, errors, encode_inner(autoencoder, images)[1], is_digit, weight)


def fit_code_detector(autoencoder: Autoencoder, train_images: torch.Tensor, train_labels: torch.Tensor, train_codes: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """A small network from the code to "not a digit", trained on the training digits' codes
    (and those of some restyled: thick, blurred, low resolution) against the codes of
    non-digits made from them (``non_digits_from``: mirrored, turned, cut and overlaid, two per
    digit, some restyled too), random pen strokes (``random_strokes``) and random drawings
    (``random_drawings``: lobed curves, pictograms) and half the drawn shapes' calibration part
    (``detector_shapes``). Never shown the near-OOD or other-hands sets nor the other half of
    the drawn shapes, so the combiner can weigh it fairly on those.
    Returns its table (plain tensors)."""
    generator = torch.Generator().manual_seed(seed)
    images = train_images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float()
    labels = train_labels.long()
    made = [non_digits_from(images, labels, generator) for _ in range(DETECTOR_ROUNDS)]
    digit_codes = train_codes
    if STYLE_AWARE_DETECTOR:
        restyle = torch.randperm(len(images), generator=generator)[:MAX_RESTYLED]
        made += [random_drawings(min(len(images), MAX_RANDOM_DRAWINGS), seed), restyled(made[0][restyle], seed + 1)]
        if VARIED_DRAWINGS:
            drawings = varied_drawings(min(len(images), VARIED_DRAWINGS), seed + 3)
            made += [drawings, restyled(drawings[: len(drawings) // 3], seed + 4)]
        if DETECTOR_SHAPES:
            shapes = detector_shapes()
            made += [shapes.repeat(SHAPE_REPEATS, 1, 1, 1), restyled(shapes, seed + 2)]
        digit_codes = torch.cat([train_codes, encode_dataset(autoencoder, restyled(images[restyle], seed), reconstruct=False)[0]])
    made.append(random_strokes(min(len(images), MAX_RANDOM_STROKES), seed))
    outlier_codes = torch.cat([encode_dataset(autoencoder, batch, reconstruct=False)[0] for batch in made])
    codes = torch.cat([digit_codes, outlier_codes]).float()
    targets = torch.cat([torch.zeros(len(digit_codes)), torch.ones(len(outlier_codes))])
    sample_weight = torch.where(targets == 1, len(digit_codes) / max(len(outlier_codes), 1), 1.0)
    code_mean, code_std = train_codes.float().mean(0), train_codes.float().std(0).clamp_min(1e-6)
    standard = (codes - code_mean) / code_std
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        latent_dim = codes.shape[1]
        network = torch.nn.Sequential(
            torch.nn.Linear(latent_dim, DETECTOR_HIDDEN), torch.nn.GELU(approximate="tanh"),
            torch.nn.Linear(DETECTOR_HIDDEN, DETECTOR_HIDDEN), torch.nn.GELU(approximate="tanh"),
            torch.nn.Linear(DETECTOR_HIDDEN, 1),
        )  # fmt: skip
        optimizer = torch.optim.Adam(network.parameters(), lr=1e-3, weight_decay=1e-4)
        steps = int(min(DETECTOR_MAX_STEPS, max(200, 35 * len(codes) / 512)))  # up to 35 passes over the codes
        for _ in range(steps):
            index = torch.randint(0, len(codes), (512,), generator=generator)
            loss = (F.binary_cross_entropy_with_logits(network(standard[index]).squeeze(1), targets[index], reduction="none") * sample_weight[index]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    linear_layers = [layer for layer in network if isinstance(layer, torch.nn.Linear)]
    table = {"detector_code_mean": code_mean, "detector_code_std": code_std}
    for number, layer in enumerate(linear_layers, start=1):
        table[f"detector_weight_{number}"] = layer.weight.detach().clone()
        table[f"detector_bias_{number}"] = layer.bias.detach().clone()
    return table


def fit_anomaly_scorer(
    train_codes: torch.Tensor,
    val_codes: torch.Tensor,
    val_errors: torch.Tensor,
    val_inner: torch.Tensor,
    probe: tuple[torch.Tensor, torch.Tensor],
    groups: list[Calibration],
    inner_table: dict[str, torch.Tensor],
    detector_table: dict[str, torch.Tensor],
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """The combined anomaly score's table: reference codes, the inner distance's Gaussian, the
    code detector, each feature's held-out quantiles, and a logistic regression from the
    standardised features to "not a digit", fitted on held-out digits (0, weight 1) and the
    calibration ``groups`` (digits 0, non-digits 1, each group its own total weight; the
    non-digits together weigh as much as the digits), never on test data."""
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(len(train_codes), generator=generator)[:MAX_DISTANCE_REFERENCE_CODES]
    reference = train_codes[keep].contiguous()
    reference_numpy = reference.numpy()
    detector = CodeDetector.from_table({name: value.numpy() for name, value in detector_table.items()})
    inner_distance = InnerDistance.from_table({name: value.numpy() for name, value in inner_table.items()})

    def features(codes: torch.Tensor, errors: torch.Tensor, inner: torch.Tensor) -> np.ndarray:
        return anomaly_features(errors.numpy(), codes.numpy(), probe_probabilities(*probe, codes).numpy(), reference_numpy, None, inner.numpy(), inner_distance, detector)

    val_features = features(val_codes, val_errors, val_inner)
    group_features = [features(group.codes, group.errors, group.inner) for group in groups]
    digit_total = 1.0 + sum(group.weight for group in groups if group.is_digit)
    outlier_total = sum(group.weight for group in groups if not group.is_digit)
    parts, targets, weights = [val_features], [np.zeros(len(val_features))], [np.full(len(val_features), 1.0 / digit_total / len(val_features))]
    for group, values in zip(groups, group_features):
        parts.append(values)
        targets.append(np.full(len(values), 0.0 if group.is_digit else 1.0))
        share = group.weight / (digit_total if group.is_digit else outlier_total)
        weights.append(np.full(len(values), share / max(len(values), 1)))
    features_all = torch.from_numpy(np.concatenate(parts))
    target = torch.from_numpy(np.concatenate(targets))
    sample_weight = torch.from_numpy(np.concatenate(weights))
    sample_weight = sample_weight * (2 * len(val_features) / sample_weight.sum())  # with the near-OOD group alone: class-balanced, each digit weighing 1
    mean, std = features_all[: len(val_features)].mean(0), features_all[: len(val_features)].std(0).clamp_min(1e-6)
    standard = (features_all - mean) / std
    weight = torch.zeros(len(ANOMALY_FEATURES), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = (F.binary_cross_entropy_with_logits(standard @ weight + bias, target, reduction="none") * sample_weight).mean() + 1e-3 * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    weight, bias = weight.detach(), bias.detach()
    val_scores = ((torch.from_numpy(val_features) - mean) / std) @ weight + bias
    feature_quantiles = torch.stack([held_out_quantiles(torch.from_numpy(val_features[:, i])) for i in range(len(ANOMALY_FEATURES))])
    score_quantiles = held_out_quantiles(val_scores)
    # The verdict: the combined score alone, or also the reconstruction error's opinion
    # (AnomalyScorer.verdict_statistics) when that flags clearly more calibration non-digits
    # above the held-out digits' 99th percentile: a few of 780 either way is noise, and the
    # maximum ties everything beyond the held-out digits at the 100th percentile.
    outlier_features = np.concatenate([values for group, values in zip(groups, group_features) if not group.is_digit])
    outlier_scores = ((torch.from_numpy(outlier_features) - mean) / std) @ weight + bias
    flagged, verdict_quantile_choices = [], []
    for opinion in (False, True):
        # held-out digits are never lifted without the opinion, so their verdict is their score
        val_verdict = verdict_statistic(val_scores.numpy(), val_features[:, 0], score_quantiles.numpy(), feature_quantiles[0].numpy()) if opinion else val_scores.numpy()
        quantiles = held_out_quantiles(torch.from_numpy(np.asarray(val_verdict, dtype=np.float64)))
        outlier_verdict = verdict_values(outlier_scores.numpy(), outlier_features[:, 0], score_quantiles.numpy(), feature_quantiles[0].numpy(), quantiles.double().numpy(), opinion)
        flagged.append(float((percentiles(outlier_verdict, quantiles.double().numpy()) > NOT_A_DIGIT_ABOVE).mean()))
        verdict_quantile_choices.append(quantiles)
    opinion = flagged[1] > flagged[0] + RECONSTRUCTION_OPINION_MARGIN
    return {
        "reference_codes": reference.float(),
        "feature_quantiles": feature_quantiles,
        "feature_mean": mean.float(),
        "feature_std": std.float(),
        "weight": weight.float(),
        "bias": bias.float(),
        "score_quantiles": score_quantiles,
        "verdict_quantiles": verdict_quantile_choices[int(opinion)],
        "reconstruction_opinion": torch.tensor([float(opinion)]),
        **{name: value.float().contiguous() for name, value in {**inner_table, **detector_table}.items()},
    }


def detector_shapes() -> torch.Tensor:
    """The detector's half of the drawn shapes' calibration part (even positions): the
    combiner is calibrated on the other half, so it weighs the detector on drawings it
    never learnt from."""
    return load_evaluation_set("drawn-shapes", "calibration")[0][0::2]


def calibration_groups(autoencoder: Autoencoder) -> list[Calibration]:
    """The combiner's calibration parts: near-OOD characters, and with a weight above zero
    drawn shapes (the half the detector did not learn from) and other hands."""
    near_ood = torch.from_numpy(load_near_ood("calibration").images).unsqueeze(1)
    groups = [Calibration.of(autoencoder, near_ood, is_digit=False, weight=1.0)]
    if DRAWN_SHAPES_WEIGHT > 0:
        groups.append(Calibration.of(autoencoder, load_evaluation_set("drawn-shapes", "calibration")[0][1::2], is_digit=False, weight=DRAWN_SHAPES_WEIGHT))
    if OTHER_HANDS_WEIGHT > 0:
        groups.append(Calibration.of(autoencoder, load_evaluation_set("other-hands", "calibration")[0], is_digit=True, weight=OTHER_HANDS_WEIGHT))
    return groups
