"""The only reader of model files: refuse anything unsafe or malformed, rebuild the network.

A checkpoint may come from anywhere, so reading one never runs code from it: the bytes are
read once (size-capped), their format is sniffed before any unpickling, ``torch.load`` is
called with ``weights_only=True`` explicitly (an environment variable cannot undo that) and
no extra globals are allowed. What was loaded is then checked against a schema before the
app's own network is built and filled with ``load_state_dict(strict=True)``.

Every refusal is a ``CheckpointError`` whose message names the problem for a person.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from aegui.core.errors import CheckpointError
from aegui.core.model_format import (
    FORMAT_KEY,
    FORMAT_VERSION,
    HYPERPARAMETERS,
    LATENT_VECTOR_STATISTICS,
    N_CLASSES,
    STATE_PREFIX,
    STATISTICS_KEY,
    TRAINING_ONLY_PREFIXES,
)  # fmt: skip
from aegui.core.networks import Autoencoder, build_autoencoder

MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024
MAX_SIDECAR_BYTES = 1024 * 1024
SAFETENSORS_STATISTICS_PREFIX = "statistics."


@dataclass(frozen=True)
class ModelStatistics:
    """What training measured about the model, as stored in its checkpoint."""

    latent_mean: torch.Tensor
    latent_std: torch.Tensor
    latent_min: torch.Tensor
    latent_max: torch.Tensor
    error_quantiles: torch.Tensor
    probe_weight: torch.Tensor | None
    probe_bias: torch.Tensor | None
    test_metrics: dict[str, float | int | None] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    dimension_properties: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedModel:
    autoencoder: Autoencoder
    hparams: dict[str, Any]
    statistics: ModelStatistics | None
    path: Path
    file_format: str

    @property
    def latent_dim(self) -> int:
        return self.autoencoder.latent_dim

    @property
    def name(self) -> str:
        return self.path.stem


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read, validate and rebuild a model file; raise CheckpointError if it cannot be used.

    For ``X.ckpt`` with an exported ``X.safetensors`` + ``X.json`` beside it, the safetensors
    pair is read instead: it holds only tensors and JSON, never pickled data.
    """
    path = Path(path).expanduser()
    if path.suffix != ".safetensors":
        sibling = path.with_suffix(".safetensors")
        if sibling.is_file() and sibling.with_suffix(".json").is_file():
            path = sibling
    data = _read_file(path, MAX_CHECKPOINT_BYTES)
    kind = sniff_format(data)
    if kind == "safetensors":
        return _load_safetensors(path, data)
    checkpoint = _unpickle_weights_only(path, data)
    return model_from_checkpoint_dict(checkpoint, path, "Lightning checkpoint")


def _read_file(path: Path, limit: int) -> bytes:
    """All bytes of ``path``, read once, refusing folders, huge files and files being written."""
    if not path.exists():
        raise CheckpointError(f"{path} does not exist.")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a model file.")
    try:
        before = path.stat()
        if before.st_size == 0:
            raise CheckpointError(f"{path.name} is empty (0 bytes).")
        if before.st_size > limit:
            raise CheckpointError(f"{path.name} is {before.st_size / 2**20:.0f} MB; aegui refuses files over {limit / 2**20:.0f} MB.")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        after = path.stat()
    except PermissionError:
        raise CheckpointError(f"No permission to read {path}.") from None
    except OSError as error:
        raise CheckpointError(f"Could not read {path}: {error.strerror or error}.") from None
    if len(data) > limit:
        raise CheckpointError(f"{path.name} grew past {limit / 2**20:.0f} MB while it was read.")
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
        raise CheckpointError(f"{path.name} changed while it was being read (is it still being written?). Try again once it is complete.")
    return data


