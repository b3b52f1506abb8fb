"""Lightning reads checkpoints (``--ckpt_path`` to resume, validate or test) through the app's
guarded reader, so a file handed to the trainer gets the same guards, budgets and one-line
refusals as one opened in the app."""

from __future__ import annotations

from typing import Any

from pytorch_lightning.plugins import TorchCheckpointIO

from aegui.core.errors import CheckpointError
from aegui.core.model_files import read_weights_only_file

LIGHTNING_VERSION_KEY = "pytorch-lightning_version"  # every checkpoint a Lightning run writes has it


def check_training_checkpoint(stored: Any, path) -> None:
    """Refuse, in one line, a file that holds no run's training state: an exported model
    (``aegui-train export``, the bundled models) has the network and its statistics only, and
    Lightning would fail inside on the missing parts with a traceback."""
    if type(stored) is dict and LIGHTNING_VERSION_KEY in stored:
        return
    shown = f"--ckpt_path {path}"
    if type(stored) is dict and "aegui_format" in stored:
        raise CheckpointError(
            f"{shown}: an exported model, without the training state a run writes; "
            f"measure it with aegui-train evaluate {path}, or train on from it with --init_from {path}"
        )
    raise CheckpointError(f"{shown}: not a checkpoint a training run wrote (it names no Lightning version)")


class GuardedCheckpointIO(TorchCheckpointIO):
    """Writes as Lightning does; reads weights-only through ``aegui.core.model_files.reader``
    (values on the CPU; Lightning moves them to the device as it restores them)."""

    def load_checkpoint(self, path, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        stored = read_weights_only_file(path)
        check_training_checkpoint(stored, path)
        return stored
