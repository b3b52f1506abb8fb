"""Command-line mistakes as a user makes them: ``python -m training ...`` in a subprocess, one line
on stderr naming the option, the value and what is allowed, exit status 2, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from aegui.core.hyperparameters import DEFAULTS, HYPERPARAMETERS, RUN_SETTINGS
from aegui.core.resources import CHECKPOINTS_DIR
from aegui.core.training_plan import PRESETS, TrainingPlan
from tests.conftest import REPO
from training.cli import main as cli_main

# (arguments, what the one line says); files named here are made by the ``workspace`` fixture.
MISTAKES = [
    (["fit", "--model.learning_rate", "-0.01"], "aegui-train fit: --model.learning_rate -0.01: must be above 0"),
    (["fit", "--model.latent_dim", "0"], "aegui-train fit: --model.latent_dim 0: must be from 1 to 256"),
    (["fit", "--model.latent_dim=300"], "--model.latent_dim 300: must be from 1 to 256"),
    (["fit", "--model.hidden_dim", "wide"], "--model.hidden_dim wide: must be a whole number from 4 to 4096"),
    (["fit", "--model.architecture", "cnn"], "--model.architecture cnn: must be one of dense, conv"),
    (["fit", "--model.outlier_weight", "0.5"], "--model.outlier_weight needs the classifier on the code"),
    (["fit", "--trainer.max_epochs", "0"], "--trainer.max_epochs 0 (nothing to train): must be from 1 to"),
    (["fit", "--trainer.max_steps", "0"], "--trainer.max_steps 0 (nothing to train): must be from 1 to"),
    (["fit", "--model.learnin_rate", "0.1"], "unknown option --model.learnin_rate; did you mean --model.learning_rate?"),
    (["fit", "--epochs", "3"], "unknown option --epochs; did you mean --trainer.max_epochs?"),
    (["fit", "--trainer.max_epoch", "1"], "unknown option --trainer.max_epoch; did you mean --trainer.max_epochs?"),  # not taken as an abbreviation
    (["fit", "--trainer.max_epohcs", "1"], "unknown option --trainer.max_epohcs; did you mean --trainer.max_epochs?"),  # refused before Lightning loads
    (["fit", "--data.data_dri", "x"], "did you mean --data.data_dir?"),
    (["fit", "--data-dir", "x"], "unknown option --data-dir; did you mean --data.data_dir?"),  # evaluate's spelling, not --data
    (["fit", "--bogus", "3"], "unknown option --bogus; aegui-train fit --help lists the options"),  # not "did you mean --verbose?"
    (["fit", "--data.data_dir", "empty", "--data.download", "false"], "--data.data_dir empty: the folder has no train-images-idx3-ubyte[.gz] (nor 3 more"),
    (["fit", "--data.data_dir", "nowhere", "--data.download", "false"], "--data.data_dir nowhere: no such folder"),
    (["fit", "--data.dataset", "kmnist"], "--data.dataset kmnist: must be one of mnist, fashion-mnist"),
    (["fit", "--config", "missing.yaml"], "--config missing.yaml: no such file"),
    (["fit", "--config", "bad-rate.yaml"], "--config bad-rate.yaml: --model.learning_rate -1: must be above 0"),
    (["fit", "--init_from", "notes.ckpt"], "--init_from notes.ckpt: this is not a PyTorch checkpoint or a safetensors file"),
    (["fit", "--init_from", "missing.ckpt"], "--init_from missing.ckpt: no such file"),
    (["fit", "--ckpt_path", "notes.ckpt"], "--ckpt_path notes.ckpt: this is not a PyTorch checkpoint or a safetensors file"),
    (["fit", "stray"], "unexpected 'stray'"),
    (["fit", "--trainer.default_root_dir", "empty", "--ckpt_path", "last"], "aegui-train fit: --ckpt_path last: no last.ckpt in empty/checkpoints to resume from; leave --ckpt_path out to start a new run"),
    (["evaluate", "page.ckpt"], "checkpoint page.ckpt: this is a web page (HTML), not a model file"),
    (["export", "pipe.ckpt", "out"], "checkpoint pipe.ckpt: not a regular file"),
    (["fitt"], "aegui-train: unknown command 'fitt'; did you mean fit?"),
    (["evaluate", "notes.ckpt"], "aegui-train evaluate: checkpoint notes.ckpt: this is not a PyTorch checkpoint"),
    (["evaluate", "missing.ckpt"], "checkpoint missing.ckpt: no such file"),
    (["export", "notes.ckpt", "out"], "aegui-train export: checkpoint notes.ckpt: this is not a PyTorch checkpoint"),
    (["annotate", "empty.safetensors"], "aegui-train annotate: checkpoint empty.safetensors: this is an empty file, not a model file"),
    (["evaluate", "BUNDLED", "--data-dir", "empty"], "--data-dir empty: the folder has no train-images-idx3-ubyte"),
    (["sweep", "--data-dir", "nowhere"], "aegui-train sweep: --data-dir nowhere: no such folder"),
    (["evaluate", "BUNDLED", "--data-dir", "notes.ckpt"], "aegui-train evaluate: --data-dir notes.ckpt: a file, not a folder"),
    (["export", "model.ckpt", "model"], "aegui-train export: output_stem model: would overwrite the checkpoint it exports (model.ckpt); give another stem"),
    (["export", "BUNDLED", "notes"], "aegui-train export: output_stem notes: notes.ckpt is there already; give another stem, or --force to replace it"),
    (["export", "BUNDLED", "notes.ckpt/out"], "aegui-train export: output_stem notes.ckpt/out: notes.ckpt is a file, not a folder; give a stem in a folder"),
    (["evaluate", "--no-such-option"], "aegui-train evaluate: unknown option --no-such-option; aegui-train evaluate --help lists the options"),
    (["export", "--no-such-option"], "aegui-train export: unknown option --no-such-option; aegui-train export --help lists the options"),
    (["annotate", "--no-such-option"], "aegui-train annotate: unknown option --no-such-option; aegui-train annotate --help lists the options"),
    (["sweep", "--no-such-option"], "aegui-train sweep: unknown option --no-such-option; aegui-train sweep --help lists the options"),
    (["evaluate", "BUNDLED", "--jsn"], "aegui-train evaluate: unknown option --jsn; did you mean --json?"),
    (["sweep", "--output_dir", "runs"], "aegui-train sweep: unknown option --output_dir; did you mean --output-dir?"),
    (["evaluate"], "aegui-train evaluate: the following arguments are required: checkpoint"),
    (["export", "BUNDLED"], "aegui-train export: the following arguments are required: output_stem"),
    (["annotate", "BUNDLED", "extra"], "aegui-train annotate: unexpected 'extra'"),
    (["evaluate", "BUNDLED", "--robustness-digits", "many"], "aegui-train evaluate: --robustness-digits many: must be a whole number of 0 or more"),
    (["evaluate", "BUNDLED", "--data-dir"], "aegui-train evaluate: --data-dir: expected one argument"),
    (["sweep", "--latent-dims", "0", "4"], "aegui-train sweep: --latent-dims 0: must be a whole number from 1 to 256"),
    (["sweep", "--max-epochs", "0"], "aegui-train sweep: --max-epochs 0: must be a whole number from 1 to"),
    (["sweep", "--model.learning_rate", "-1"], "aegui-train sweep: --model.learning_rate -1: must be above 0"),
    (["sweep", "stray"], "aegui-train sweep: unexpected 'stray'"),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mistakes")
    (folder / "empty").mkdir()
    (folder / "notes.ckpt").write_text("meeting notes, not a model\n")
    (folder / "empty.safetensors").write_bytes(b"")
    (folder / "bad-rate.yaml").write_text("model:\n  learning_rate: -1\n")
    (folder / "page.ckpt").write_text("<!DOCTYPE html><html><body>Sign in to download</body></html>")
    shutil.copy(CHECKPOINTS_DIR / "mnist-conv-k2.ckpt", folder / "model.ckpt")  # export must not write over what it reads
    os.mkfifo(folder / "pipe.ckpt")  # never opened: a reader would wait for a writer forever
    return folder


def run(args: list[str], cwd, *extra) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "training", *args, *extra], capture_output=True, text=True, timeout=300, cwd=cwd, env=environment)


@pytest.mark.parametrize(("args", "expected"), MISTAKES, ids=[" ".join(args) for args, _ in MISTAKES])
def test_each_command_line_mistake_is_one_line_with_exit_status_2(workspace, default_checkpoint, args, expected):
    args = [str(default_checkpoint) if arg == "BUNDLED" else arg for arg in args]
    result = run(args, workspace)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr[-2000:]
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_the_mistakes_are_refused_before_torch_or_lightning_is_imported(workspace, default_checkpoint):
    code = (
        "import sys\nfrom training.cli import main\nimport ast\nrefused = []\n"
        "for args in ast.literal_eval(sys.argv[1]):\n"
        "    try:\n        main(args)\n    except SystemExit as exit:\n        refused.append(exit.code)\n"
        "print(refused, sorted(m for m in ('torch', 'pytorch_lightning', 'lightning') if m in sys.modules))"
    )
    mistakes = [[str(default_checkpoint) if arg == "BUNDLED" else arg for arg in args] for args, _ in MISTAKES]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code, repr(mistakes)], capture_output=True, text=True, timeout=120, cwd=workspace, env=environment)
    assert result.stdout.strip() == f"{[2] * len(mistakes)} []", result.stderr[-2000:]


def test_fit_makes_its_progress_folder_before_lightning_loads(tmp_path, monkeypatch, tiny_mnist_dir):
    """So that ``aegui --watch`` started beside it finds the run's folder within a second, not
    after the several seconds Lightning takes to load."""
    import training.lightning_cli

    progress = tmp_path / "run" / "progress"
    seen = []
    monkeypatch.setattr(training.lightning_cli, "run_lightning_cli", lambda args: seen.append(progress.is_dir()))
    cli_main(["fit", "--data.data_dir", str(tiny_mnist_dir), "--progress-dir", str(progress)])
    assert seen == [True]


def test_verbose_shows_the_traceback_instead(workspace):
    result = run(["fit", "--model.latent_dim", "0", "--verbose"], workspace)
    assert result.returncode != 0 and "Traceback" in result.stderr and "--model.latent_dim 0: must be from 1 to 256" in result.stderr


def test_a_mistake_only_lightning_knows_is_one_line_too(capsys, tiny_mnist_dir):
    # in this process (Lightning is imported once per test process): the same main a user's command runs
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--data.data_dir", str(tiny_mnist_dir), "--trainer.accelerator", "abacus"])
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and stderr.splitlines()[-1].startswith("aegui-train fit: the trainer refused its options: ")
    assert "Traceback" not in stderr and "abacus" in stderr


def test_resuming_where_no_run_left_a_last_checkpoint_is_refused_not_started_afresh(capsys, tiny_mnist_dir, tmp_path):
    # Lightning alone warns ("no last checkpoint available ... save_last=True") and trains from scratch
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--data.data_dir", str(tiny_mnist_dir), "--trainer.default_root_dir", str(tmp_path), "--checkpoint.dirpath", str(tmp_path / "checkpoints"), "--ckpt_path", "last"])
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in stderr and not (tmp_path / "checkpoints" / "best.ckpt").exists()
    assert stderr.splitlines()[-1] == f"aegui-train fit: --ckpt_path last: no last.ckpt in {tmp_path / 'checkpoints'} to resume from; leave --ckpt_path out to start a new run, or name the interrupted run's folder with --checkpoint.dirpath"


def test_fit_help_fits_a_screen_with_the_options_people_change_and_examples(workspace, capsys):
    result = run(["fit", "--help"], workspace)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) <= 80 and max(map(len, lines)) <= 80
    for option in ("--model.latent_dim", "--model.architecture", "--data.data_dir", "--trainer.max_epochs", "--trainer.max_time", "--progress-dir", "--init_from", "--ckpt_path last", "--config", "--verbose", "--help-all"):
        assert option in result.stdout
    assert sum(line.startswith("  aegui-train fit ") for line in lines) >= 2
    capsys.readouterr()  # the full list in this process (Lightning is imported once per test process)
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--help-all"])
    assert exit_info.value.code == 0 and "--trainer.gradient_clip_val" in capsys.readouterr().out


def test_the_module_the_plan_and_the_presets_read_one_table():
    from inspect import signature

    from training.data import DATASETS, MNISTDataModule
    from training.module import AutoencoderModule

    from training.arguments import DATA_OPTIONS, DATASET_NAMES

    parameters = signature(AutoencoderModule.__init__).parameters
    assert {name: parameters[name].default for name in HYPERPARAMETERS} == DEFAULTS
    assert list(signature(MNISTDataModule.__init__).parameters)[1:] == list(DATA_OPTIONS) and tuple(DATASETS) == DATASET_NAMES
    plan = TrainingPlan(output_dir="run")
    assert all(getattr(plan, name) == DEFAULTS[name] for name in HYPERPARAMETERS if hasattr(plan, name))
    assert plan.max_epochs == RUN_SETTINGS["max_epochs"].default and plan.batch_size == RUN_SETTINGS["batch_size"].default
    for name, values in PRESETS.items():
        for field, value in values.items():
            if field == "init_from":  # a file, not a hyperparameter
                continue
            entry = HYPERPARAMETERS.get(field) or RUN_SETTINGS[field]
            assert entry.refusal(value) is None, (name, field)


def test_both_commands_print_their_version(workspace):
    from aegui import __version__

    for command in (["-m", "training"], ["-m", "aegui"]):
        result = subprocess.run([sys.executable, *command, "--version"], capture_output=True, text=True, timeout=60, cwd=workspace, env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"})
        name = "aegui-train" if command[1] == "training" else "aegui"
        assert (result.returncode, result.stdout.strip()) == (0, f"{name} {__version__}"), result.stderr[-500:]


def test_evaluate_without_the_data_says_how_to_get_it(workspace, default_checkpoint, tmp_path):
    """Only fit downloads: evaluate named the empty cache and stopped there."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-m", "training", "evaluate", str(default_checkpoint)], capture_output=True, text=True, timeout=120, cwd=workspace, env=environment)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr[-1000:]
    assert f"are not in {tmp_path / 'cache' / 'aegui' / 'datasets' / 'mnist'}" in result.stderr
    assert result.stderr.strip().endswith("with --data-dir DIR (aegui-train fit --trainer.fast_dev_run true downloads them there, training one batch).")


def test_a_file_the_loader_refuses_after_reading_it_is_named_in_the_line(workspace, tmp_path):
    """The loader's own sentences say "the checkpoint": evaluate, export and annotate put the
    file's name in front, as for every other refusal of their checkpoint."""
    import torch

    torch.save({"a": 1}, tmp_path / "table.ckpt")
    for command in (["evaluate", "table.ckpt"], ["export", "table.ckpt", "out"], ["annotate", "table.ckpt"]):
        result = run(command, tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert result.stderr == f"aegui-train {command[0]}: checkpoint table.ckpt: the checkpoint has no hyper_parameters table, so aegui cannot tell which network it holds\n"
