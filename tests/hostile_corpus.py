"""Hostile and malformed model files, generated: each class of attack or damage the loader
must refuse quickly, in bounded memory, with a message of its own.

``build_corpus(folder)`` writes the files and returns (name, path, expected words of the
message, claims_gigabytes). Files are small: what they claim is what makes them hostile.
Run it by hand to look at the files: ``python tests/hostile_corpus.py FOLDER``.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import warnings
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch

from aegui.core.model_format import FORMAT_KEY, STATISTICS_KEY
from aegui.core.networks import build_autoencoder

HPARAMS = {"architecture": "conv", "latent_dim": 3, "hidden_dim": 16, "channels": 2, "variational": False}


@dataclass(frozen=True)
class HostileFile:
    name: str
    path: Path
    expected: str  # words the refusal message must contain
    claims_gigabytes: bool = False


def valid_table() -> dict:
    """A small, valid aegui checkpoint table (k = 3), with statistics."""
    torch.manual_seed(0)
    network = build_autoencoder(HPARAMS)
    k = HPARAMS["latent_dim"]
    statistics = {
        "latent_mean": torch.zeros(k),
        "latent_std": torch.ones(k),
        "latent_min": -torch.ones(k) * 3,
        "latent_max": torch.ones(k) * 3,
        "error_quantiles": torch.linspace(0.0, 0.2, 101),
        "probe_weight": torch.zeros(10, k),
        "probe_bias": torch.zeros(10),
        "dimension_properties": {"slant": torch.zeros(k)},
        "test_metrics": {"test_mse": 0.05},
        "dataset": {"name": "mnist", "n_train": 100},
    }
    return {
        "state_dict": {f"autoencoder.{key}": value for key, value in network.state_dict().items()},
        "hyper_parameters": dict(HPARAMS),
        STATISTICS_KEY: statistics,
        FORMAT_KEY: 1,
    }


class _Rebuilt:
    """Pickles as a tensor rebuilt from ``storage`` with any size and stride a file may claim."""

    def __init__(self, storage, size, stride):
        self.storage, self.size, self.stride = storage, size, stride

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (self.storage, 0, self.size, self.stride, False, OrderedDict()))


class _OverriddenTable:
    """Pickles as an OrderedDict whose state replaces its methods with other values."""

    def __init__(self, items):
        self.items = items

    def __reduce__(self):
        return (OrderedDict, (), {"get": "not a method", "items": "not a method"}, None, iter(self.items))


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo hostile file ran > /dev/null",))


def _nested_list(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _shared_pairs(levels: int, leaf):
    """A tuple of ``levels`` nested pairs that share one child: 2**levels leaves written out,
    a few bytes pickled (the pickle memo stores each level once)."""
    value = leaf
    for _ in range(levels):
        value = (value, value)
    return value


def _zip_with_flag(source: bytes, flag: int) -> bytes:
    """The same archive with ``flag`` set in every entry's general-purpose bits."""
    data = bytearray(source)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := data.find(signature, start)) >= 0:
            bits = struct.unpack_from("<H", data, found + offset)[0]
            struct.pack_into("<H", data, found + offset, bits | flag)
            start = found + 4
    return bytes(data)


