"""The statistics a checkpoint carries (``aegui_statistics``), laid out once: ``TENSORS``,
``TENSOR_TABLES`` and ``PLAIN`` say what each part is, and the same description validates a
table read from a file, writes one into a checkpoint and flattens one into safetensors' named
tensors and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from aegui.core.anomaly import ANOMALY_FEATURES, FIRST_TABLE_FEATURES
from aegui.core.errors import CheckpointError
from aegui.core.model_files.schema import MAX_TEXT, checked_tensor, plain, table
from aegui.core.model_format import LATENT_VECTOR_STATISTICS, N_CLASSES
from aegui.core.quoting import clean_text

MAX_QUANTILES = 100_000
MAX_NAMED_ENTRIES = 32  # stroke properties or directions kept per table (six are trained)
MAX_INNER_WIDTH = 4096  # the encoder's last hidden layer (256 or 512 in the bundled models)
MAX_DETECTOR_HIDDEN = 1024  # the code detector's hidden width (64 as trained); a bound before any tensor is copied

# The layout. A tensor's shape is given as a function of the latent size k (None: checked by
# its own rule); a table maps names to tensors; plain data is JSON-like text and numbers.
TENSORS = {
    **{name: lambda k: (k,) for name in LATENT_VECTOR_STATISTICS},  # over the training codes, per dimension
    "error_quantiles": None,  # quantiles 0..1 of the held-out reconstruction error, rising
    "probe_weight": lambda k: (N_CLASSES, k),  # the linear probe (optional) from code to digit
    "probe_bias": lambda k: (N_CLASSES,),
}
TENSOR_TABLES = {
    "dimension_properties": lambda k: (k,),  # stroke property -> its correlation with each dimension
    "anomaly": None,  # the combined anomaly score's table (``_validated_anomaly``); newer checkpoints
    "property_directions": lambda k: (k,),  # stroke property -> unit direction in code space
    "direction_quality": lambda k: (2,),  # stroke property -> [R^2 on validation digits, spread]
}
PLAIN = ("test_metrics", "dataset")  # figures measured on the test split; where the data came from


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
    anomaly: dict[str, torch.Tensor] | None = None
    property_directions: dict[str, torch.Tensor] = field(default_factory=dict)
    direction_quality: dict[str, torch.Tensor] = field(default_factory=dict)


def statistics_table(statistics: ModelStatistics) -> dict[str, Any]:
    """The statistics as a checkpoint stores them: what ``validated_statistics`` reads back."""
    stored: dict[str, Any] = {name: getattr(statistics, name) for name in TENSORS if getattr(statistics, name) is not None}
    stored.update({name: dict(getattr(statistics, name)) for name in TENSOR_TABLES if getattr(statistics, name) is not None})
    stored.update({name: dict(getattr(statistics, name)) for name in PLAIN})
    return stored


def flat_tensors(stored: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Every tensor of a statistics table under one name: ``name`` or ``table/name``."""
    flat = {name: stored[name] for name in TENSORS if stored.get(name) is not None}
    for table_name in TENSOR_TABLES:
        flat.update({f"{table_name}/{name}": value for name, value in (stored.get(table_name) or {}).items()})
    return flat


def table_from_flat(flat: dict[str, torch.Tensor], plain_parts: dict[str, Any]) -> dict[str, Any]:
    """The statistics table ``flat_tensors`` and the plain parts came from (an empty table is absent)."""
    stored: dict[str, Any] = {name: value for name, value in flat.items() if "/" not in name}
    for table_name in TENSOR_TABLES:
        stored[table_name] = {name.split("/", 1)[1]: value for name, value in flat.items() if name.startswith(f"{table_name}/")} or None
    stored.update({name: plain_parts.get(name) for name in PLAIN})
    return stored


def _tensor(statistics: dict, name: str, shape: tuple[int, ...] | None, required: bool = True) -> torch.Tensor | None:
    value = statistics.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise CheckpointError(f"Statistic {clean_text(name, 60)} is missing.")
    if shape is None and type(value) in (torch.Tensor, torch.nn.Parameter) and (value.ndim != 1 or value.shape[0] > MAX_QUANTILES):
        raise CheckpointError(f"Statistic {clean_text(name, 60)} must be a list of at most {MAX_QUANTILES:,} numbers.")
    return checked_tensor(value, f"Statistic {clean_text(name, 60)}", shape)


