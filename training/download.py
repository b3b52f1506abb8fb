"""Download dataset files over HTTP(S), checksum-verified and written atomically.

A file only appears under its final name once every byte arrived and its checksum matched,
so an interrupted transfer never leaves a partial file that a later run would trust.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from aegui.core.idx import file_digest
from training.errors import DownloadError


def md5_of(path: Path) -> str:
    return file_digest(path, "md5")


def download_file(file_name: str, md5: str, mirrors: Sequence[str], target_dir: Path, timeout: float = 30.0) -> Path:
    """Fetch ``file_name`` from the first mirror that serves it intact into ``target_dir``.

    An existing file with the right checksum is kept as it is. Raises DownloadError listing
    what each mirror did.
    """
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / file_name
    if target.is_file() and md5_of(target) == md5:
        return target
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        try:
            _fetch_atomically(url, md5, target, timeout)
            return target
        except (OSError, urllib.error.URLError, DownloadError) as error:
            failures.append(f"{urllib.parse.urlsplit(url).netloc}: {_reason(error)}")
    raise DownloadError(f"could not download {file_name} ({'; '.join(failures)})")


def mirrors_unreachable(mirrors: Sequence[str], timeout: float = 5.0) -> str | None:
    """Why no mirror can be reached (each host's answer, as the system words it), or None when
    one accepts a connection. Nothing is downloaded: a refusal in a second, before Lightning is
    imported and long before a download would fail."""
    import socket

    failures = []
    for mirror in mirrors:
        parts = urllib.parse.urlsplit(mirror)
        try:
            with socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), timeout=timeout):
                return None
        except OSError as error:
            failures.append(f"{parts.hostname}: {_reason(error)}")
    return "; ".join(failures)


def _reason(error: BaseException) -> str:
    """Why a transfer failed, in the words of the system: 'Name or service not known', not '<urlopen error [Errno -2] ...>'."""
    reason = getattr(error, "reason", None) if isinstance(error, urllib.error.URLError) else error
    text = getattr(reason, "strerror", None) or str(reason)
    return " ".join(text.split())


def _fetch_atomically(url: str, md5: str, target: Path, timeout: float) -> None:
    digest = hashlib.md5()
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as output, urllib.request.urlopen(url, timeout=timeout) as response:
            expected_length = response.headers.get("Content-Length")
            received = 0
            for block in iter(lambda: response.read(1 << 16), b""):
                output.write(block)
                digest.update(block)
                received += len(block)
            if expected_length is not None and received != int(expected_length):
                raise DownloadError(f"transfer cut short: {received} of {expected_length} bytes")
            output.flush()
            os.fsync(output.fileno())
        if digest.hexdigest() != md5:
            raise DownloadError(f"checksum mismatch: expected md5 {md5}, got {digest.hexdigest()}")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
