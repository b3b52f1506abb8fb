"""What a checkpoint table must hold, checked before any network is built: the format version,
the hyperparameters (``aegui.core.model_format.HYPERPARAMETERS``: kinds, defaults, ranges), the
weights the network they describe needs, and every tensor's layout and values."""

from __future__ import annotations

import math
from collections import OrderedDict
from itertools import islice
from pathlib import Path
from typing import Any

import torch

from aegui.core.errors import CheckpointError
from aegui.core.model_format import FORMAT_KEY, FORMAT_VERSION, HYPERPARAMETERS, TRAINING_ONLY_PREFIXES
from aegui.core.model_files.reader import MAX_TENSOR_ELEMENTS, shown_name
from aegui.core.networks import Autoencoder, build_autoencoder
from aegui.core.quoting import clean_text, quote

MAX_TABLE_ENTRIES = 10_000
MAX_ABS_VALUE = 1e6  # weights and statistics of trained networks stay many orders of magnitude below
MAX_TEXT = 200  # characters kept of any text from a file (names, descriptions, metric names)
MAX_PLAIN_NODES = 2_000
ALLOWED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def table(raw: Any) -> dict | None:
    """A plain dict copy of a table from the file, or None when it is not one.

    Only exact dict and OrderedDict count, and the copy is made by ``dict()``, which reads the
    entries directly: an OrderedDict whose pickled state overrides ``items`` or ``get`` changes
    nothing here.
    """
    if type(raw) is OrderedDict and set(vars(raw)) - {"_metadata"}:  # state_dict()'s own attribute
        raise CheckpointError("A table in the checkpoint carries attributes a table never has (its pickled state replaces its methods).")
    return dict(raw) if type(raw) in (dict, OrderedDict) else None


def checkpoint_table(raw: Any, path: Path) -> dict:
    """The checkpoint's top-level table, of a format version this aegui reads."""
    checkpoint = table(raw)
    if checkpoint is None:
        raise CheckpointError(f"{shown_name(path)} holds a {clean_text(type(raw).__name__, 40)}, not a checkpoint table.")
    version = checkpoint.get(FORMAT_KEY, FORMAT_VERSION)
    if type(version) is not int or version > FORMAT_VERSION:
        raise CheckpointError(f"{shown_name(path)} uses aegui checkpoint format {quote(version, 40)}; this aegui reads up to {FORMAT_VERSION}. Update aegui.")
    return checkpoint


def validated_hparams(raw: Any) -> dict[str, Any]:
    hyper_parameters = table(raw)
    if hyper_parameters is None:
        raise CheckpointError("The checkpoint has no hyper_parameters table, so aegui cannot tell which network it holds.")
    # Only names in the schema are read; anything else in a file (for example keys naming
    # classes to instantiate) is ignored, never acted on.
    hparams: dict[str, Any] = {}
    for name, schema in HYPERPARAMETERS.items():
        if name not in hyper_parameters:
            continue
        problem = schema.problem(hyper_parameters[name])
        if problem:
            raise CheckpointError(f"Hyperparameter {problem}.")
        hparams[name] = hyper_parameters[name]
    if "latent_dim" not in hparams:
        raise CheckpointError("The checkpoint does not say its latent size (hyperparameter latent_dim).")
    for name, schema in HYPERPARAMETERS.items():
        if schema.defines_network:
            hparams.setdefault(name, schema.default)
    return hparams


def expected_weights(hparams: dict[str, Any]) -> dict[str, torch.Size]:
    """Check the hyperparameters, then learn the expected weight shapes without allocating them."""
    try:
        with torch.device("meta"):
            skeleton: Autoencoder = build_autoencoder(hparams)
    except ValueError as error:
        raise CheckpointError(f"The checkpoint describes a network aegui cannot build: {clean_text(str(error))}.") from None
    return {name: tensor.shape for name, tensor in skeleton.state_dict().items()}


def checked_tensor(value: Any, what: str, shape: tuple[int, ...] | None = None, limit: float = MAX_ABS_VALUE) -> torch.Tensor:
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
        raise CheckpointError(f"{what} has shape {quote(size)}, expected {tuple(shape)}.")
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


def validated_weights(raw: Any, expected: dict[str, torch.Size], prefix: str) -> dict[str, torch.Tensor]:
    weights_table = table(raw)
    if weights_table is None:
        raise CheckpointError("The checkpoint has no state_dict of weights.")
    if len(weights_table) > MAX_TABLE_ENTRIES:
        raise CheckpointError(f"The checkpoint's state_dict has {len(weights_table):,} entries; this network has {len(expected)}.")
    weights = {}
    foreign = []
    for key, value in weights_table.items():
        if type(key) is str and key.startswith(prefix):
            weights[key[len(prefix) :]] = value
        elif type(key) is str and key.startswith(TRAINING_ONLY_PREFIXES):
            continue
        else:
            foreign.append(key)
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing and not weights:
        example = f" (it has weights such as {quote(foreign[0], 80)})" if foreign else ""
        raise CheckpointError(f"This checkpoint holds some other model, not an aegui autoencoder{example}.")
    if missing:
        raise CheckpointError(f"The checkpoint is missing {len(missing)} weight(s) the network needs, e.g. {prefix}{missing[0]}.")
    if extra or foreign:
        first = quote(prefix + extra[0], 80) if extra else quote(foreign[0], 80)
        raise CheckpointError(f"The checkpoint has {len(extra) + len(foreign)} weight(s) this network does not have, e.g. {first}.")
    return {name: checked_tensor(weights[name], f"Weight {prefix}{name}", tuple(shape)) for name, shape in expected.items()}


def plain(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
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
        return clean_text(value, MAX_TEXT) if len(value) > MAX_TEXT or not value.isprintable() else value
    if kind in (bool, type(None)):
        return value
    if kind is int:
        return value if value.bit_length() <= 63 else None
    if kind is float:
        return value if math.isfinite(value) and abs(value) < 1e300 else None
    if kind in (dict, OrderedDict):
        items = islice(dict.items(value), 100)
        return {key: plain(item, budget, depth + 1) for key, item in items if type(key) is str and len(key) <= MAX_TEXT}
    if kind in (list, tuple):
        return [plain(item, budget, depth + 1) for item in islice(value, 100)]
    return None
