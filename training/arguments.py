"""``aegui-train``'s arguments checked before anything heavy is imported.

Every command-line mistake ends the command with one line naming the option, the value and
what is allowed (``UsageError``; exit status 2). The checks read only the hyperparameter table
(``aegui.core.hyperparameters``), YAML and the first bytes of files, so a mistake is refused
in a fraction of a second instead of after Lightning's and torch's import.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import functools
import importlib.util
import os
import re
import stat
import textwrap
from pathlib import Path

from aegui.core.file_sniff import HEAD_BYTES, sniff_problem
from aegui.core.hyperparameters import HYPERPARAMETERS, RUN_SETTINGS, HyperparameterError, check_model_arguments
from aegui.core.training_plan import data_folder_problem


class UsageError(Exception):
    """A command-line mistake: one line, without the command's name (the CLI adds it)."""


# The data module's options (training.data.MNISTDataModule; a test keeps them in step).
DATASET_NAMES = ("mnist", "fashion-mnist")
DATA_OPTIONS = ("dataset", "data_dir", "download", "batch_size", "val_fraction", "limit_train", "split_seed", "num_workers")
# Options of aegui-train itself and of LightningCLI's top level.
TOP_LEVEL_OPTIONS = ("--config", "-c", "--print_config", "--seed_everything", "--init_from", "--ckpt_path", "--progress-dir", "--help", "-h", "--help-all", "--verbose", "--weights_only", "--model", "--data", "--trainer", "--checkpoint")
# Groups whose options Lightning alone knows (checked by its parser, after its import).
LIGHTNING_GROUPS = ("--trainer.", "--checkpoint.", "--optimizer", "--lr_scheduler")
# Trainer options suggested for a misspelling outside any group.
COMMON_TRAINER_OPTIONS = ("max_epochs", "max_steps", "accelerator", "devices", "num_nodes", "precision", "default_root_dir", "log_every_n_steps", "enable_progress_bar", "fast_dev_run", "limit_train_batches", "deterministic")
CHECKPOINT_PATH_WORDS = ("last", "best", "hpc", "registry")
FLAGS_WITHOUT_VALUE = ("--help", "-h", "--help-all", "--verbose", "--print_config", "--json", "--half", "--no-safetensors")


def known_options() -> list[str]:
    return [
        *TOP_LEVEL_OPTIONS,
        *(f"--model.{name}" for name in HYPERPARAMETERS),
        *(f"--data.{name}" for name in DATA_OPTIONS),
        *(f"--trainer.{name}" for name in COMMON_TRAINER_OPTIONS),
    ]