def _named_tensors(raw: Any, table_name: str, latent_dim: int, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """The first ``MAX_NAMED_ENTRIES`` entries of a table of tensors, each of its layout's shape."""
    entries = table(raw) or {}
    names = [name for name in list(entries)[:MAX_NAMED_ENTRIES] if type(name) is str and len(name) <= MAX_TEXT] if names is None else names
    return {name: _tensor(entries, name, TENSOR_TABLES[table_name](latent_dim)) for name in names}


def validated_statistics(raw: Any, latent_dim: int) -> ModelStatistics | None:
    """The statistics of a checkpoint, every part checked against the layout; None when absent."""
    if raw is None:
        return None
    raw = table(raw)
    if raw is None:
        raise CheckpointError("The checkpoint's statistics are not a table.")
    vectors = {name: _tensor(raw, name, TENSORS[name](latent_dim)) for name in LATENT_VECTOR_STATISTICS}
    if not (vectors["latent_std"] > 0).all():
        raise CheckpointError("Statistic latent_std must be positive.")
    quantiles = _tensor(raw, "error_quantiles", None)
    if quantiles.ndim != 1 or len(quantiles) < 2 or (quantiles < 0).any() or (quantiles.diff() < 0).any():
        raise CheckpointError("Statistic error_quantiles must be a rising list of non-negative errors.")
    probe_weight = _tensor(raw, "probe_weight", TENSORS["probe_weight"](latent_dim), required=False)
    probe_bias = _tensor(raw, "probe_bias", TENSORS["probe_bias"](latent_dim), required=probe_weight is not None)
    properties = _named_tensors(raw.get("dimension_properties"), "dimension_properties", latent_dim)
    anomaly = _validated_anomaly(raw.get("anomaly"), latent_dim)
    quality_raw = table(raw.get("direction_quality")) or {}
    paired = [name for name in list(table(raw.get("property_directions")) or {})[:MAX_NAMED_ENTRIES] if type(name) is str and len(name) <= MAX_TEXT and name in quality_raw]
    directions, quality = {}, {}
    for name in paired:  # a direction and its quality, read together so the first bad one is named
        directions.update(_named_tensors(raw.get("property_directions"), "property_directions", latent_dim, [name]))
        quality.update(_named_tensors(quality_raw, "direction_quality", latent_dim, [name]))
        if not 0.99 < float(directions[name].norm()) < 1.01 or not float(quality[name][1]) > 0:
            raise CheckpointError(f"Statistic property_directions/{clean_text(name, 40)} is not a unit direction with a positive spread.")
    metrics, dataset = (plain(raw.get(name) or {}) for name in PLAIN)
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


def _sized(anomaly_table: dict, name: str, check) -> torch.Tensor:
    """A statistic whose shape is only known from the file: ``check(shape)`` says whether it
    is acceptable before the tensor is copied."""
    value = anomaly_table.get(name)
    if type(value) not in (torch.Tensor, torch.nn.Parameter) or not check(tuple(int(n) for n in value.shape)):
        raise CheckpointError(f"Statistic anomaly/{name} is missing or has the wrong shape.")
    return checked_tensor(value, f"Statistic anomaly/{name}", tuple(value.shape))


def _validated_anomaly(raw: Any, latent_dim: int) -> dict[str, torch.Tensor] | None:
    """The combined anomaly score's table, or None for a checkpoint written before it existed."""
    if raw is None:
        return None
    anomaly_table = table(raw)
    if anomaly_table is None:
        raise CheckpointError("The checkpoint's anomaly statistics are not a table.")
    weight = anomaly_table.get("weight")
    features = int(weight.shape[0]) if type(weight) in (torch.Tensor, torch.nn.Parameter) and weight.dim() == 1 else -1
    if features not in (FIRST_TABLE_FEATURES, len(ANOMALY_FEATURES)):
        features = len(ANOMALY_FEATURES)  # what this version writes: the messages below name the part that is off
    anomaly = {
        "reference_codes": _sized(anomaly_table, "reference_codes", lambda shape: len(shape) == 2 and shape[1] == latent_dim and 10 <= shape[0] <= 10_000),
        "feature_quantiles": _sized(anomaly_table, "feature_quantiles", lambda shape: len(shape) == 2 and shape[0] == features and 2 <= shape[1] <= MAX_QUANTILES),
        "feature_mean": _sized(anomaly_table, "feature_mean", lambda shape: shape == (features,)),
        "feature_std": _sized(anomaly_table, "feature_std", lambda shape: shape == (features,)),
        "weight": _sized(anomaly_table, "weight", lambda shape: shape == (features,)),
        "bias": _sized(anomaly_table, "bias", lambda shape: shape == (1,)),
        "score_quantiles": _sized(anomaly_table, "score_quantiles", lambda shape: len(shape) == 1 and 2 <= shape[0] <= MAX_QUANTILES),
        "verdict_quantiles": _sized(anomaly_table, "verdict_quantiles", lambda shape: len(shape) == 1 and 2 <= shape[0] <= MAX_QUANTILES),
    }
    if features == len(ANOMALY_FEATURES):
        anomaly.update(_validated_detector(anomaly_table, latent_dim))
        whitening = anomaly_table.get("inner_whitening")
        width = int(whitening.shape[0]) if type(whitening) in (torch.Tensor, torch.nn.Parameter) and whitening.dim() == 2 else -1
        anomaly["inner_whitening"] = _sized(anomaly_table, "inner_whitening", lambda shape: 1 <= width <= MAX_INNER_WIDTH and shape == (width, width))
        anomaly["inner_class_means"] = _sized(anomaly_table, "inner_class_means", lambda shape: shape == (N_CLASSES, width))
        anomaly["reconstruction_opinion"] = _sized(anomaly_table, "reconstruction_opinion", lambda shape: shape == (1,))
        if float(anomaly["reconstruction_opinion"][0]) not in (0.0, 1.0):
            raise CheckpointError("Statistic anomaly/reconstruction_opinion must be 0 or 1.")
    if any((anomaly[name].diff(dim=-1) < 0).any() for name in ("feature_quantiles", "score_quantiles", "verdict_quantiles")):
        raise CheckpointError("Statistic anomaly: its quantiles must rise.")
    if not (anomaly["feature_std"] > 0).all():
        raise CheckpointError("Statistic anomaly/feature_std must be positive.")
    return anomaly


def _validated_detector(anomaly_table: dict, latent_dim: int) -> dict[str, torch.Tensor]:
    """The code detector of a five-feature anomaly table: code -> hidden -> hidden -> logit."""
    first = anomaly_table.get("detector_weight_1")
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
    detector = {name: _sized(anomaly_table, name, lambda shape, expected=expected: valid_hidden and shape == expected) for name, expected in shapes.items()}
    if not (detector["detector_code_std"] > 0).all():
        raise CheckpointError("Statistic anomaly/detector_code_std must be positive.")
    return detector
