"""How long a job waits between ``submit`` and its start on the live channel while the other
channels' threads sleep (as in the app: model, projection, grid, saliency, ...), at the app's
GIL switch interval; then the same while the submitting thread goes on with 0.3 ms of Python
right after ``submit``, as the GUI thread goes on to paint the canvas's ink after a pen event.
Pass another checkout to measure its executor the same way.

    python tests/benchmarks/bench_executor_pickup.py [--checkout DIR] [--jobs 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

CHANNELS = ["model", "projection", "grid", "saliency", "compare", "robustness", "training-read", "startup"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(args.checkout))
    sys.setswitchinterval(0.0005)  # as configure_process_for_live_drawing sets it
    from PySide6.QtCore import QCoreApplication

    from aegui.qt.worker import LatestWinsExecutor

    application = QCoreApplication([])
    executor = LatestWinsExecutor()
    for channel in CHANNELS:  # one thread per channel, asleep once its first job is done
        executor.submit(channel, lambda: None, lambda _: None, lambda _: None)
    time.sleep(0.2)
    application.processEvents()
    for then_python in (0.0, 0.0003):
        waits = []
        for number in range(args.jobs):
            started, submitted = [], threading.Event()
            before = time.perf_counter()
            executor.submit("live", lambda started=started, submitted=submitted: (started.append(time.perf_counter()), submitted.set()), lambda _: None, lambda _: None)
            until = before + then_python
            while time.perf_counter() < until:  # the submitting thread's own Python, holding the lock
                pass
            submitted.wait()
            waits.append(started[0] - before)
            if number % 50 == 0:
                application.processEvents()  # deliver the results waiting
        waits.sort()
        after = f", then {then_python * 1e3:.1f} ms of Python on the submitting thread" if then_python else ""
        print(f"{args.checkout}: submit to start on the live channel, {len(CHANNELS)} other channels asleep{after}: p50 {statistics.median(waits) * 1e6:.0f} us, p99 {waits[int(0.99 * len(waits))] * 1e6:.0f} us")
    executor.shutdown()


if __name__ == "__main__":
    main()
