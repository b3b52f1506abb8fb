"""A training run's progress snapshot, read with every guard of a checkpoint, then checked.

``read_weights_only_file`` does the reading (regular file, size budget, sniffed format, opcode
scan, weights-only unpickling); here the codes, labels and network are checked for shape before
any value is copied. A refusal is one ``CheckpointError`` line naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from aegui.core.errors import CheckpointError
from aegui.core.model_format import HYPERPARAMETERS
from aegui.core.model_files.reader import read_weights_only_file, shown_name
from aegui.core.model_files.schema import checked_tensor, expected_weights, table, validated_hparams, validated_weights
from aegui.core.networks import Autoencoder, build_autoencoder

MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # 1,000 codes and a network: a few MB as trained
MAX_SNAPSHOT_DIGITS = 100_000  # codes per snapshot (the trainer writes 1,000)
LABEL_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


@dataclass(frozen=True)
class Snapshot:
    """One epoch of a training run: the reference digits' codes (n, k) and labels (n,), and the
    autoencoder at that epoch when the file holds its weights (None otherwise)."""

    codes: Any  # numpy float64 (n, k), finite
    labels: Any  # numpy int64 (n,)
    network: Autoencoder | None


def read_snapshot(path: str | os.PathLike) -> Snapshot:
    path = Path(path)
    name = shown_name(path)
    try:
        snapshot = table(read_weights_only_file(path, MAX_SNAPSHOT_BYTES))
        if snapshot is None:
            raise CheckpointError(f"{name} is not a progress snapshot (it holds no table).")
        codes, labels = snapshot.get("codes"), snapshot.get("labels")
        if type(codes) is not torch.Tensor or type(labels) is not torch.Tensor:
            raise CheckpointError(f"{name} is not a progress snapshot (it has no codes and labels tensors).")
        size = tuple(int(n) for n in codes.shape)
        if len(size) != 2 or not 1 <= size[0] <= MAX_SNAPSHOT_DIGITS or not 1 <= size[1] <= HYPERPARAMETERS["latent_dim"].high:
            raise CheckpointError(f"{name}'s codes have shape {str(size)[:60]}; a snapshot holds (digits ≤ {MAX_SNAPSHOT_DIGITS:,}, k ≤ {HYPERPARAMETERS['latent_dim'].high}).")
        codes = checked_tensor(codes, f"{name}'s codes", size).double().numpy()
        labels = _checked_labels(labels, size[0], name)
        network = None
        if "hyper_parameters" in snapshot:
            hparams = validated_hparams(snapshot.get("hyper_parameters"))
            if hparams["latent_dim"] != size[1]:
                raise CheckpointError(f"{name}'s codes have k = {size[1]} but its network has latent_dim {hparams['latent_dim']}.")
            weights = validated_weights(snapshot.get("state_dict"), expected_weights(hparams), "")
            network = build_autoencoder(hparams)
            network.load_state_dict(weights, strict=True)
            network.eval().requires_grad_(False)
        return Snapshot(codes, labels, network)
    except CheckpointError as error:
        message = str(error)
        raise CheckpointError(message if message.startswith(name) else f"{name}: {message}") from None
    except (MemoryError, RecursionError, RuntimeError, ValueError, TypeError) as error:
        raise CheckpointError(f"{name} could not be read as a progress snapshot ({type(error).__name__}).") from None


def _checked_labels(value: torch.Tensor, count: int, name: str):
    """The labels as numpy int64, after the checks that need no copy (as for weights)."""
    if value.layout != torch.strided or value.is_nested or value.device.type != "cpu" or value.dtype not in LABEL_DTYPES:
        raise CheckpointError(f"{name}'s labels are not a dense tensor of integers.")
    if tuple(int(n) for n in value.shape) != (count,):
        raise CheckpointError(f"{name}'s labels have shape {str(tuple(value.shape))[:60]}, expected ({count},).")
    storage_elements = torch.Tensor.untyped_storage(value).nbytes() // torch.Tensor.element_size(value)
    span = torch.Tensor.storage_offset(value) + (count - 1) * abs(torch.Tensor.stride(value)[0]) + 1
    if span > storage_elements:
        raise CheckpointError(f"{name}'s labels claim {count:,} values over a storage of {storage_elements:,}.")
    return torch.Tensor.to(value, dtype=torch.int64, copy=True).numpy()
