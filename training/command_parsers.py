"""The parsers of ``evaluate``, ``export``, ``annotate`` and ``sweep``, without their commands.

Kept apart from the commands (which import torch and the data pipeline) so ``aegui-train``
parses the arguments, and refuses an unknown option, a missing argument or a bad number, in a
fraction of a second, before anything heavy is imported. Each command parses with the same
parser again, so what is checked first is exactly what the command reads.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from training.arguments import (
    LIGHTNING_GROUPS,
    TOP_LEVEL_OPTIONS,
    CommandParser,
    UsageError,
    check_data_folder,
    check_lightning_arguments,
    command_parser,
    known_options,
    option_pairs,
    sniff_model_file,
    unknown_option,
)

ROBUSTNESS_DIGITS = 2000  # the first test digits: 13 passes over them cost about what one over all 10,000 does
DEFAULT_DIMS = (2, 4, 8, 16, 32, 64)
SWEEP_CONFIG = Path(__file__).resolve().parent / "configs" / "sweep.yaml"
STYLE_AWARE_CHOICES = ("off", "inner", "all")  # annotate --style-aware (training.anomaly_fitting.use_style_aware_tables)


def whole_number(allowed: str, problem=lambda value: value < 0):
    """An argparse type: a whole number, refused as 'VALUE: must be a whole number ALLOWED'."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or problem(value):
            raise argparse.ArgumentTypeError(f"{text[:40]}: must be a whole number {allowed}")
        return value

    return parse


def evaluate_parser() -> CommandParser:
    parser = command_parser(
        "evaluate",
        "Test figures of any checkpoint, read with the app's safe loader: test MSE and BCE per pixel, "
        "linear probe and 5-NN accuracy from the code, and the anomaly AUROC of MNIST test digits against Fashion-MNIST.",
        "aegui-train evaluate runs/mnist-conv-k32/checkpoints/best.ckpt --data-dir ~/data/mnist --json",
    )
    parser.add_argument("checkpoint", type=Path, help="a .ckpt or .safetensors model file")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="folder with the MNIST IDX files (default: the folder the checkpoint's run read, else the download cache)")
    parser.add_argument("--fashion-dir", type=Path, metavar="DIR", help="folder with Fashion-MNIST (default: /usr/share/datasets/fashion-mnist or the cache)")
    parser.add_argument("--robustness-digits", type=whole_number("of 0 or more"), default=ROBUSTNESS_DIGITS, metavar="N", help=f"test digits for the noise robustness figures (default {ROBUSTNESS_DIGITS}; 0: skip them)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def export_parser() -> CommandParser:
    parser = command_parser(
        "export",
        "Write a slim checkpoint (weights, hyperparameters and the app's statistics; no optimiser state) "
        "and a .safetensors + .json pair that opens without unpickling anything.",
        "aegui-train export runs/mnist-conv-k32/checkpoints/best.ckpt shared/my-model",
    )
    parser.add_argument("checkpoint", type=Path, help="the .ckpt (or .safetensors) to export")
    parser.add_argument("output_stem", type=Path, help="output path without suffix: writes STEM.ckpt, STEM.safetensors and STEM.json (folders are created)")
    parser.add_argument("--no-safetensors", action="store_true", help="write only the slim .ckpt")
    parser.add_argument("--half", action="store_true", help="store the slim .ckpt's weights as float16 (half the size)")
    parser.add_argument("--force", action="store_true", help="replace files of that stem that are there already")
    return parser


def annotate_parser() -> CommandParser:
    parser = command_parser(
        "annotate",
        "Recompute the statistics the app reads from a checkpoint (latent ranges, error percentiles, "
        "linear probe, dimension labels, named directions, the combined anomaly score, test figures) on the seeded split it was trained on, and store them in the file.",
        "aegui-train annotate runs/mnist-conv-k32/checkpoints/best.ckpt --data-dir ~/data/mnist",
    )
    parser.add_argument("checkpoint", type=Path, help="the .ckpt to update in place")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="folder with the dataset's four IDX files (default: the folder the run used)")
    parser.add_argument(
        "--style-aware", choices=STYLE_AWARE_CHOICES, default="off",
        help="fit the anomaly tables with digits written otherwise in mind: inner (the inner distance) or all (also the code detector, with varied drawings); measured, not the default (docs/anomaly.md)",
    )  # fmt: skip
    return parser


