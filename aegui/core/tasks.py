"""Background jobs with a name the user sees, and the one way their failures are reported.

A job goes to the executor on a channel (latest wins). While it waits or runs, its
description is a task (``started`` / ``finished``: the window's busy bar); a newer job on the
same channel ends the older one's task. A failure is logged by the executor
(``aegui.core.executor.log_failure``), then reported to its requester: ``failed(message)``, or
for a job nobody else waits on (the live analysis, the decoded map, the saliency) the
``unclaimed_failure`` subscribers (the window's status bar). Nothing is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aegui.core.events import Signal
from aegui.core.executor import Executor, Job


class BackgroundTasks:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._running: dict[str, tuple[object, str]] = {}  # channel -> (submission, description)
        self.started = Signal()  # (description)
        self.finished = Signal()  # (description)
        self.unclaimed_failure = Signal()  # (description, message): a failed job run without ``failed``

    def run(self, channel: str, description: str, job: Job, done: Callable[[Any], None], failed: Callable[[str], None] | None = None) -> None:
        """Run ``job`` on ``channel``; ``done(result)`` or ``failed(message)`` on the caller's
        thread. An empty ``description`` runs it without a task (the live channel)."""
        submission = object()
        if description:
            if channel in self._running:
                self.finished.emit(self._running.pop(channel)[1])  # superseded: it never calls back
            self._running[channel] = (submission, description)
            self.started.emit(description)

        def finish() -> None:
            if self._running.get(channel, (None,))[0] is submission:
                self.finished.emit(self._running.pop(channel)[1])

        def on_done(result: Any) -> None:
            finish()
            done(result)

        def on_error(error: BaseException) -> None:
            finish()
            if failed is not None:
                failed(str(error))
            else:
                self.unclaimed_failure.emit(description or f"The {channel} job", str(error))

        self.executor.submit(channel, job, on_done, on_error)
