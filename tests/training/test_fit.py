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
from aegui.core.model_format import STATISTICS_KEY
from aegui.core.resources import load_reference_digits
from training.cli import main as cli_main
from tests.training.fitting import REPO, TINY_MODEL, fit_args, refusal


@pytest.fixture(scope="module")
def fitted_run(tiny_mnist_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run")
    cli_main(fit_args(tiny_mnist_dir, root, "--trainer.max_epochs", "6"))
    return root


def test_fast_dev_run_reaches_the_trainer_and_runs_one_batch(tiny_mnist_dir, tmp_path, caplog):
    caplog.set_level("INFO")
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.fast_dev_run", "true"))
    assert "Running in `fast_dev_run` mode: will run the requested loop using 1 batch(es)" in caplog.text


def test_fit_given_neither_epochs_nor_steps_trains_the_tables_default_not_lightnings_thousand(tiny_mnist_dir, tmp_path, monkeypatch):
    import pytorch_lightning as pl

    from aegui.core.hyperparameters import RUN_SETTINGS

    planned = []
    monkeypatch.setattr(pl.Trainer, "fit", lambda trainer, *args, **kwargs: planned.append((trainer.max_epochs, trainer.max_steps)))
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "bare"))
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "steps", "--trainer.max_steps", "7"))
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "epochs", "--trainer.max_epochs", "3"))
    assert planned == [(RUN_SETTINGS["max_epochs"].default, -1), (None, 7), (3, -1)]  # steps alone: as many epochs as they take


def test_short_fit_lowers_the_loss(fitted_run):
    metrics_files = list(fitted_run.glob("logs/version_*/metrics.csv"))
    assert metrics_files
    with open(metrics_files[0]) as handle:
        val_losses = [float(row["val/loss"]) for row in csv.DictReader(handle) if row.get("val/loss")]
    assert len(val_losses) == 6
    assert val_losses[-1] < 0.85 * val_losses[0]


def test_a_runs_checkpoint_validates_and_tests_and_an_exported_model_is_refused_in_one_line(fitted_run, tiny_mnist_dir, tmp_path, capsys, default_checkpoint):
    """Each Lightning command builds only its own parser; the others still run. An exported
    model (a bundled one) holds no training state: one line pointing at evaluate and
    --init_from, where Lightning alone failed inside with a KeyError traceback."""
    data = ["--data.data_dir", str(tiny_mnist_dir), "--data.download", "false", "--trainer.default_root_dir", str(tmp_path), *TINY_MODEL]
    for command, metric in (("validate", "val/mse"), ("test", "test/mse")):
        capsys.readouterr()
        cli_main([command, *data, "--ckpt_path", str(fitted_run / "checkpoints" / "best.ckpt")])
        assert metric in capsys.readouterr().out
        status, line = refusal(capsys, [command, *data, "--ckpt_path", str(default_checkpoint)])
        assert status == 2 and line == (
            f"aegui-train {command}: --ckpt_path {default_checkpoint}: an exported model, without the training state a run writes; "
            f"measure it with aegui-train evaluate {default_checkpoint}, or train on from it with --init_from {default_checkpoint}"
        )


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
    written = (tmp_path / "model.ckpt").read_bytes()
    with pytest.raises(SystemExit) as exit_info:  # the same stem again: replaced only when asked
        cli_main(["export", str(source), str(tmp_path / "model"), "--half"])
    assert exit_info.value.code == 2 and (tmp_path / "model.ckpt").read_bytes() == written
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", str(source), str(tmp_path / "model"), "--half", "--force"])
    assert exit_info.value.code == 0 and len((tmp_path / "model.ckpt").read_bytes()) < len(written)  # float16: replaced
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["export", str(source), str(tmp_path / "model"), "--force"])
    assert exit_info.value.code == 0
    for path, file_format in ((tmp_path / "model.ckpt", "Lightning checkpoint"), (tmp_path / "model.safetensors", "safetensors")):
        exported = load_model(path)  # the file named, never its sibling
        assert exported.file_format == file_format and exported.path == path
        assert torch.equal(original.autoencoder(images), exported.autoencoder(images))
        assert torch.equal(original.statistics.probe_weight, exported.statistics.probe_weight)
        assert exported.statistics.dataset == original.statistics.dataset


