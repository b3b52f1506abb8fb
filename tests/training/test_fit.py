"""Fitting through the real CLI on 600 real digits with a tiny network."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aegui.core.model_files import load_model
from aegui.core.model_files.snapshot import read_snapshot
from aegui.core.model_format import STATISTICS_KEY
from aegui.core.resources import load_reference_digits
from training.cli import main as cli_main
from training.non_digits import non_digits_from

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = ["--model.latent_dim", "4", "--model.hidden_dim", "32", "--model.channels", "4", "--model.learning_rate", "0.01"]


def fit_args(data_dir: Path, root: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--data.data_dir", str(data_dir), "--data.download", "false", "--data.batch_size", "64",
        "--trainer.default_root_dir", str(root), "--checkpoint.dirpath", str(root / "checkpoints"),
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        *TINY_MODEL, *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def fitted_run(tiny_mnist_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run")
    cli_main(fit_args(tiny_mnist_dir, root, "--trainer.max_epochs", "6"))
    return root


def test_fast_dev_run_reaches_the_trainer_and_runs_one_batch(tiny_mnist_dir, tmp_path, caplog):
    caplog.set_level("INFO")
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.fast_dev_run", "true"))
    assert "Running in `fast_dev_run` mode: will run the requested loop using 1 batch(es)" in caplog.text


def test_short_fit_lowers_the_loss(fitted_run):
    metrics_files = list(fitted_run.glob("logs/version_*/metrics.csv"))
    assert metrics_files
    with open(metrics_files[0]) as handle:
        val_losses = [float(row["val/loss"]) for row in csv.DictReader(handle) if row.get("val/loss")]
    assert len(val_losses) == 6
    assert val_losses[-1] < 0.85 * val_losses[0]


def test_checkpoints_reload_weights_only_with_identical_outputs(fitted_run, tiny_mnist_dir):
    from training.module import AutoencoderModule

    for name in ("best.ckpt", "last.ckpt"):
        path = fitted_run / "checkpoints" / name
        raw = torch.load(path, map_location="cpu", weights_only=True)
        statistics = raw[STATISTICS_KEY]
        for key in ("latent_mean", "latent_std", "error_quantiles", "probe_weight", "probe_bias", "test_metrics", "dataset"):
            assert key in statistics
        assert statistics["latent_mean"].shape == (4,)
        assert statistics["dataset"]["n_train"] == 540 and len(statistics["dataset"]["files"]) == 4
        assert 0 < statistics["test_metrics"]["test_mse"] < 0.2
        module = AutoencoderModule(**{k: v for k, v in raw["hyper_parameters"].items() if not k.startswith("_")})
        module.load_state_dict(raw["state_dict"])
        module.eval()
        loaded = load_model(path)
        loaded_weights = loaded.autoencoder.state_dict()
        assert all(torch.equal(value, loaded_weights[name.removeprefix("autoencoder.")]) for name, value in module.state_dict().items() if name.startswith("autoencoder."))
        images = torch.rand(8, 1, 28, 28)
        with torch.no_grad():  # the app keeps convolutions channels-last: same weights, other rounding
            assert torch.allclose(module(images), loaded.autoencoder(images), atol=1e-6)
        assert loaded.statistics is not None and loaded.statistics.probe_weight.shape == (10, 4)


def test_resume_from_last_continues_where_it_stopped(tiny_mnist_dir, tmp_path):
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "2"))
    first = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "3", "--ckpt_path", "last"))
    resumed = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["epoch"] == 1 and resumed["epoch"] == 2
    assert resumed["global_step"] == first["global_step"] * 3 // 2


def test_evaluate_prints_json_with_the_documented_keys(fitted_run, tiny_mnist_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["evaluate", str(fitted_run / "checkpoints" / "best.ckpt"), "--data-dir", str(tiny_mnist_dir), "--fashion-dir", str(tiny_mnist_dir), "--json"])
    assert exit_info.value.code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {
        "test_mse", "test_bce", "probe_accuracy", "knn_accuracy", "ood_auroc_fashion", "ood_auroc_fashion_reconstruction", "latent_dim", "n_test",
        "n_reference", "reference", "anomaly_score", "ood_auroc_near", "ood_auroc_near_reconstruction", "near_flagged_share", "false_alarm_rate", "n_near",
        "dci_disentanglement", "dci_completeness", "dci_informativeness", "robustness",
        "other_hands_flagged_share", "other_hands_flagged_by_group", "other_hands_probe_accuracy", "n_other_hands",
        "drawn_shapes_flagged_share", "drawn_shapes_flagged_unseen_kinds", "drawn_shapes_flagged_named", "drawn_shapes_least_flagged", "n_drawn_shapes",
    }  # fmt: skip
    robustness = result["robustness"]
    assert robustness["strengths"][0] == 0 and robustness["n_digits"] == 200
    assert set(robustness["mse_to_clean"]) == set(robustness["probe_accuracy"]) == {"gaussian", "salt_and_pepper", "erased_blocks", "stroke_across"}
    assert all(len(values) == len(robustness["strengths"]) for values in robustness["mse_to_clean"].values())
    assert all(0 <= result[key] <= 1 for key in ("dci_disentanglement", "dci_completeness"))
    assert result["n_other_hands"] == 3240 and result["n_drawn_shapes"] == 1200
    assert set(result["other_hands_flagged_by_group"]) == {"handwriting font", "thick strokes", "blurred", "low resolution", "photographed and imported"}
    assert set(result["drawn_shapes_flagged_named"]) == {"heart", "arrow", "tick", "star"}
    assert result["anomaly_score"] == "combined" and result["n_near"] == 580
    assert 0 <= result["near_flagged_share"] <= 1 and 0 <= result["false_alarm_rate"] <= 1 and 0 <= result["ood_auroc_near"] <= 1
    assert result["latent_dim"] == 4 and result["n_test"] == 200
    assert 0.15 < result["probe_accuracy"] <= 1 and 0.15 < result["knn_accuracy"] <= 1  # chance is 0.1
    assert result["ood_auroc_fashion"] == pytest.approx(0.5)  # the same digits on both sides: no separation


def test_export_writes_slim_checkpoint_and_safetensors_that_load_identically(fitted_run, tmp_path):
    source = fitted_run / "checkpoints" / "best.ckpt"
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", str(source), str(tmp_path / "model")])
    assert exit_info.value.code == 0
    original = load_model(source)
    assert (tmp_path / "model.ckpt").stat().st_size < source.stat().st_size / 2
    images = torch.rand(4, 1, 28, 28)
    for path, file_format in ((tmp_path / "model.ckpt", "Lightning checkpoint"), (tmp_path / "model.safetensors", "safetensors")):
        exported = load_model(path)  # the file named, never its sibling
        assert exported.file_format == file_format and exported.path == path
        assert torch.equal(original.autoencoder(images), exported.autoencoder(images))
        assert torch.equal(original.statistics.probe_weight, exported.statistics.probe_weight)
        assert exported.statistics.dataset == original.statistics.dataset


def refusal(capsys, args: list[str]) -> tuple[int, str]:
    """(exit status, the one line on stderr) of a command that stops with a message."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    return exit_info.value.code, lines[-1] if lines else ""


