"""How the core runs slow work: a protocol, one failure path, and a synchronous executor.

The Qt layer supplies a threaded executor with the same interface (``aegui.qt.worker``),
so the core decides *what* runs and a view decides *where*. Every executor reports a failed
job the same way: ``log_failure`` writes it to the log with its traceback, then the job's
``on_error`` tells its requester. Nothing is raised out of an executor's loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

Job = Callable[[], Any]
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]

logger = logging.getLogger("aegui")


class Executor(Protocol):
    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        """Run ``job``; call ``on_done(result)`` or ``on_error(exception)`` on the caller's thread.

        Per channel, the latest submission wins: a job still waiting when a newer one arrives
        on the same channel is dropped without calling back. A failure is logged
        (``log_failure``) before ``on_error`` is called.
        """


def log_failure(channel: str, error: BaseException) -> None:
    """The log's half of reporting a failed background job (the requester's is ``on_error``)."""
    logger.error("background job on the %s channel failed: %s", channel, error, exc_info=error)


class ImmediateExecutor:
    """Runs each job at once on the calling thread (tests, scripts, benchmarks)."""

    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        try:
            result = job()
        except Exception as error:  # reported like the threaded executor does
            log_failure(channel, error)
            on_error(error)
            return
        on_done(result)
