"""What the Train dialog asks for, as the exact ``aegui-train fit`` command it runs.

Qt-free and Lightning-free: the app builds the command here, shows it to the user (who can copy
it to a bigger machine) and starts it as a separate process, so Lightning never enters the GUI
process. The run folder holds everything: checkpoints, logs, the progress stream, the output.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from aegui.core.hyperparameters import DEFAULTS, HYPERPARAMETERS, OUTLIER_NEEDS_CLASSIFIER, RUN_DEFAULTS, RUN_SETTINGS
from aegui.core.resources import DEFAULT_CHECKPOINT

PROGRESS_SUBDIR = "progress"  # the run folder's --progress-dir
OUTPUT_LOG = "output.log"  # what the process printed (its terminal), kept beside the checkpoints
PLAN_FILE = "plan.json"  # the plan of a run the app started, so Resume works after a restart
STOP_FILE = "stop-requested"  # written into the progress folder to ask a run to stop gracefully
NICENESS = 10  # the run's scheduling priority under the app: drawing stays smooth

# The four files of an MNIST-format folder (gzip or not); training/data.py reads them.
IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_MNIST_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)  # Debian's dataset-fashion-mnist


def missing_idx_files(folder: str | Path) -> list[str]:
    """The IDX files (of the four, gzip or not) that ``folder`` lacks: empty for an MNIST-format folder."""
    path = Path(folder).expanduser()
    return [stem for stem in IDX_STEMS if not any(path.joinpath(stem + suffix).is_file() for suffix in (".gz", ""))]


def data_folder_problem(folder: str, option: str = "--data.data_dir") -> str | None:
    """Why ``folder`` is no MNIST-format folder, as ``aegui-train fit --data.data_dir`` says it."""
    if not folder.strip():
        return "choose the folder that holds the four MNIST IDX files"
    if not Path(folder).expanduser().is_dir():
        return f"{option} {folder}: " + ("a file, not a folder" if Path(folder).expanduser().exists() else "no such folder")
    missing = missing_idx_files(folder)
    if missing:
        more = f" (nor {len(missing) - 1} more of the four IDX files)" if len(missing) > 1 else ""
        return f"{option} {folder}: the folder has no {missing[0]}[.gz]{more}; give the folder that holds the four MNIST IDX files"
    return None


def fashion_mnist_installed() -> bool:
    return any(Path(folder, "train-images-idx3-ubyte.gz").is_file() or Path(folder, "train-images-idx3-ubyte").is_file() for folder in FASHION_MNIST_SYSTEM_DIRS)


DATA_SOURCES = {
    "folder": "an MNIST-format folder (four IDX files)",
    "download": "MNIST, downloaded once into the cache",
    "fashion-mnist": "Fashion-MNIST (installed, or downloaded)",
}


# The plan's fields that the hyperparameter table checks.
TABLE_FIELDS = ("architecture", "latent_dim", "hidden_dim", "hidden_layers", "channels", "variational", "beta", "classifier_weight", "outlier_weight", "augmentation", "learning_rate", "input_noise", "max_epochs", "batch_size", "limit_train")


@dataclass(frozen=True)
class TrainingPlan:
    """One training run. Every field maps to one flag of ``aegui-train fit``."""

    output_dir: str
    data_source: str = "folder"
    data_dir: str = ""
    limit_train: int = RUN_DEFAULTS["limit_train"]  # 0: the whole training file
    architecture: str = DEFAULTS["architecture"]
    latent_dim: int = DEFAULTS["latent_dim"]
    hidden_dim: int = DEFAULTS["hidden_dim"]
    hidden_layers: int = DEFAULTS["hidden_layers"]
    channels: int = DEFAULTS["channels"]
    variational: bool = DEFAULTS["variational"]
    beta: float = DEFAULTS["beta"]
    classifier_weight: float = DEFAULTS["classifier_weight"]
    outlier_weight: float = DEFAULTS["outlier_weight"]
    augmentation: float = DEFAULTS["augmentation"]
    learning_rate: float = DEFAULTS["learning_rate"]
    max_epochs: int = RUN_DEFAULTS["max_epochs"]
    batch_size: int = RUN_DEFAULTS["batch_size"]
    init_from: str = ""  # a checkpoint to fine-tune (its network must match); empty: random weights
    input_noise: str = DEFAULTS["input_noise"]  # denoising: noise on each training input, e.g. "gaussian=0.3"; empty: none

    def field_problems(self) -> dict[str, str]:
        """Why this plan cannot run, by field: the sentence ``aegui-train fit`` gives for the same
        value (empty when it can run)."""
        found: dict[str, str] = {}
        for name in TABLE_FIELDS:
            entry = HYPERPARAMETERS.get(name) or RUN_SETTINGS[name]
            refusal = entry.refusal(getattr(self, name))
            if refusal:
                found[name] = refusal
        if self.data_source not in DATA_SOURCES:
            found["data_source"] = f"unknown data source {self.data_source!r}"
        elif self.data_source == "folder":
            folder_problem = data_folder_problem(self.data_dir)
            if folder_problem:
                found["data_dir"] = folder_problem
        if not self.output_dir.strip():
            found["output_dir"] = "choose an output folder"
        if self.outlier_weight > 0 and self.classifier_weight <= 0 and "outlier_weight" not in found:
            found["outlier_weight"] = OUTLIER_NEEDS_CLASSIFIER
        if self.init_from.strip() and not Path(self.init_from).expanduser().is_file():
            found["init_from"] = f"--init_from {self.init_from}: no such file"
        return found

    def problems(self) -> list[str]:
        """Why this plan cannot run, in words the dialog shows (empty when it can)."""
        return list(self.field_problems().values())

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir).expanduser()

    @property
    def progress_dir(self) -> Path:
        return self.run_dir / PROGRESS_SUBDIR

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        """What Resume continues from (Lightning's ``--ckpt_path last``)."""
        return self.checkpoint_dir / "last.ckpt"

    def fit_arguments(self, resume: bool = False) -> list[str]:
        """The arguments after ``aegui-train``: fit, then data, model, trainer and outputs."""
        run = self.run_dir
        data = {
            "folder": ["--data.dataset", "mnist", "--data.data_dir", str(Path(self.data_dir).expanduser()), "--data.download", "false"],
            "download": ["--data.dataset", "mnist"],
            "fashion-mnist": ["--data.dataset", "fashion-mnist"],
        }[self.data_source]
        if self.limit_train:
            data += ["--data.limit_train", str(self.limit_train)]
        model = [
            "--model.architecture", self.architecture,
            "--model.latent_dim", str(self.latent_dim),
            "--model.hidden_dim", str(self.hidden_dim),
            "--model.hidden_layers", str(self.hidden_layers),
            "--model.channels", str(self.channels),
            "--model.variational", str(self.variational).lower(),
            "--model.beta", f"{self.beta:g}",
            "--model.classifier_weight", f"{self.classifier_weight:g}",
            "--model.outlier_weight", f"{self.outlier_weight:g}",
            "--model.augmentation", f"{self.augmentation:g}",
            "--model.learning_rate", f"{self.learning_rate:g}",
        ]  # fmt: skip
        if self.input_noise.strip():
            model += ["--model.input_noise", self.input_noise.strip()]
        trainer = [
            "--trainer.max_epochs", str(self.max_epochs),
            "--trainer.accelerator", "auto",
            "--trainer.log_every_n_steps", "10",
            "--trainer.default_root_dir", str(run),
            "--checkpoint.dirpath", str(self.checkpoint_dir),
            "--data.batch_size", str(self.batch_size),
            "--progress-dir", str(self.progress_dir),
        ]  # fmt: skip
        # a resumed run continues from its own last.ckpt, so only a new run starts from init_from
        start = ["--init_from", str(Path(self.init_from).expanduser())] if self.init_from.strip() and not resume else []
        return ["fit", *data, *model, *trainer, *start, *(["--ckpt_path", "last"] if resume else [])]

    def shell_command(self, resume: bool = False) -> str:
        """The command as a user types it (quoted for a POSIX shell)."""
        return shlex.join(["aegui-train", *self.fit_arguments(resume)])

    def process_command(self, resume: bool = False) -> tuple[str, list[str]]:
        """(program, arguments) the app starts: this Python's ``-m training``, at a lower
        priority through ``nice`` where the system has it."""
        command = [sys.executable, "-m", "training", *self.fit_arguments(resume)]
        nice = shutil.which("nice")
        if nice:
            command = [nice, "-n", str(NICENESS), *command]
        return command[0], command[1:]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict, output_dir: str = "") -> TrainingPlan:
        """A plan from remembered values; anything missing, unknown or of the wrong type falls
        back to the default, so a damaged settings file never breaks the dialog."""
        plan = cls(output_dir=output_dir)
        fields = {}
        for name, default in asdict(plan).items():
            value = values.get(name, default) if isinstance(values, dict) else default
            if type(value) is type(default) or (isinstance(default, float) and type(value) is int):
                fields[name] = type(default)(value)
        return replace(plan, **fields)