def test_unwritable_output_folder_is_reported_before_training(tiny_mnist_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    status, line = refusal(capsys, fit_args(tiny_mnist_dir, blocker / "run", "--trainer.max_epochs", "1"))
    assert status == 2 and line.startswith("aegui-train fit: cannot write to the output folder")


def test_nan_loss_stops_training_with_a_message(tiny_mnist_dir, tmp_path, capsys):
    status, line = refusal(capsys, fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "1", "--model.learning_rate", "1e30"))
    assert status == 1 and re.match(r"aegui-train fit: train loss became nan .* Lower the learning rate", line)


@pytest.mark.slow
def test_ddp_on_cpu_with_two_processes_streams_progress_once_and_stops_on_request(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    ddp = ["--trainer.max_epochs", "3", "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp", "--progress-dir", str(progress)]
    stop = ["--trainer.callbacks+=tests.training.kill_switch.RequestStop", "--trainer.callbacks.init_args.progress_dir", str(progress), "--trainer.callbacks.init_args.batch", "1"]
    command = [sys.executable, "-m", "training", *fit_args(tiny_mnist_dir, tmp_path, *ddp, *stop)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "world_size=2" in (result.stdout + result.stderr) or "GLOBAL_RANK: 1" in (result.stdout + result.stderr)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["epoch"] == 1 and STATISTICS_KEY in checkpoint  # stopped in epoch 1 of 0..2
    kinds = [json.loads(line)["event"] for line in (progress / "progress.jsonl").read_text().splitlines()]
    # rank 0 alone writes: one start, one line per epoch, one end (two ranks would double them)
    assert kinds.count("start") == 1 and kinds.count("epoch") == 2 and kinds.count("snapshot") == 2 and kinds.count("end") == 1 and "stopping" in kinds


def test_training_killed_mid_epoch_resumes_from_last_and_completes(tiny_mnist_dir, tmp_path):
    base = [sys.executable, "-m", "training", *fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "4")]
    killed = subprocess.run([*base, "--trainer.callbacks+=tests.training.kill_switch.KillMidEpoch", "--trainer.callbacks.init_args.epoch", "2"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert killed.returncode == -9, killed.stderr[-2000:]
    interrupted = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert interrupted["epoch"] == 1  # the last complete epoch before the kill
    resumed = subprocess.run([*base, "--ckpt_path", "last"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    final = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["epoch"] == 3 and STATISTICS_KEY in final


def test_sweep_runs_end_to_end_on_tiny_data(tiny_mnist_dir, tmp_path):
    from training.sweep import run_sweep

    extra = ["--model.hidden_dim", "32", "--model.channels", "4", "--data.batch_size", "64"]
    rows = run_sweep([2, 4], tiny_mnist_dir, tmp_path, max_epochs=2, extra_args=extra)
    assert [row["latent_dim"] for row in rows] == [2, 4]
    for row in rows:
        assert 0 < row["ae_test_mse"] < 0.2 and 0 < row["pca_test_mse"] < 0.2
        assert 0 <= row["ae_ood_auroc_near"] <= 1 and 0 <= row["ae_ood_auroc_near_reconstruction"] <= 1
        assert 0 <= row["ae_dci_disentanglement"] <= 1 and 0 <= row["ae_dci_completeness"] <= 1
        assert (tmp_path / row["checkpoint"]).is_file()
    assert rows[1]["pca_test_mse"] < rows[0]["pca_test_mse"]  # more components, less error
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    with open(tmp_path / "sweep.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert json.loads((tmp_path / "family.json").read_text())["checkpoints"] == [row["checkpoint"] for row in rows]


def test_mse_loss_and_deeper_layers_train_and_the_app_rebuilds_that_network(tiny_mnist_dir, tmp_path):
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "2", "--model.reconstruction_loss", "mse", "--model.hidden_layers", "2"))
    with open(next(tmp_path.glob("logs/version_*/metrics.csv"))) as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("val/loss")]
    assert rows and all(abs(float(row["val/loss"]) - float(row["val/mse"])) < 1e-6 for row in rows)  # the loss is the MSE
    model = load_model(tmp_path / "checkpoints" / "last.ckpt")
    assert model.hparams["reconstruction_loss"] == "mse" and model.hparams["hidden_layers"] == 2
    hidden = [layer for layer in model.autoencoder.decoder if isinstance(layer, torch.nn.Linear) and layer.in_features == layer.out_features]
    assert len(hidden) == 1  # the extra hidden-to-hidden layer of hidden_layers = 2


def test_unknown_reconstruction_loss_is_refused():
    from training.module import AutoencoderModule

    with pytest.raises(ValueError, match="--model.reconstruction_loss l1: must be one of bce, mse"):
        AutoencoderModule(reconstruction_loss="l1")


def test_out_of_range_hidden_layers_are_refused_before_any_weights_exist():
    from aegui.core.networks import build_autoencoder

    with pytest.raises(ValueError, match="hidden_layers must be from 1 to 4, got 9"):
        build_autoencoder({"latent_dim": 2, "hidden_layers": 9})


def test_help_lists_every_command_quickly_without_lightning():
    code = "import sys; from training.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as e:\n    print('EXIT', e.code, any(m.split('.')[0] in ('lightning', 'pytorch_lightning') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    for command in ("fit", "validate", "test", "predict", "evaluate", "sweep", "export", "annotate"):
        assert f"\n  {command} " in result.stdout
    assert result.stdout.strip().endswith("EXIT 0 False")


def test_fit_ends_with_the_checkpoint_paths_and_test_figures_computed_once(tiny_mnist_dir, tmp_path, capsys, monkeypatch):
    import training.module

    computed = []
    original = training.module.compute_statistics
    monkeypatch.setattr(training.module, "compute_statistics", lambda *args, **kwargs: computed.append(1) or original(*args, **kwargs))
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "1"))
    last_lines = capsys.readouterr().out.strip().splitlines()[-7:]
    assert last_lines[0].startswith("Statistics for the app computed in") and "computed once" in last_lines[0]
    assert last_lines[1] == f"  best: {tmp_path / 'checkpoints' / 'best.ckpt'}"
    assert last_lines[3] == f"  last: {tmp_path / 'checkpoints' / 'last.ckpt'}"
    stored = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)[STATISTICS_KEY]["test_metrics"]
    assert last_lines[2] == f"    test MSE/pixel {stored['test_mse']:.5f}, BCE {stored['test_bce']:.4f}, linear probe {stored['probe_accuracy']:.3f}, 5-NN {stored['knn_accuracy']:.3f} on 200 test digits"
    assert last_lines[5].startswith("Logs (metrics.csv") and last_lines[6] == f"Open it in the app: aegui {tmp_path / 'checkpoints' / 'best.ckpt'}"
    assert len(computed) == 1  # one epoch: best and last hold the same weights


