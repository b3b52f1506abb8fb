"""What a checkpoint stores so the app can explain a latent code.

Everything here is plain torch (no Lightning) and every value produced is a tensor or a
primitive, so a checkpoint carrying it still loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
from typing import Protocol

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
from aegui.core.model_format import ERROR_QUANTILE_COUNT, IMAGE_SIZE, N_CLASSES
from aegui.core.networks import Autoencoder
from aegui.core.resources import load_near_ood
from training.non_digits import non_digits_from, random_strokes
from training.stroke_properties import correlations, measure


class Progress(Protocol):
    """What the statistics report their progress to: a tqdm bar fits, counted in digits."""

    def update(self, n: int) -> object: ...


class _NoProgress:
    def update(self, n: int) -> None:
        pass


# Batches of 256 digits keep a conv layer's activations in the CPU cache: encoding 20,000
# digits took a third of the time it took in batches of 1,000 (measured on a 2-core machine).
BATCH_SIZE = 256


@torch.inference_mode()
def encode_dataset(
    autoencoder: Autoencoder, images: torch.Tensor, batch_size: int = BATCH_SIZE, reconstruct: bool = True, progress: Progress | None = None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Codes, per-image reconstruction error (mean squared error per pixel) and per-image BCE.

    With ``reconstruct=False`` only the codes are computed (errors and BCE are None): the
    decoder costs more than the encoder.
    """
    autoencoder.eval()
    progress = progress or _NoProgress()
    codes, errors, bces = [], [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float()
        code = autoencoder.encode(batch)
        codes.append(code)
        if reconstruct:
            logits = autoencoder.decode_logits(code)
            errors.append(((torch.sigmoid(logits) - batch) ** 2).flatten(1).mean(1))
            bces.append(F.binary_cross_entropy_with_logits(logits, batch, reduction="none").flatten(1).mean(1))
        progress.update(len(batch))
    if not codes:
        empty = torch.zeros(0)
        return torch.zeros(0, autoencoder.latent_dim), empty, empty
    if not reconstruct:
        return torch.cat(codes), None, None
    return torch.cat(codes), torch.cat(errors), torch.cat(bces)


def fit_linear_probe(codes: torch.Tensor, labels: torch.Tensor, l2: float = 1e-4, max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression from code to digit: returns (weight [10, k], bias [10]).

    Fitted on standardised codes for good conditioning; the standardisation is folded into
    the returned weights so that ``codes @ weight.T + bias`` are the logits.
    """
    codes = codes.double()
    mean, std = codes.mean(0), codes.std(0).clamp_min(1e-6)
    standard = (codes - mean) / std
    weight = torch.zeros(N_CLASSES, codes.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(N_CLASSES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(standard @ weight.T + bias, labels) + l2 * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    folded_weight = (weight / std).detach()
    folded_bias = (bias - (mean / std) @ weight.T).detach()
    return folded_weight.float(), folded_bias.float()


def probe_accuracy(weight: torch.Tensor, bias: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor) -> float:
    return ((codes @ weight.T + bias).argmax(1) == labels).float().mean().item()


def knn_accuracy(reference_codes: torch.Tensor, reference_labels: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor, neighbours: int = 5) -> float:
    """Majority vote of the nearest reference codes (Euclidean), in chunks to bound memory."""
    correct = 0
    for start in range(0, len(codes), 1000):
        distances = torch.cdist(codes[start : start + 1000], reference_codes)
        nearest = distances.topk(neighbours, largest=False).indices
        votes = F.one_hot(reference_labels[nearest], N_CLASSES).sum(1).float()
        votes += 1e-3 * F.one_hot(reference_labels[nearest[:, 0]], N_CLASSES)  # ties go to the nearest
        correct += (votes.argmax(1) == labels[start : start + 1000]).sum().item()
    return correct / len(codes)


def auroc(inlier_scores: torch.Tensor, outlier_scores: torch.Tensor) -> float:
    """Probability that a random outlier scores higher than a random inlier (ties count half)."""
    scores = torch.cat([inlier_scores, outlier_scores]).double()
    ranks = _average_ranks(scores)
    n_in, n_out = len(inlier_scores), len(outlier_scores)
    rank_sum_out = ranks[n_in:].sum().item()
    return (rank_sum_out - n_out * (n_out + 1) / 2) / (n_in * n_out)


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    order = values.argsort()
    sorted_values = values[order]
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(1, len(values) + 1, dtype=values.dtype)
    unique, inverse, counts = torch.unique(sorted_values, return_inverse=True, return_counts=True)
    if len(unique) < len(values):  # average the ranks within each group of ties
        rank_sums = torch.zeros(len(unique), dtype=values.dtype).index_add_(0, inverse, torch.arange(1, len(values) + 1, dtype=values.dtype))
        ranks[order] = (rank_sums / counts)[inverse]
    return ranks


def held_out_quantiles(values: torch.Tensor, n: int = ERROR_QUANTILE_COUNT) -> torch.Tensor:
    """Quantiles 0..1 of a distribution on held-out digits (the reconstruction error, each
    anomaly feature, the combined score, the verdict statistic): enough to read any percentile."""
    return torch.quantile(values.double(), torch.linspace(0, 1, n, dtype=torch.float64)).float()


MAX_DISTANCE_REFERENCE_CODES = 10_000  # training codes kept for the distance score (1.15 MB for 9,000 at k = 32)


def probe_probabilities(weight: torch.Tensor, bias: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    return torch.softmax(codes @ weight.T + bias, dim=1)


@torch.inference_mode()
def encode_inner(autoencoder: Autoencoder, images: torch.Tensor, batch_size: int = BATCH_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes, the encoder's last hidden layer) of each image: what the inner distance reads."""
    autoencoder.eval()
    codes, inner = [], []
    for start in range(0, len(images), batch_size):
        code, hidden = autoencoder.encode_with_inner(images[start : start + batch_size].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float())
        codes.append(code)
        inner.append(hidden)
    if not codes:
        return torch.zeros(0, autoencoder.latent_dim), torch.zeros(0, 0)
    return torch.cat(codes), torch.cat(inner)


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


DETECTOR_HIDDEN = 64
DETECTOR_ROUNDS = 2  # non-digits made from each training digit
DETECTOR_MAX_STEPS = 1500  # Adam steps of 512 codes: 3000 cost 3 s at the end of fit for no better detector
MAX_RANDOM_STROKES = 10_000  # random pen drawings (as many as training digits, up to this)
RECONSTRUCTION_OPINION_MARGIN = 0.01  # of the calibration characters flagged (8 of 780)


def fit_code_detector(autoencoder: Autoencoder, train_images: torch.Tensor, train_labels: torch.Tensor, train_codes: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """A small network from the code to "not a digit", trained on the training digits' codes
    against the codes of non-digits made from them (``non_digits_from``: mirrored, turned, cut
    and overlaid, two per digit) and of random pen strokes (``random_strokes``, one per digit).
    Never shown the near-OOD benchmark, so the combiner can weigh it fairly on the benchmark's
    calibration half. Returns its table (plain tensors)."""
    generator = torch.Generator().manual_seed(seed)
    images = train_images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float()
    labels = train_labels.long()
    made = [non_digits_from(images, labels, generator) for _ in range(DETECTOR_ROUNDS)] + [random_strokes(min(len(images), MAX_RANDOM_STROKES), seed)]
    outlier_codes = torch.cat([encode_dataset(autoencoder, batch, reconstruct=False)[0] for batch in made])
    codes = torch.cat([train_codes, outlier_codes]).float()
    targets = torch.cat([torch.zeros(len(train_codes)), torch.ones(len(outlier_codes))])
    sample_weight = torch.where(targets == 1, len(train_codes) / max(len(outlier_codes), 1), 1.0)
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
    outlier_codes: torch.Tensor,
    outlier_errors: torch.Tensor,
    outlier_inner: torch.Tensor,
    inner_table: dict[str, torch.Tensor],
    detector_table: dict[str, torch.Tensor],
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """The combined anomaly score's table: reference codes, the inner distance's Gaussian, the
    code detector, each feature's
    held-out quantiles, and a class-balanced logistic regression from the standardised features
    to "not a digit", fitted on held-out digits (0) against the near-OOD calibration set (1),
    never on test data.
    """
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(len(train_codes), generator=generator)[:MAX_DISTANCE_REFERENCE_CODES]
    reference = train_codes[keep].contiguous()
    reference_numpy = reference.numpy()
    detector = CodeDetector.from_table({name: value.numpy() for name, value in detector_table.items()})
    inner_distance = InnerDistance.from_table({name: value.numpy() for name, value in inner_table.items()})

    def features(codes: torch.Tensor, errors: torch.Tensor, inner: torch.Tensor) -> np.ndarray:
        return anomaly_features(errors.numpy(), codes.numpy(), probe_probabilities(*probe, codes).numpy(), reference_numpy, None, inner.numpy(), inner_distance, detector)

    val_features = features(val_codes, val_errors, val_inner)
    outlier_features = features(outlier_codes, outlier_errors, outlier_inner)
    features = torch.from_numpy(np.concatenate([val_features, outlier_features]))
    targets = torch.cat([torch.zeros(len(val_features)), torch.ones(len(outlier_features))]).double()
    mean, std = features[: len(val_features)].mean(0), features[: len(val_features)].std(0).clamp_min(1e-6)
    standard = (features - mean) / std
    weight = torch.zeros(len(ANOMALY_FEATURES), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")
    balance = torch.tensor(len(val_features) / max(len(outlier_features), 1), dtype=torch.float64)

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(standard @ weight + bias, targets, pos_weight=balance) + 1e-3 * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    weight, bias = weight.detach(), bias.detach()
    val_scores = ((torch.from_numpy(val_features) - mean) / std) @ weight + bias
    feature_quantiles = torch.stack([held_out_quantiles(torch.from_numpy(val_features[:, i])) for i in range(len(ANOMALY_FEATURES))])
    score_quantiles = held_out_quantiles(val_scores)
    # The verdict: the combined score alone, or also the reconstruction error's opinion
    # (AnomalyScorer.verdict_statistics) when that flags clearly more calibration characters
    # above the held-out digits' 99th percentile: a few of 780 either way is noise, and the
    # maximum ties everything beyond the held-out digits at the 100th percentile.
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


def fit_property_directions(train_codes: np.ndarray, train_properties: dict[str, np.ndarray], val_codes: np.ndarray, val_properties: dict[str, np.ndarray], ridge: float = 1e-2):
    """For each stroke property, the direction in code space along which it grows: the unit
    vector of a ridge regression from codes to the property over the training split, with its
    R^2 on the validation digits and the spread of the training codes along it (one slider
    unit). Returns ({name: direction (k,)}, {name: [R^2, spread]})."""
    codes = np.asarray(train_codes, dtype=np.float64)
    mean = codes.mean(axis=0)
    centred = codes - mean
    gram = centred.T @ centred + ridge * len(codes) * np.eye(codes.shape[1])
    val = np.asarray(val_codes, dtype=np.float64) - mean
    directions, quality = {}, {}
    for name, values in train_properties.items():
        target = np.asarray(values, dtype=np.float64)
        weights = np.linalg.solve(gram, centred.T @ (target - target.mean()))
        norm = np.linalg.norm(weights)
        if not np.isfinite(norm) or norm == 0:
            continue
        predicted = val @ weights + target.mean()
        truth = np.asarray(val_properties[name], dtype=np.float64)
        r2 = 1.0 - float(((truth - predicted) ** 2).sum()) / max(float(((truth - truth.mean()) ** 2).sum()), 1e-12)
        direction = weights / norm
        directions[name] = torch.from_numpy(direction).float()
        quality[name] = torch.tensor([r2, float((centred @ direction).std())], dtype=torch.float32)
    return directions, quality


def compute_statistics(
    autoencoder: Autoencoder,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    val_images: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    dataset: dict,
    train_properties: dict[str, np.ndarray] | None = None,
    progress: Progress | None = None,
) -> dict:
    """Everything the app reads from a checkpoint besides the weights.

    ``train_properties`` (``measure(train_images)``) depends on the data only: pass it when
    annotating several checkpoints of one run, so it is measured once.
    """
    train_codes, train_inner = encode_inner(autoencoder, train_images)
    if progress is not None:
        progress.update(len(train_images))
    val_codes, val_errors, _ = encode_dataset(autoencoder, val_images, progress=progress)
    test_codes, test_errors, test_bce = encode_dataset(autoencoder, test_images, progress=progress)
    probe_weight, probe_bias = fit_linear_probe(train_codes, train_labels)
    if train_properties is None:
        train_properties = measure(train_images.numpy())
    property_correlations = correlations(train_codes.numpy(), train_properties)
    directions, direction_quality = fit_property_directions(train_codes.numpy(), train_properties, val_codes.numpy(), measure(val_images.numpy()))
    near_ood = load_near_ood("calibration")
    outlier_codes, outlier_errors, _ = encode_dataset(autoencoder, torch.from_numpy(near_ood.images).unsqueeze(1))
    detector = fit_code_detector(autoencoder, train_images, train_labels, train_codes)
    anomaly = fit_anomaly_scorer(
        train_codes, val_codes, val_errors, encode_inner(autoencoder, val_images)[1], (probe_weight, probe_bias),
        outlier_codes, outlier_errors, encode_inner(autoencoder, torch.from_numpy(near_ood.images).unsqueeze(1))[1],
        fit_inner_distance(train_inner, train_labels), detector,
    )  # fmt: skip
    metrics = {
        "test_mse": float(test_errors.mean()),
        "test_bce": float(test_bce.mean()),
        "probe_accuracy": probe_accuracy(probe_weight, probe_bias, test_codes, test_labels),
        "knn_accuracy": knn_accuracy(train_codes, train_labels, test_codes, test_labels),
        "n_test": len(test_images),
    }
    for name, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise FloatingPointError(f"{name} is not finite; the model diverged")
    return {
        "latent_mean": train_codes.mean(0),
        "latent_std": train_codes.std(0).clamp_min(1e-6),
        "error_quantiles": held_out_quantiles(val_errors),
        "probe_weight": probe_weight,
        "probe_bias": probe_bias,
        "dimension_properties": {name: torch.from_numpy(values).float() for name, values in property_correlations.items()},
        "anomaly": anomaly,
        "property_directions": directions,
        "direction_quality": direction_quality,
        "test_metrics": metrics,
        "dataset": dataset,
    }
