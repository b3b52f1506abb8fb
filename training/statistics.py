"""What a checkpoint stores so the app can explain a latent code: ``compute_statistics`` runs
the measuring passes (``training.metrics``), fits the probe, the named directions and the
anomaly score (``training.anomaly_fitting``) and returns the statistics table.

Every value produced is a tensor or a primitive, so a checkpoint carrying it still loads
weights-only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from aegui.core.networks import Autoencoder
from training.anomaly_fitting import calibration_groups, fit_anomaly_scorer, fit_code_detector, fit_inner_distance, style_aware_inner
from training.metrics import Progress, encode_dataset, encode_inner, fit_linear_probe, held_out_quantiles, metrics_on_test_split
from training.stroke_properties import correlations, measure

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
    detector = fit_code_detector(autoencoder, train_images, train_labels, train_codes)
    anomaly = fit_anomaly_scorer(
        train_codes, val_codes, val_errors, encode_inner(autoencoder, val_images)[1], (probe_weight, probe_bias),
        calibration_groups(autoencoder), fit_inner_distance(*style_aware_inner(autoencoder, train_images, train_labels, train_inner)), detector,
    )  # fmt: skip
    metrics = metrics_on_test_split(test_codes, test_errors, test_bce, test_labels, (probe_weight, probe_bias), train_codes, train_labels)
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
