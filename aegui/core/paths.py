"""Where aegui keeps per-user files, following the XDG base directory convention."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg_home(variable: str, fallback: tuple[str, ...]) -> Path:
    return Path(os.environ.get(variable) or Path.home().joinpath(*fallback))


def cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/aegui/...``: files that can be rebuilt (datasets, fitted maps)."""
    return _xdg_home("XDG_CACHE_HOME", (".cache",)).joinpath("aegui", *parts)


def state_dir(*parts: str) -> Path:
    """``$XDG_STATE_HOME/aegui/...``: files worth keeping but not settings (the log)."""
    return _xdg_home("XDG_STATE_HOME", (".local", "state")).joinpath("aegui", *parts)
