"""Everything a checkpoint stores besides its weights, computed at the end of ``fit`` and by
``annotate``: the code's ranges, the probe, dimension labels, named directions, the anomaly
tables (``training.anomaly_fit``) and test figures."""

from __future__ import annotations

import math

import numpy as np
import torch

from aegui.core.networks import Autoencoder
from training.anomaly_fit import fit_anomaly_tables
from training.statistics import Progress, encode_dataset, encode_inner, held_out_quantiles, fit_linear_probe, fit_property_directions, knn_accuracy, probe_accuracy
from training.stroke_properties import correlations, measure


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
    anomaly = fit_anomaly_tables(autoencoder, train_images, train_labels, train_codes, train_inner, val_images, val_codes, val_errors, (probe_weight, probe_bias))
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