@functools.lru_cache(maxsize=1)
def trainer_option_names() -> tuple[str, ...] | None:
    """The Trainer's keyword arguments, read from the installed Lightning's source without
    importing it (an import takes seconds): ``--trainer.max_epoch`` was taken by Lightning's
    parser as an abbreviation of ``--trainer.max_epochs``, and a misspelling took 3.6 s to be
    refused. None when the source cannot be read; Lightning's parser checks them then."""
    try:
        spec = importlib.util.find_spec("pytorch_lightning")  # finds the package; runs nothing of it
        source = Path(spec.origin).parent / "trainer" / "trainer.py"
        tree = ast.parse(source.read_text(encoding="utf-8"))
        trainer = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Trainer")
        init = next(node for node in trainer.body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    except (AttributeError, OSError, SyntaxError, StopIteration, TypeError, ValueError):
        return None
    names = tuple(argument.arg for argument in (*init.args.args[1:], *init.args.kwonlyargs))
    return names or None


def unknown_option(option: str, candidates: list[str], command: str) -> UsageError:
    """The refusal of an option nobody knows, with the closest one that exists."""
    tails = {candidate.rsplit(".", 1)[-1].lstrip("-").replace("-", "_"): candidate for candidate in candidates}
    tail = option.rsplit(".", 1)[-1].lstrip("-").replace("-", "_")
    close = [tails[tail]] if tail in tails else difflib.get_close_matches(option, candidates, n=1, cutoff=0.7)  # --model.latent_dm: --model.latent_dim (--bogus is not --verbose)
    if not close:  # --epochs: the last part of --trainer.max_epochs
        close = [tails[name] for name in difflib.get_close_matches(tail, list(tails), n=1, cutoff=0.7)]
    hint = f"did you mean {close[0]}?" if close else f"aegui-train {command} --help lists the options"
    return UsageError(f"unknown option {option}; {hint}")


def stray_word(word: str, command: str) -> str:
    return f"unexpected {word[:40]!r}: {command}'s options start with -- (aegui-train {command} --help lists them)"


def as_clause(message: str) -> str:
    """A refusal written as a sentence for a dialog ("x.ckpt: This is not ... file.") in the
    style of every other command-line line: the part after the colon in lower case, no full
    stop ("x.ckpt: this is not ... file")."""
    head, colon, rest = message.rpartition(": ")
    if colon and rest[:1].isupper() and rest[1:2].islower():
        rest = rest[0].lower() + rest[1:]
    return (head + colon + rest).rstrip(".")


def load_named_model(path: str | Path):
    """``load_model`` for a command: a refusal names the file, as every other refusal of a
    command's checkpoint does ("checkpoint x.ckpt: ..."); the loader's sentences that say "the
    checkpoint" do not."""
    from aegui.core.errors import CheckpointError
    from aegui.core.model_files import load_model

    try:
        return load_model(path)
    except CheckpointError as error:
        text = str(error)
        if Path(path).name in text:
            raise
        raise CheckpointError(f"checkpoint {path}: {as_clause(text)}") from None


def sniff_model_file(option: str, path: str | Path) -> None:
    """Refuse a path that cannot be a model file from its first bytes, before torch is imported
    (``aegui.core.file_sniff``, in the reader's words). What may be a model (a zip archive, a
    safetensors header) goes on to the reader, which checks all of it."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except OSError:
        return  # a link loop, a name too long...: the reader names each in its own words
    if not stat.S_ISREG(mode):
        raise UsageError(f"{option} {path}: not a regular file (a .ckpt or .safetensors model file is needed)")
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot be read ({error.strerror or error})") from None
    problem = sniff_problem(head)
    if problem:
        raise UsageError(as_clause(f"{option} {path}: {problem}"))


def check_data_folder(option: str, folder: str | Path) -> None:
    """Refuse a folder that is not there or holds no MNIST-format IDX files."""
    problem = data_folder_problem(str(folder), option)
    if problem:
        raise UsageError(problem)


def option_pairs(args: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) in order: ``--a b`` and ``--a=b``; a value may start with a single ``-``."""
    pairs, index = [], 0
    while index < len(args):
        token = args[index]
        index += 1
        if not token.startswith("-") or token.startswith("---"):
            pairs.append(("", token))  # a stray word: Lightning's parser refuses it
            continue
        if "=" in token:
            option, value = token.split("=", 1)
            pairs.append((option, value))
        elif token not in FLAGS_WITHOUT_VALUE and index < len(args) and not args[index].startswith("--"):
            pairs.append((token, args[index]))
            index += 1
        else:
            pairs.append((token, None))
    return pairs


def _config_values(path_text: str, groups: tuple[str, ...] = ("model", "data", "trainer")) -> list[tuple[str, object]]:
    """(``--group.key``, value) from a YAML config file, in its order."""
    import yaml

    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UsageError(f"--config {path_text}: no such file")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise UsageError(f"--config {path_text}: not a readable YAML file{line}") from None
    if content is None:
        return []
    if not isinstance(content, dict):
        raise UsageError(f"--config {path_text}: a config file is a YAML mapping (model:, data:, trainer:...)")
    values = []
    for group in groups:
        section = content.get(group)
        if isinstance(section, dict):
            values += [(f"--{group}.{key}", value) for key, value in section.items()]
    return values


def check_lightning_arguments(command: str, args: list[str]) -> None:
    """Refuse, before Lightning is imported, every mistake the table and the file system can
    tell: unknown model and data options, values out of range, nothing to train, missing or
    non-model files, a data folder without MNIST in it, an unreadable config file."""
    entries = {entry.option: entry for entry in (*HYPERPARAMETERS.values(), *RUN_SETTINGS.values())}
    model: dict[str, object] = {}
    data: dict[str, object] = {}
    for option, value in option_pairs(args):
        if option in ("--config", "-c") and value is not None:
            for config_option, config_value in _config_values(value):
                if config_option.startswith(("--model.", "--data.")) and config_option not in entries and config_option[len("--data."):] not in DATA_OPTIONS:
                    raise UsageError(f"--config {value}: {unknown_option(config_option, known_options(), command)}".replace("unknown option --", "unknown key ").replace("did you mean --", "did you mean "))
                if config_option in entries and config_value is not None:
                    try:
                        entries[config_option].checked(config_value)
                    except HyperparameterError as error:
                        raise UsageError(f"--config {value}: {error.sentence}") from None
                (model if config_option.startswith("--model.") else data)[config_option.split(".", 1)[1]] = config_value
            continue
        if not option:
            raise UsageError(stray_word(str(value), command))
        if option.startswith("--trainer.") and option not in entries and trainer_option_names() is not None:
            name = re.split(r"[.+=]", option[len("--trainer."):], maxsplit=1)[0]  # --trainer.logger.init_args.x, --trainer.callbacks+=X
            if name not in trainer_option_names():
                raise unknown_option(option, [f"--trainer.{known}" for known in trainer_option_names()], command)
        if option.startswith(LIGHTNING_GROUPS) and option not in entries:
            continue  # Lightning's own options: its parser checks them
        if option not in TOP_LEVEL_OPTIONS and option not in entries and not (option.startswith("--data.") and option[len("--data."):] in DATA_OPTIONS):
            raise unknown_option(option, known_options(), command)
        if option in entries:
            if value is None:
                raise UsageError(f"{option} needs a value: {entries[option].allowed()}")
            try:
                parsed = entries[option].parse(value)
            except HyperparameterError as error:
                raise UsageError(error.sentence) from None
            if option.startswith("--model."):
                model[option[len("--model."):]] = parsed
        elif option.startswith("--data."):
            if value is None:
                raise UsageError(f"{option} needs a value")
            data[option[len("--data."):]] = value
            if option == "--data.dataset" and value not in DATASET_NAMES:
                raise UsageError(f"--data.dataset {value}: must be one of {', '.join(DATASET_NAMES)}")
            if option == "--data.download" and value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise UsageError(f"--data.download {value}: must be true or false")
        elif option in ("--init_from", "--progress-dir", "--ckpt_path") and value is None:
            raise UsageError(f"{option} needs a {'folder' if option == '--progress-dir' else 'checkpoint file'}")
        elif option == "--init_from":
            sniff_model_file(option, value)
        elif option == "--ckpt_path" and value not in CHECKPOINT_PATH_WORDS and value.lower() != "null":
            sniff_model_file(option, value)
    try:
        check_model_arguments(model)
    except HyperparameterError as error:
        raise UsageError(error.sentence) from None
    if command == "fit":
        check_resume_target(args)
    download = str(data.get("download", True)).lower() in ("true", "1", "yes")
    if data.get("data_dir") not in (None, "", "null") and not download:
        check_data_folder("--data.data_dir", str(data["data_dir"]))
    elif not download and command != "sweep" and str(data.get("dataset", "mnist")) in DATASET_NAMES:  # the default folders, as fit looks (sweep passes its own --data-dir)
        from training.datasets import locate_without_download

        locate_without_download(str(data.get("dataset", "mnist")))
    elif data.get("data_dir") not in (None, "", "null") and Path(str(data["data_dir"])).expanduser().is_file():
        raise UsageError(f"--data.data_dir {data['data_dir']}: a file, not a folder")
    elif command in ("fit", "validate", "test", "predict") and "--print_config" not in args and str(data.get("dataset", "mnist")) in DATASET_NAMES:  # printing the configuration needs no data
        check_download_possible(str(data.get("dataset", "mnist")), data.get("data_dir"))


def check_something_to_resume(checkpoint_callbacks, root: str | None = None) -> None:
    """``--ckpt_path last`` where no run left a last.ckpt: Lightning would warn and train from
    scratch, which is not what asking to resume means. A run from before checkpoints had their
    own folder (ROOT/logs/version_N/checkpoints) is named, with the option that resumes it."""
    folders = [Path(callback.dirpath) for callback in checkpoint_callbacks if getattr(callback, "dirpath", None)]
    if not folders or any(folder.is_dir() and any(folder.glob("last*.ckpt")) for folder in folders):
        return  # resolved by Lightning (no folder of its own), or there is a last.ckpt to resume from
    older = sorted(Path(root).glob("*/version_*/checkpoints/last.ckpt")) if root else []
    if older:
        raise UsageError(f"--ckpt_path last: no last.ckpt in {folders[0]}; the run's last.ckpt is in {older[-1].parent}: resume it with --checkpoint.dirpath {older[-1].parent}")
    raise UsageError(f"--ckpt_path last: no last.ckpt in {folders[0]} to resume from; leave --ckpt_path out to start a new run, or name the interrupted run's folder with --checkpoint.dirpath")


def check_resume_target(args: list[str]) -> None:
    """``--ckpt_path last`` where no run left a last.ckpt, refused before Lightning loads (it
    was refused after Lightning's start-up lines): the folder is ``--checkpoint.dirpath``, else
    ROOT/checkpoints, from the options and the config file in their order, as Lightning reads them."""
    from types import SimpleNamespace

    given: dict[str, object] = {}
    for option, value in option_pairs(args):
        if option in ("--config", "-c") and value is not None:
            given.update(_config_values(value, ("trainer", "checkpoint")))
        elif option:
            given[option] = value
    if given.get("--ckpt_path") != "last":
        return
    root = str(given.get("--trainer.default_root_dir") or os.getcwd())
    folder = str(given.get("--checkpoint.dirpath") or Path(root) / "checkpoints")
    check_something_to_resume([SimpleNamespace(dirpath=folder)], root)


def check_download_possible(dataset: str, data_dir) -> None:
    """Downloading is on: when the files are in none of the folders fit looks in, refuse at
    once if no mirror can be reached (offline), instead of after Lightning's import and the
    download's attempts."""
    from training.datasets import DATASETS, default_cache_dir, locate_dataset
    from training.download import mirrors_unreachable
    from training.errors import DatasetNotFoundError

    folder = None if data_dir in (None, "", "null") else str(data_dir)
    try:
        locate_dataset(dataset, folder)
        return
    except DatasetNotFoundError:
        pass
    unreachable = mirrors_unreachable(DATASETS[dataset].mirrors)
    if unreachable:
        if folder and not Path(folder).expanduser().exists():
            where = f"--data.data_dir {folder}: no such folder, and the {dataset} IDX files cannot be downloaded into it"
        else:
            where = (f"--data.data_dir {folder}: no {dataset} IDX files there" if folder else f"the {dataset} IDX files are not in the cache ({default_cache_dir(dataset)})") + ", and they cannot be downloaded"
        raise UsageError(f"{where} ({unreachable}); put train-images-idx3-ubyte.gz and the other three there, or name the folder that holds them with --data.data_dir")


class CommandParser(argparse.ArgumentParser):
    """argparse whose mistakes are one ``UsageError`` line, with the closest option suggested."""

    def error(self, message: str):
        command = self.prog.split()[-1]
        if message.startswith("unrecognized arguments: "):
            first = message.split(": ", 1)[1].split()[0]
            if first.startswith("-"):
                raise unknown_option(first.split("=")[0], sorted(self._option_string_actions), command)
            raise UsageError(stray_word(first, command))
        invalid = re.fullmatch(r"argument (\S+?)(?:/\S+)?: invalid (\w+) value: '(.*)'", message, re.DOTALL)
        if invalid:  # argparse's own type check: --option VALUE: must be a whole number
            option, kind, value = invalid.groups()
            raise UsageError(f"{option} {value[:40]}: must be {'a whole number' if kind == 'int' else 'a ' + kind}")
        typed = re.fullmatch(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.DOTALL)
        if typed:  # a type of ours: 'VALUE: must be ...'; or 'expected one argument'
            option, reason = typed.groups()
            raise UsageError(f"{option} {reason}" if ": must be" in reason else f"{option}: {reason}")
        raise UsageError(f"{message} (aegui-train {command} --help shows the usage)")


def command_parser(command: str, description: str, example: str) -> CommandParser:
    """A parser whose help wraps the description and shows the example unbroken, ready to copy."""
    return CommandParser(
        prog=f"aegui-train {command}",
        description=textwrap.fill(description, 79),
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
