"""The Train dialog's plan: the exact command it shows and runs, and remembered values."""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace

from aegui.core.training_plan import PRESETS, TrainingPlan, apply_preset, clear_stop_request, request_stop


def test_the_shown_command_is_the_run_command_with_aegui_train_in_front(tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path / "my run"), data_dir=str(tmp_path / "mnist data"), latent_dim=8, limit_train=5000, variational=True, beta=0.5)
    shown = shlex.split(plan.shell_command())
    program, arguments = plan.process_command()
    started = [program, *arguments]
    assert shown[0] == "aegui-train" and shown[1:] == started[started.index("training") + 1 :]
    assert started[started.index("training") - 2 :][:2] == [sys.executable, "-m"]
    flags = dict(zip(shown[2::2], shown[3::2]))
    assert flags["--model.latent_dim"] == "8" and flags["--data.limit_train"] == "5000" and flags["--model.variational"] == "true"
    assert flags["--data.data_dir"] == str(tmp_path / "mnist data")  # one argument, spaces and all
    assert flags["--progress-dir"] == str(tmp_path / "my run" / "progress") and flags["--checkpoint.dirpath"] == str(tmp_path / "my run" / "checkpoints")
    assert "--ckpt_path" not in shown and shlex.split(plan.shell_command(resume=True))[-2:] == ["--ckpt_path", "last"]


def test_the_run_starts_at_a_lower_priority_where_nice_exists(monkeypatch, tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path), data_dir=str(tmp_path))
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/nice" if name == "nice" else None)
    program, arguments = plan.process_command()
    assert program == "/usr/bin/nice" and arguments[:2] == ["-n", "10"]
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert plan.process_command()[0] == sys.executable


def test_data_sources_map_to_the_data_flags(tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path))
    assert "--data.data_dir" not in replace(plan, data_source="download").fit_arguments()
    fashion = replace(plan, data_source="fashion-mnist").fit_arguments()
    assert fashion[fashion.index("--data.dataset") + 1] == "fashion-mnist"


def test_problems_name_what_to_fix(tmp_path, tiny_mnist_dir):
    assert TrainingPlan(output_dir=str(tmp_path), data_dir=str(tiny_mnist_dir)).problems() == []
    assert TrainingPlan(output_dir=str(tmp_path), data_dir=str(tmp_path)).problems() == [f"{tmp_path} has no train-images-idx3-ubyte[.gz] (nor 3 more of the four IDX files)"]
    problems = TrainingPlan(output_dir="", data_dir="", latent_dim=0, max_epochs=0).problems()
    assert any("latent_dim" in p for p in problems) and any("folder" in p and "MNIST" in p for p in problems)
    assert any("output folder" in p for p in problems) and any("epochs" in p for p in problems)


def test_every_preset_is_a_valid_plan_and_remembered_values_survive_damage(tmp_path, tiny_mnist_dir):
    plan = TrainingPlan(output_dir=str(tmp_path), data_dir=str(tiny_mnist_dir))
    for name in PRESETS:
        assert apply_preset(plan, name).problems() == [], name
    remembered = TrainingPlan.from_dict(replace(plan, latent_dim=7, beta=2).to_dict())
    assert remembered.latent_dim == 7 and remembered.beta == 2.0
    damaged = TrainingPlan.from_dict({"latent_dim": "seven", "beta": [1], "max_epochs": 3, "nonsense": 1}, output_dir="out")
    assert damaged.latent_dim == 32 and damaged.beta == 1.0 and damaged.max_epochs == 3 and damaged.output_dir == "out"
    assert TrainingPlan.from_dict("not a dict").latent_dim == 32


def test_a_stop_request_is_a_file_in_the_progress_folder(tmp_path):
    path = request_stop(tmp_path / "progress")
    assert path.is_file()
    clear_stop_request(tmp_path / "progress")
    assert not path.exists()
    clear_stop_request(tmp_path / "progress")  # nothing to clear is fine


def test_a_saved_plan_is_read_back_with_the_folder_where_it_now_is(tmp_path):
    from aegui.core.training_plan import PLAN_FILE, read_plan, run_folder_of

    plan = TrainingPlan(output_dir="/somewhere/else", data_dir=str(tmp_path), latent_dim=5)
    (tmp_path / PLAN_FILE).write_text(__import__("json").dumps(plan.to_dict()))
    read = read_plan(tmp_path)
    assert read.latent_dim == 5 and read.run_dir == tmp_path and read.progress_dir == tmp_path / "progress"
    assert run_folder_of(tmp_path) == (tmp_path, tmp_path / "progress")
    assert run_folder_of(tmp_path / "elsewhere" / "progress") == (tmp_path / "elsewhere", tmp_path / "elsewhere" / "progress")
    (tmp_path / PLAN_FILE).write_bytes(b"\xff[[[")
    assert read_plan(tmp_path) is None and read_plan(tmp_path / "missing") is None


def test_a_plan_that_starts_from_a_checkpoint_passes_it_to_a_new_run_only(tmp_path, tiny_mnist_dir):
    start = tmp_path / "base model.ckpt"
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir), init_from=str(start))
    assert plan.problems() == [f"no checkpoint to start from at {start}"]
    start.write_bytes(b"checked by aegui-train itself")
    assert plan.problems() == []
    shown = shlex.split(plan.shell_command())
    assert shown[shown.index("--init_from") + 1] == str(start)  # one argument, space and all
    assert "--init_from" not in plan.fit_arguments(resume=True)  # a resumed run continues from its own last.ckpt
    assert "--init_from" not in TrainingPlan(output_dir=str(tmp_path)).fit_arguments()
    assert TrainingPlan.from_dict(plan.to_dict(), str(tmp_path)).init_from == str(start)


def test_the_denoising_preset_fine_tunes_the_default_with_noise_and_bad_noise_is_a_problem(tmp_path, tiny_mnist_dir):
    from aegui.core.resources import DEFAULT_CHECKPOINT
    from aegui.core.training_plan import DENOISING_PRESET

    plan = apply_preset(TrainingPlan(output_dir=str(tmp_path), data_dir=str(tiny_mnist_dir)), DENOISING_PRESET)
    arguments = plan.fit_arguments()
    assert arguments[arguments.index("--model.input_noise") + 1] == plan.input_noise and "gaussian=" in plan.input_noise
    assert arguments[arguments.index("--init_from") + 1] == str(DEFAULT_CHECKPOINT)
    assert "--model.input_noise" not in TrainingPlan(output_dir=str(tmp_path), data_dir=str(tiny_mnist_dir)).fit_arguments()
    assert any("input_noise" in problem for problem in replace(plan, input_noise="gaussian=3").problems())
