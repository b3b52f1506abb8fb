"""Model files aegui writes: a slim checkpoint table and an exported safetensors + JSON pair,
both laid out as the reader reads them back (``statistics_codec``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from aegui.core.model_files.loaded_model import SAFETENSORS_STATISTICS_PREFIX, LoadedModel
from aegui.core.model_files.statistics_codec import PLAIN, flat_tensors, statistics_table
from aegui.core.model_format import FORMAT_KEY, FORMAT_VERSION, STATE_PREFIX, STATISTICS_KEY


def export_safetensors(model: LoadedModel, output_stem: Path) -> tuple[Path, Path]:
    """Write ``output_stem.safetensors`` (weights, statistic tensors) and ``.json`` (the rest)."""
    from safetensors.torch import save as save_safetensors

    output_stem = Path(output_stem)
    tensors = {STATE_PREFIX + name: value.contiguous() for name, value in model.autoencoder.state_dict().items()}
    sidecar: dict[str, Any] = {FORMAT_KEY: FORMAT_VERSION, "hyper_parameters": model.hparams}
    if model.statistics is not None:
        stored = statistics_table(model.statistics)
        tensors.update({SAFETENSORS_STATISTICS_PREFIX + name: value.contiguous() for name, value in flat_tensors(stored).items()})
        sidecar["statistics"] = {name: stored[name] for name in PLAIN}
    weights_path = output_stem.with_suffix(".safetensors")
    sidecar_path = output_stem.with_suffix(".json")
    weights_path.write_bytes(save_safetensors(tensors))
    sidecar_path.write_text(json.dumps(sidecar, indent=2) + "\n")
    return weights_path, sidecar_path


def slim_checkpoint(model: LoadedModel, weight_dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """A weights-only checkpoint table (no optimiser state) that ``load_model`` reads back.

    ``weight_dtype=torch.float16`` halves the file; the app computes in float32 either way.
    """
    checkpoint: dict[str, Any] = {
        FORMAT_KEY: FORMAT_VERSION,
        "hyper_parameters": dict(model.hparams),
        "state_dict": {STATE_PREFIX + name: value.to(weight_dtype).clone() for name, value in model.autoencoder.state_dict().items()},
    }
    if model.statistics is not None:
        checkpoint[STATISTICS_KEY] = statistics_table(model.statistics)
    return checkpoint
