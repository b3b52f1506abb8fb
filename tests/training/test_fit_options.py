"""Fit's model options and its progress stream: the loss, deeper layers, input noise, the progress folder."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from aegui.core.model_files import load_model
from aegui.core.model_files.snapshot import read_snapshot
from aegui.core.resources import load_reference_digits
from training.cli import main as cli_main
from tests.training.fitting import fit_args


def test_mse_loss_and_deeper_layers_train_and_the_app_rebuilds_that_network(tiny_mnist_dir, tmp_path, capsys):
    cli_main(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "2", "--model.reconstruction_loss", "mse", "--model.hidden_layers", "2"))
    printed = capsys.readouterr().out  # not a terminal (a log, the app's output.log): a line per epoch, no progress bar
    assert "\r" not in printed and [line.split(":")[0] for line in printed.splitlines() if line.startswith("epoch ")] == ["epoch 1 of 2", "epoch 2 of 2"]
    assert "val MSE" in next(line for line in printed.splitlines() if line.startswith("epoch 2 of 2"))
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


def module_seeing_its_inputs(**options):
    """A tiny module on 32 real digits whose encoder records every input it is given."""
    from training.module import AutoencoderModule

    images = torch.from_numpy(load_reference_digits(limit=32).images).unsqueeze(1)
    labels = torch.zeros(32, dtype=torch.long)
    module = AutoencoderModule(latent_dim=4, hidden_dim=32, channels=4, **options)
    module.log = lambda *args, **kwargs: None  # no trainer here
    seen = []
    encode = module.autoencoder.encode_distribution
    module.autoencoder.encode_distribution = lambda inputs: (seen.append(inputs), encode(inputs))[1]
    return images, labels, module, seen, encode


def test_input_noise_feeds_the_encoder_noisy_digits_and_scores_against_the_clean_ones():
    from torch.nn import functional as F

    images, labels, module, seen, encode = module_seeing_its_inputs(input_noise="gaussian=0.5,erased_blocks=0.5")
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

    images, labels, module, seen, encode = module_seeing_its_inputs(input_restyle=1.0)
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


def test_progress_dir_streams_json_lines_and_loadable_snapshots(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    cli_main(fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "3", "--progress-dir", str(progress)))
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2 and kinds.count("snapshot") == 2 and "step" in kinds
    assert kinds[-2] == "statistics" and kinds.index("statistics") > max(i for i, kind in enumerate(kinds) if kind == "epoch")  # the app's statistics after training
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
