"""Write a checkpoint so that its final name never points at a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


def save_atomically(payload: dict, path: Path) -> None:
    """torch.save to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; a saved model is an ordinary file
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
