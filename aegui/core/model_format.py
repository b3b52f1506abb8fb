"""The checkpoint contract shared by the app and the trainer, written once.

A checkpoint is a table of plain data: ``hyper_parameters`` (the schema below), a
``state_dict`` whose autoencoder weights start with ``STATE_PREFIX``, and an
``aegui_statistics`` table (``STATISTICS_SCHEMA``) that the app reads to explain codes.
The trainer writes what this module describes; the app's loader accepts nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aegui.core.noise import input_noise_problem
from aegui.core.quoting import quote

IMAGE_SIZE = 28  # MNIST digits are 28 x 28 pixels
N_CLASSES = 10  # digits 0-9
ERROR_QUANTILE_COUNT = 1001  # quantiles 0, 0.001, ..., 1 of the held-out reconstruction error

FORMAT_KEY = "aegui_format"
FORMAT_VERSION = 1
STATISTICS_KEY = "aegui_statistics"
STATE_PREFIX = "autoencoder."
TRAINING_ONLY_PREFIXES = ("classifier.",)  # heads used in training only, ignored by the app
CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth", ".safetensors")

ARCHITECTURES = ("dense", "conv")
RECONSTRUCTION_LOSSES = ("bce", "mse")


@dataclass(frozen=True)
class Hyperparameter:
    """One init argument of the training module, as a checkpoint stores it."""

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    defines_network: bool = False
    check: Callable[[Any], str | None] | None = None  # a further rule for a text value

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None when it is."""
        accepted = (int, float) if self.kind is float else (self.kind,)
        if not isinstance(value, accepted) or (isinstance(value, bool) and self.kind is not bool):
            return f"{self.name} must be {self.kind.__name__}, got {quote(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name} must be finite, got {value}"
        if self.choices is not None and value not in self.choices:
            return f"{self.name} must be one of {', '.join(self.choices)}, got {quote(value)}"
        if self.low is not None and not self.low <= value <= self.high:
            return f"{self.name} must be from {self.low:g} to {self.high:g}, got {quote(value)}"
        if self.check is not None:
            return self.check(value)
        return None


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    h.name: h
    for h in (
        Hyperparameter("architecture", str, "conv", choices=ARCHITECTURES, defines_network=True),
        Hyperparameter("latent_dim", int, 32, 1, 256, defines_network=True),
        Hyperparameter("hidden_dim", int, 256, 4, 4096, defines_network=True),
        Hyperparameter("channels", int, 16, 1, 256, defines_network=True),
        Hyperparameter("hidden_layers", int, 1, 1, 4, defines_network=True),
        Hyperparameter("variational", bool, False, defines_network=True),
        Hyperparameter("beta", float, 1.0, 0.0, 1e6),
        Hyperparameter("learning_rate", float, 3e-3, 0.0, math.inf),
        Hyperparameter("weight_decay", float, 1e-4, 0.0, 10.0),
        Hyperparameter("augmentation", float, 0.0, 0.0, 10.0),
        Hyperparameter("classifier_weight", float, 0.0, 0.0, 1e3),
        Hyperparameter("outlier_weight", float, 0.0, 0.0, 1e3),
        Hyperparameter("reconstruction_loss", str, "bce", choices=RECONSTRUCTION_LOSSES),
        # denoising: noise added to each training input, the clean digit the target
        Hyperparameter("input_noise", str, "", check=input_noise_problem),
    )
}
DEFAULTS: dict[str, Any] = {name: h.default for name, h in HYPERPARAMETERS.items()}


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
