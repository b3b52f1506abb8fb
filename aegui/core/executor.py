"""How the core runs slow work: a protocol, and a synchronous implementation for tests.

The Qt layer supplies a threaded executor with the same interface (``aegui.qt.worker``),
so the core decides *what* runs and a view decides *where*.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Job = Callable[[], Any]
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Executor(Protocol):
    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        """Run ``job``; call ``on_done(result)`` or ``on_error(exception)`` on the caller's thread.

        Per channel, the latest submission wins: a job still waiting when a newer one arrives
        on the same channel is dropped without calling back.
        """


class ImmediateExecutor:
    """Runs each job at once on the calling thread (tests, scripts, benchmarks)."""

    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        try:
            result = job()
        except Exception as error:  # reported through on_error, like the threaded executor
            on_error(error)
            return
        on_done(result)


class HeldExecutor:
    """Holds jobs until ``flush`` (tests): shows what happens when results arrive late.

    Like the threaded executor, a newer job on a channel replaces one still waiting there.
    """

    def __init__(self) -> None:
        self.pending: dict[str, tuple[Job, Done, Failed]] = {}

    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        self.pending[channel] = (job, on_done, on_error)

    def flush(self) -> None:
        """Run every waiting job, including any that the callbacks submit."""
        while self.pending:
            channel = next(iter(self.pending))
            ImmediateExecutor().submit(channel, *self.pending.pop(channel))
