"""Garbage holding Qt objects is freed on the GUI thread, between events, never in a worker."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from aegui.__main__ import collect_garbage_on_the_gui_thread


class Cycle:
    """Unreachable once dropped, yet kept alive by itself: only the cyclic collector frees it."""

    def __init__(self):
        self.itself = self
        self.qt_object = QObject()


def test_a_worker_thread_never_frees_qt_garbage_and_the_gui_thread_does_between_events(qtbot):
    freed_on: list[threading.Thread] = []
    collector = collect_garbage_on_the_gui_thread(interval_s=0.05)
    try:
        assert not gc.isenabled()  # no collection wherever an allocation crosses the threshold
        cycle = Cycle()
        weakref.finalize(cycle, lambda: freed_on.append(threading.current_thread()))
        del cycle

        def churn() -> None:  # a worker's allocations: with automatic collection, they collect here
            kept = [[] for _ in range(50_000)]
            del kept

        worker = threading.Thread(target=churn)
        worker.start()
        worker.join()
        assert freed_on == []  # the worker freed nothing

        kept_on_the_gui_thread = [[] for _ in range(5_000)]  # past the collector's threshold
        qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)  # the timer fires in the event loop
        assert freed_on == [threading.main_thread()]
        del kept_on_the_gui_thread
    finally:
        collector.timer.stop()
        gc.enable()
