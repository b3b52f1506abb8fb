"""Several models side by side: a sweep's family list, loading them, and each one's
reconstruction of the same image."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aegui.core.anomaly import reconstruction_error
from aegui.core.model_files import LoadedModel, load_model
from aegui.core.errors import CheckpointError
from aegui.core.model_format import IMAGE_SIZE

MAX_FAMILY_SIZE = 12
MAX_FAMILY_BYTES = 1 << 20  # a family lists a dozen file names


def read_family(family_file: Path) -> list[Path]:
    """Checkpoint paths listed in a sweep's family.json (relative to that file)."""
    family_file = Path(family_file)
    needs = "it needs a \"checkpoints\" list of model files, as aegui-train sweep writes in its output folder"
    try:
        with family_file.open("rb") as handle:
            text = handle.read(MAX_FAMILY_BYTES + 1)
    except OSError as error:
        raise CheckpointError(f"{family_file.name} could not be read: {error.strerror or error}.") from None
    if len(text) > MAX_FAMILY_BYTES:
        raise CheckpointError(f"{family_file.name} is not a sweep family: over 1 MB, where a family lists a few file names.")
    try:
        listing = json.loads(text)
    except (ValueError, RecursionError) as error:
        where = f" ({error.msg}, line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
        raise CheckpointError(f"{family_file.name} is not a sweep family: not JSON{where}; {needs}.") from None
    listed = listing.get("checkpoints") if isinstance(listing, dict) else None
    if not isinstance(listed, list) or not listed or not all(isinstance(item, str) for item in listed):
        raise CheckpointError(f"{family_file.name} is not a sweep family: {needs}.")
    return [family_file.parent / item for item in listed][:MAX_FAMILY_SIZE]


def load_models(paths: list[Path]) -> tuple[list[LoadedModel], list[str]]:
    """The models that load, and a one-line problem for each file that does not."""
    models, problems = [], []
    for path in paths:
        try:
            models.append(load_model(path))
        except CheckpointError as error:
            problems.append(f"{Path(path).name}: {error}")
    return models, problems


@dataclass(frozen=True)
class Comparison:
    """One model's reconstruction of the image being compared."""

    name: str
    latent_dim: int
    reconstruction: np.ndarray
    reconstruction_error: float


def compare_reconstructions(models: list[LoadedModel], image: np.ndarray) -> list[Comparison]:
    """Reconstruct the same 28x28 image with each model, smallest bottleneck first."""
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, IMAGE_SIZE, IMAGE_SIZE)
    rows = []
    with torch.inference_mode():
        for model in sorted(models, key=lambda m: m.latent_dim):
            reconstruction = model.autoencoder(tensor)[0, 0].numpy()
            rows.append(Comparison(model.name, model.latent_dim, reconstruction, reconstruction_error(image, reconstruction)))
    return rows
