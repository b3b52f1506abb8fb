"""The reader: the one place where a model-bearing file's bytes become Python values.

A checkpoint, an exported safetensors file, a training run's snapshot or a file given to
``--init_from`` may come from anywhere, so reading one never runs code from it and never costs
more than its budget:

- only a regular file is opened (a pipe, device or socket is refused before ``open`` could
  block), read once, size-capped, and refused if it changes while it is read;
- its format is sniffed from its first bytes before anything is unpickled;
- a PyTorch archive's directory is checked (entries, declared sizes, no encryption, no
  TorchScript), and every pickle stream in it is read as opcodes first (``pickle_scan``);
- only then ``torch.load`` runs, with ``weights_only=True`` explicitly (an environment variable
  cannot undo that) and no extra globals. This module is the only caller of ``torch.load`` in
  aegui and its trainer (``tests/core/test_model_files.py`` keeps it so);
- a safetensors header is checked before the library builds anything.

Every refusal is a ``CheckpointError`` whose message is one line for a person; values from the
file are quoted through ``aegui.core.quoting`` (bounded, whatever their size or depth).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import math
import os
import pickle
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from aegui.core.errors import CheckpointError
from aegui.core.model_files.pickle_scan import MAX_PICKLE_BYTES, scan_pickle
from aegui.core.quoting import clean_text, quote

logger = logging.getLogger("aegui")

MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 10_000
MAX_TENSOR_ELEMENTS = MAX_CHECKPOINT_BYTES // 2  # as many float16 numbers as the largest file holds
MAX_SIDECAR_BYTES = 1024 * 1024
BLOCKED_GLOBAL = re.compile(r"GLOBAL ([\w.]+) was not an allowed global")
SAFETENSORS_DTYPES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}


def shown_name(path: Path) -> str:
    """The file's name as a message shows it: bounded, printable."""
    return clean_text(Path(path).name, 80) or "The file"


@contextlib.contextmanager
def refusing_surprises(path: Path) -> Iterator[None]:
    """Turn what a reader did not foresee into a one-line refusal: memory or depth exhausted, or
    an unexpected error (logged with its traceback, never shown raw)."""
    try:
        yield
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError(f"{shown_name(path)} needs more memory than this computer can give it; aegui refuses it.") from None
    except RecursionError:
        raise CheckpointError(f"{shown_name(path)} is nested too deeply to be a model file.") from None
    except Exception as error:
        logger.exception("unexpected error while loading %s", path)
        raise CheckpointError(f"{shown_name(path)} could not be loaded: an unexpected {type(error).__name__} ({clean_text(str(error))}).") from None


def read_model_bytes(path: Path) -> tuple[str, bytes]:
    """(format, bytes) of a model file: 'torch-zip' or 'safetensors', within the file budget."""
    data = read_bytes(path, MAX_CHECKPOINT_BYTES)
    return sniff_format(data), data


def read_weights_only_file(path: str | os.PathLike, max_bytes: int | None = None) -> Any:
    """The plain data (tensors, numbers, text, lists and tables) a PyTorch file holds, read with
    every guard of a checkpoint and at most ``max_bytes`` long (default: the checkpoint budget).

    For files written by ``torch.save`` that are not a model on their own: a training run's
    snapshots, a Lightning checkpoint annotated in place. What the values mean is the caller's
    to check. Raises ``CheckpointError`` with a one-line message.
    """
    path = Path(path).expanduser()
    with refusing_surprises(path):
        data = read_bytes(path, MAX_CHECKPOINT_BYTES if max_bytes is None else max_bytes)
        if sniff_format(data) != "torch-zip":
            raise CheckpointError(f"{shown_name(path)} is a safetensors file; this needs a PyTorch checkpoint (.ckpt).")
        return unpickle_archive(data, path)


