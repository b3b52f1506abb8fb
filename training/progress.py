"""A training run's progress as files any tool can read: ``aegui-train fit --progress-dir DIR``.

``DIR/progress.jsonl`` gets one JSON object per line, appended and flushed as it happens:

- ``{"event": "start", "time", "config": {"model": {...}, "data": {...}}, "device", "max_epochs", "steps_per_epoch"}``
- ``{"event": "step", "time", "epoch", "step", "train_loss", "elapsed", "eta"}`` every logged step
- ``{"event": "epoch", "time", "epoch", "step", "val_mse", "val_loss", "elapsed", "eta"}`` after each validation
- ``{"event": "snapshot", "time", "epoch", "path"}`` when a snapshot is written
- ``{"event": "statistics", "time", "elapsed"}`` when training is over and the statistics the app
  needs (reference codes, the anomaly score) are being computed: on small data as long as training
- ``{"event": "end", "time", "elapsed", "checkpoints": {"best": path, "last": path}, "test_metrics": {...}}``

Paths are relative to ``DIR`` (``snapshots/epoch-0003.pt``, ``../checkpoints/best.ckpt``), so a
folder synced from another machine still names its own files; a reader opens only files inside
the run folder.
- ``{"event": "stopping", "time", "epoch", "step"}`` when a stop was asked for (below)
- ``{"event": "error", "time", "message"}`` if the run stops with an error, in plain words

A file named ``stop-requested`` in ``DIR`` asks the run to stop after the step it is on: it
validates, keeps ``last.ckpt`` (resume with ``--ckpt_path last``), computes the app's statistics
and ends with ``"stopped": true`` in its end line. Any rank that sees the file stops them all.

``elapsed`` and ``eta`` are seconds; ``eta`` is the remaining steps at the mean pace of the steps
this process trained (a resumed run's earlier steps are not counted).
At each validation ``DIR/snapshots/epoch-NNNN.pt`` holds, for ``torch.load(weights_only=True)``:
``codes`` (the app's reference digits encoded by the current encoder, (n, k)), ``labels`` (n,),
``state_dict`` (the autoencoder's weights) and ``hyper_parameters``; each is written to a
temporary name and renamed, so a reader never sees half a file. Only rank 0 writes (DDP).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from aegui.core.resources import load_reference_digits
from aegui.core.training_plan import STOP_FILE
from aegui.core.training_run import PROGRESS_FILE
from training.atomic_save import save_atomically

SNAPSHOT_DIGITS = 1000  # reference digits encoded per snapshot (the app's map shows these)


def kept_last_checkpoint(trainer: pl.Trainer) -> Path | None:
    """The run's last.ckpt when one is on disk (what an interrupted run can resume from)."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    lasts = [Path(callback.last_model_path) for callback in trainer.checkpoint_callbacks if isinstance(callback, ModelCheckpoint) and callback.last_model_path]
    return next((path for path in lasts if path.is_file()), None)


def interrupted_message(trainer: pl.Trainer) -> str:
    """What Ctrl+C left, for whoever watches the run."""
    kept = kept_last_checkpoint(trainer) is not None
    return "Interrupted (Ctrl+C)" + ("; its last.ckpt is kept, and the same command with --ckpt_path last resumes the run" if kept else " before the first epoch ended; nothing was kept to resume from")


