"""One line per epoch in place of the progress bar where the output is not a terminal.

A run whose output goes to a file (the app's ``output.log``, ``nohup``, a cluster's job log)
got the progress bar's carriage-return updates: thousands of overwritten lines in one. There,
``aegui-train fit`` turns the bar off (unless ``--trainer.enable_progress_bar`` says otherwise)
and prints what the bar would have ended each epoch with.
"""

from __future__ import annotations

import sys
import time

import pytorch_lightning as pl


def output_is_a_terminal() -> bool:
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


class EpochLines(pl.Callback):
    """``epoch 3 of 15: train loss 0.0812, val MSE 0.01234, val loss 0.0901 (12 s)`` after each
    validation, from rank zero."""

    def __init__(self) -> None:
        self._started = time.perf_counter()

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        figures = [f"{label} {float(metrics[name]):.4g}" for name, label in (("train/loss", "train loss"), ("val/mse", "val MSE"), ("val/loss", "val loss")) if name in metrics]
        total = f" of {trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        seconds = time.perf_counter() - self._started
        took = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
        print(f"epoch {trainer.current_epoch + 1}{total}: {', '.join(figures)} ({took})", flush=True)
