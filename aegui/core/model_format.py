"""The checkpoint contract shared by the app and the trainer, written once.

A checkpoint is a table of plain data: ``hyper_parameters`` (the schema below), a
``state_dict`` whose autoencoder weights start with ``STATE_PREFIX``, and an
``aegui_statistics`` table (``STATISTICS_SCHEMA``) that the app reads to explain codes.
The trainer writes what this module describes; the app's loader accepts nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aegui.core.hyperparameters import ARCHITECTURES, DEFAULTS, HYPERPARAMETERS, RECONSTRUCTION_LOSSES, Hyperparameter  # noqa: F401 (the checkpoint schema)

IMAGE_SIZE = 28  # MNIST digits are 28 x 28 pixels
N_CLASSES = 10  # digits 0-9
ERROR_QUANTILE_COUNT = 1001  # quantiles 0, 0.001, ..., 1 of the held-out reconstruction error

FORMAT_KEY = "aegui_format"
FORMAT_VERSION = 1
STATISTICS_KEY = "aegui_statistics"
STATE_PREFIX = "autoencoder."
TRAINING_ONLY_PREFIXES = ("classifier.",)  # heads used in training only, ignored by the app
CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth", ".safetensors")

# The hyperparameters and their allowed values live in one table (aegui.core.hyperparameters).


def network_hparams(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters that define the network, with defaults filled in and checked.

    Raises ValueError naming the first value that is out of range, before any weights exist.
    """
    params = {name: hparams.get(name, h.default) for name, h in HYPERPARAMETERS.items() if h.defines_network}
    for name, value in params.items():
        problem = HYPERPARAMETERS[name].problem(value)
        if problem:
            raise ValueError(problem)
    return params


# The statistics table: latent vectors of length k, and the rest.
LATENT_VECTOR_STATISTICS = ("latent_mean", "latent_std")  # older files also hold latent_min/max: ignored


# Test metrics a checkpoint stores (and ``aegui-train evaluate`` reports): label and the one
# rounding used wherever aegui shows them (app, evaluate, fit's summary, README tables).
TEST_METRICS: dict[str, tuple[str, int]] = {
    "test_mse": ("test MSE / pixel", 5),
    "test_bce": ("test BCE / pixel", 4),
    "probe_accuracy": ("linear probe accuracy", 3),
    "knn_accuracy": ("5-NN accuracy", 3),
    "ood_auroc_fashion": ("AUROC vs Fashion-MNIST", 4),
}


def format_metric(name: str, value: float) -> str:
    """``value`` rounded as aegui shows metric ``name`` everywhere."""
    return f"{value:.{TEST_METRICS[name][1]}f}"
