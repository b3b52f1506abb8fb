"""A callback that kills its own process with SIGKILL mid-epoch, as a crash or OOM killer would."""

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