def test_evaluate_reports_the_5nn_accuracy_fit_stored(fitted_run, tiny_mnist_dir):
    from training.evaluate import evaluate

    path = fitted_run / "checkpoints" / "best.ckpt"
    stored = torch.load(path, weights_only=True)[STATISTICS_KEY]["test_metrics"]
    result = evaluate(path, tiny_mnist_dir)
    assert result["reference"] == "the checkpoint's training split" and result["n_reference"] == 540
    # The app's loader keeps convolutions channels-last: codes agree to ~1e-6, which can flip one
    # near-tie of this barely trained 4-D model (the bundled models agree exactly).
    assert result["knn_accuracy"] == pytest.approx(stored["knn_accuracy"], abs=1.01 / result["n_test"])
    assert result["probe_accuracy"] == pytest.approx(stored["probe_accuracy"], abs=1.01 / result["n_test"])


def test_fit_without_data_offline_is_one_message_naming_the_flag(tmp_path):
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "training", "fit", "--data.download", "false", "--trainer.default_root_dir", str(tmp_path / "run"), "--trainer.max_epochs", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "args parameter" not in result.stderr and "Tip:" not in result.stderr
    message = [line for line in result.stderr.splitlines() if line.startswith("aegui-train fit:")]
    assert len(message) == 1 and message[0].endswith("Pass the folder that holds the four IDX files with --data.data_dir DIR.")
    assert str(tmp_path / "cache") in message[0]


