"""Hostile and malformed model files (``tests/hostile_corpus.py``): each refused by the loader
with a message of its own, quickly and in bounded memory; what the loader accepts is finite,
bounded and exactly the file that was chosen."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from aegui.core.model_files import CheckpointError, export_safetensors, load_model
from tests.hostile_corpus import build_corpus, valid_table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("hostile"))


def test_every_hostile_file_is_refused_within_two_seconds_with_its_own_message(corpus):
    assert len(corpus) >= 25
    messages = {}
    for item in corpus:
        started = time.perf_counter()
        with pytest.raises(CheckpointError) as refused:
            load_model(item.path)
        seconds = time.perf_counter() - started
        message = str(refused.value)
        assert item.expected in message, (item.name, message)
        assert seconds < 2.0, (item.name, seconds)
        assert "\n" not in message and "\x1b" not in message and len(message) < 400, (item.name, message)
        assert "weights_only=False" not in message  # never the advice that would run a payload
        messages[item.name] = message
    assert len(set(messages.values())) == len(messages)


PEAK_PROBE = """
import json, sys, time
from pathlib import Path
from aegui.core.model_files import CheckpointError, load_model

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
results = {}
for path in sys.argv[1:]:
    baseline = status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current size
    started = time.perf_counter()
    try:
        load_model(path)
        outcome = "loaded"
    except CheckpointError:
        outcome = "refused"
    results[Path(path).name] = {"outcome": outcome, "peak_mb": status("VmHWM") - baseline, "seconds": time.perf_counter() - started}
print(json.dumps(results))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc to reset the peak memory")
def test_refusing_files_that_claim_gigabytes_stays_under_300_mb_and_2_s(corpus):
    claims = [str(item.path) for item in corpus if item.claims_gigabytes]
    assert len(claims) >= 6
    result = subprocess.run([sys.executable, "-c", PEAK_PROBE, *claims], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for name, figure in figures.items():
        assert figure["outcome"] == "refused", name
        assert figure["peak_mb"] < 300 and figure["seconds"] < 2.0, (name, figure)


def test_an_unexpected_error_inside_the_loader_is_refused_by_name(tmp_path, monkeypatch):
    path = tmp_path / "ok.ckpt"
    torch.save(valid_table(), path)
    for error, expected in ((MemoryError(), "needs more memory than this computer can give it"), (ZeroDivisionError("boom"), "an unexpected ZeroDivisionError (boom)")):
        def fail(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(torch, "load", fail)
        with pytest.raises(CheckpointError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            load_model(path)


def test_the_file_chosen_is_the_file_loaded_whatever_lies_beside_it(tmp_path):
    chosen = tmp_path / "model.ckpt"
    torch.save(valid_table(), chosen)
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    (tmp_path / "model.json").write_text("{}")
    model = load_model(chosen)  # a hostile sibling does not make the chosen file unusable
    assert model.path == chosen and model.file_format == "Lightning checkpoint"
    other = valid_table()
    other["hyper_parameters"]["latent_dim"] = 2
    from aegui.core.networks import build_autoencoder

    network = build_autoencoder(other["hyper_parameters"])
    other["state_dict"] = {f"autoencoder.{k}": v for k, v in network.state_dict().items()}
    other["aegui_statistics"] = None
    torch.save(other, tmp_path / "different.ckpt")
    export_safetensors(load_model(tmp_path / "different.ckpt"), tmp_path / "model")  # a valid k = 2 sibling
    assert load_model(chosen).latent_dim == 3  # still the k = 3 file that was chosen


def test_evaluate_export_and_annotate_refuse_every_hostile_file_in_one_line(corpus, tmp_path, capsys):
    from training.cli import main as cli_main

    for item in corpus:
        for command in (["evaluate", str(item.path)], ["export", str(item.path), str(tmp_path / "out" / item.name)], ["annotate", str(item.path)]):
            with pytest.raises(SystemExit) as exit_info:
                cli_main(command)
            message = capsys.readouterr().err
            assert exit_info.value.code == 2 and message.startswith(f"aegui-train {command[0]}: ") and message.count("\n") == 1, (item.name, command[0], message)
            as_clause = item.expected[0].lower() + item.expected[1:]  # after "checkpoint NAME: " the loader's sentence goes on in lower case
            assert item.expected in message or as_clause in message, (item.name, command[0], message)
            assert item.path.name in message, (item.name, command[0], message)  # which file, every time
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing exported


def test_a_refused_file_exits_with_status_2_and_one_line_on_stderr(corpus):
    item = next(item for item in corpus if item.name == "stride0_weights")
    result = subprocess.run([sys.executable, "-m", "training", "evaluate", str(item.path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aegui-train evaluate: ") and item.expected in lines[0]


def test_evaluate_json_writes_null_for_a_figure_that_is_not_a_number(tmp_path, capsys, monkeypatch):
    import training.evaluate

    monkeypatch.setattr(training.evaluate, "evaluate", lambda *args: {"test_mse": float("nan"), "knn_accuracy": 0.5, "ood_auroc_fashion": None})
    assert training.evaluate.main([str(tmp_path / "any.ckpt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"test_mse": None, "knn_accuracy": 0.5, "ood_auroc_fashion": None}


def test_long_text_is_cut_at_load_and_what_export_writes_loads_again(tmp_path):
    table = valid_table()
    table["aegui_statistics"]["dataset"] = {"name": "d" * 1_000_000, "note": "\x1b[31mred\x1b[0m and\nmore"}
    torch.save(table, tmp_path / "wordy.ckpt")
    model = load_model(tmp_path / "wordy.ckpt")
    assert len(model.statistics.dataset["name"]) == 200 and "\x1b" not in model.statistics.dataset["note"]
    export_safetensors(model, tmp_path / "exported")
    assert load_model(tmp_path / "exported.safetensors").statistics.dataset == model.statistics.dataset