def sniff_format(data: bytes) -> str:
    """'torch-zip' or 'safetensors'; any other content is refused with a message saying what it is."""
    head = data[:64]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        _check_torch_archive(data)
        return "torch-zip"
    if len(data) >= 10:
        header_length = int.from_bytes(data[:8], "little")
        if 2 <= header_length <= len(data) - 8 and data[8:9] == b"{":
            return "safetensors"
    stripped = data[:512].lstrip().lower()
    if stripped.startswith(b"version https://git-lfs"):
        raise CheckpointError("This is a Git LFS pointer, not the model itself: fetch the real file (git lfs pull) and open that.")
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise CheckpointError("This is a web page (HTML), not a model file; the download probably saved the page around the file.")
    if head[:1] == b"\x80":
        raise CheckpointError("This is a legacy pickle file. aegui only opens checkpoints in PyTorch's zip format or safetensors, because plain pickles can run code.")
    if head[:2] == b"\x1f\x8b":
        raise CheckpointError("This is a gzip-compressed file, not a model file; decompress it first.")
    raise CheckpointError("This is not a PyTorch checkpoint or a safetensors file (its content is not recognised).")


def _check_torch_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            broken = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as error:
        raise CheckpointError(f"The archive is damaged or truncated ({error}).") from None
    if broken is not None:
        raise CheckpointError(f"The archive is damaged: its entry {broken} fails its checksum.")
    if any("/code/" in name or name.endswith("/constants.pkl") for name in names):
        raise CheckpointError("This is a TorchScript archive (a compiled program), not a training checkpoint; aegui does not run TorchScript.")
    if not any(name.endswith("data.pkl") for name in names):
        raise CheckpointError("This zip archive is not a PyTorch checkpoint (it has no data.pkl record).")


def _unpickle_weights_only(path: Path, data: bytes) -> Any:
    try:
        # weights_only=True explicitly: only tensors and primitive containers can be built;
        # TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot override an explicit argument.
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "forbidden content"
        raise CheckpointError(f"{path.name} contains Python objects other than tensors and plain data, which aegui will not load ({first_line[:200]}).") from None
    except (RuntimeError, EOFError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, OSError) as error:
        raise CheckpointError(f"{path.name} could not be read as a PyTorch checkpoint ({str(error).splitlines()[0][:200] if str(error) else type(error).__name__}).") from None


def _validated_hparams(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CheckpointError("The checkpoint has no hyper_parameters table, so aegui cannot tell which network it holds.")
    # Only names in the schema are read; anything else in a file (for example keys naming
    # classes to instantiate) is ignored, never acted on.
    hparams: dict[str, Any] = {}
    for name, schema in HYPERPARAMETERS.items():
        if name not in raw:
            continue
        problem = schema.problem(raw[name])
        if problem:
            raise CheckpointError(f"Hyperparameter {problem}.")
        hparams[name] = raw[name]
    if "latent_dim" not in hparams:
        raise CheckpointError("The checkpoint does not say its latent size (hyperparameter latent_dim).")
    for name, schema in HYPERPARAMETERS.items():
        if schema.defines_network:
            hparams.setdefault(name, schema.default)
    return hparams


def _build_network(hparams: dict[str, Any]) -> tuple[Autoencoder, dict[str, torch.Size]]:
    """Check the hyperparameters, then learn the expected weight shapes without allocating them."""
    try:
        with torch.device("meta"):
            skeleton = build_autoencoder(hparams)
    except ValueError as error:
        raise CheckpointError(f"The checkpoint describes a network aegui cannot build: {error}.") from None
    return skeleton, {name: tensor.shape for name, tensor in skeleton.state_dict().items()}


def _validated_weights(raw: Any, expected: dict[str, torch.Size], prefix: str) -> dict[str, torch.Tensor]:
    if not isinstance(raw, dict):
        raise CheckpointError("The checkpoint has no state_dict of weights.")
    weights = {}
    foreign = []
    for key, value in raw.items():
        if isinstance(key, str) and key.startswith(prefix):
            weights[key[len(prefix) :]] = value
        elif isinstance(key, str) and key.startswith(TRAINING_ONLY_PREFIXES):
            continue
        else:
            foreign.append(str(key))
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing and not weights:
        example = f" (it has weights such as {foreign[0]!r:.80})" if foreign else ""
        raise CheckpointError(f"This checkpoint holds some other model, not an aegui autoencoder{example}.")
    if missing:
        raise CheckpointError(f"The checkpoint is missing {len(missing)} weight(s) the network needs, e.g. {prefix}{missing[0]}.")
    if extra or foreign:
        first = (prefix + extra[0]) if extra else foreign[0]
        raise CheckpointError(f"The checkpoint has {len(extra) + len(foreign)} weight(s) this network does not have, e.g. {first!r:.80}.")
    for name, shape in expected.items():
        tensor = weights[name]
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"Weight {prefix}{name} is not a tensor.")
        if tensor.shape != shape:
            raise CheckpointError(f"Weight {prefix}{name} has shape {tuple(tensor.shape)}, expected {tuple(shape)}.")
        if not tensor.is_floating_point():
            raise CheckpointError(f"Weight {prefix}{name} has dtype {tensor.dtype}, expected floating point.")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"Weight {prefix}{name} contains NaN or infinite values.")
        weights[name] = tensor.float()
    return weights