def test_failed_download_is_one_message_and_verbose_shows_the_traceback(tmp_path, monkeypatch, capsys):
    import dataclasses
    import socket

    import training.data
    from training.errors import DownloadError

    with socket.socket() as closed:  # a port on 127.0.0.1 that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(training.data.DATASETS, "mnist", dataclasses.replace(training.data.DATASETS["mnist"], mirrors=(f"http://127.0.0.1:{port}/",)))
    args = ["fit", "--trainer.default_root_dir", str(tmp_path / "run"), "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"]
    status, message = refusal(capsys, args)
    assert status == 1 and message.startswith("aegui-train fit: the mnist IDX files") and "downloading them failed" in message and f"127.0.0.1:{port}: Connection refused" in message
    assert message.endswith("--data.data_dir DIR. (--verbose shows the traceback)")
    with pytest.raises(DownloadError):
        cli_main([*args, "--verbose"])


def test_every_aegui_command_documents_each_option(capsys):
    for command in ("evaluate", "sweep", "export", "annotate"):
        with pytest.raises(SystemExit):
            cli_main([command, "--help"])
        text = capsys.readouterr().out
        assert "``" not in text and "\nexample:\n  aegui-train " + command in text
        options = text.split("options:\n")[1].split("\n\n")[0].splitlines()
        for index, line in enumerate(options):  # an option line without help has its help on the next line, indented
            if line.startswith("  -") and len(line.split("  ")) < 3:
                assert options[index + 1].startswith(" " * 10), f"{command}: {line.strip()} has no help"


