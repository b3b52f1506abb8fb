"""``aegui-train``: LightningCLI for fit/validate/test, plus evaluate, sweep and export.

    aegui-train fit --config training/configs/mnist-conv-k32.yaml
    aegui-train fit --config ... --ckpt_path last          # resume
    aegui-train evaluate CKPT [--data-dir DIR] [--json]
    aegui-train sweep [--latent-dims 2 4 8 ...] --output-dir DIR
    aegui-train export CKPT OUTPUT_STEM
    aegui-train annotate CKPT --data-dir DIR             # recompute the app's statistics

Errors a user can fix (no data, a failed download, a diverged loss) end the command with one
message and exit status 1; ``--verbose`` shows the traceback as well.
"""

from __future__ import annotations

import sys

from aegui.core.errors import CheckpointError
from training.errors import DatasetNotFoundError, DownloadError

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
"""

# Where each command takes the folder of IDX files.
DATA_FLAGS = {command: "--data.data_dir DIR" for command in LIGHTNING_COMMANDS} | {"evaluate": "--data-dir DIR", "sweep": "--data-dir DIR", "annotate": "--data-dir DIR"}


def user_message(command: str, error: BaseException) -> str | None:
    """The one message for an error the user can act on, or None for a bug (shown in full)."""
    flag = getattr(error, "flag", None) or DATA_FLAGS.get(command, "--data-dir DIR")
    if isinstance(error, CheckpointError):  # already one sentence naming the problem
        return str(error)
    if isinstance(error, (DatasetNotFoundError, DownloadError)):
        return f"{error}. Pass the folder that holds the four IDX files with {flag}."
    if isinstance(error, FloatingPointError):
        return str(error)
    return None


def run_command(command: str, args: list[str]) -> int | None:
    """Run one command; the aegui commands return an exit status."""
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
    from training.lightning_cli import run_lightning_cli

    run_lightning_cli([command, *args])
    return 0


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args
    args = [arg for arg in args if arg != "--verbose"]
    if not args or args[0] in ("-h", "--help"):
        print(HELP, end="")
        raise SystemExit(0 if args else 2)
    command, rest = args[0], args[1:]
    try:
        status = run_command(command, rest)
    except Exception as error:
        message = user_message(command, error)
        if message is None or verbose:
            raise
        hint = "" if isinstance(error, CheckpointError) else "\n(run again with --verbose for the full traceback)"
        raise SystemExit(f"aegui-train {command}: {message}{hint}") from None
    if command in EXTRA_COMMANDS:
        raise SystemExit(status or 0)


if __name__ == "__main__":
    main()
