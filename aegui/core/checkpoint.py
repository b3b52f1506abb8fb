"""The only reader of model files: refuse anything unsafe or malformed, rebuild the network.

A checkpoint may come from anywhere, so reading one never runs code from it: the bytes are
read once (size-capped), their format is sniffed before any unpickling, ``torch.load`` is
called with ``weights_only=True`` explicitly (an environment variable cannot undo that) and
no extra globals are allowed. What was loaded is then checked against a schema before the
app's own network is built and filled with ``load_state_dict(strict=True)``.

Every refusal is a ``CheckpointError`` whose message names the problem for a person.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import math
import os
import pickle
import re
import stat
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from aegui.core.anomaly import ANOMALY_FEATURES, FIRST_TABLE_FEATURES
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
from aegui.core.pickle_scan import MAX_PICKLE_BYTES, scan_pickle

logger = logging.getLogger("aegui")

MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 10_000
MAX_TABLE_ENTRIES = 10_000
MAX_TENSOR_ELEMENTS = MAX_CHECKPOINT_BYTES // 2  # as many float16 numbers as the largest file holds
MAX_QUANTILES = 100_000
MAX_INNER_WIDTH = 4096  # the encoder's last hidden layer (256 or 512 in the bundled models)
MAX_DETECTOR_HIDDEN = 1024  # the code detector's hidden width (64 as trained); a bound before any tensor is copied
MAX_ABS_VALUE = 1e6  # weights and statistics of trained networks stay many orders of magnitude below
MAX_TEXT = 200  # characters kept of any text from a file (names, descriptions, metric names)
MAX_PLAIN_NODES = 2_000
ALLOWED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
BLOCKED_GLOBAL = re.compile(r"GLOBAL ([\w.]+) was not an allowed global")
MAX_SIDECAR_BYTES = 1024 * 1024
SAFETENSORS_STATISTICS_PREFIX = "statistics."


@dataclass(frozen=True)
class ModelStatistics:
    """What training measured about the model, as stored in its checkpoint."""

    latent_mean: torch.Tensor
    latent_std: torch.Tensor
    error_quantiles: torch.Tensor
    probe_weight: torch.Tensor | None
    probe_bias: torch.Tensor | None
    test_metrics: dict[str, float | int | None] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    dimension_properties: dict[str, torch.Tensor] = field(default_factory=dict)
    anomaly: dict[str, torch.Tensor] | None = None  # the combined anomaly score's table (newer checkpoints)
    property_directions: dict[str, torch.Tensor] = field(default_factory=dict)  # unit vectors (k,) per stroke property
    direction_quality: dict[str, torch.Tensor] = field(default_factory=dict)  # [R^2 on validation digits, spread] per property


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

    The file opened is the file named: an exported ``X.safetensors`` beside ``X.ckpt`` is a
    file of its own, opened when it is the one chosen. An unexpected error inside the loader
    is logged and refused like any other problem, never shown raw.
    """
    path = Path(path).expanduser()
    try:
        data = _read_file(path, MAX_CHECKPOINT_BYTES)
        kind = sniff_format(data)
        if kind == "safetensors":
            return _load_safetensors(path, data)
        _scan_torch_archive(data, path.name)
        checkpoint = _unpickle_weights_only(path, data)
        return model_from_checkpoint_dict(checkpoint, path, "Lightning checkpoint")
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError(f"{_shown_name(path)} needs more memory than this computer can give it; aegui refuses it.") from None
    except RecursionError:
        raise CheckpointError(f"{_shown_name(path)} is nested too deeply to be a model file.") from None
    except Exception as error:
        logger.exception("unexpected error while loading %s", path)
        raise CheckpointError(f"{_shown_name(path)} could not be loaded: an unexpected {type(error).__name__} ({_clean_text(str(error))}).") from None


def _shown_name(path: Path) -> str:
    """The file's name as a message shows it: bounded, printable."""
    return _clean_text(path.name, 80) or "The file"


