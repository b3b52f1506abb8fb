"""``aegui-train fit --help``: the options people change, on one screen, from the hyperparameter
table; Lightning's full list stays one flag away (``--help-all``)."""

from __future__ import annotations

import textwrap

from aegui.core.hyperparameters import HYPERPARAMETERS, RUN_SETTINGS, Hyperparameter

WIDTH = 29  # the option column

RUN_OPTIONS = (
    ("--data.data_dir DIR", "folder with the four MNIST IDX files (default: downloaded once into the cache)"),
    ("--data.download false", "never download: use only --data.data_dir"),
    ("--data.dataset NAME", "mnist or fashion-mnist [mnist]"),
    ("--trainer.default_root_dir DIR", "where logs and checkpoints go (DIR/checkpoints) [the current folder]"),
    ("--progress-dir DIR", "stream progress as JSON lines and snapshots (the app's Watch a run)"),
    ("--init_from CKPT", "start from this checkpoint's network (fine-tuning; same network)"),
    ("--ckpt_path last", "resume an interrupted run from its last.ckpt"),
    ("--config FILE.yaml", "read options from a file (training/configs/ has the bundled recipes)"),
    ("--trainer.max_time D:H:M:S", "stop after this long (e.g. 00:00:10:00)"),
    ("--verbose", "show the traceback of an error, not one line"),
    ("--help-all", "every option (Lightning's trainer, --print_config, ...)"),
)

EXAMPLES = (
    "aegui-train fit --data.data_dir ~/data/mnist --model.latent_dim 16 \\\n      --trainer.max_epochs 15 --progress-dir runs/k16/progress",
    "aegui-train fit --config training/configs/mnist-conv-k32.yaml \\\n      --data.data_dir ~/data/mnist",
    "aegui-train fit --config training/configs/mnist-conv-k32.yaml \\\n      --data.data_dir ~/data/mnist --ckpt_path last",
)


def _metavar(entry: Hyperparameter) -> str:
    if entry.choices is not None:
        return entry.choices[0].upper() if len(entry.choices) == 1 else "NAME"
    return {bool: "BOOL", int: "N", float: "X"}.get(entry.kind, "VALUE")


def _line(option: str, text: str) -> str:
    """The option, then its text wrapped to 79 columns in the second column."""
    indent = " " * (WIDTH + 2)
    wrapped = textwrap.wrap(text, 79 - len(indent))
    first = f"  {option:{WIDTH}}{wrapped[0]}" if len(option) < WIDTH else f"  {option}\n{indent}{wrapped[0]}"
    return "\n".join([first, *(indent + line for line in wrapped[1:])])


def _entry_line(entry: Hyperparameter, default: str | None = None) -> str:
    shown = default if default is not None else (str(entry.default).lower() if isinstance(entry.default, bool) else f"{entry.default:g}" if isinstance(entry.default, float) else str(entry.default))
    return _line(f"{entry.option} {_metavar(entry)}", f"{entry.help} [{shown}] ({entry.allowed()})")


def fit_help() -> str:
    lines = [
        "usage: aegui-train fit [--config FILE.yaml] [options]",
        "",
        "Train an autoencoder on MNIST-format digits. The options people change, with",
        "[the default] and (what is allowed); --help-all lists every Lightning option.",
        "",
        "The network and its training:",
    ]
    lines += [_entry_line(entry) for entry in HYPERPARAMETERS.values()]
    lines += ["", "The data and the run:"]
    lines += [_entry_line(RUN_SETTINGS[name]) for name in ("batch_size", "limit_train")]
    lines += [_entry_line(RUN_SETTINGS["max_epochs"], default=f"{RUN_SETTINGS['max_epochs'].default} without --trainer.max_steps"), _entry_line(RUN_SETTINGS["max_steps"])]
    lines += [_line(option, text) for option, text in RUN_OPTIONS]
    lines += ["", "Examples:"]
    lines += [f"  {example}" for example in EXAMPLES]
    lines += ["", "The last example resumes the second. A mistake is one line naming the option,", "the value and what is allowed (exit status 2)."]
    return "\n".join(lines) + "\n"
