"""The LightningCLI behind ``aegui-train fit/validate/test/predict``, used by the sweep too."""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from argparse import ArgumentError
from typing import Optional

from aegui.core.hyperparameters import RUN_SETTINGS
from training.arguments import UsageError, check_something_to_resume, stray_word, unknown_option


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
        raise UsageError(f"cannot write to the output folder {folder}: {error.strerror or error}") from None


def _not_an_advert(record: logging.LogRecord) -> bool:
    """Drop Lightning's product tips from the training log; keep everything else it says."""
    return not str(record.msg).startswith("💡 Tip:")


def take_progress_dir(args: list[str]) -> tuple[list[str], str | None]:
    """``--progress-dir DIR`` (or ``--progress-dir=DIR``) taken out of the arguments: it is
    aegui's flag, not Lightning's."""
    rest, folder = [], None
    iterator = iter(args)
    for arg in iterator:
        if arg == "--progress-dir":
            folder = next(iterator, None)
            if folder is None:
                raise UsageError("--progress-dir needs a folder")
        elif arg.startswith("--progress-dir="):
            folder = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return rest, folder


def lightning_mistake(message: str, parser, command: str) -> str:
    """Lightning's parser error as one line, with the closest option to an unknown one."""
    first = " ".join(message.split())
    if "nrecognized arguments:" in first:
        unknown = first.split("rguments:", 1)[1].split()[0].split("=")[0]
        if not unknown.startswith("-"):
            return stray_word(unknown, command)
        subcommands = getattr(parser, "_subcommands_action", None)
        subparser = subcommands._name_parser_map.get(command) if subcommands is not None else None
        options = [option for option in sorted((subparser or parser)._option_string_actions) if "." in option or "." not in unknown] + ["--progress-dir"]
        return str(unknown_option(unknown, options, command))
    return first[:300]


