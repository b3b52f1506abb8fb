"""One reader for every model-bearing file: ``torch.load`` is called nowhere in the app or the
trainer except in the guarded reader, and what goes through it gets the reader's guards."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
import torch

from aegui.core.model_files import CheckpointError, read_weights_only_file

REPO = Path(__file__).resolve().parents[2]
READER = REPO / "aegui" / "core" / "model_files" / "reader.py"


def torch_load_calls(source: str) -> list[int]:
    """Lines of ``source`` that reach ``torch.load`` (also as ``torch.serialization.load``, an
    alias of the module, or ``from torch import load``)."""
    tree = ast.parse(source)
    torch_names = {"torch"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            torch_names.update(alias.asname for alias in node.names if alias.name == "torch" and alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module in ("torch", "torch.serialization"):
            lines.extend(node.lineno for alias in node.names if alias.name == "load")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "load":
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in torch_names:
                lines.append(node.lineno)
            elif isinstance(owner, ast.Attribute) and owner.attr == "serialization":
                lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_every_way_of_calling_torch_load():
    assert torch_load_calls("import torch\ntorch.load(p)") == [2]
    assert torch_load_calls("import torch as t\nx = t.load") == [2]
    assert torch_load_calls("from torch import load\n") == [1]
    assert torch_load_calls("import torch\ntorch.serialization.load(p)") == [2]
    assert torch_load_calls("import json\njson.load(f)\nnp.load(p)") == []


def test_torch_load_is_called_only_by_the_reader():
    found = {}
    for package in ("aegui", "training"):
        for path in sorted((REPO / package).rglob("*.py")):
            lines = torch_load_calls(path.read_text(encoding="utf-8"))
            if lines and path != READER:
                found[str(path.relative_to(REPO))] = lines
    assert found == {}, f"torch.load outside aegui/core/model_files/reader.py: {found}"
    assert torch_load_calls(READER.read_text(encoding="utf-8"))  # the scan does see the reader's own call


def test_a_weights_only_file_is_read_with_the_checkpoint_guards(tmp_path):
    torch.save({"codes": torch.ones(4, 3), "labels": torch.arange(4)}, tmp_path / "snapshot.pt")
    values = read_weights_only_file(tmp_path / "snapshot.pt", max_bytes=1 << 20)
    assert torch.equal(values["codes"], torch.ones(4, 3)) and values["labels"].tolist() == [0, 1, 2, 3]
    with pytest.raises(CheckpointError, match="refuses files over 0 MB"):
        read_weights_only_file(tmp_path / "snapshot.pt", max_bytes=100)
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)  # nothing writes to it: opening it for reading would block
    with pytest.raises(CheckpointError, match="not a regular file"):
        read_weights_only_file(fifo)
    (tmp_path / "page.pt").write_bytes(b"<!DOCTYPE html><html></html>")
    with pytest.raises(CheckpointError, match="web page"):
        read_weights_only_file(tmp_path / "page.pt")


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_weights_only_file_that_would_run_code_is_refused_by_name(tmp_path):
    marker = tmp_path / "it-ran"
    torch.save({"codes": torch.ones(2, 2), "payload": _Payload(marker)}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"refers to posix\.system"):
        read_weights_only_file(tmp_path / "evil.pt")
    assert not marker.exists()


def test_a_file_that_is_not_a_sweep_family_says_what_one_needs(tmp_path):
    from aegui.core.comparison import read_family

    needs = 'it needs a "checkpoints" list of model files, as aegui-train sweep writes in its output folder.'
    cases = {
        "wrong-key.json": ('{"not": "a family"}', f"wrong-key.json is not a sweep family: {needs}"),
        "not-json.json": ("checkpoints: a, b", f"not-json.json is not a sweep family: not JSON (Expecting value, line 1); {needs}"),
        "numbers.json": ('{"checkpoints": [1, 2]}', f"numbers.json is not a sweep family: {needs}"),
        "deep.json": ("[" * 100_000 + "]" * 100_000, f"deep.json is not a sweep family: not JSON; {needs}"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(CheckpointError) as refused:
            read_family(tmp_path / name)
        assert str(refused.value) == message
    (tmp_path / "family.json").write_text('{"checkpoints": ["k2/best.ckpt", "k4/best.ckpt"]}')
    assert read_family(tmp_path / "family.json") == [tmp_path / "k2" / "best.ckpt", tmp_path / "k4" / "best.ckpt"]