def test_progress_dir_streams_json_lines_and_loadable_snapshots(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "3", "--progress-dir", str(progress)))
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2 and kinds.count("snapshot") == 2 and "step" in kinds
    start = events[0]
    assert start["config"]["model"]["latent_dim"] == 4 and start["device"] == "cpu" and start["max_epochs"] == 2
    epochs = [event for event in events if event["event"] == "epoch"]
    assert all(0 < event["val_mse"] < 1 and event["elapsed"] > 0 and event["eta"] >= 0 for event in epochs)
    assert epochs[-1]["eta"] == 0  # nothing left at the end
    end = events[-1]
    assert end["checkpoints"]["best"].endswith("best.ckpt") and 0 < end["test_metrics"]["test_mse"] < 1
    assert (progress / end["checkpoints"]["best"]).resolve() == (tmp_path / "run" / "checkpoints" / "best.ckpt").resolve()  # named from the progress folder
    snapshot_paths = [event["path"] for event in events if event["event"] == "snapshot"]
    assert snapshot_paths == ["snapshots/epoch-0000.pt", "snapshots/epoch-0001.pt"]  # a synced copy still names its own files
    snapshot = read_snapshot(progress / snapshot_paths[-1])
    assert snapshot.codes.shape == (1000, 4) and snapshot.labels.shape == (1000,) and snapshot.network is not None
    model = load_model(tmp_path / "run" / "checkpoints" / "last.ckpt")

    images = torch.from_numpy(load_reference_digits(limit=1000).images).unsqueeze(1)
    with torch.no_grad():  # the last snapshot's codes are the final encoder's codes of the reference digits
        assert torch.allclose(model.autoencoder.encode(images[:50]).double(), torch.from_numpy(snapshot.codes[:50]), atol=1e-4)
    assert not list(progress.rglob("*.tmp*")) and not list(progress.rglob(".*"))  # written atomically, nothing half-done left


def test_a_failed_run_writes_its_error_in_plain_words(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    with pytest.raises(SystemExit):
        cli_main(fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "1", "--model.learning_rate", "1e30", "--progress-dir", str(progress)))
    last = json.loads((progress / "progress.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "error" and "loss became nan" in last["message"]


def test_every_flag_of_the_train_dialogs_command_is_accepted_by_fit(tiny_mnist_dir, tmp_path, capsys):
    from aegui.core.training_plan import PRESETS, TrainingPlan, apply_preset

    for name in PRESETS:
        plan = apply_preset(TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir)), name)
        with pytest.raises(SystemExit) as printed:
            cli_main([*plan.fit_arguments(), "--print_config"])
        assert printed.value.code in (0, None), name
        config = capsys.readouterr().out
        assert f"latent_dim: {plan.latent_dim}" in config and f"max_epochs: {plan.max_epochs}" in config and str(tiny_mnist_dir) in config
    start = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir), init_from=str(REPO / "resources" / "checkpoints" / "mnist-conv-k32.ckpt"))
    with pytest.raises(SystemExit) as printed:
        cli_main([*start.fit_arguments(), "--print_config"])
    assert printed.value.code in (0, None) and f"init_from: {start.init_from}" in capsys.readouterr().out


