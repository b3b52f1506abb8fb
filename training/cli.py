"""``aegui-train``: LightningCLI for fit/validate/test, plus evaluate, sweep and export.

    aegui-train fit --config training/configs/mnist-conv-k32.yaml
    aegui-train fit --config ... --ckpt_path last          # resume
    aegui-train evaluate CKPT [--data-dir DIR] [--json]
    aegui-train sweep [--latent-dims 2 4 8 ...] --output-dir DIR
    aegui-train export CKPT OUTPUT_STEM
    aegui-train annotate CKPT --data-dir DIR             # recompute the app's statistics

Errors a user can fix end the command with one line on stderr: a command-line mistake (an
option, a value, a file, a folder) with exit status 2, checked before the heavy imports where
the arguments tell; a failed download or a diverged loss with status 1. ``--verbose`` shows
the traceback instead.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from aegui.core.errors import CheckpointError
from aegui.core.hyperparameters import HyperparameterError
from training.arguments import UsageError, as_clause, check_lightning_arguments, option_pairs
from training.command_parsers import check_command_arguments
from training.errors import DatasetNotFoundError, DownloadError
from training.fit_help import fit_help

LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")
EXTRA_COMMANDS = ("evaluate", "sweep", "export", "annotate")
HELP = """usage: aegui-train COMMAND [options]

Train and inspect aegui's autoencoders. `aegui-train COMMAND --help` describes each command.

Lightning commands (configured with --config FILE.yaml and --model.*, --data.*, --trainer.*):
  fit        train a model; --ckpt_path last resumes an interrupted run;
             --progress-dir DIR streams progress as JSON lines and snapshots (see README)
  validate   validation metrics of a checkpoint (--ckpt_path)
  test       test metrics of a checkpoint (--ckpt_path)
  predict    run a checkpoint over the test set

aegui commands:
  evaluate   test MSE, probe and 5-NN accuracy, anomaly AUROC of any checkpoint
  sweep      one model per bottleneck size k, compared with PCA (report and family.json)
  export     a slim .ckpt and a .safetensors + .json pair for sharing
  annotate   recompute the statistics the app reads from a checkpoint

Any command: --verbose shows the full traceback when a command stops with an error.
aegui-train --version prints the version.
`aegui-train fit --help` lists the options people change; --help-all every Lightning option.
"""

# Where each command takes the folder of IDX files.
DATA_FLAGS = {command: "--data.data_dir DIR" for command in LIGHTNING_COMMANDS} | {"evaluate": "--data-dir DIR", "sweep": "--data-dir DIR", "annotate": "--data-dir DIR"}


def user_message(command: str, error: BaseException) -> tuple[str, int] | None:
    """(the one line, exit status) for an error the user can act on; None for a bug (shown in full).

    Command-line mistakes (an option, a value, a file or a folder) exit with status 2; a run that
    failed on its way (a download, a diverged loss) with status 1."""
    flag = getattr(error, "flag", None) or DATA_FLAGS.get(command, "--data-dir DIR")
    if isinstance(error, UsageError):
        return str(error), 2
    if isinstance(error, HyperparameterError):
        return error.sentence, 2
    if isinstance(error, CheckpointError):  # already one sentence naming the problem
        return as_clause(str(error)), 2
    if isinstance(error, DatasetNotFoundError):  # only fit downloads (in prepare_data): the others say how to get the files
        fetch = "" if command in LIGHTNING_COMMANDS else " (aegui-train fit --trainer.fast_dev_run true downloads them there, training one batch)"
        return f"{error}. Pass the folder that holds the four IDX files with {flag}{fetch}.", 2
    if isinstance(error, DownloadError):
        return f"{error}. Pass the folder that holds the four IDX files with {flag}.", 1
    if isinstance(error, FloatingPointError):
        return str(error), 1
    return None


def run_command(command: str, args: list[str]) -> int | None:
    """Run one command; the aegui commands return an exit status. Mistakes a user can see in the
    arguments are refused first, before the command's heavy imports."""
    if command in EXTRA_COMMANDS:
        check_command_arguments(command, args)
    if command == "evaluate":
        from training.evaluate import main as evaluate_main

        return evaluate_main(args)
    if command == "sweep":
        from training.sweep import main as sweep_main

        return sweep_main(args)
    if command == "annotate":
        from training.annotate import main as annotate_main

        return annotate_main(args)
    if command == "export":
        from training.export import main as export_main

        return export_main(args)
    if command not in LIGHTNING_COMMANDS:
        close = difflib.get_close_matches(command, [*LIGHTNING_COMMANDS, *EXTRA_COMMANDS], n=1)
        raise UsageError(f"unknown command {command!r}; " + (f"did you mean {close[0]}?" if close else "aegui-train --help lists the commands"))
    if command == "fit" and any(arg in ("-h", "--help") for arg in args):
        print(fit_help(), end="")
        return 0
    args = ["--help" if arg == "--help-all" else arg for arg in args]
    if "--help" not in args:
        check_lightning_arguments(command, args)
        if command == "fit":
            make_progress_dir(args)
    from training.lightning_cli import run_lightning_cli

    run_lightning_cli([command, *args])
    return 0


def make_progress_dir(args: list[str]) -> None:
    """Make ``--progress-dir`` at once, before Lightning loads (several seconds): ``aegui
    --watch`` of the run started beside it then finds the folder and its layout."""
    for option, value in option_pairs(args):
        if option == "--progress-dir" and value:
            try:
                Path(value).expanduser().mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise UsageError(f"--progress-dir {value}: cannot make the folder: {error.strerror or error}") from None


def one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args
    args = [arg for arg in args if arg != "--verbose"]
    if not args or args[0] in ("-h", "--help"):
        print(HELP, end="")
        raise SystemExit(0 if args else 2)
    if args[0] == "--version":
        from aegui import __version__

        print(f"aegui-train {__version__}")
        raise SystemExit(0)
    command, rest = args[0], args[1:]
    try:
        status = run_command(command, rest)
    except Exception as error:
        answer = user_message(command, error)
        if answer is None or verbose:
            raise
        message, status = answer
        hint = " (--verbose shows the traceback)" if status == 1 else ""
        print(f"aegui-train {command}: {one_line(message)}{hint}" if command in (*LIGHTNING_COMMANDS, *EXTRA_COMMANDS) else f"aegui-train: {one_line(message)}", file=sys.stderr, flush=True)
        raise SystemExit(status) from None
    if command in EXTRA_COMMANDS:
        raise SystemExit(status or 0)


if __name__ == "__main__":
    main()