def use_run_checkpoint_folder(trainer) -> None:
    """Without ``--checkpoint.dirpath`` a run keeps its checkpoints in ROOT/checkpoints (ROOT:
    ``--trainer.default_root_dir``), as the configs and the app's runs do. Lightning's own
    default is the logger's new version folder (ROOT/logs/version_N/checkpoints), which
    ``--ckpt_path last`` then looked for in the *next* version's folder: it found nothing and
    trained from scratch."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, ModelCheckpoint) and callback.dirpath is None:
            callback.dirpath = os.path.realpath(os.path.join(trainer.default_root_dir, "checkpoints"))


def end_process_group(trainer) -> None:
    """Under DDP, wait until every rank is done (rank 0 computes the app's statistics after the
    others have finished training) and close the process group before the processes exit: a
    rank that exits while another still holds the connection can abort (``terminate called
    without an active exception``), and the launcher then kills the whole run."""
    import torch.distributed as distributed

    if trainer.world_size > 1 and distributed.is_available() and distributed.is_initialized():
        trainer.strategy.barrier("end of fit")
        distributed.destroy_process_group()


def run_lightning_cli(args: list[str]) -> None:
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.cli import LightningCLI
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    from aegui.core.errors import CheckpointError
    from aegui.core.model_files import read_weights_only_file
    from aegui.core.hyperparameters import HYPERPARAMETERS
    from training.checkpoint_io import GuardedCheckpointIO, check_training_checkpoint
    from training.data import MNISTDataModule
    from training.epoch_lines import EpochLines, output_is_a_terminal
    from training.module import AutoencoderModule, CheckpointStatistics, start_from_checkpoint
    from training.progress import ProgressStream

    args, progress_dir = take_progress_dir(args)
    callbacks = [CheckpointStatistics()] + ([ProgressStream(progress_dir)] if progress_dir else [])
    trainer_defaults = {"callbacks": callbacks, "deterministic": False}
    if not output_is_a_terminal() and not any(arg.startswith("--trainer.enable_progress_bar") for arg in args):  # a log or a pipe: no carriage returns
        trainer_defaults["enable_progress_bar"] = False
        if args[:1] == ["fit"]:  # a line per epoch instead (validate and test print their table)
            callbacks.append(EpochLines())

    every_subcommand = LightningCLI.subcommands()
    chosen = {args[0]: every_subcommand[args[0]]} if args and args[0] in every_subcommand else every_subcommand

    class AeguiCLI(LightningCLI):
        @staticmethod
        def subcommands() -> dict[str, set[str]]:
            """Only the subcommand asked for gets its parser: each is built from the signatures
            of the trainer, the model and the data (about 0.1 s apiece), and a run uses one."""
            return chosen

        def add_arguments_to_parser(self, parser) -> None:
            parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
            parser.add_argument(
                "--init_from",
                type=Optional[str],
                default=None,
                help="Fine-tune: start from the network (and linear probe) of this aegui checkpoint instead of random weights; its network must match the model's",
            )
            parser.set_defaults(
                {
                    "checkpoint.monitor": "val/mse",
                    "checkpoint.mode": "min",
                    "checkpoint.filename": "best",
                    "checkpoint.save_last": True,
                    "checkpoint.save_top_k": 1,
                }
            )

        def parse_arguments(self, parser, args) -> None:
            """A mistake only Lightning's parser sees (a trainer option, a type) is one line too."""
            subcommands = getattr(parser, "_subcommands_action", None)
            for each in [parser, *(subcommands._name_parser_map.values() if subcommands is not None else ())]:
                each.exit_on_error = False
            try:
                super().parse_arguments(parser, args)
            except ArgumentError as error:
                raise UsageError(lightning_mistake(str(error), parser, args[0] if args else "fit")) from None
            trainer = self.config["fit"].trainer if self.config.get("subcommand") == "fit" else None
            if trainer is not None and trainer.max_epochs is None and trainer.max_steps in (None, -1):
                # neither given: the table's default (Lightning's own, 1,000 epochs, is hours of training)
                trainer.max_epochs = RUN_SETTINGS["max_epochs"].default

        def _parse_ckpt_path(self) -> None:
            """LightningCLI's own step (it sets the model's arguments from the checkpoint given to
            ``--ckpt_path``), with the file read by the app's guarded reader instead of
            ``torch.load`` and only hyperparameters of aegui's schema taken from it: a class path
            or any other name in the file is never instantiated."""
            subcommand = self.config.get("subcommand")
            ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
            if not ckpt_path or not Path(ckpt_path).is_file():
                return  # "last", "best" or a missing file: Lightning's checkpoint reader (GuardedCheckpointIO) decides
            stored = read_weights_only_file(ckpt_path)
            check_training_checkpoint(stored, ckpt_path)
            table = stored.get("hyper_parameters") if type(stored) is dict else None
            hparams = {}
            for name, value in (table.items() if type(table) is dict else ()):
                if name in HYPERPARAMETERS:
                    problem = HYPERPARAMETERS[name].problem(value)
                    if problem:
                        raise CheckpointError(f"{Path(ckpt_path).name}: hyperparameter {problem}.")
                    hparams[name] = value
            if hparams:
                self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)

        def instantiate_trainer(self, **kwargs):
            trainer_config = self._get(self.config_init, "trainer", default={})
            if trainer_config.get("logger") in (None, True) and "logger" not in kwargs:
                kwargs["logger"] = default_loggers(trainer_config.get("default_root_dir") or os.getcwd())
            if not trainer_config.get("plugins") and "plugins" not in kwargs:
                kwargs["plugins"] = [GuardedCheckpointIO()]  # --ckpt_path goes through the app's guarded reader
            try:
                trainer = super().instantiate_trainer(**kwargs)
            except (ValueError, TypeError, MisconfigurationException) as error:  # e.g. an accelerator that does not exist
                raise UsageError("the trainer refused its options: " + " ".join(str(error).split())[:300]) from None
            use_run_checkpoint_folder(trainer)
            return trainer

        def before_fit(self) -> None:
            check_writable(Path(self.trainer.default_root_dir))
            for callback in self.trainer.checkpoint_callbacks:
                if callback.dirpath:
                    check_writable(Path(callback.dirpath))
            if self.config[self.subcommand].get("ckpt_path") == "last":
                check_something_to_resume(self.trainer.checkpoint_callbacks, self.trainer.default_root_dir)
            init_from = self.config[self.subcommand].get("init_from")
            if init_from:
                try:
                    message = start_from_checkpoint(self.model, init_from)
                except (CheckpointError, ValueError) as problem:
                    raise UsageError(f"--init_from {init_from}: cannot start from it: {problem}") from None
                if self.trainer.is_global_zero:
                    print(message, flush=True)

        def after_fit(self) -> None:
            """The run's outcome as the last lines on the terminal, after every progress bar."""
            try:
                self._report_fit()
            finally:
                end_process_group(self.trainer)

        def _report_fit(self) -> None:
            if not self.trainer.is_global_zero:
                return
            for callback in self.trainer.callbacks:
                if isinstance(callback, CheckpointStatistics) and callback.summary:
                    print("\n".join(callback.summary), flush=True)
            log_dirs = sorted({logger.log_dir for logger in self.trainer.loggers if getattr(logger, "log_dir", None)})
            if log_dirs:
                print(f"Logs (metrics.csv, TensorBoard events): {', '.join(log_dirs)}", flush=True)
            best = next((c.best_model_path for c in self.trainer.checkpoint_callbacks if getattr(c, "best_model_path", "")), "")
            if best:
                print(f"Open it in the app: aegui {best}", flush=True)

    rank_zero_log = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if _not_an_advert not in rank_zero_log.filters:
        rank_zero_log.addFilter(_not_an_advert)
    with warnings.catch_warnings():
        # ``args`` is how aegui-train hands its own arguments over; Lightning's warning about
        # it is meant for notebooks. The pytree notice is Lightning's own deprecation.
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
        try:
            AeguiCLI(
                AutoencoderModule,
                MNISTDataModule,
                seed_everything_default=1234,
                trainer_defaults=trainer_defaults,
                save_config_kwargs={"overwrite": True},
                args=args,
            )
        except SystemExit as exit:
            if callbacks[0].interrupted:  # Ctrl+C: a shell's 128 + SIGINT, not Lightning's 1
                raise SystemExit(130) from None
            raise