def test_a_stop_request_ends_the_run_resumably_and_resume_finishes_it(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    args = fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "4", "--trainer.log_every_n_steps", "2", "--progress-dir", str(progress))
    cli_main([*args, "--trainer.callbacks+=tests.training.kill_switch.RequestStop", "--trainer.callbacks.init_args.progress_dir", str(progress)])
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert "stopping" in kinds and events[-1]["event"] == "end" and events[-1]["stopped"] is True
    assert kinds.count("epoch") == 2  # epoch 0, then epoch 1 validated where it stopped
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 1 and STATISTICS_KEY in last and not (progress / "stop-requested").exists()
    cli_main([*args, "--ckpt_path", "last"])
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    assert [event["event"] for event in events].count("start") == 2 and events[-1]["event"] == "end" and events[-1]["stopped"] is False
    final = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["epoch"] == 3 and final["global_step"] > last["global_step"]


def test_outlier_exposure_makes_the_classifier_undecided_on_non_digits_it_was_shown(tiny_mnist_dir, tmp_path):
    from training.module import AutoencoderModule

    digits = load_reference_digits()
    images = torch.from_numpy(digits.images[2200:2600]).unsqueeze(1)
    labels = torch.from_numpy(digits.labels[2200:2600].astype("int64"))
    torch.manual_seed(0)
    outliers = non_digits_from(images, labels)
    mirrored = (outliers == images.flip(-1)).flatten(1).all(1)
    assert 0 < mirrored.float().mean() < 0.5 and not mirrored[(labels == 0) | (labels == 1) | (labels == 8)].any()  # 0, 1, 8 mirrored stay digits

    def confidence(outlier_weight: float) -> tuple[float, float]:
        root = tmp_path / f"oe-{outlier_weight}"
        cli_main(fit_args(tiny_mnist_dir, root, "--trainer.max_epochs", "8", "--model.classifier_weight", "1.0", "--model.outlier_weight", str(outlier_weight)))
        module = AutoencoderModule.load_from_checkpoint(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True).eval()
        with torch.no_grad():
            top = lambda x: torch.softmax(module.classifier(module.autoencoder.encode(x)), 1).max(1).values.mean().item()  # noqa: E731
            return top(images), top(outliers)

    plain_digits, plain_outliers = confidence(0.0)
    exposed_digits, exposed_outliers = confidence(1.0)
    assert exposed_outliers < plain_outliers - 0.2  # undecided on non-digits (measured 0.70 -> 0.24)
    assert exposed_digits - exposed_outliers > (plain_digits - plain_outliers) + 0.05  # and the digits stand apart (gap 0.10 -> 0.28)


def test_outlier_exposure_without_the_classifier_is_refused():
    from training.module import AutoencoderModule

    with pytest.raises(ValueError, match="classifier_weight"):
        AutoencoderModule(outlier_weight=0.5, classifier_weight=0.0)


def test_init_from_continues_from_a_checkpoint_instead_of_random_weights(fitted_run, tiny_mnist_dir, tmp_path, capsys):
    """Fine-tuning: one epoch at a tiny learning rate from the fitted run's checkpoint keeps its
    reconstruction; the same epoch from random weights is far worse. The classifier starts as
    the checkpoint's linear probe."""
    from training.module import AutoencoderModule, start_from_checkpoint

    start = fitted_run / "checkpoints" / "last.ckpt"
    module = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, classifier_weight=0.1)
    assert "linear probe" in start_from_checkpoint(module, start)
    loaded = load_model(start)
    images = torch.from_numpy(load_reference_digits().images[:50]).unsqueeze(1)
    with torch.no_grad():
        assert torch.allclose(module.autoencoder(images), loaded.autoencoder(images), atol=1e-6)
    assert torch.equal(module.classifier.weight, loaded.statistics.probe_weight.float())

    def tuned_mse(*extra: str) -> float:
        root = tmp_path / f"tuned-{len(extra)}"
        cli_main(fit_args(tiny_mnist_dir, root, "--trainer.max_epochs", "1", "--model.learning_rate", "0.0001", *extra))
        return torch.load(root / "checkpoints" / "last.ckpt", weights_only=True)[STATISTICS_KEY]["test_metrics"]["test_mse"]

    started = torch.load(start, weights_only=True)[STATISTICS_KEY]["test_metrics"]["test_mse"]
    from_checkpoint, from_scratch = tuned_mse("--init_from", str(start)), tuned_mse()
    assert f"Starting from {start}: network copied" in capsys.readouterr().out  # no classifier in this run: nothing else to copy
    assert from_checkpoint < 1.1 * started and from_scratch > 1.5 * started