def sweep_parser() -> CommandParser:
    from aegui.core.hyperparameters import HYPERPARAMETERS, RUN_SETTINGS

    latent_dim, max_epochs = HYPERPARAMETERS["latent_dim"], RUN_SETTINGS["max_epochs"]
    parser = command_parser(
        "sweep",
        "Train one autoencoder per bottleneck size k with the same recipe, evaluate each on the test set "
        "and compare it with PCA at the same k. Writes sweep.csv, sweep.png and family.json (the app's Compare view "
        "opens the family in one action). Options it does not know are passed to every `fit`, e.g. --model.channels 8.",
        "aegui-train sweep --latent-dims 2 8 32 --data-dir ~/data/mnist --max-epochs 15 --output-dir runs/sweep",
    )
    parser.add_argument("--latent-dims", type=whole_number(latent_dim.allowed(), latent_dim.problem), nargs="+", default=list(DEFAULT_DIMS), metavar="K", help=f"bottleneck sizes to train (default: {' '.join(map(str, DEFAULT_DIMS))})")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="folder with the four MNIST IDX files (default: download them once)")
    parser.add_argument("--output-dir", type=Path, default=Path("runs/sweep"), metavar="DIR", help="where the runs and the report go (default: runs/sweep)")
    parser.add_argument("--max-epochs", type=whole_number(max_epochs.allowed(), max_epochs.problem), metavar="N", help=f"epochs per model (default: the sweep config's, {SWEEP_CONFIG.name})")
    return parser


PARSERS = {"evaluate": evaluate_parser, "export": export_parser, "annotate": annotate_parser, "sweep": sweep_parser}


def check_output_folder(stem: Path, source: Path | None = None, suffixes=(".ckpt", ".safetensors", ".json"), replace: bool = False) -> None:
    """export's OUTPUT_STEM: its folder exists or can be made (before anything is read), none
    of the files it names is ``source`` (`export model.ckpt model` replaced its input), and none
    is there already unless ``replace`` (--force): a model shared before was silently replaced."""
    for written in (stem.with_suffix(suffix) for suffix in suffixes):
        if source is not None and _same_file(written, source):
            raise UsageError(f"output_stem {stem}: would overwrite the checkpoint it exports ({written}); give another stem")
    there = [stem.with_suffix(suffix) for suffix in suffixes if stem.with_suffix(suffix).exists()]
    if there and not replace:
        raise UsageError(f"output_stem {stem}: {there[0]} is there already; give another stem, or --force to replace it")
    ancestor = stem.expanduser().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"output_stem {stem}: {ancestor} is a file, not a folder; give a stem in a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"output_stem {stem}: cannot write in {ancestor}; give a stem in a folder you can write to")


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.exists() and path.samefile(other)
    except OSError:
        return False


def check_command_arguments(command: str, args: list[str]) -> None:
    """evaluate, export, annotate, sweep: parse the arguments with the command's own parser
    (an unknown option, a missing argument, a bad number), then refuse a non-model file and a
    folder without MNIST, all before the command's heavy imports. sweep's further options go
    to every fit and are checked as fit checks them."""
    parser = PARSERS[command]()
    known = list(parser._option_string_actions)
    for option, _ in option_pairs(args):  # an unknown option first: argparse would name a missing argument instead
        option = option.split("=")[0]
        passed_to_fit = command == "sweep" and (option in TOP_LEVEL_OPTIONS or option.startswith(("--model.", "--data.", *LIGHTNING_GROUPS)))
        if option and option not in known and not passed_to_fit:
            if not [name for name in known if name.startswith(option) and option.startswith("--")]:  # argparse takes a clear abbreviation
                raise unknown_option(option, [*known, *(known_options() if command == "sweep" else [])], command)
    if command == "sweep":
        parsed, passed_on = parser.parse_known_args(args)
        check_lightning_arguments(command, passed_on)
    else:
        parsed = parser.parse_args(args)
    if getattr(parsed, "checkpoint", None) is not None:
        sniff_model_file("checkpoint", parsed.checkpoint)
    if getattr(parsed, "output_stem", None) is not None:
        suffixes = (".ckpt",) if parsed.no_safetensors else (".ckpt", ".safetensors", ".json")
        check_output_folder(parsed.output_stem, getattr(parsed, "checkpoint", None), suffixes, replace=parsed.force)
    for name in ("data_dir", "fashion_dir"):
        if getattr(parsed, name, None) is not None:
            check_data_folder("--" + name.replace("_", "-"), getattr(parsed, name))
