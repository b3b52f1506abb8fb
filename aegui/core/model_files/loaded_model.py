"""A model file read, validated and rebuilt: the network the app explores.

The file opened is the file named: an exported ``X.safetensors`` beside ``X.ckpt`` is a file of
its own, opened when it is the one chosen. What was read is checked against the schema and the
statistics layout before the app's own network is built and filled with
``load_state_dict(strict=True)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from aegui.core.errors import CheckpointError
from aegui.core.model_files import reader
from aegui.core.model_files.schema import checkpoint_table, expected_weights, validated_hparams, validated_weights
from aegui.core.model_files.statistics_codec import ModelStatistics, table_from_flat, validated_statistics
from aegui.core.model_format import FORMAT_KEY, FORMAT_VERSION, STATE_PREFIX, STATISTICS_KEY
from aegui.core.networks import Autoencoder, build_autoencoder
from aegui.core.quoting import clean_text

SAFETENSORS_STATISTICS_PREFIX = "statistics."


@dataclass(frozen=True)
class LoadedModel:
    autoencoder: Autoencoder
    hparams: dict[str, Any]
    statistics: ModelStatistics | None
    path: Path
    file_format: str
    epoch: int | None = None  # epochs trained, counted from 1 (Lightning's 'epoch' + 1); None if not recorded

    @property
    def latent_dim(self) -> int:
        return self.autoencoder.latent_dim

    @property
    def name(self) -> str:
        return self.path.stem


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read, validate and rebuild a model file; raise CheckpointError if it cannot be used."""
    path = Path(path).expanduser()
    with reader.refusing_surprises(path):
        kind, data = reader.read_model_bytes(path)
        if kind == "safetensors":
            return model_from_checkpoint_dict(_checkpoint_from_safetensors(*reader.read_safetensors(path, data)), path, "safetensors")
        return model_from_checkpoint_dict(reader.unpickle_archive(data, path), path, "Lightning checkpoint")


def model_from_checkpoint_dict(checkpoint: Any, path: Path, file_format: str) -> LoadedModel:
    """Validate a loaded checkpoint table and rebuild its network."""
    checkpoint = checkpoint_table(checkpoint, path)
    hparams = validated_hparams(checkpoint.get("hyper_parameters"))
    weights = validated_weights(checkpoint.get("state_dict"), expected_weights(hparams), STATE_PREFIX)
    statistics = validated_statistics(checkpoint.get(STATISTICS_KEY), hparams["latent_dim"])
    autoencoder = build_autoencoder(hparams)
    try:
        autoencoder.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"The weights do not fit the network: {clean_text(str(error))}") from None
    autoencoder.eval()
    autoencoder.requires_grad_(False)
    # Convolutions over channels-last weights run faster on CPUs, for one image and for
    # batches alike.
    autoencoder.to(memory_format=torch.channels_last)
    return LoadedModel(autoencoder, hparams, statistics, path, file_format, _epochs_trained(checkpoint.get("epoch")))


def _epochs_trained(value: Any) -> int | None:
    """Lightning records the index of the epoch a checkpoint was saved in (from 0); the app
    counts epochs from 1 everywhere. Anything but a plausible whole number is not shown."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**7:
        return value + 1
    return None


def _checkpoint_from_safetensors(tensors: dict[str, torch.Tensor], sidecar: dict) -> dict[str, Any]:
    """The checkpoint table an exported pair stands for: weights and statistic tensors from the
    safetensors file, hyperparameters and plain statistics from the sidecar (``writer``)."""
    state_dict = {name: value for name, value in tensors.items() if not name.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    flat = {name[len(SAFETENSORS_STATISTICS_PREFIX) :]: value for name, value in tensors.items() if name.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    statistics = None
    if flat:
        side_statistics = sidecar.get("statistics") if isinstance(sidecar.get("statistics"), dict) else {}
        statistics = table_from_flat(flat, side_statistics)
    return {
        FORMAT_KEY: sidecar.get(FORMAT_KEY, FORMAT_VERSION),
        "hyper_parameters": sidecar.get("hyper_parameters"),
        "state_dict": state_dict,
        STATISTICS_KEY: statistics,
    }