def test_init_from_a_different_network_or_a_damaged_file_is_one_message(fitted_run, tiny_mnist_dir, tmp_path, capsys):
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(b"PK\x03\x04 a damaged zip archive")
    for source, message in (
        (fitted_run / "checkpoints" / "last.ckpt", "last.ckpt: cannot start from it: it holds a different network: latent_dim 4 (this run: 8)"),
        (damaged, "damaged.ckpt: cannot start from it: "),
    ):
        status, line = refusal(capsys, fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "1", "--init_from", str(source), "--model.latent_dim", "8"))
        assert status == 2 and line.startswith("aegui-train fit: --init_from ") and message in line


class _RunsCommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_ckpt_path_is_read_by_the_guarded_reader_with_its_one_line_refusals(tiny_mnist_dir, tmp_path, capsys):
    """Resuming (``--ckpt_path``) reads through the app's reader: a pipe is refused without
    blocking and a payload by name, before Lightning restores anything."""
    fifo = tmp_path / "pipe.ckpt"
    os.mkfifo(fifo)
    marker = tmp_path / "it-ran"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": _RunsCommand(marker)}, evil)
    for path, message in ((fifo, "pipe.ckpt: not a regular file"), (evil, "refers to posix.system")):
        status, line = refusal(capsys, fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "1", "--ckpt_path", str(path)))
        assert status == 2 and line.startswith("aegui-train fit: ") and message in line, line
    assert not marker.exists()


def test_input_noise_feeds_the_encoder_noisy_digits_and_scores_against_the_clean_ones():
    from torch.nn import functional as F

    from training.module import AutoencoderModule

    images = torch.from_numpy(load_reference_digits(limit=32).images).unsqueeze(1)
    labels = torch.zeros(32, dtype=torch.long)
    module = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, input_noise="gaussian=0.5,erased_blocks=0.5")
    module.log = lambda *args, **kwargs: None  # no trainer here
    seen = []
    encode = module.autoencoder.encode_distribution
    module.autoencoder.encode_distribution = lambda inputs: (seen.append(inputs), encode(inputs))[1]
    torch.manual_seed(0)
    loss = module._common_step((images, labels), "train")
    assert not torch.equal(seen[-1], images)  # the encoder saw noise
    with torch.no_grad():
        expected = F.binary_cross_entropy_with_logits(module.autoencoder.decode_logits(encode(seen[-1])[0]), images)
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)  # the target is the clean digit
    module._common_step((images, labels), "val")
    assert torch.equal(seen[-1], images)  # validation stays clean