def _tensor(statistics: dict, name: str, shape: tuple[int, ...] | None, required: bool = True) -> torch.Tensor | None:
    value = statistics.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise CheckpointError(f"Statistic {name} is missing or not a floating-point tensor.")
    if shape is not None and tuple(value.shape) != shape:
        raise CheckpointError(f"Statistic {name} has shape {tuple(value.shape)}, expected {shape}.")
    if not torch.isfinite(value).all():
        raise CheckpointError(f"Statistic {name} contains NaN or infinite values.")
    return value.float()


def _plain(value: Any, depth: int = 0) -> Any:
    """Keep only JSON-like data (str, numbers, bools, None, lists, str-keyed dicts)."""
    if depth > 4:
        return None
    if isinstance(value, (str, bool, int, type(None))):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:200] if isinstance(k, str)}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value[:200]]
    return None


def _validated_statistics(raw: Any, latent_dim: int) -> ModelStatistics | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise CheckpointError("The checkpoint's statistics are not a table.")
    vectors = {name: _tensor(raw, name, (latent_dim,)) for name in LATENT_VECTOR_STATISTICS}
    if not (vectors["latent_std"] > 0).all():
        raise CheckpointError("Statistic latent_std must be positive.")
    quantiles = _tensor(raw, "error_quantiles", None)
    if quantiles.ndim != 1 or len(quantiles) < 2 or (quantiles < 0).any() or (quantiles.diff() < 0).any():
        raise CheckpointError("Statistic error_quantiles must be a rising list of non-negative errors.")
    probe_weight = _tensor(raw, "probe_weight", (N_CLASSES, latent_dim), required=False)
    probe_bias = _tensor(raw, "probe_bias", (N_CLASSES,), required=probe_weight is not None)
    properties_raw = raw.get("dimension_properties") or {}
    properties = {}
    if isinstance(properties_raw, dict):
        for name in list(properties_raw)[:32]:
            if isinstance(name, str):
                properties[name] = _tensor(properties_raw, name, (latent_dim,))
    metrics = _plain(raw.get("test_metrics") or {})
    dataset = _plain(raw.get("dataset") or {})
    return ModelStatistics(
        error_quantiles=quantiles,
        probe_weight=probe_weight,
        probe_bias=probe_bias,
        test_metrics=metrics if isinstance(metrics, dict) else {},
        dataset=dataset if isinstance(dataset, dict) else {},
        dimension_properties=properties,
        **vectors,
    )


