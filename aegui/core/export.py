"""Save a latent code as JSON, CSV or NPY (chosen by the file suffix)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

CODE_FORMATS = {".json": "JSON", ".csv": "CSV", ".npy": "NumPy array"}


def save_code(path: str | Path, code: np.ndarray, metadata: dict | None = None) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    code = np.asarray(code, dtype=np.float32).reshape(-1)
    if suffix == ".json":
        payload = {**(metadata or {}), "latent_dim": int(code.size), "code": [float(v) for v in code]}
        path.write_text(json.dumps(payload, indent=2) + "\n")
    elif suffix == ".csv":
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["dimension", "value"])
            writer.writerows((index, repr(float(value))) for index, value in enumerate(code))
    elif suffix == ".npy":
        np.save(path, code, allow_pickle=False)
    else:
        raise ValueError(f"unknown format {suffix!r}; use one of {', '.join(CODE_FORMATS)}")
    return path


def load_code(path: str | Path) -> np.ndarray:
    """Read back a code written by ``save_code`` (never unpickles)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return np.asarray(json.loads(path.read_text())["code"], dtype=np.float32)
    if suffix == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        return np.asarray([float(value) for _, value in rows], dtype=np.float32)
    if suffix == ".npy":
        return np.load(path, allow_pickle=False).astype(np.float32)
    raise ValueError(f"unknown format {suffix!r}")