def test_input_restyle_feeds_the_encoder_digits_written_otherwise_and_scores_against_the_clean_ones():
    from torch.nn import functional as F

    from training.module import AutoencoderModule

    images = torch.from_numpy(load_reference_digits(limit=32).images).unsqueeze(1)
    labels = torch.zeros(32, dtype=torch.long)
    module = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, input_restyle=1.0)
    module.log = lambda *args, **kwargs: None  # no trainer here
    seen = []
    encode = module.autoencoder.encode_distribution
    module.autoencoder.encode_distribution = lambda inputs: (seen.append(inputs), encode(inputs))[1]
    torch.manual_seed(0)
    loss = module._common_step((images, labels), "train")
    changed = (seen[-1] - images).abs().flatten(1).amax(1) > 0.1
    assert bool(changed.all())  # every digit restyled at share 1
    with torch.no_grad():
        expected = F.binary_cross_entropy_with_logits(module.autoencoder.decode_logits(encode(seen[-1])[0]), images)
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)  # the target is the clean digit
    module._common_step((images, labels), "val")
    assert torch.equal(seen[-1], images)  # validation stays as written
    module.hparams.restyle_target = "restyled"  # rebuild the digit as written instead
    loss = module._common_step((images, labels), "train")
    with torch.no_grad():
        expected = F.binary_cross_entropy_with_logits(module.autoencoder.decode_logits(encode(seen[-1])[0]), seen[-1])
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)


def test_outlier_drawings_add_varied_drawings_to_the_outliers_beside_the_glyphs(monkeypatch):
    import training.module
    from training.module import AutoencoderModule
    from training.non_digits import varied_drawings

    monkeypatch.setattr(training.module, "OUTLIER_DRAWINGS", 40)
    images = torch.from_numpy(load_reference_digits(limit=64).images).unsqueeze(1)
    labels = torch.from_numpy(load_reference_digits(limit=64).labels).long()
    plain = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, classifier_weight=0.05, outlier_weight=0.01)
    drawn = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, classifier_weight=0.05, outlier_weight=0.01, outlier_drawings=True)
    plain._outlier_batch(images, labels), drawn._outlier_batch(images, labels)
    drawings = varied_drawings(40, seed=0)
    assert not any(torch.equal(drawing, glyph) for drawing in drawings for glyph in plain._glyphs)
    assert sum(any(torch.equal(drawing, glyph) for glyph in drawn._glyphs) for drawing in drawings) == 40
    assert len(drawn._glyphs) == 80  # as many glyphs as drawings


def test_a_denoising_run_records_its_noise_and_restyling_in_the_checkpoint_and_bad_values_are_refused(tiny_mnist_dir, tmp_path):
    from training.module import AutoencoderModule

    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "1", "--model.input_noise", "gaussian=0.3,stroke_across=0.5", "--model.input_restyle", "0.5"))
    model = load_model(tmp_path / "checkpoints" / "last.ckpt")
    assert model.hparams["input_noise"] == "gaussian=0.3,stroke_across=0.5" and model.hparams["input_restyle"] == 0.5
    with pytest.raises(ValueError, match="--model.input_noise snow=0.2: unknown kind 'snow'"):
        AutoencoderModule(input_noise="snow=0.2")
    with pytest.raises(ValueError, match="--model.input_restyle 1.5: must be from 0 to 1"):
        AutoencoderModule(input_restyle=1.5)


def test_annotate_style_aware_refits_the_anomaly_tables_only_and_fit_stays_as_it_was(fitted_run, tiny_mnist_dir, tmp_path):
    import shutil

    import training.anomaly_fitting as fitting

    tables = {}
    for choice in ("off", "inner", "all"):
        path = tmp_path / f"{choice}.ckpt"
        shutil.copy(fitted_run / "checkpoints" / "last.ckpt", path)
        with pytest.raises(SystemExit) as done:
            cli_main(["annotate", str(path), "--data-dir", str(tiny_mnist_dir), "--style-aware", choice])
        assert done.value.code == 0
        tables[choice] = load_model(path).statistics
    off, inner, every = (tables[choice].anomaly for choice in ("off", "inner", "all"))
    assert not torch.equal(inner["inner_whitening"], off["inner_whitening"]) and torch.equal(inner["detector_weight_1"], off["detector_weight_1"])
    assert torch.equal(every["inner_whitening"], inner["inner_whitening"]) and not torch.equal(every["detector_weight_1"], off["detector_weight_1"])
    assert tables["all"].test_metrics["test_mse"] == tables["off"].test_metrics["test_mse"]  # the network untouched
    assert not fitting.STYLE_AWARE_INNER and not fitting.STYLE_AWARE_DETECTOR  # later fits make the default tables
