"""What a file is from its first bytes, without importing torch: the command line's fast answer
for a file that is plainly not a model, in the words the model-file reader uses for it."""

from __future__ import annotations

HEAD_BYTES = 512  # enough for every kind told apart here


def sniff_problem(head: bytes) -> str | None:
    """Why a file starting with ``head`` cannot be a model file, or None when it may be one (a
    zip archive or a safetensors header: the reader checks the rest)."""
    if not head:
        return "This is an empty file, not a model file."
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    if len(head) >= 9 and 2 <= int.from_bytes(head[:8], "little") and head[8:9] == b"{":
        return None
    stripped = head.lstrip().lower()
    if stripped.startswith(b"version https://git-lfs"):
        return "This is a Git LFS pointer, not the model itself: fetch the real file (git lfs pull) and open that."
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return "This is a web page (HTML), not a model file; the download probably saved the page around the file."
    if head[:1] == b"\x80":
        return "This is a legacy pickle file. aegui only opens checkpoints in PyTorch's zip format or safetensors, because plain pickles can run code."
    if head[:2] == b"\x1f\x8b":
        return "This is a gzip-compressed file, not a model file; decompress it first."
    return "This is not a PyTorch checkpoint or a safetensors file (its content is not recognised)."