def _preset(**values) -> dict:
    """A preset: every network and training value of the table, with these changed."""
    network = ("architecture", "latent_dim", "hidden_dim", "hidden_layers", "channels", "variational", "beta", "classifier_weight", "outlier_weight", "augmentation", "learning_rate", "input_noise")
    return {name: DEFAULTS[name] for name in network} | {"init_from": ""} | values


QUICK_PRESET = "Quick look (a minute or two on 2 CPU cores)"
DENOISING_PRESET = "Denoising: the bundled default fine-tuned against noise (a few minutes)"
DENOISING_NOISE = "gaussian=0.5,salt_and_pepper=0.3,erased_blocks=0.3,stroke_across=0.5"  # training/configs/mnist-conv-k32-denoising.yaml
PRESETS: dict[str, dict] = {
    QUICK_PRESET: _preset(latent_dim=16, hidden_dim=128, channels=8, classifier_weight=0.05, limit_train=10_000, max_epochs=15),
    "The bundled default's base (k = 32, 120 epochs)": _preset(classifier_weight=0.05, augmentation=0.5, max_epochs=120),
    "A 2-D code (k = 2: the code is the map)": _preset(latent_dim=2, hidden_dim=512, hidden_layers=2, augmentation=0.5, max_epochs=100),
    DENOISING_PRESET: _preset(
        limit_train=10_000, learning_rate=5e-4, classifier_weight=0.05, outlier_weight=0.01, augmentation=0.5, max_epochs=6,
        input_noise=DENOISING_NOISE, init_from=str(DEFAULT_CHECKPOINT),
    ),
    "Variational (VAE, beta = 1)": _preset(latent_dim=16, variational=True, beta=1.0, max_epochs=40),
}


