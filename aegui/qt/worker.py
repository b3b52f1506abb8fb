"""Background threads for the core's executor protocol, latest request wins per channel.

Each channel has one thread. A job submitted while another waits on the same channel
replaces it, so a fast stroke costs at most one job in flight and one waiting: never a
backlog. Results come back to the GUI thread through a queued Qt signal.

Failures follow the core's one path (``aegui.core.executor``): a job that raises is logged
and its ``on_error`` called on the GUI thread. A callback that raises is handed to ``sys.excepthook``
(the app's hook logs it and shows a dialog); the other results waiting are still delivered.
"""

from __future__ import annotations

import queue
import sys
import threading
import time

from PySide6.QtCore import QObject, Qt, Signal

from aegui.core.executor import Done, Failed, Job, log_failure
from aegui.core.explorer import LIVE


class LatestWinsExecutor(QObject):
    job_finished = Signal()  # a result waits in the queue; delivered queued to the GUI thread

    def __init__(self, parent: QObject | None = None, hand_over: tuple[str, ...] = (LIVE,)):
        super().__init__(parent)
        self._hand_over = frozenset(hand_over)  # channels whose submit hands the interpreter lock over (see submit)
        # one lock for the executor's state; each channel's thread sleeps on a wake-up of its own,
        # so a pen event's job wakes the live thread alone, not every channel's thread in turn
        self._lock = threading.Lock()
        self._wakeups: dict[str, threading.Condition] = {}
        self._pending: dict[str, tuple[Job, Done, Failed]] = {}
        self._running: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}
        self._stopping = False
        # Results travel in a Python queue, not as signal arguments: the signal only wakes
        # the GUI thread, so no Python object is marshalled by Qt across threads.
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self.job_finished.connect(self._on_job_finished, Qt.ConnectionType.QueuedConnection)

    def submit(self, channel: str, job: Job, on_done: Done, on_error: Failed) -> None:
        with self._lock:
            if self._stopping:
                return
            self._pending[channel] = (job, on_done, on_error)
            if channel not in self._threads:
                self._wakeups[channel] = threading.Condition(self._lock)
                thread = threading.Thread(target=self._run, args=(channel,), name=f"aegui-{channel}", daemon=True)
                self._threads[channel] = thread
                thread.start()
            self._wakeups[channel].notify()
        # A pen event's job: hand the interpreter lock to the woken thread now. The GUI thread
        # goes on to paint the canvas's ink in Python, and the job would wait for that to end
        # before it starts (325 against 24 µs after 0.3 ms of Python, bench_executor_pickup.py);
        # started, it soon releases the lock in torch, and the ink is painted while the network
        # runs. Not for the other channels: a job holding the lock in one long C call (reading
        # a hostile run's stream) would keep the GUI thread waiting here as long.
        if channel in self._hand_over:
            time.sleep(0)

    def is_idle(self) -> bool:
        """No job waiting, running, or with a result not yet handed to its callback."""
        with self._lock:
            return not self._pending and not self._running and self._results.empty()

    def _run(self, channel: str) -> None:
        with self._lock:
            wakeup = self._wakeups[channel]
        while True:
            with self._lock:
                while channel not in self._pending and not self._stopping:
                    wakeup.wait()
                if self._stopping:
                    return
                job, on_done, on_error = self._pending.pop(channel)
                self._running.add(channel)
            try:
                result = job()
            except Exception as error:  # logged and handed to on_error on the GUI thread
                log_failure(channel, error)
                callback, payload = on_error, error
            else:
                callback, payload = on_done, result
            self._results.put((callback, payload))
            with self._lock:
                self._running.discard(channel)
            self.job_finished.emit()

    def _on_job_finished(self) -> None:
        while True:
            try:
                callback, payload = self._results.get_nowait()
            except queue.Empty:
                return
            try:
                callback(payload)
            except Exception:  # a bug in a callback: the app's hook logs and shows it; the loop goes on
                sys.excepthook(*sys.exc_info())

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            self._pending.clear()
            for wakeup in self._wakeups.values():
                wakeup.notify_all()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