def read_bytes(path: Path, limit: int) -> bytes:
    """All bytes of ``path``, read once: only regular files, never blocking, size-capped, and
    refused if the file changes while it is read."""
    name = shown_name(path)
    try:
        before = os.stat(path)
    except OSError as error:
        raise CheckpointError(_stat_problem(path, error)) from None
    if stat.S_ISDIR(before.st_mode):
        raise CheckpointError(f"{name} is a folder, not a model file.")
    if not stat.S_ISREG(before.st_mode):
        raise CheckpointError(f"{name} is not a regular file (it is a pipe, a device or a socket); aegui opens model files only.")
    if before.st_size == 0:
        raise CheckpointError(f"{name} is empty (0 bytes).")
    if before.st_size > limit:
        raise CheckpointError(f"{name} is {before.st_size / 2**20:.0f} MB; aegui refuses files over {limit / 2**20:.0f} MB.")
    try:
        # O_NONBLOCK: a file swapped for a pipe between stat and open cannot block the read.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(descriptor, "rb") as handle:
            opened = os.fstat(handle.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise CheckpointError(f"{name} is not a regular file; aegui opens model files only.")
            data = handle.read(limit + 1)
        after = os.stat(path)
    except CheckpointError:
        raise
    except PermissionError:
        raise CheckpointError(f"No permission to read {name}.") from None
    except OSError as error:
        raise CheckpointError(f"Could not read {name}: {error.strerror or type(error).__name__}.") from None
    if len(data) > limit:
        raise CheckpointError(f"{name} grew past {limit / 2**20:.0f} MB while it was read.")
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
        raise CheckpointError(f"{name} changed while it was being read (is it still being written?). Try again once it is complete.")
    return data


def _stat_problem(path: Path, error: OSError) -> str:
    name = shown_name(path)
    if error.errno == errno.ENOENT:
        return f"{clean_text(str(path), 200)} does not exist."
    if error.errno == errno.ELOOP:
        return f"{name} is a symbolic link that leads back to itself (a link loop), not a model file."
    if error.errno == errno.ENAMETOOLONG:
        return "The file name is longer than the file system allows."
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"No permission to read {name}."
    return f"Could not open {name}: {error.strerror or type(error).__name__}."


def sniff_format(data: bytes) -> str:
    """'torch-zip' or 'safetensors'; any other content is refused with a message saying what it is."""
    head = data[:64]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        _check_torch_archive(data)
        return "torch-zip"
    if len(data) >= 10:
        header_length = int.from_bytes(data[:8], "little")
        if 2 <= header_length <= len(data) - 8 and data[8:9] == b"{":
            return "safetensors"
    stripped = data[:512].lstrip().lower()
    if stripped.startswith(b"version https://git-lfs"):
        raise CheckpointError("This is a Git LFS pointer, not the model itself: fetch the real file (git lfs pull) and open that.")
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise CheckpointError("This is a web page (HTML), not a model file; the download probably saved the page around the file.")
    if head[:1] == b"\x80":
        raise CheckpointError("This is a legacy pickle file. aegui only opens checkpoints in PyTorch's zip format or safetensors, because plain pickles can run code.")
    if head[:2] == b"\x1f\x8b":
        raise CheckpointError("This is a gzip-compressed file, not a model file; decompress it first.")
    raise CheckpointError("This is not a PyTorch checkpoint or a safetensors file (its content is not recognised).")


def _check_torch_archive(data: bytes) -> None:
    """The archive's directory, checked before any entry is read: every entry's declared size
    and their total within the file cap, none encrypted, only stored or deflated entries."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                raise CheckpointError(f"The archive has {len(entries):,} entries; an aegui checkpoint has a few hundred at most.")
            declared = 0
            for entry in entries:
                if entry.flag_bits & 0x1:
                    raise CheckpointError(f"The archive's entry {clean_text(entry.filename, 80)} is encrypted; a checkpoint never is.")
                if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise CheckpointError(f"The archive's entry {clean_text(entry.filename, 80)} uses a compression PyTorch does not write.")
                declared += entry.file_size
                if entry.file_size > MAX_CHECKPOINT_BYTES or declared > MAX_CHECKPOINT_BYTES:
                    raise CheckpointError(f"The archive claims {declared / 2**20:,.0f} MB of content once unpacked; aegui refuses more than {MAX_CHECKPOINT_BYTES / 2**20:.0f} MB.")
            names = [entry.filename for entry in entries]
            broken = archive.testzip()
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError) as error:
        reason = clean_text(str(error)) or type(error).__name__
        raise CheckpointError(f"The archive is damaged or truncated ({reason}).") from None
    if broken is not None:
        raise CheckpointError(f"The archive is damaged: its entry {clean_text(broken, 80)} fails its checksum.")
    if any("/code/" in name or name.endswith("/constants.pkl") for name in names):
        raise CheckpointError("This is a TorchScript archive (a compiled program), not a training checkpoint; aegui does not run TorchScript.")
    if not any(name.endswith("data.pkl") for name in names):
        raise CheckpointError("This zip archive is not a PyTorch checkpoint (it has no data.pkl record).")


def unpickle_archive(data: bytes, path: Path) -> Any:
    """The values of a sniffed PyTorch archive: every pickle stream scanned as opcodes, then
    unpickled weights-only."""
    _scan_torch_archive(data, shown_name(path))
    return _unpickle_weights_only(path, data)


def _scan_torch_archive(data: bytes, file_name: str) -> None:
    """Every pickle stream in the archive, read as opcodes before torch unpickles it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if entry.filename.endswith(".pkl"):
                if entry.file_size > MAX_PICKLE_BYTES:
                    raise CheckpointError(f"{clean_text(file_name, 80)}'s object table is {entry.file_size / 2**20:.1f} MB; aegui checkpoints hold under {MAX_PICKLE_BYTES / 2**20:.0f} MB of it.")
                scan_pickle(archive.read(entry), clean_text(file_name, 80))


def _unpickle_weights_only(path: Path, data: bytes) -> Any:
    name = shown_name(path)
    try:
        # weights_only=True explicitly: only tensors and primitive containers can be built;
        # TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot override an explicit argument.
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as error:
        # The scan names refused constructors itself; torch's own text advises weights_only=False,
        # which would run the payload, so only the blocked name is kept from it.
        blocked = BLOCKED_GLOBAL.search(str(error))
        what = f" (it refers to {clean_text(blocked.group(1), 80)})" if blocked else ""
        raise CheckpointError(f"{name} contains Python objects other than tensors and plain data, which aegui will not load{what}.") from None
    except (RuntimeError, EOFError, ValueError, KeyError, TypeError, AttributeError, IndexError, zipfile.BadZipFile, OSError) as error:
        reason = clean_text(str(error)) or type(error).__name__
        raise CheckpointError(f"{name} could not be read as a PyTorch checkpoint ({reason}).") from None


def read_safetensors(path: Path, data: bytes) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, sidecar) of a sniffed safetensors file and its JSON sidecar ``path.json``."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    sidecar_path = path.with_suffix(".json")
    if not sidecar_path.is_file():
        raise CheckpointError(f"{shown_name(path)} needs its JSON sidecar {shown_name(sidecar_path)} beside it (it holds the hyperparameters).")
    sidecar = read_json(sidecar_path)
    if type(sidecar) is not dict:
        raise CheckpointError(f"{shown_name(sidecar_path)} must hold a JSON object.")
    _check_safetensors_header(data, shown_name(path))
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError, TypeError) as error:
        raise CheckpointError(f"{shown_name(path)} is not a valid safetensors file ({clean_text(str(error)) or type(error).__name__}).") from None
    return tensors, sidecar