def model_from_checkpoint_dict(checkpoint: Any, path: Path, file_format: str) -> LoadedModel:
    """Validate a loaded checkpoint table and rebuild its network."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path.name} holds a {type(checkpoint).__name__}, not a checkpoint table.")
    version = checkpoint.get(FORMAT_KEY, FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path.name} uses aegui checkpoint format {version!r}; this aegui reads up to {FORMAT_VERSION}. Update aegui.")
    hparams = _validated_hparams(checkpoint.get("hyper_parameters"))
    _, expected = _build_network(hparams)
    weights = _validated_weights(checkpoint.get("state_dict"), expected, STATE_PREFIX)
    statistics = _validated_statistics(checkpoint.get(STATISTICS_KEY), hparams["latent_dim"])
    autoencoder = build_autoencoder(hparams)
    try:
        autoencoder.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"The weights do not fit the network: {str(error).splitlines()[0]}") from None
    autoencoder.eval()
    autoencoder.requires_grad_(False)
    # Convolutions over channels-last weights run faster on CPUs, for one image and for
    # batches alike.
    autoencoder.to(memory_format=torch.channels_last)
    return LoadedModel(autoencoder, hparams, statistics, path, file_format)


def _load_safetensors(path: Path, data: bytes) -> LoadedModel:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    sidecar_path = path.with_suffix(".json")
    if not sidecar_path.is_file():
        raise CheckpointError(f"{path.name} needs its JSON sidecar {sidecar_path.name} beside it (it holds the hyperparameters).")
    try:
        sidecar = json.loads(_read_file(sidecar_path, MAX_SIDECAR_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{sidecar_path.name} is not valid JSON ({error}).") from None
    if not isinstance(sidecar, dict):
        raise CheckpointError(f"{sidecar_path.name} must hold a JSON object.")
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path.name} is not a valid safetensors file ({error}).") from None
    state_dict = {k: v for k, v in tensors.items() if not k.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    statistics = None
    stat_tensors = {k[len(SAFETENSORS_STATISTICS_PREFIX) :]: v for k, v in tensors.items() if k.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    if stat_tensors:
        statistics = {k: v for k, v in stat_tensors.items() if "/" not in k}
        statistics["dimension_properties"] = {k.split("/", 1)[1]: v for k, v in stat_tensors.items() if k.startswith("dimension_properties/")}
        side_statistics = sidecar.get("statistics") if isinstance(sidecar.get("statistics"), dict) else {}
        statistics["test_metrics"] = side_statistics.get("test_metrics")
        statistics["dataset"] = side_statistics.get("dataset")
    checkpoint = {
        FORMAT_KEY: sidecar.get(FORMAT_KEY, FORMAT_VERSION),
        "hyper_parameters": sidecar.get("hyper_parameters"),
        "state_dict": state_dict,
        STATISTICS_KEY: statistics,
    }
    return model_from_checkpoint_dict(checkpoint, path, "safetensors")


def export_safetensors(model: LoadedModel, output_stem: Path) -> tuple[Path, Path]:
    """Write ``output_stem.safetensors`` (weights, statistic tensors) and ``.json`` (the rest)."""
    from safetensors.torch import save as save_safetensors

    output_stem = Path(output_stem)
    tensors = {STATE_PREFIX + k: v.contiguous() for k, v in model.autoencoder.state_dict().items()}
    sidecar: dict[str, Any] = {FORMAT_KEY: FORMAT_VERSION, "hyper_parameters": model.hparams}
    statistics = model.statistics
    if statistics is not None:
        for name in (*LATENT_VECTOR_STATISTICS, "error_quantiles", "probe_weight", "probe_bias"):
            value = getattr(statistics, name)
            if value is not None:
                tensors[SAFETENSORS_STATISTICS_PREFIX + name] = value.contiguous()
        for name, value in statistics.dimension_properties.items():
            tensors[f"{SAFETENSORS_STATISTICS_PREFIX}dimension_properties/{name}"] = value.contiguous()
        sidecar["statistics"] = {"test_metrics": statistics.test_metrics, "dataset": statistics.dataset}
    weights_path = output_stem.with_suffix(".safetensors")
    sidecar_path = output_stem.with_suffix(".json")
    weights_path.write_bytes(save_safetensors(tensors))
    sidecar_path.write_text(json.dumps(sidecar, indent=2) + "\n")
    return weights_path, sidecar_path


def slim_checkpoint(model: LoadedModel, weight_dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """A weights-only checkpoint table (no optimiser state) that ``load_model`` reads back.

    ``weight_dtype=torch.float16`` halves the file; the app computes in float32 either way.
    """
    table: dict[str, Any] = {
        FORMAT_KEY: FORMAT_VERSION,
        "hyper_parameters": dict(model.hparams),
        "state_dict": {STATE_PREFIX + k: v.to(weight_dtype).clone() for k, v in model.autoencoder.state_dict().items()},
    }
    statistics = model.statistics
    if statistics is not None:
        table[STATISTICS_KEY] = {
            **{name: getattr(statistics, name) for name in (*LATENT_VECTOR_STATISTICS, "error_quantiles")},
            **({"probe_weight": statistics.probe_weight, "probe_bias": statistics.probe_bias} if statistics.probe_weight is not None else {}),
            "dimension_properties": dict(statistics.dimension_properties),
            "test_metrics": dict(statistics.test_metrics),
            "dataset": dict(statistics.dataset),
        }
    return table