def _clean_text(text: str, limit: int = 160) -> str:
    """One line of printable text: no terminal escape codes or control characters, bounded."""
    text = ANSI_ESCAPE.sub("", str(text)[: limit * 4])
    lines = text.strip().splitlines()
    first = "".join(character if character.isprintable() else " " for character in (lines[0] if lines else ""))
    first = " ".join(first.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _read_file(path: Path, limit: int) -> bytes:
    """All bytes of ``path``, read once: only regular files, never blocking, size-capped, and
    refused if the file changes while it is read."""
    name = _shown_name(path)
    try:
        before = os.stat(path)
    except OSError as error:
        raise CheckpointError(_stat_problem(path, error)) from None
    if stat.S_ISDIR(before.st_mode):
        raise CheckpointError(f"{name} is a folder, not a model file.")
    if not stat.S_ISREG(before.st_mode):
        raise CheckpointError(f"{name} is not a regular file (it is a pipe, a device or a socket); aegui opens model files only.")
    if before.st_size == 0:
        raise CheckpointError(f"{name} is empty (0 bytes).")
    if before.st_size > limit:
        raise CheckpointError(f"{name} is {before.st_size / 2**20:.0f} MB; aegui refuses files over {limit / 2**20:.0f} MB.")
    try:
        # O_NONBLOCK: a file swapped for a pipe between stat and open cannot block the read.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(descriptor, "rb") as handle:
            opened = os.fstat(handle.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise CheckpointError(f"{name} is not a regular file; aegui opens model files only.")
            data = handle.read(limit + 1)
        after = os.stat(path)
    except CheckpointError:
        raise
    except PermissionError:
        raise CheckpointError(f"No permission to read {name}.") from None
    except OSError as error:
        raise CheckpointError(f"Could not read {name}: {error.strerror or type(error).__name__}.") from None
    if len(data) > limit:
        raise CheckpointError(f"{name} grew past {limit / 2**20:.0f} MB while it was read.")
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
        raise CheckpointError(f"{name} changed while it was being read (is it still being written?). Try again once it is complete.")
    return data


def _stat_problem(path: Path, error: OSError) -> str:
    name = _shown_name(path)
    if error.errno == errno.ENOENT:
        return f"{_clean_text(str(path), 200)} does not exist."
    if error.errno == errno.ELOOP:
        return f"{name} is a symbolic link that leads back to itself (a link loop), not a model file."
    if error.errno == errno.ENAMETOOLONG:
        return "The file name is longer than the file system allows."
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"No permission to read {name}."
    return f"Could not open {name}: {error.strerror or type(error).__name__}."


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
    """The archive's directory, checked before any entry is read: every entry's declared size
    and their total within the file cap, none encrypted, only stored or deflated entries."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                raise CheckpointError(f"The archive has {len(entries):,} entries; an aegui checkpoint has a few hundred at most.")
            declared = 0
            for entry in entries:
                if entry.flag_bits & 0x1:
                    raise CheckpointError(f"The archive's entry {_clean_text(entry.filename, 80)} is encrypted; a checkpoint never is.")
                if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise CheckpointError(f"The archive's entry {_clean_text(entry.filename, 80)} uses a compression PyTorch does not write.")
                declared += entry.file_size
                if entry.file_size > MAX_CHECKPOINT_BYTES or declared > MAX_CHECKPOINT_BYTES:
                    raise CheckpointError(f"The archive claims {declared / 2**20:,.0f} MB of content once unpacked; aegui refuses more than {MAX_CHECKPOINT_BYTES / 2**20:.0f} MB.")
            names = [entry.filename for entry in entries]
            broken = archive.testzip()
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError) as error:
        reason = _clean_text(str(error)) or type(error).__name__
        raise CheckpointError(f"The archive is damaged or truncated ({reason}).") from None
    if broken is not None:
        raise CheckpointError(f"The archive is damaged: its entry {_clean_text(broken, 80)} fails its checksum.")
    if any("/code/" in name or name.endswith("/constants.pkl") for name in names):
        raise CheckpointError("This is a TorchScript archive (a compiled program), not a training checkpoint; aegui does not run TorchScript.")
    if not any(name.endswith("data.pkl") for name in names):
        raise CheckpointError("This zip archive is not a PyTorch checkpoint (it has no data.pkl record).")


def _scan_torch_archive(data: bytes, file_name: str) -> None:
    """Every pickle stream in the archive, read as opcodes before torch unpickles it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if entry.filename.endswith(".pkl"):
                if entry.file_size > MAX_PICKLE_BYTES:
                    raise CheckpointError(f"{_clean_text(file_name, 80)}'s object table is {entry.file_size / 2**20:.1f} MB; aegui checkpoints hold under {MAX_PICKLE_BYTES / 2**20:.0f} MB of it.")
                scan_pickle(archive.read(entry), _clean_text(file_name, 80))


def _unpickle_weights_only(path: Path, data: bytes) -> Any:
    name = _shown_name(path)
    try:
        # weights_only=True explicitly: only tensors and primitive containers can be built;
        # TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot override an explicit argument.
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as error:
        # The scan names refused constructors itself; torch's own text advises weights_only=False,
        # which would run the payload, so only the blocked name is kept from it.
        blocked = BLOCKED_GLOBAL.search(str(error))
        what = f" (it refers to {_clean_text(blocked.group(1), 80)})" if blocked else ""
        raise CheckpointError(f"{name} contains Python objects other than tensors and plain data, which aegui will not load{what}.") from None
    except (RuntimeError, EOFError, ValueError, KeyError, TypeError, AttributeError, IndexError, zipfile.BadZipFile, OSError) as error:
        reason = _clean_text(str(error)) or type(error).__name__
        raise CheckpointError(f"{name} could not be read as a PyTorch checkpoint ({reason}).") from None


def _table(raw: Any) -> dict | None:
    """A plain dict copy of a table from the file, or None when it is not one.

    Only exact dict and OrderedDict count, and the copy is made by ``dict()``, which reads the
    entries directly: an OrderedDict whose pickled state overrides ``items`` or ``get`` changes
    nothing here.
    """
    if type(raw) is OrderedDict and set(vars(raw)) - {"_metadata"}:  # state_dict()'s own attribute
        raise CheckpointError("A table in the checkpoint carries attributes a table never has (its pickled state replaces its methods).")
    return dict(raw) if type(raw) in (dict, OrderedDict) else None


def _validated_hparams(raw: Any) -> dict[str, Any]:
    table = _table(raw)
    if table is None:
        raise CheckpointError("The checkpoint has no hyper_parameters table, so aegui cannot tell which network it holds.")
    # Only names in the schema are read; anything else in a file (for example keys naming
    # classes to instantiate) is ignored, never acted on.
    hparams: dict[str, Any] = {}
    for name, schema in HYPERPARAMETERS.items():
        if name not in table:
            continue
        problem = schema.problem(table[name])
        if problem:
            raise CheckpointError(f"Hyperparameter {problem}.")
        hparams[name] = table[name]
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


def _checked_tensor(value: Any, what: str, shape: tuple[int, ...] | None = None, limit: float = MAX_ABS_VALUE) -> torch.Tensor:
    """A plain float32 copy of a tensor from the file, after every check that needs no copy.

    The tensor must be a dense CPU tensor of an allowed floating dtype whose view fits inside
    its storage without repeating elements (a stride-0 view of a few bytes can claim billions
    of elements), with the expected shape; only then are its values copied, and they must be
    finite and below ``limit`` in magnitude. Methods are called through ``torch.Tensor``, not
    the object, so a tensor whose pickled state overrides them cannot change the answers.
    """
    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        raise CheckpointError(f"{what} is not a tensor.")
    if value.layout != torch.strided or value.is_nested:
        raise CheckpointError(f"{what} is a {str(value.layout).removeprefix('torch.')} tensor; aegui reads dense tensors only.")
    if value.device.type != "cpu":
        raise CheckpointError(f"{what} is stored on the {value.device.type} device, which holds no values aegui can read.")
    if value.dtype not in ALLOWED_DTYPES:
        if value.dtype.is_floating_point:
            raise CheckpointError(f"{what} has dtype {str(value.dtype).removeprefix('torch.')}; aegui reads float32, float16, bfloat16 and float64.")
        raise CheckpointError(f"{what} has dtype {str(value.dtype).removeprefix('torch.')}, expected floating point.")
    size = tuple(int(n) for n in value.shape)
    if shape is not None and size != tuple(shape):
        raise CheckpointError(f"{what} has shape {size}, expected {tuple(shape)}.")
    numel = math.prod(size)
    if numel > MAX_TENSOR_ELEMENTS:
        raise CheckpointError(f"{what} has {numel:,} elements; aegui's networks need far fewer.")
    strides = torch.Tensor.stride(value)
    item_size = torch.Tensor.element_size(value)
    storage_elements = torch.Tensor.untyped_storage(value).nbytes() // max(item_size, 1)
    span = torch.Tensor.storage_offset(value) + sum((n - 1) * abs(step) for n, step in zip(size, strides)) + 1 if numel else 0
    if span > storage_elements or numel > storage_elements:
        raise CheckpointError(f"{what} claims {numel:,} elements over a storage of {storage_elements:,}; its view repeats or overruns its data.")
    copy = torch.Tensor.to(value, dtype=torch.float32, copy=True)
    if not torch.isfinite(copy).all():
        raise CheckpointError(f"{what} contains NaN or infinite values.")
    if numel and copy.abs().max().item() >= limit:
        raise CheckpointError(f"{what} holds values of magnitude {copy.abs().max().item():.3g}; aegui accepts below {limit:g} (trained networks stay far below).")
    return copy


def _validated_weights(raw: Any, expected: dict[str, torch.Size], prefix: str) -> dict[str, torch.Tensor]:
    table = _table(raw)
    if table is None:
        raise CheckpointError("The checkpoint has no state_dict of weights.")
    if len(table) > MAX_TABLE_ENTRIES:
        raise CheckpointError(f"The checkpoint's state_dict has {len(table):,} entries; this network has {len(expected)}.")
    weights = {}
    foreign = []
    for key, value in table.items():
        if type(key) is str and key.startswith(prefix):
            weights[key[len(prefix) :]] = value
        elif type(key) is str and key.startswith(TRAINING_ONLY_PREFIXES):
            continue
        else:
            foreign.append(_clean_text(repr(key) if type(key) is not str else key, 80))
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing and not weights:
        example = f" (it has weights such as {foreign[0]!r})" if foreign else ""
        raise CheckpointError(f"This checkpoint holds some other model, not an aegui autoencoder{example}.")
    if missing:
        raise CheckpointError(f"The checkpoint is missing {len(missing)} weight(s) the network needs, e.g. {prefix}{missing[0]}.")
    if extra or foreign:
        first = _clean_text(prefix + extra[0], 80) if extra else foreign[0]
        raise CheckpointError(f"The checkpoint has {len(extra) + len(foreign)} weight(s) this network does not have, e.g. {first!r}.")
    return {name: _checked_tensor(weights[name], f"Weight {prefix}{name}", tuple(shape)) for name, shape in expected.items()}


def _tensor(statistics: dict, name: str, shape: tuple[int, ...] | None, required: bool = True) -> torch.Tensor | None:
    value = statistics.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise CheckpointError(f"Statistic {name} is missing.")
    if shape is None and type(value) in (torch.Tensor, torch.nn.Parameter) and (value.ndim != 1 or value.shape[0] > MAX_QUANTILES):
        raise CheckpointError(f"Statistic {name} must be a list of at most {MAX_QUANTILES:,} numbers.")
    return _checked_tensor(value, f"Statistic {_clean_text(name, 60)}", shape)


def _plain(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """Keep only JSON-like data (str, numbers, bools, None, lists, str-keyed dicts), bounded:
    strings cut to ``MAX_TEXT`` characters, at most ``MAX_PLAIN_NODES`` values in all (a list
    that repeats one shared list a million times is walked only that far), a few levels deep."""
    budget = [MAX_PLAIN_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:  # shared references count each time they are met
        raise CheckpointError(f"A description in the checkpoint holds more than {MAX_PLAIN_NODES:,} values; it is larger than any aegui checkpoint's.")
    if depth > 4:
        return None
    kind = type(value)
    if kind is str:
        return _clean_text(value, MAX_TEXT) if len(value) > MAX_TEXT or not value.isprintable() else value
    if kind in (bool, type(None)):
        return value
    if kind is int:
        return value if value.bit_length() <= 63 else None
    if kind is float:
        return value if math.isfinite(value) and abs(value) < 1e300 else None
    if kind in (dict, OrderedDict):
        items = list(dict(value).items())[:100]
        return {key: _plain(item, budget, depth + 1) for key, item in items if type(key) is str and len(key) <= MAX_TEXT}
    if kind in (list, tuple):
        return [_plain(item, budget, depth + 1) for item in list(value)[:100]]
    return None


def _validated_statistics(raw: Any, latent_dim: int) -> ModelStatistics | None:
    if raw is None:
        return None
    raw = _table(raw)
    if raw is None:
        raise CheckpointError("The checkpoint's statistics are not a table.")
    vectors = {name: _tensor(raw, name, (latent_dim,)) for name in LATENT_VECTOR_STATISTICS}
    if not (vectors["latent_std"] > 0).all():
        raise CheckpointError("Statistic latent_std must be positive.")
    quantiles = _tensor(raw, "error_quantiles", None)
    if quantiles.ndim != 1 or len(quantiles) < 2 or (quantiles < 0).any() or (quantiles.diff() < 0).any():
        raise CheckpointError("Statistic error_quantiles must be a rising list of non-negative errors.")
    probe_weight = _tensor(raw, "probe_weight", (N_CLASSES, latent_dim), required=False)
    probe_bias = _tensor(raw, "probe_bias", (N_CLASSES,), required=probe_weight is not None)
    properties_raw = _table(raw.get("dimension_properties")) or {}
    properties = {}
    for name in list(properties_raw)[:32]:
        if type(name) is str and len(name) <= MAX_TEXT:
            properties[name] = _tensor(properties_raw, name, (latent_dim,))
    anomaly = _validated_anomaly(raw.get("anomaly"), latent_dim)
    directions_raw = _table(raw.get("property_directions")) or {}
    quality_raw = _table(raw.get("direction_quality")) or {}
    directions, quality = {}, {}
    for name in list(directions_raw)[:32]:
        if type(name) is str and len(name) <= MAX_TEXT and name in quality_raw:
            directions[name] = _tensor(directions_raw, name, (latent_dim,))
            quality[name] = _tensor(quality_raw, name, (2,))
            if not 0.99 < float(directions[name].norm()) < 1.01 or not float(quality[name][1]) > 0:
                raise CheckpointError(f"Statistic property_directions/{_clean_text(name, 40)} is not a unit direction with a positive spread.")
    metrics = _plain(raw.get("test_metrics") or {})
    dataset = _plain(raw.get("dataset") or {})
    return ModelStatistics(
        error_quantiles=quantiles,
        probe_weight=probe_weight,
        probe_bias=probe_bias,
        test_metrics=metrics if isinstance(metrics, dict) else {},
        dataset=dataset if isinstance(dataset, dict) else {},
        dimension_properties=properties,
        anomaly=anomaly,
        property_directions=directions,
        direction_quality=quality,
        **vectors,
    )


def _sized(table: dict, name: str, check) -> torch.Tensor:
    """A statistic whose shape is only known from the file: ``check(shape)`` says whether it
    is acceptable before the tensor is copied."""
    value = table.get(name)
    if type(value) not in (torch.Tensor, torch.nn.Parameter) or not check(tuple(int(n) for n in value.shape)):
        raise CheckpointError(f"Statistic anomaly/{name} is missing or has the wrong shape.")
    return _checked_tensor(value, f"Statistic anomaly/{name}", tuple(value.shape))


def _validated_anomaly(raw: Any, latent_dim: int) -> dict[str, torch.Tensor] | None:
    """The combined anomaly score's table, or None for a checkpoint written before it existed."""
    if raw is None:
        return None
    table = _table(raw)
    if table is None:
        raise CheckpointError("The checkpoint's anomaly statistics are not a table.")
    weight = table.get("weight")
    features = int(weight.shape[0]) if type(weight) in (torch.Tensor, torch.nn.Parameter) and weight.dim() == 1 else -1
    if features not in (FIRST_TABLE_FEATURES, len(ANOMALY_FEATURES)):
        features = len(ANOMALY_FEATURES)  # what this version writes: the messages below name the part that is off
    anomaly = {
        "reference_codes": _sized(table, "reference_codes", lambda shape: len(shape) == 2 and shape[1] == latent_dim and 10 <= shape[0] <= 10_000),
        "feature_quantiles": _sized(table, "feature_quantiles", lambda shape: len(shape) == 2 and shape[0] == features and 2 <= shape[1] <= MAX_QUANTILES),
        "feature_mean": _sized(table, "feature_mean", lambda shape: shape == (features,)),
        "feature_std": _sized(table, "feature_std", lambda shape: shape == (features,)),
        "weight": _sized(table, "weight", lambda shape: shape == (features,)),
        "bias": _sized(table, "bias", lambda shape: shape == (1,)),
        "score_quantiles": _sized(table, "score_quantiles", lambda shape: len(shape) == 1 and 2 <= shape[0] <= MAX_QUANTILES),
        "verdict_quantiles": _sized(table, "verdict_quantiles", lambda shape: len(shape) == 1 and 2 <= shape[0] <= MAX_QUANTILES),
    }
    if features == len(ANOMALY_FEATURES):
        anomaly.update(_validated_detector(table, latent_dim))
        whitening = table.get("inner_whitening")
        width = int(whitening.shape[0]) if type(whitening) in (torch.Tensor, torch.nn.Parameter) and whitening.dim() == 2 else -1
        anomaly["inner_whitening"] = _sized(table, "inner_whitening", lambda shape: 1 <= width <= MAX_INNER_WIDTH and shape == (width, width))
        anomaly["inner_class_means"] = _sized(table, "inner_class_means", lambda shape: shape == (N_CLASSES, width))
        anomaly["reconstruction_opinion"] = _sized(table, "reconstruction_opinion", lambda shape: shape == (1,))
        if float(anomaly["reconstruction_opinion"][0]) not in (0.0, 1.0):
            raise CheckpointError("Statistic anomaly/reconstruction_opinion must be 0 or 1.")
    if any((anomaly[name].diff(dim=-1) < 0).any() for name in ("feature_quantiles", "score_quantiles", "verdict_quantiles")):
        raise CheckpointError("Statistic anomaly: its quantiles must rise.")
    if not (anomaly["feature_std"] > 0).all():
        raise CheckpointError("Statistic anomaly/feature_std must be positive.")
    return anomaly


def _validated_detector(table: dict, latent_dim: int) -> dict[str, torch.Tensor]:
    """The code detector of a five-feature anomaly table: code -> hidden -> hidden -> logit."""
    first = table.get("detector_weight_1")
    hidden = int(first.shape[0]) if type(first) in (torch.Tensor, torch.nn.Parameter) and first.dim() == 2 else -1
    valid_hidden = 1 <= hidden <= MAX_DETECTOR_HIDDEN
    shapes = {
        "detector_code_mean": (latent_dim,),
        "detector_code_std": (latent_dim,),
        "detector_weight_1": (hidden, latent_dim),
        "detector_bias_1": (hidden,),
        "detector_weight_2": (hidden, hidden),
        "detector_bias_2": (hidden,),
        "detector_weight_3": (1, hidden),
        "detector_bias_3": (1,),
    }
    detector = {name: _sized(table, name, lambda shape, expected=expected: valid_hidden and shape == expected) for name, expected in shapes.items()}
    if not (detector["detector_code_std"] > 0).all():
        raise CheckpointError("Statistic anomaly/detector_code_std must be positive.")
    return detector


def model_from_checkpoint_dict(checkpoint: Any, path: Path, file_format: str) -> LoadedModel:
    """Validate a loaded checkpoint table and rebuild its network."""
    table = _table(checkpoint)
    if table is None:
        raise CheckpointError(f"{_shown_name(path)} holds a {type(checkpoint).__name__}, not a checkpoint table.")
    checkpoint = table
    version = checkpoint.get(FORMAT_KEY, FORMAT_VERSION)
    if type(version) is not int or version > FORMAT_VERSION:
        raise CheckpointError(f"{_shown_name(path)} uses aegui checkpoint format {_clean_text(repr(version), 40)}; this aegui reads up to {FORMAT_VERSION}. Update aegui.")
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
        raise CheckpointError(f"{_shown_name(path)} needs its JSON sidecar {_shown_name(sidecar_path)} beside it (it holds the hyperparameters).")
    sidecar = _read_json(sidecar_path)
    if type(sidecar) is not dict:
        raise CheckpointError(f"{_shown_name(sidecar_path)} must hold a JSON object.")
    _check_safetensors_header(data, _shown_name(path))
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError, TypeError) as error:
        raise CheckpointError(f"{_shown_name(path)} is not a valid safetensors file ({_clean_text(str(error)) or type(error).__name__}).") from None
    state_dict = {k: v for k, v in tensors.items() if not k.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    statistics = None
    stat_tensors = {k[len(SAFETENSORS_STATISTICS_PREFIX) :]: v for k, v in tensors.items() if k.startswith(SAFETENSORS_STATISTICS_PREFIX)}
    if stat_tensors:
        statistics = {k: v for k, v in stat_tensors.items() if "/" not in k}
        statistics["dimension_properties"] = {k.split("/", 1)[1]: v for k, v in stat_tensors.items() if k.startswith("dimension_properties/")}
        anomaly = {k.split("/", 1)[1]: v for k, v in stat_tensors.items() if k.startswith("anomaly/")}
        statistics["anomaly"] = anomaly or None
        for table in ("property_directions", "direction_quality"):
            statistics[table] = {k.split("/", 1)[1]: v for k, v in stat_tensors.items() if k.startswith(f"{table}/")}
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_file(path, MAX_SIDECAR_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{_shown_name(path)} is not valid JSON ({_clean_text(str(error), 100)}).") from None
    except RecursionError:
        raise CheckpointError(f"{_shown_name(path)} is nested too deeply to be a model's description.") from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise CheckpointError(f"{_shown_name(path)} holds a value aegui will not read ({_clean_text(str(error), 100)}).") from None


SAFETENSORS_DTYPES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}


def _check_safetensors_header(data: bytes, name: str) -> None:
    """The header (JSON before the tensor bytes) checked before safetensors builds anything:
    bounded, only float dtypes aegui reads, each tensor's bytes inside the file and of the
    size its shape says."""
    header_length = int.from_bytes(data[:8], "little")
    if header_length > MAX_SIDECAR_BYTES:
        raise CheckpointError(f"{name}'s header is {header_length / 2**20:,.1f} MB; a model's is a few KB.")
    try:
        header = json.loads(data[8 : 8 + header_length])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not readable JSON).") from None
    if type(header) is not dict:
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not a table).")
    payload = len(data) - 8 - header_length
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        shown = _clean_text(key, 80)
        if type(entry) is not dict or type(entry.get("shape")) is not list or type(entry.get("data_offsets")) is not list:
            raise CheckpointError(f"{name}: tensor {shown} is described incompletely.")
        dtype, shape, offsets = entry.get("dtype"), entry["shape"], entry["data_offsets"]
        if dtype not in SAFETENSORS_DTYPES:
            raise CheckpointError(f"{name}: tensor {shown} has dtype {_clean_text(str(dtype), 20)}; aegui reads F32, F16, BF16 and F64.")
        if len(shape) > 8 or not all(type(n) is int and 0 <= n <= MAX_TENSOR_ELEMENTS for n in shape):
            raise CheckpointError(f"{name}: tensor {shown} has an impossible shape.")
        if len(offsets) != 2 or not all(type(n) is int for n in offsets) or not 0 <= offsets[0] <= offsets[1] <= payload:
            raise CheckpointError(f"{name}: tensor {shown} points outside the file.")
        if offsets[1] - offsets[0] != math.prod(shape) * SAFETENSORS_DTYPES[dtype]:
            raise CheckpointError(f"{name}: tensor {shown} has {offsets[1] - offsets[0]:,} bytes for shape {tuple(shape)}.")


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
        for name, value in (statistics.anomaly or {}).items():
            tensors[f"{SAFETENSORS_STATISTICS_PREFIX}anomaly/{name}"] = value.contiguous()
        for table in ("property_directions", "direction_quality"):
            for name, value in getattr(statistics, table).items():
                tensors[f"{SAFETENSORS_STATISTICS_PREFIX}{table}/{name}"] = value.contiguous()
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
            **({"anomaly": dict(statistics.anomaly)} if statistics.anomaly is not None else {}),
            "property_directions": dict(statistics.property_directions),
            "direction_quality": dict(statistics.direction_quality),
            "test_metrics": dict(statistics.test_metrics),
            "dataset": dict(statistics.dataset),
        }
    return table


# --- progress snapshots (aegui-train fit --progress-dir), read with the same guards ---------------
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
    """Read a snapshot as a checkpoint is read (regular file, size budget, sniffed format, opcode
    scan, weights-only unpickling), then check its shapes before any value is copied; refuse
    with a one-line ``CheckpointError`` naming the file."""
    path = Path(path)
    name = _shown_name(path)
    try:
        data = _read_file(path, MAX_SNAPSHOT_BYTES)
        if sniff_format(data) != "torch-zip":
            raise CheckpointError(f"{name} is not a progress snapshot (it is not a PyTorch archive).")
        _scan_torch_archive(data, path.name)
        table = _table(_unpickle_weights_only(path, data))
        del data
        if table is None:
            raise CheckpointError(f"{name} is not a progress snapshot (it holds no table).")
        codes, labels = table.get("codes"), table.get("labels")
        if type(codes) is not torch.Tensor or type(labels) is not torch.Tensor:
            raise CheckpointError(f"{name} is not a progress snapshot (it has no codes and labels tensors).")
        size = tuple(int(n) for n in codes.shape)
        if len(size) != 2 or not 1 <= size[0] <= MAX_SNAPSHOT_DIGITS or not 1 <= size[1] <= HYPERPARAMETERS["latent_dim"].high:
            raise CheckpointError(f"{name}'s codes have shape {_clean_text(str(size), 60)}; a snapshot holds (digits ≤ {MAX_SNAPSHOT_DIGITS:,}, k ≤ {HYPERPARAMETERS['latent_dim'].high}).")
        codes = _checked_tensor(codes, f"{name}'s codes", size).double().numpy()
        labels = _checked_labels(labels, size[0], name)
        network = None
        if "hyper_parameters" in table:
            hparams = _validated_hparams(table.get("hyper_parameters"))
            if hparams["latent_dim"] != size[1]:
                raise CheckpointError(f"{name}'s codes have k = {size[1]} but its network has latent_dim {hparams['latent_dim']}.")
            _, expected = _build_network(hparams)
            network = build_autoencoder(hparams)
            network.load_state_dict(_validated_weights(table.get("state_dict"), expected, ""), strict=True)
            network.eval().requires_grad_(False)
        return Snapshot(codes, labels, network)
    except CheckpointError as error:
        message = str(error)
        raise CheckpointError(message if message.startswith(name) else f"{name}: {message}") from None
    except MemoryError:
        raise CheckpointError(f"{name} needs more memory than this computer can give it; aegui refuses it.") from None
    except RecursionError:
        raise CheckpointError(f"{name} is nested too deeply to be a progress snapshot.") from None
    except Exception as error:
        logger.exception("unexpected error while reading the snapshot %s", path)
        raise CheckpointError(f"{name} could not be read: an unexpected {type(error).__name__} ({_clean_text(str(error))}).") from None


def _checked_labels(value: torch.Tensor, count: int, name: str):
    """The labels as numpy int64, after the checks that need no copy (as for weights)."""
    if value.layout != torch.strided or value.is_nested or value.device.type != "cpu" or value.dtype not in LABEL_DTYPES:
        raise CheckpointError(f"{name}'s labels are not a dense tensor of integers.")
    if tuple(int(n) for n in value.shape) != (count,):
        raise CheckpointError(f"{name}'s labels have shape {_clean_text(str(tuple(value.shape)), 60)}, expected ({count},).")
    storage_elements = torch.Tensor.untyped_storage(value).nbytes() // torch.Tensor.element_size(value)
    span = torch.Tensor.storage_offset(value) + (count - 1) * abs(torch.Tensor.stride(value)[0]) + 1
    if span > storage_elements:
        raise CheckpointError(f"{name}'s labels claim {count:,} values over a storage of {storage_elements:,}.")
    return torch.Tensor.to(value, dtype=torch.int64, copy=True).numpy()
