"""A minimal Qt-free signal, so the core can be observed without knowing who listens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """Call every connected callback with the emitted arguments, in connection order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)