def read_json(path: Path) -> Any:
    """A small JSON file (a sidecar), read with the same guards as a model file."""
    try:
        return json.loads(read_bytes(path, MAX_SIDECAR_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{shown_name(path)} is not valid JSON ({clean_text(str(error), 100)}).") from None
    except RecursionError:
        raise CheckpointError(f"{shown_name(path)} is nested too deeply to be a model's description.") from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise CheckpointError(f"{shown_name(path)} holds a value aegui will not read ({clean_text(str(error), 100)}).") from None


def _check_safetensors_header(data: bytes, name: str) -> None:
    """The header (JSON before the tensor bytes) checked before safetensors builds anything:
    bounded, only float dtypes aegui reads, each tensor's bytes inside the file and of the
    size its shape says."""
    header_length = int.from_bytes(data[:8], "little")
    if header_length > MAX_SIDECAR_BYTES:
        raise CheckpointError(f"{name}'s header is {header_length / 2**20:,.1f} MB; a model's is a few KB.")
    try:
        header = json.loads(data[8 : 8 + header_length])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not readable JSON).") from None
    if type(header) is not dict:
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not a table).")
    payload = len(data) - 8 - header_length
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        shown = clean_text(key, 80)
        if type(entry) is not dict or type(entry.get("shape")) is not list or type(entry.get("data_offsets")) is not list:
            raise CheckpointError(f"{name}: tensor {shown} is described incompletely.")
        dtype, shape, offsets = entry.get("dtype"), entry["shape"], entry["data_offsets"]
        if type(dtype) is not str or dtype not in SAFETENSORS_DTYPES:
            shown_dtype = dtype if type(dtype) is str else quote(dtype, 20)
            raise CheckpointError(f"{name}: tensor {shown} has dtype {clean_text(shown_dtype, 20)}; aegui reads F32, F16, BF16 and F64.")
        if len(shape) > 8 or not all(type(n) is int and 0 <= n <= MAX_TENSOR_ELEMENTS for n in shape):
            raise CheckpointError(f"{name}: tensor {shown} has an impossible shape.")
        if len(offsets) != 2 or not all(type(n) is int for n in offsets) or not 0 <= offsets[0] <= offsets[1] <= payload:
            raise CheckpointError(f"{name}: tensor {shown} points outside the file.")
        if offsets[1] - offsets[0] != math.prod(shape) * SAFETENSORS_DTYPES[dtype]:
            raise CheckpointError(f"{name}: tensor {shown} has {offsets[1] - offsets[0]:,} bytes for shape {tuple(shape)}.")