class ProgressStream(pl.Callback):
    def __init__(self, progress_dir: str):
        self.folder = Path(progress_dir)
        self._started = self._training_started = 0.0
        self._first_step = 0
        self._digits = None
        self._created = time.time()
        self.stop_requested = False

    # --- writing -------------------------------------------------------------------------------
    def _write(self, trainer: pl.Trainer, event: str, **fields) -> None:
        if not trainer.is_global_zero:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"event": event, "time": time.time(), **{key: _plain(value) for key, value in fields.items()}}
        with open(self.folder / PROGRESS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, allow_nan=False) + "\n")
            handle.flush()

    def _timing(self, trainer: pl.Trainer) -> dict:
        """Seconds since this process began fitting, and the remaining steps at the pace of the
        steps it has trained itself (a resumed run starts at the step it stopped at: counting
        those would make the pace look several times faster than it is)."""
        now = time.perf_counter()
        total = trainer.estimated_stepping_batches
        done = max(trainer.global_step - self._first_step, 1)
        pace = (now - self._training_started) / done
        eta = pace * max(total - trainer.global_step, 0) if isinstance(total, (int, float)) and math.isfinite(total) else None
        return {"elapsed": now - self._started, "eta": eta}

    # --- Lightning hooks -----------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.perf_counter()
        self.stop_requested = False
        stop_file = self.folder / STOP_FILE
        # a request older than this process was left by an earlier run; one made since is this run's
        if trainer.is_global_zero and stop_file.exists() and stop_file.stat().st_mtime < self._created:
            stop_file.unlink(missing_ok=True)
        trainer.strategy.barrier()
        datamodule = trainer.datamodule
        config = {"model": dict(pl_module.hparams), "data": dict(datamodule.hparams) if datamodule is not None else {}}
        steps = trainer.num_training_batches if isinstance(trainer.num_training_batches, int) else None
        self._write(trainer, "start", config=config, device=str(pl_module.device), max_epochs=trainer.max_epochs, steps_per_epoch=steps)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The pace is measured from here: a resumed run's step count is restored by now."""
        self._training_started = time.perf_counter()
        self._first_step = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int) -> None:
        self._check_stop_request(trainer)
        if trainer.global_step % max(trainer.log_every_n_steps, 1) != 0:
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self._write(trainer, "step", epoch=trainer.current_epoch, step=trainer.global_step, train_loss=float(loss), **self._timing(trainer))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        self._write(
            trainer,
            "epoch",
            epoch=trainer.current_epoch,
            step=trainer.global_step,
            val_mse=float(metrics["val/mse"]) if "val/mse" in metrics else None,
            val_loss=float(metrics["val/loss"]) if "val/loss" in metrics else None,
            **self._timing(trainer),
        )
        path = self.folder / "snapshots" / f"epoch-{trainer.current_epoch:04d}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_atomically(self._snapshot(pl_module), path)
        self._write(trainer, "snapshot", epoch=trainer.current_epoch, path=_relative(path, self.folder))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer, "statistics", elapsed=time.perf_counter() - self._started)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        checkpoints, metrics = {}, {}
        for callback in trainer.checkpoint_callbacks:
            for role in ("best", "last"):
                path = getattr(callback, f"{role}_model_path", "")
                if path:
                    checkpoints[role] = _relative(Path(path), self.folder)
        for callback in trainer.callbacks:
            annotated = getattr(callback, "annotated", None)
            if annotated:
                metrics = next(iter(annotated.values()))["test_metrics"]
        self._write(trainer, "end", elapsed=time.perf_counter() - self._started, checkpoints=checkpoints, test_metrics=metrics, stopped=self.stop_requested and not _reached_max_epochs(trainer))
        if trainer.is_global_zero:
            (self.folder / STOP_FILE).unlink(missing_ok=True)

    def _check_stop_request(self, trainer: pl.Trainer) -> None:
        """Stop after this step when ``stop-requested`` exists; Lightning then validates (the
        early-stopping path), saves ``last.ckpt`` and ends the fit normally."""
        if self.stop_requested:
            return
        seen = (self.folder / STOP_FILE).exists()
        if trainer.world_size > 1:
            seen = trainer.strategy.reduce_boolean_decision(seen, all=False)
        if seen:
            self.stop_requested = True
            trainer.should_stop = True
            self._write(trainer, "stopping", epoch=trainer.current_epoch, step=trainer.global_step)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):  # Ctrl+C: a watcher read "The run stopped: KeyboardInterrupt."
            message = interrupted_message(trainer)
        else:
            message = str(exception).splitlines()[0] if str(exception) else type(exception).__name__
        self._write(trainer, "error", message=message)

    # --- the snapshot ----------------------------------------------------------------------------
    @torch.no_grad()
    def _snapshot(self, pl_module: pl.LightningModule) -> dict:
        if self._digits is None:
            self._digits = load_reference_digits(limit=SNAPSHOT_DIGITS)
        autoencoder = pl_module.autoencoder
        was_training = autoencoder.training
        autoencoder.eval()
        images = torch.from_numpy(self._digits.images).unsqueeze(1).to(pl_module.device)
        codes = torch.cat([autoencoder.encode(images[i : i + 250]) for i in range(0, len(images), 250)]).cpu()
        autoencoder.train(was_training)
        return {
            "codes": codes,
            "labels": torch.from_numpy(self._digits.labels.astype("int64")),
            "state_dict": {name: value.detach().cpu().clone() for name, value in autoencoder.state_dict().items()},
            "hyper_parameters": {key: value for key, value in dict(pl_module.hparams).items() if isinstance(value, (int, float, str, bool))},
        }


def _relative(path: Path, folder: Path) -> str:
    """``path`` as the stream names it: relative to the progress folder, so a folder synced or
    copied elsewhere still names its own files (a reader accepts only files inside the run)."""
    try:
        return os.path.relpath(path.absolute(), folder.absolute())
    except ValueError:  # another drive (Windows): only an absolute name can say where it is
        return str(path.absolute())


def _plain(value):
    """JSON-ready: finite floats (None otherwise), plain containers, paths and tensors as values."""
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def _reached_max_epochs(trainer: pl.Trainer) -> bool:
    """Whether the fit ran to its last epoch: a stop asked for during the last one ends that
    epoch where it is, and nothing is left to resume (the run is finished, not stopped)."""
    return trainer.max_epochs is not None and trainer.max_epochs > 0 and trainer.current_epoch >= trainer.max_epochs
