"""Reading back the code files the app exports (the app itself never opens them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np


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