def _zip_bomb(inner_name: str) -> bytes:
    """A valid zip whose one entry is deflated and declares 3 GiB once inflated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(16)) + compressor.flush()
    crc = zlib.crc32(bytes(16 << 20))
    claimed = 3 << 30
    name = inner_name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20) + name
    local += struct.pack("<HHQQ", 1, 16, claimed, len(body))
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20, 0, 0, 0, 0, 0) + name
    central += struct.pack("<HHQQ", 1, 16, claimed, len(body))
    start_of_central = len(local) + len(body)
    zip64_end = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(central), start_of_central)
    zip64_locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, start_of_central + len(central), 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), start_of_central, 0)
    return local + body + central + zip64_end + zip64_locator + end


def _safetensors(header: dict, payload: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + payload


def build_corpus(folder: Path) -> list[HostileFile]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    corpus: list[HostileFile] = []

    def table_file(name: str, expected: str, change, claims: bool = False) -> None:
        table = valid_table()
        change(table)
        path = folder / f"{name}.ckpt"
        torch.save(table, path)
        corpus.append(HostileFile(name, path, expected, claims))

    def bytes_file(name: str, expected: str, data: bytes, suffix: str = ".ckpt", claims: bool = False) -> Path:
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        corpus.append(HostileFile(name, path, expected, claims))
        return path

    def weight(table: dict, value) -> None:
        table["state_dict"]["autoencoder.encoder.0.weight"] = value

    with warnings.catch_warnings():  # a typed storage pickles as torch.FloatStorage, as torch.save writes tensors
        warnings.simplefilter("ignore")
        small = torch.zeros(4).storage()
    shape = tuple(build_autoencoder(HPARAMS).state_dict()["encoder.0.weight"].shape)

    # 1. what libraries raise on instead of refusing
    table_file("meta_weights", "refers to torch._utils._rebuild_meta_tensor_no_storage", lambda t: weight(t, torch.zeros(shape, device="meta")))
    table_file("meta_statistics", "refers to torch._utils._rebuild_meta_tensor_no_storage", lambda t: t[STATISTICS_KEY].update(latent_mean=torch.zeros(3, device="meta")))
    table_file("sparse_weights", "refers to torch", lambda t: weight(t, torch.zeros(shape).to_sparse()))
    table_file("float8_weights", "refers to torch._utils._rebuild_tensor_v3", lambda t: weight(t, torch.zeros(shape, dtype=torch.float8_e4m3fn)))
    table_file("overflowing_view", "could not be read as a PyTorch checkpoint", lambda t: weight(t, _Rebuilt(small, (2**62, 2**62), (1, 1))))
    table_file("overridden_table", "attributes a table never has", lambda t: t.update(hyper_parameters=_OverriddenTable(list(HPARAMS.items()))))
    parameter = torch.nn.Parameter(torch.zeros(shape))
    parameter.is_floating_point = torch.zeros(0)
    table_file("parameter_with_state", "refers to torch._utils._rebuild_parameter_with_state", lambda t: weight(t, parameter))
    table_file("huge_bytearray", "refers to __builtin__.bytearray", lambda t: t.update(padding=bytearray(1000)), claims=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        table_file("deeply_nested_hyperparameter", "latent_dim must be int", lambda t: t["hyper_parameters"].update(latent_dim=_nested_list(20_000)))
    finally:
        sys.setrecursionlimit(limit)
    good = folder / "valid-source.ckpt"
    torch.save(valid_table(), good)
    bytes_file("encrypted_entry", "is encrypted", _zip_with_flag(good.read_bytes(), 0x1))
    bytes_file("safetensors_float8", "has dtype F8_E4M3", _safetensors({"autoencoder.x": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, bytes(2)), suffix=".safetensors")
    (folder / "safetensors_float8.json").write_text(json.dumps({"hyper_parameters": HPARAMS}))
    bytes_file("sidecar_nested", "nested too deeply", _safetensors({}, b""), suffix=".safetensors")
    (folder / "sidecar_nested.json").write_text("[" * 200_000 + "]" * 200_000)
    bytes_file("sidecar_huge_integer", "holds a value aegui will not read", _safetensors({}, b""), suffix=".safetensors")
    (folder / "sidecar_huge_integer.json").write_text('{"hyper_parameters": {"latent_dim": ' + "9" * 5000 + "}}")
    corpus.append(HostileFile("name_too_long", folder / ("m" * 300 + ".ckpt"), "longer than the file system allows"))

    # 2. small files that claim gigabytes
    table_file("stride0_weights", "its view repeats or overruns its data", lambda t: weight(t, _Rebuilt(small, shape, (0,) * len(shape))), claims=True)
    table_file("stride0_statistics", "error_quantiles must be a list of at most 100,000 numbers", lambda t: t[STATISTICS_KEY].update(error_quantiles=_Rebuilt(small, (500_000_000,), (0,))), claims=True)
    shared = ["x" * 100] * 1000

    def memo_bomb(table: dict) -> None:
        table[STATISTICS_KEY]["dataset"] = {"files": [[shared] * 1000] * 1000}

    table_file("shared_memo_lists", "larger than any aegui checkpoint's", memo_bomb, claims=True)
    # Fields a refusal quotes: formatting the whole value once took 30 s and 1.7 GB (a tuple key of
    # 20 levels of shared pairs over 1,000 characters is 10^9 characters once written out).
    table_file("shared_foreign_key", "weight(s) this network does not have, e.g. ((((", lambda t: t["state_dict"].update({_shared_pairs(20, ("k" * 1000,)): torch.zeros(1)}), claims=True)
    table_file("shared_format_version", "uses aegui checkpoint format [[", lambda t: t.update({FORMAT_KEY: [["v" * 1000] * 1000] * 1000}), claims=True)
    table_file("shared_hyperparameter", "architecture must be str, got ((((", lambda t: t["hyper_parameters"].update(architecture=_shared_pairs(60, "a")), claims=True)
    bytes_file("zip_bomb", "claims 3,072 MB of content", _zip_bomb("archive/data.pkl"), claims=True)

    # 3. absurd but finite values, unbounded text
    table_file("huge_weights", "magnitude 1e+38", lambda t: weight(t, torch.full(shape, 1e38)))
    table_file("huge_statistics", "magnitude 1e+38", lambda t: t[STATISTICS_KEY].update(latent_std=torch.full((3,), 1e38)))
    table_file("twenty_megabyte_text", "object table is 20.0 MB", lambda t: t[STATISTICS_KEY]["dataset"].update(name="d" * (20 << 20)))

    # 5. things that are not model files at all, or hide what is wrong
    fifo = folder / "fifo-model.ckpt"
    os.mkfifo(fifo)
    corpus.append(HostileFile("fifo", fifo, "not a regular file"))
    device = folder / "zero-model.ckpt"
    device.symlink_to("/dev/zero")
    corpus.append(HostileFile("dev_zero", device, "not a regular file", claims_gigabytes=True))
    loop = folder / "loop.ckpt"
    loop.symlink_to(loop)
    corpus.append(HostileFile("symlink_loop", loop, "leads back to itself"))
    data = good.read_bytes()
    central = data.rfind(b"PK\x01\x02")
    bytes_file("damaged_central_directory", "The archive is damaged or truncated (", data[:central] + b"\x00" * 46 + data[central + 46 :])
    table_file("command_payload", "refers to posix.system", lambda t: t.update(payload=_Payload()))
    good.unlink()
    return corpus



# --- hostile run folders (what File > Watch and aegui --watch DIR read) --------------------------


@dataclass(frozen=True)
class HostileRunFolder:
    name: str
    folder: Path  # the folder a user watches
    outside: Path | None  # a file outside the folder that the stream names: it must never be opened


def _snapshot(folder: Path, name: str, **table) -> str:
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    torch.save(table, folder / "snapshots" / name)
    return f"snapshots/{name}"


def _stream(folder: Path, records: list[dict]) -> None:
    (folder / "progress.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))


def _codes_table() -> dict:
    return {"codes": torch.randn(1000, 3), "labels": torch.arange(1000) % 10}


def build_run_folders(root: Path, million_lines: float = 2.0, random_megabytes: int = 64) -> list[HostileRunFolder]:
    """Run folders that name files outside themselves, point at a FIFO, hold snapshots that
    claim too much, or stream far more than any run writes. Each but the two whose stream is
    hostile has one valid snapshot (epoch 0), so a reader that gives up on the whole folder is
    seen to. ``root / "outside"`` holds what they name outside themselves."""
    root = Path(root)
    outside = root / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    sentinel = outside / "secret.pt"
    torch.save(_codes_table(), sentinel)  # a readable snapshot: opening it would succeed
    folders: list[HostileRunFolder] = []

    def run_folder(name: str, records: list[dict], named_outside: Path | None = None) -> Path:
        folder = root / name / "progress"
        folder.mkdir(parents=True)
        start = [{"event": "start", "max_epochs": 3}, {"event": "epoch", "epoch": 0, "val_mse": 0.1}, {"event": "snapshot", "epoch": 0, "path": _snapshot(folder, "epoch-0000.pt", **_codes_table())}]
        _stream(folder, start + records)
        folders.append(HostileRunFolder(name, folder, named_outside))
        return folder

    # escapes: an absolute name, `..`, a link inside that leads out, and checkpoints named outside
    run_folder("absolute", [{"event": "snapshot", "epoch": 1, "path": str(sentinel)}], sentinel)
    run_folder("dot_dot", [{"event": "snapshot", "epoch": 1, "path": "../../outside/secret.pt"}], sentinel)
    linked = run_folder("symlink", [{"event": "snapshot", "epoch": 1, "path": "snapshots/epoch-0001.pt"}], sentinel)
    (linked / "snapshots" / "epoch-0001.pt").symlink_to(sentinel)
    run_folder("checkpoint_outside", [{"event": "end", "checkpoints": {"best": str(sentinel), "last": "../../outside/secret.pt"}, "test_metrics": {"test_mse": 0.1}}], sentinel)
    # the stream itself a link to a file outside
    stream_link = root / "stream_link" / "progress"
    stream_link.mkdir(parents=True)
    outside_stream = outside / "progress.jsonl"
    _stream(outside, [{"event": "start", "max_epochs": 99}])
    (stream_link / "progress.jsonl").symlink_to(outside_stream)
    folders.append(HostileRunFolder("stream_link", stream_link, outside_stream))
    # files that are not regular files: a FIFO as a snapshot and as the stream
    fifo = run_folder("fifo_snapshot", [{"event": "snapshot", "epoch": 1, "path": "snapshots/epoch-0001.pt"}])
    os.mkfifo(fifo / "snapshots" / "epoch-0001.pt")
    fifo_stream = root / "fifo_stream" / "progress"
    fifo_stream.mkdir(parents=True)
    os.mkfifo(fifo_stream / "progress.jsonl")
    folders.append(HostileRunFolder("fifo_stream", fifo_stream, None))
    # snapshots that claim too much: shared lists (a memo bomb) and absurd shapes
    shared = ["x" * 100] * 1000
    bomb = run_folder("memo_bomb_snapshot", [{"event": "snapshot", "epoch": 1, "path": "snapshots/epoch-0001.pt"}])
    torch.save({"codes": [[shared] * 1000] * 1000, "labels": [[shared] * 1000] * 1000, "hyper_parameters": {"latent_dim": [[shared] * 1000] * 1000}}, bomb / "snapshots" / "epoch-0001.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = torch.zeros(4).storage()
    absurd = run_folder("absurd_shape_snapshot", [{"event": "snapshot", "epoch": 1, "path": "snapshots/epoch-0001.pt"}, {"event": "snapshot", "epoch": 2, "path": "snapshots/epoch-0002.pt"}])
    torch.save({"codes": _Rebuilt(small, (2**40, 3), (0, 0)), "labels": torch.arange(10)}, absurd / "snapshots" / "epoch-0001.pt")
    torch.save({"codes": _Rebuilt(small, (1000, 3), (0, 0)), "labels": _Rebuilt(torch.zeros(1, dtype=torch.int64).storage(), (1000,), (0,))}, absurd / "snapshots" / "epoch-0002.pt")
    # streams far longer than any run writes: millions of valid lines, and random bytes
    many = run_folder("millions_of_lines", [])
    lines = int(million_lines * 1_000_000)
    with open(many / "progress.jsonl", "a") as handle:
        chunk = 100_000
        for first in range(0, lines, chunk):
            handle.write("".join(f'{{"event": "step", "step": {step}, "train_loss": {1.0 / (1 + step):.6f}, "elapsed": {step / 1000:.3f}, "eta": 1.0}}\n' for step in range(first + 1, min(first + chunk, lines) + 1)))
    noise = run_folder("random_bytes", [])
    random = __import__("random").Random(0)
    with open(noise / "progress.jsonl", "ab") as handle:
        for _ in range(random_megabytes):
            handle.write(random.randbytes(1 << 20))
    return folders



class OpenedFiles:
    """Names of the files opened in ``folder`` since this was made, as the kernel saw them
    (inotify, Linux): whatever opened them (Python, torch, a library in C), it shows here."""

    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, folder: Path):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        self._descriptor = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._descriptor < 0 or libc.inotify_add_watch(self._descriptor, str(folder).encode(), self.IN_OPEN | self.IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")
        self._names: set[str] = set()

    def names(self) -> set[str]:
        while True:
            try:
                data = os.read(self._descriptor, 1 << 16)
            except BlockingIOError:
                return set(self._names)
            offset = 0
            while offset < len(data):
                _, _, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0")
                if name:  # events of the folder itself (listing it) carry no name
                    self._names.add(name.decode(errors="replace"))
                offset += 16 + length

    def close(self) -> None:
        os.close(self._descriptor)


if __name__ == "__main__":
    for item in build_corpus(Path(sys.argv[1])):
        print(f"{item.name:32} {item.path.name[:60]:62} expects: {item.expected}")
