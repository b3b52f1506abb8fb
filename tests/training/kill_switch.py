"""Callbacks that end a run from inside: SIGKILL mid-epoch (a crash, the OOM killer) or a stop request."""

import os
import signal

import pytorch_lightning as pl


class KillMidEpoch(pl.Callback):
    def __init__(self, epoch: int = 1, batch: int = 3):
        self.epoch = epoch
        self.batch = batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)


class RequestStop(pl.Callback):
    """Asks for a graceful stop the way the app does, by writing the stop file, mid-epoch."""

    def __init__(self, progress_dir: str, epoch: int = 1, batch: int = 2):
        self.progress_dir = progress_dir
        self.epoch = epoch
        self.batch = batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            from aegui.core.training_plan import request_stop

            request_stop(self.progress_dir)


class InterruptMidEpoch(pl.Callback):
    """Ctrl+C mid-epoch, as Python delivers it: a KeyboardInterrupt inside the training loop."""

    def __init__(self, epoch: int = 1, batch: int = 2):
        self.epoch = epoch
        self.batch = batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            raise KeyboardInterrupt
