"""The safe loader: valid files round-trip; at least 20 kinds of bad file are each refused
with their own message, and nothing from the file ever runs."""

from __future__ import annotations

import io
import os
import pickle
import threading
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aegui.core.model_files import CheckpointError, export_safetensors, load_model
from aegui.core.model_format import FORMAT_KEY, STATISTICS_KEY
from aegui.core.networks import build_autoencoder
from aegui.core.resources import load_reference_digits
from training.statistics import compute_statistics

HPARAMS = {"architecture": "conv", "latent_dim": 3, "hidden_dim": 16, "channels": 2, "variational": False, "_instantiator": "os.system"}


@pytest.fixture(scope="module")
def valid_table() -> dict:
    torch.manual_seed(0)
    network = build_autoencoder(HPARAMS)
    digits = load_reference_digits(limit=300)
    images = torch.from_numpy(digits.images).unsqueeze(1)
    labels = torch.from_numpy(digits.labels)
    statistics = compute_statistics(network, images[:200], labels[:200], images[200:250], images[250:], labels[250:], {"name": "test"})
    return {
        "epoch": 3,
        "state_dict": {f"autoencoder.{k}": v for k, v in network.state_dict().items()},
        "hyper_parameters": dict(HPARAMS),
        STATISTICS_KEY: statistics,
        FORMAT_KEY: 1,
    }


def save(table, path: Path) -> Path:
    torch.save(table, path)
    return path


def copy_table(table: dict) -> dict:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.items()}


def test_valid_checkpoint_round_trips(valid_table, tmp_path):
    model = load_model(save(valid_table, tmp_path / "ok.ckpt"))
    assert model.latent_dim == 3 and model.file_format == "Lightning checkpoint"
    assert "_instantiator" not in model.hparams  # keys naming things to instantiate are ignored
    network = build_autoencoder(HPARAMS)
    network.load_state_dict({k[len("autoencoder.") :]: v for k, v in valid_table["state_dict"].items()})
    loaded_weights = model.autoencoder.state_dict()
    assert all(torch.equal(value, loaded_weights[name]) for name, value in network.state_dict().items())
    images = torch.rand(4, 1, 28, 28)
    # the loader keeps convolution weights channels-last (faster): same numbers, other rounding
    assert torch.allclose(network(images), model.autoencoder(images), atol=1e-6)
    assert model.statistics.latent_mean.shape == (3,)


def test_safetensors_export_round_trips(valid_table, tmp_path):
    model = load_model(save(valid_table, tmp_path / "ok.ckpt"))
    export_safetensors(model, tmp_path / "exported")
    loaded = load_model(tmp_path / "exported.safetensors")
    assert loaded.file_format == "safetensors"
    images = torch.rand(2, 1, 28, 28)
    assert torch.equal(model.autoencoder(images), loaded.autoencoder(images))
    assert torch.equal(model.statistics.error_quantiles, loaded.statistics.error_quantiles)


