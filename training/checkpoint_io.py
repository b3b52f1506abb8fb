"""Lightning reads checkpoints (``--ckpt_path`` to resume, validate or test) through the app's
guarded reader, so a file handed to the trainer gets the same guards, budgets and one-line
refusals as one opened in the app."""

from __future__ import annotations

from typing import Any

from pytorch_lightning.plugins import TorchCheckpointIO

from aegui.core.model_files import read_weights_only_file


class GuardedCheckpointIO(TorchCheckpointIO):
    """Writes as Lightning does; reads weights-only through ``aegui.core.model_files.reader``
    (values on the CPU; Lightning moves them to the device as it restores them)."""

    def load_checkpoint(self, path, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        return read_weights_only_file(path)