def test_unwritable_output_folder_is_reported_before_training(tiny_mnist_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    status, line = refusal(capsys, fit_args(tiny_mnist_dir, blocker / "run", "--trainer.max_epochs", "1"))
    assert status == 2 and line.startswith("aegui-train fit: cannot write to the output folder")


def test_nan_loss_stops_training_with_a_message(tiny_mnist_dir, tmp_path, capsys):
    status, line = refusal(capsys, fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "1", "--model.learning_rate", "1e30"))
    assert status == 1 and re.match(r"aegui-train fit: train loss became nan .* Lower the learning rate", line)


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


def test_evaluate_reports_the_5nn_accuracy_fit_stored(fitted_run, tiny_mnist_dir, tmp_path, monkeypatch):
    from training.evaluate import evaluate

    path = fitted_run / "checkpoints" / "best.ckpt"
    stored = torch.load(path, weights_only=True)[STATISTICS_KEY]["test_metrics"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    result = evaluate(path)  # no data folder given: the one the run read (it was "not in the cache ... pass --data-dir")
    assert result["n_test"] == stored["n_test"]  # the run's own (small) test set, not a full MNIST found elsewhere
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
    import http.server
    import threading

    import training.datasets
    from training.errors import DownloadError

    class NoFiles(http.server.BaseHTTPRequestHandler):  # a mirror that answers, without the files
        def do_GET(self):
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoFiles)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setitem(training.datasets.DATASETS, "mnist", dataclasses.replace(training.datasets.DATASETS["mnist"], mirrors=(f"http://127.0.0.1:{port}/",)))
        args = ["fit", "--trainer.default_root_dir", str(tmp_path / "run"), "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false"]
        status, message = refusal(capsys, args)
        assert status == 1 and message.startswith("aegui-train fit: the mnist IDX files") and "downloading them failed" in message and f"127.0.0.1:{port}: Not Found" in message
        assert message.endswith("--data.data_dir DIR. (--verbose shows the traceback)")
        with pytest.raises(DownloadError):
            cli_main([*args, "--verbose"])
    finally:
        server.shutdown()
        server.server_close()


def test_with_no_mirror_to_reach_a_folder_without_the_files_is_refused_before_lightning_loads(tmp_path, monkeypatch, capsys):
    import dataclasses
    import socket

    import training.datasets

    with socket.socket() as closed:  # a port on 127.0.0.1 that nothing listens on: offline, as far as fit can tell
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(training.datasets.DATASETS, "mnist", dataclasses.replace(training.datasets.DATASETS["mnist"], mirrors=(f"http://127.0.0.1:{port}/",)))
    monkeypatch.setattr("training.lightning_cli.run_lightning_cli", lambda args: pytest.fail("Lightning was reached"))
    (tmp_path / "empty").mkdir()
    status, message = refusal(capsys, ["fit", "--data.data_dir", str(tmp_path / "empty")])
    assert status == 2
    assert message == f"aegui-train fit: --data.data_dir {tmp_path / 'empty'}: no mnist IDX files there, and they cannot be downloaded (127.0.0.1: Connection refused); put train-images-idx3-ubyte.gz and the other three there, or name the folder that holds them with --data.data_dir"
    status, message = refusal(capsys, ["fit", "--data.data_dir", str(tmp_path / "nowhere")])
    assert status == 2 and message.startswith(f"aegui-train fit: --data.data_dir {tmp_path / 'nowhere'}: no such folder, and the mnist IDX files cannot be downloaded into it (127.0.0.1")
    status, message = refusal(capsys, ["fit"])  # the cache, empty too
    assert status == 2 and message.startswith(f"aegui-train fit: the mnist IDX files are not in the cache ({tmp_path / 'cache' / 'aegui' / 'datasets' / 'mnist'}), and they cannot be downloaded")  # "there": named
    from training.arguments import check_lightning_arguments

    check_lightning_arguments("fit", ["--print_config"])  # printing the configuration needs no data: not refused


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
