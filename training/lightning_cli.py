"""The LightningCLI behind ``aegui-train fit/validate/test/predict``, used by the sweep too."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def default_loggers(root: str):
    """CSV always; TensorBoard as well when it is installed."""
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    loggers = [CSVLogger(root, name="logs")]
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return loggers
    return loggers + [TensorBoardLogger(root, name="logs")]


def check_writable(folder: Path) -> None:
    """Fail before training starts, not after the first epoch, if outputs cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise SystemExit(f"aegui-train: cannot write to the output folder {folder}: {error.strerror or error}") from None


def run_lightning_cli(args: list[str]) -> None:
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.cli import LightningCLI

    from training.data import MNISTDataModule
    from training.module import AutoencoderModule, CheckpointStatistics

    class AeguiCLI(LightningCLI):
        def add_arguments_to_parser(self, parser) -> None:
            parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
            parser.set_defaults(
                {
                    "checkpoint.monitor": "val/mse",
                    "checkpoint.mode": "min",
                    "checkpoint.filename": "best",
                    "checkpoint.save_last": True,
                    "checkpoint.save_top_k": 1,
                }
            )

        def instantiate_trainer(self, **kwargs):
            trainer_config = self._get(self.config_init, "trainer", default={})
            if trainer_config.get("logger") in (None, True) and "logger" not in kwargs:
                kwargs["logger"] = default_loggers(trainer_config.get("default_root_dir") or os.getcwd())
            return super().instantiate_trainer(**kwargs)

        def before_fit(self) -> None:
            check_writable(Path(self.trainer.default_root_dir))
            for callback in self.trainer.checkpoint_callbacks:
                if callback.dirpath:
                    check_writable(Path(callback.dirpath))

    AeguiCLI(
        AutoencoderModule,
        MNISTDataModule,
        seed_everything_default=1234,
        trainer_defaults={"callbacks": [CheckpointStatistics()], "deterministic": False},
        save_config_kwargs={"overwrite": True},
        args=args,
    )