def failure_advice(plan: TrainingPlan | None, error: str) -> str:
    """What to do about a run the app started that stopped with ``error``, in the Train dialog's
    terms (the command line's advice names flags the dialog user never typed)."""
    if plan is None or plan.data_source == "folder" or "download" not in error:
        return ""
    return f" To train without the internet: in File ▸ Train a model…, set Digits to “{DATA_SOURCES['folder']}” and choose the folder that holds them; or connect and Train again."


def apply_preset(plan: TrainingPlan, name: str) -> TrainingPlan:
    return replace(plan, **PRESETS[name])


def matching_preset(plan: TrainingPlan) -> str | None:
    """The preset whose every value the plan has (None: a plan of the user's own)."""
    return next((name for name, values in PRESETS.items() if all(getattr(plan, key) == value for key, value in values.items())), None)


def request_stop(progress_dir: str | Path) -> Path:
    """Ask the run writing ``progress_dir`` to stop after the step it is on (it validates,
    keeps ``last.ckpt`` and computes the app's statistics, so the run can be resumed)."""
    path = Path(progress_dir) / STOP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("stop\n", encoding="utf-8")
    return path


def clear_stop_request(progress_dir: str | Path) -> None:
    (Path(progress_dir) / STOP_FILE).unlink(missing_ok=True)


def read_plan(run_dir: str | Path) -> TrainingPlan | None:
    """The plan the app saved in a run folder it started (None for runs started elsewhere),
    with the folder where it is now (it may have been moved or synced)."""
    try:
        values = json.loads((Path(run_dir) / PLAN_FILE).read_text(encoding="utf-8")[:100_000])
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(values, dict):
        return None
    return replace(TrainingPlan.from_dict(values), output_dir=str(run_dir))


def run_folder_of(folder: str | Path) -> tuple[Path, Path]:
    """(run folder, progress folder) for a folder a user picked: the run folder the app made
    (its progress is in ``progress/``) or a progress folder itself."""
    folder = Path(folder)
    if (folder / PROGRESS_SUBDIR).is_dir() or (folder / PLAN_FILE).exists():  # the progress folder may be there before its first line
        return folder, folder / PROGRESS_SUBDIR
    return folder.parent, folder
