"""Names that tell models apart: two runs' best.ckpt must not both read "best (k = 16)"."""

from __future__ import annotations

from pathlib import Path

from aegui.core.resources import CHECKPOINTS_DIR

CHECKPOINT_FOLDER = "checkpoints"  # a run folder's checkpoints live here; the run is its parent
LOG_FOLDERS = ("logs", "lightning_logs")  # a command-line run without --checkpoint.dirpath: ROOT/logs/version_N/checkpoints


def run_name(path: Path) -> str:
    """The run a checkpoint belongs to: the folder holding its checkpoints/ folder, else its own
    folder; for Lightning's own layout its root with the version (``k16/version_0``: every
    such run's folder is version_0)."""
    parent = path.parent
    run = parent.parent if parent.name == CHECKPOINT_FOLDER else parent
    if run.name.startswith("version_") and run.name[len("version_"):].isdigit() and run.parent.name in LOG_FOLDERS and run.parent.parent.name:
        return f"{run.parent.parent.name}/{run.name}"
    return run.name or str(parent)


def shown_name(path: Path) -> str:
    """A model's name in the window's title and status bar: a run's checkpoint with its run
    (``run-20261207-1530/best.ckpt``: every run's best is best.ckpt), any other file by its name."""
    path = Path(path)
    in_a_run = path.parent.name == CHECKPOINT_FOLDER and path.parent.resolve() != CHECKPOINTS_DIR.resolve()  # the bundled models sit in a folder of that name too
    return f"{run_name(path)}/{path.name}" if in_a_run else path.name


def distinguishing_names(paths: list[Path]) -> list[str]:
    """Each file's stem, with its run's name where stems repeat, and more of its path where
    even that repeats; the bundled and single files keep their short name."""
    paths = [Path(path) for path in paths]
    names = [path.stem for path in paths]
    if len(set(names)) < len(names):
        names = [f"{run_name(path)}/{path.stem}" if names.count(path.stem) > 1 else path.stem for path in paths]
    if len(set(names)) < len(names):
        names = [str(path.with_suffix("")) for path in paths]
    return names


def model_facts(model) -> str:
    """What a name leaves out: the bottleneck size, and the epoch when the file records one."""
    return f"k = {model.latent_dim}" + (f", epoch {model.epoch}" if getattr(model, "epoch", None) is not None else "")


def other_dataset(model) -> str:
    """The data the model learnt when it is not MNIST's digits, else "": the map's reference
    digits, the probe's labels and the anomaly scale are MNIST digits, which such a model never saw."""
    statistics = getattr(model, "statistics", None)
    name = str((statistics.dataset or {}).get("name", "")) if statistics is not None else ""
    return name if name and name.lower() != "mnist" else ""


def unseen_digits_note(model) -> str:
    """Said when such a model is loaded: "; it learnt NAME, not these MNIST digits", or ""."""
    learnt = other_dataset(model)
    return f"; it learnt {learnt}, not these MNIST digits" if learnt else ""
