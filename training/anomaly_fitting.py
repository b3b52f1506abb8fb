"""Fitting the combined anomaly score a checkpoint carries (``aegui.core.anomaly`` reads it):
the inner distance's Gaussian, the code detector trained against made-up non-digits, and the
logistic combiner calibrated on held-out digits against the near-OOD calibration set."""

from __future__ import annotations

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
from training.metrics import encode_dataset, held_out_quantiles, probe_probabilities
from training.non_digits import non_digits_from, random_strokes

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
