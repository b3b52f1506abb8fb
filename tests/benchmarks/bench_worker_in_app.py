"""What a pen event's model work costs in the app, against the same work called in a loop.

1. In the real window (offscreen), replaying the recorded stroke: the worker thread's CPU time
   per pen event for the whole job and for its parts (preprocessing, the traced encode-decode,
   the five-part anomaly score), and the GUI thread's CPU time while the job runs.
2. The same analysis of one sketch on one thread, called back to back, and called after 6 ms
   of other work on that thread (sleeping, or a pure-Python loop): how much of the in-app
   cost is the work itself and how much is coming back to it cold.

    python tests/benchmarks/bench_worker_in_app.py [--strokes 2] [--calls 300]

Thread CPU (``time.thread_time``), medians; the machine reference first, as in every benchmark.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import bench_live_latency as bench  # noqa: E402
from machine_reference import machine_reference  # noqa: E402
from pen_event_costs import timed  # noqa: E402


def in_the_app(strokes: int) -> dict[str, float]:
    import aegui.core.explorer as explorer_module
    from aegui.core.explorer import LIVE

    window = bench.open_window()
    session = window.explorer.session
    times: dict[str, list[float]] = collections.defaultdict(list)
    timed(explorer_module, "to_mnist", times)
    timed(session, "_live_pass", times)
    timed(session.anomaly_scorer, "assess", times)
    executor, submit, marks = window.executor, window.executor.submit, {}

    def timed_submit(channel, job, on_done, on_error):
        if channel != LIVE:
            return submit(channel, job, on_done, on_error)
        marks["gui_at_submit"] = time.thread_time()

        def timed_job():
            started = time.thread_time()
            result = job()
            times["whole job"].append(time.thread_time() - started)
            return result

        def timed_done(analysis):
            times["GUI thread while the job ran"].append(time.thread_time() - marks["gui_at_submit"])
            on_done(analysis)

        submit(channel, timed_job, timed_done, on_error)

    executor.submit = timed_submit
    try:
        for _ in range(strokes):
            bench.replay_stroke(window, lambda point: (bench.send_move(window, point), bench.wait_shown(window), QApplication.processEvents()))
    finally:
        del executor.submit
    window.close()
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


def on_one_thread(calls: int) -> dict[str, float]:
    from aegui.core.preprocess import to_mnist
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
    from aegui.core.session import ModelSession

    session = ModelSession.from_file(DEFAULT_CHECKPOINT, load_reference_digits())
    sketch = np.zeros((280, 280), np.float32)
    sketch[60:220, 130:150] = 1.0  # a 1

    def between_sleeping() -> None:
        time.sleep(0.006)

    def between_python() -> None:
        until = time.perf_counter() + 0.006
        while time.perf_counter() < until:
            pass

    results = {}
    for name, between in (("back to back", None), ("after 6 ms asleep", between_sleeping), ("after 6 ms of a Python loop", between_python)):
        costs = []
        for _ in range(calls):
            if between is not None:
                between()
            started = time.thread_time()
            session.analyse_image(to_mnist(sketch))
            costs.append(time.thread_time() - started)
        results[name] = statistics.median(costs) * 1e3
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=2)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    reference = machine_reference()
    print(f"machine reference: batch-1 forward of the default network {reference['forward_ms']:.3f} ms")
    from aegui.__main__ import configure_process_for_live_drawing, configure_torch_for_live_drawing

    configure_process_for_live_drawing()
    configure_torch_for_live_drawing()
    QApplication.instance() or QApplication([])
    print("in the app, per pen event (thread CPU, median):")
    for name, value in in_the_app(args.strokes).items():
        print(f"  {name:32s} {value:6.2f} ms")
    print("the same analysis of one sketch on one thread (to_mnist + analyse_image, thread CPU, median):")
    for name, value in on_one_thread(args.calls).items():
        print(f"  {name:32s} {value:6.2f} ms")


if __name__ == "__main__":
    main()
