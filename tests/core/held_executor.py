"""An executor that holds jobs until ``flush``: shows what happens when results arrive late."""

from __future__ import annotations

from aegui.core.executor import Done, Failed, ImmediateExecutor, Job


class HeldExecutor:
    """Like the threaded executor, a newer job on a channel replaces one still waiting there."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[Job, Done, Failed]] = {}

    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        self.pending[channel] = (job, on_done, on_error)

    def flush(self) -> None:
        """Run every waiting job, including any that the callbacks submit."""
        while self.pending:
            channel = next(iter(self.pending))
            ImmediateExecutor().submit(channel, *self.pending.pop(channel))