class _RunsCommand:
    """A pickle payload that would create a marker file if it were ever unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {}, "hyper_parameters": {"latent_dim": 2}, "payload": _RunsCommand(marker)}, path)
    return path


def test_pickle_that_would_run_a_command_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "it-ran"
    path = _malicious_checkpoint(tmp_path / "evil.ckpt", marker)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # cannot switch the safe load off
    with pytest.raises(CheckpointError, match=r"refers to posix\.system, which is not a plain tensor or container; aegui does not load it \(nothing from the file was run\)"):
        load_model(path)
    assert not marker.exists()


def _mutations(valid_table: dict, tmp_path: Path):
    """(name, path, expected message) for each kind of bad file."""
    cases = []

    def table_case(name, message, change):
        table = copy_table(valid_table)
        change(table)
        cases.append((name, save(table, tmp_path / f"{name}.ckpt"), message))

    def bytes_case(name, message, data: bytes, suffix=".ckpt"):
        path = tmp_path / f"{name}{suffix}"
        path.write_bytes(data)
        cases.append((name, path, message))

    good = tmp_path / "good.ckpt"
    save(valid_table, good)
    good_bytes = good.read_bytes()
    bytes_case("empty", "is empty", b"")
    bytes_case("truncated", "damaged or truncated", good_bytes[: len(good_bytes) // 2])
    bytes_case("html", "web page", b"<!DOCTYPE html><html><body>Not Found</body></html>")
    bytes_case("lfs", "Git LFS pointer", b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n")
    bytes_case("legacy_pickle", "legacy pickle", pickle.dumps({"state_dict": {}}, protocol=2))
    bytes_case("gzip", "gzip", b"\x1f\x8b\x08\x00" + bytes(40))
    bytes_case("text", "not recognised", b"just some notes about my model\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/readme.txt", "hello")
    bytes_case("zip_not_torch", "no data.pkl", buffer.getvalue())
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    torch.jit.save(scripted, str(tmp_path / "scripted.pt"))
    cases.append(("torchscript", tmp_path / "scripted.pt", "TorchScript"))
    table_case("wrong_shape", "has shape", lambda t: t["state_dict"].update({"autoencoder.encoder.0.weight": torch.zeros(5, 1, 3, 3)}))
    table_case("nan_weights", "NaN or infinite", lambda t: t["state_dict"].update({"autoencoder.encoder.0.bias": torch.full((2,), float("nan"))}))
    table_case("inf_weights", "NaN or infinite", lambda t: t["state_dict"].update({"autoencoder.decoder.0.bias": torch.full((16,), float("inf"))}))
    table_case("integer_weights", "expected floating point", lambda t: t["state_dict"].update({"autoencoder.encoder.0.bias": torch.zeros(2, dtype=torch.int64)}))
    table_case("absurd_latent", "latent_dim must be from 1 to 256, got 1000000000", lambda t: t["hyper_parameters"].update({"latent_dim": 10**9}))
    table_case("latent_as_text", "latent_dim must be int", lambda t: t["hyper_parameters"].update({"latent_dim": "32"}))
    table_case("unknown_architecture", "architecture must be one of dense, conv", lambda t: t["hyper_parameters"].update({"architecture": "transformer"}))
    table_case("missing_key", "missing 1 weight", lambda t: t["state_dict"].pop("autoencoder.decoder.0.weight"))
    table_case("extra_key", "does not have", lambda t: t["state_dict"].update({"autoencoder.encoder.99.weight": torch.zeros(1)}))
    table_case("other_model", "some other model", lambda t: t.update({"state_dict": {"fc1.weight": torch.zeros(4, 4), "fc1.bias": torch.zeros(4)}}))
    table_case("no_hparams", "no hyper_parameters", lambda t: t.pop("hyper_parameters"))
    table_case("no_latent_dim", "does not say its latent size", lambda t: t["hyper_parameters"].pop("latent_dim"))
    table_case("bad_statistics", "Statistic latent_std", lambda t: t[STATISTICS_KEY].update({"latent_std": torch.zeros(7)}))
    table_case("future_format", "format 99", lambda t: t.update({FORMAT_KEY: 99}))
    table_case("not_a_table", "holds a list", lambda t: None)
    save([1, 2, 3], cases[-1][1])  # overwrite the last one with a list
    return cases


def test_at_least_twenty_kinds_of_bad_file_are_refused_with_their_own_message(valid_table, tmp_path):
    cases = _mutations(valid_table, tmp_path)
    folder = tmp_path / "a-folder.ckpt"
    folder.mkdir()
    cases.append(("directory", folder, "is a folder"))
    cases.append(("missing", tmp_path / "nope.ckpt", "does not exist"))
    assert len(cases) >= 20
    messages = {}
    for name, path, expected in cases:
        with pytest.raises(CheckpointError) as error:
            load_model(path)
        assert expected in str(error.value), (name, str(error.value))
        messages[name] = str(error.value)
    assert len(set(messages.values())) >= 20  # each kind gets a message of its own


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_refused(valid_table, tmp_path):
    path = save(valid_table, tmp_path / "locked.ckpt")
    path.chmod(0)
    with pytest.raises(CheckpointError, match="No permission"):
        load_model(path)


def test_unreadable_file_is_refused_even_as_root(valid_table, tmp_path, monkeypatch):
    path = save(valid_table, tmp_path / "locked.ckpt")
    real_open = os.open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("os.open", deny)
    with pytest.raises(CheckpointError, match="No permission to read"):
        load_model(path)


def test_file_that_changes_while_loading_is_refused(valid_table, tmp_path, monkeypatch):
    path = save(valid_table, tmp_path / "growing.ckpt")
    real_open = os.open

    def open_then_append(file, *args, **kwargs):
        descriptor = real_open(file, *args, **kwargs)
        if str(file) == str(path):
            with open(path, "ab") as writer:  # another program keeps writing
                writer.write(b"more bytes")
        return descriptor

    monkeypatch.setattr("os.open", open_then_append)
    with pytest.raises(CheckpointError, match="changed while it was being read"):
        load_model(path)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("aegui.core.model_files.reader.MAX_CHECKPOINT_BYTES", 1000)
    path = tmp_path / "big.ckpt"
    path.write_bytes(b"PK" + bytes(5000))
    with pytest.raises(CheckpointError, match="refuses files over"):
        load_model(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=4096))
def test_random_bytes_are_refused_cleanly(tmp_path, data):
    path = tmp_path / "random.ckpt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError):
        load_model(path)


def test_sniffing_happens_before_any_unpickling(tmp_path, monkeypatch):
    """Files that are not a checkpoint never reach torch.load: load_model refuses them first."""
    import pickle

    calls = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(a) or {})
    payloads = {
        "page.ckpt": b"<!DOCTYPE html><html><body>Not found</body></html>",
        "legacy.ckpt": pickle.dumps({"state_dict": {}}, protocol=2),
        "pointer.ckpt": b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n",
    }
    for name, payload in payloads.items():
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(CheckpointError):
            load_model(tmp_path / name)
    assert calls == []


def test_loading_in_a_thread_is_safe(valid_table, tmp_path):
    path = save(valid_table, tmp_path / "ok.ckpt")
    results = []
    threads = [threading.Thread(target=lambda: results.append(load_model(path).latent_dim)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [3, 3, 3]


def test_every_bad_file_leaves_the_loaded_model_in_place(valid_table, tmp_path, reference):
    from aegui.core.executor import ImmediateExecutor
    from aegui.core.explorer import Explorer

    explorer = Explorer(reference, ImmediateExecutor())
    explorer.open_model(save(valid_table, tmp_path / "ok.ckpt"))
    session, analysis = explorer.session, explorer.analysis
    refusals = []
    explorer.model_load_failed.connect(lambda path, message: refusals.append(message))
    cases = _mutations(valid_table, tmp_path)
    for _, path, _ in cases:
        explorer.open_model(path)
    assert len(refusals) == len(cases)
    assert explorer.session is session and explorer.analysis is analysis
