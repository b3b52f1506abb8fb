"""Reading a training run that ``aegui-train fit --progress-dir DIR`` is writing (or wrote).

Qt-free: the app's training view polls a ``RunWatcher`` and draws what it returns. Lines are
read incrementally; a line still being written (no newline yet) waits for the next poll, and a
line that is not JSON is skipped, so a synced or half-copied folder never breaks the view.
Snapshots are read by the app's guarded reader (``read_weights_only_file``), codes checked.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PROGRESS_FILE = "progress.jsonl"  # written by training/progress.py, read here
MAX_LINE = 1 << 20  # a progress line is a few hundred bytes; longer ones are skipped


@dataclass
class RunState:
    """Everything read so far from one run folder."""

    config: dict = field(default_factory=dict)
    max_epochs: int | None = None
    steps: list[tuple[int, float]] = field(default_factory=list)  # (global step, train loss)
    epochs: list[tuple[int, float]] = field(default_factory=list)  # (epoch, validation MSE)
    snapshots: dict[int, Path] = field(default_factory=dict)  # epoch -> snapshot file
    elapsed: float | None = None
    eta: float | None = None
    finished: bool = False
    checkpoints: dict = field(default_factory=dict)
    test_metrics: dict = field(default_factory=dict)
    error: str | None = None
    stopping: bool = False  # a stop was asked for and the run has seen it
    stopped: bool = False  # the run ended because a stop was asked for (resumable)
    skipped_lines: int = 0  # lines that were not progress records (damaged, foreign, too long)
    starts: int = 0  # 1 for a run, 2 and more once it was resumed

    @property
    def epoch(self) -> int | None:
        return self.epochs[-1][0] if self.epochs else None


class RunWatcher:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.state = RunState()
        self._offset = 0

    def poll(self) -> bool:
        """Read what was appended since the last poll; True if anything new was read."""
        path = self.folder / PROGRESS_FILE
        try:
            with open(path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return False
        complete = data.rfind(b"\n") + 1  # a last line without its newline is still being written
        if complete == 0:
            if len(data) > MAX_LINE:  # no progress line is this long: skip it instead of waiting
                self._offset += len(data)
                self.state.skipped_lines += 1
                return True
            return False
        self._offset += complete
        lines = [line for line in data[:complete].splitlines() if line.strip()]
        for line in lines:
            try:
                record = json.loads(line) if len(line) <= MAX_LINE else None
            except (ValueError, RecursionError):
                record = None
            if not isinstance(record, dict) or not self._apply(record):
                self.state.skipped_lines += 1
        return bool(lines)

    def _apply(self, record: dict) -> bool:
        state, event = self.state, record.get("event")
        number = lambda key: _finite_number(record.get(key))  # noqa: E731
        if event == "start":  # a run, or the same run resumed: what ended it before is over
            state.config = record.get("config") if isinstance(record.get("config"), dict) else {}
            state.max_epochs = number("max_epochs")
            state.finished, state.error, state.stopping, state.stopped = False, None, False, False
            state.starts += 1
        elif event == "step" and number("step") is not None and number("train_loss") is not None:
            step = int(number("step"))
            # a resumed run repeats the steps after its checkpoint: the new ones replace them
            state.steps = [entry for entry in state.steps if entry[0] < step]
            state.steps.append((step, float(number("train_loss"))))
        elif event == "epoch" and number("epoch") is not None:
            epoch = int(number("epoch"))
            state.epochs = [entry for entry in state.epochs if entry[0] < epoch]
            state.epochs.append((epoch, float(number("val_mse")) if number("val_mse") is not None else float("nan")))
        elif event == "stopping":
            state.stopping = True
        elif event == "snapshot" and number("epoch") is not None and isinstance(record.get("path"), str):
            path = Path(record["path"])
            state.snapshots[int(number("epoch"))] = path if path.is_absolute() else self.folder / path
        elif event == "end":
            state.finished = True
            state.checkpoints = record.get("checkpoints") if isinstance(record.get("checkpoints"), dict) else {}
            state.test_metrics = record.get("test_metrics") if isinstance(record.get("test_metrics"), dict) else {}
            state.stopped = record.get("stopped") is True
        elif event == "error":
            state.error = whole_words(str(record.get("message", "")), 1000)
        else:
            return False
        if number("elapsed") is not None:
            state.elapsed = float(number("elapsed"))
        if event in ("step", "epoch"):
            state.eta = float(number("eta")) if number("eta") is not None else None
        return True


def _finite_number(value) -> float | int | None:
    """A number from a line, or None: not a bool, not NaN or infinite (JSON's 1e400 is inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) and abs(value) < 1e15 else None


def load_snapshot_codes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, k), labels (n,)) of a snapshot, read as safely as a checkpoint."""
    import torch

    from aegui.core.model_files import read_weights_only_file

    snapshot = read_weights_only_file(path)
    codes, labels = snapshot.get("codes") if isinstance(snapshot, dict) else None, snapshot.get("labels") if isinstance(snapshot, dict) else None
    if type(codes) is not torch.Tensor or codes.ndim != 2 or type(labels) is not torch.Tensor or labels.shape != (codes.shape[0],):
        raise ValueError(f"{path.name} is not a progress snapshot")
    codes = codes.double().numpy()
    if not np.isfinite(codes).all():
        raise ValueError(f"{path.name} holds codes that are not finite")
    return codes, labels.numpy()


def snapshot_map(codes: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """The codes' 2-D PCA map, turned (and flipped if need be) to match ``previous``, the map
    of the same digits at the epoch before, so clusters move instead of jumping: the
    orthogonal Procrustes solution, which only rotates and reflects."""
    centred = codes - codes.mean(axis=0)
    if centred.shape[1] <= 2:
        points = np.pad(centred, ((0, 0), (0, 2 - centred.shape[1])))
    else:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        points = centred @ vt[:2].T
    if previous is not None and previous.shape == points.shape:
        u, _, vt = np.linalg.svd(points.T @ previous)
        points = points @ (u @ vt)
    return points


def load_snapshot_network(path: Path):
    """The autoencoder of a snapshot (weights-only read, the hyperparameters checked by the
    same schema as a checkpoint's, a strict load), ready to decode."""
    import torch

    from aegui.core.model_files import read_weights_only_file
    from aegui.core.model_format import network_hparams
    from aegui.core.networks import build_autoencoder

    snapshot = read_weights_only_file(path)
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("state_dict"), dict) or not isinstance(snapshot.get("hyper_parameters"), dict):
        raise ValueError(f"{path.name} is not a progress snapshot")
    network = build_autoencoder(network_hparams(snapshot["hyper_parameters"]))
    weights = {name: value for name, value in snapshot["state_dict"].items() if type(value) is torch.Tensor and torch.isfinite(value).all()}
    network.load_state_dict(weights, strict=True)
    network.eval().requires_grad_(False)
    return network


def whole_words(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, cut between words (never mid-word) with an ellipsis."""
    return textwrap.shorten(text, limit, placeholder=" …") if len(text) > limit else text
