"""What one pen event costs each thread, each part of the model work and each view, for A/B.

Run once per checkout (this file from any checkout; the app measured is the one on PYTHONPATH,
so an older commit is measured as it was; ``--old`` for commits whose window calls its views
itself instead of each view subscribing to the explorer):

    python tests/benchmarks/pen_event_costs.py [--strokes 4]
    PYTHONPATH=<checkout of 8b0851b> python tests/benchmarks/pen_event_costs.py --old --benchmarks <its tests/benchmarks>

Replays the recorded stroke (``bench_live_latency``: one analysis shown per pen event) and prints
1. each thread's CPU per pen event, read from ``/proc/self/task`` (user + system, all threads
   named, the GUI thread first; Linux only);
2. the worker's CPU per pen event in each part of the model work it calls (thread CPU, median);
3. each view's CPU per pen event to take in the analysis (thread CPU around each callback,
   median), before Qt paints (``paint_passes.py`` measures the paint).
The wrappers cost a microsecond or two per call; compare checkouts, not absolute figures.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each thread of this process, by thread name and id."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    seconds = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "GUI thread" if int(tid) == os.getpid() else names.get(int(tid), f"thread {tid}")
        seconds[f"{name} ({tid})"] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def timed(owner, name: str, times: dict, label: str | None = None) -> None:
    """Replace ``owner.name`` by a wrapper that records its thread CPU time (frozen sessions too)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.thread_time()
        result = original(*args, **kwargs)
        times[label or name].append(time.thread_time() - started)
        return result

    try:
        setattr(owner, name, wrapper)
    except AttributeError:  # a frozen session
        object.__setattr__(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=4)
    parser.add_argument("--old", action="store_true", help="the window calls its views itself (8b0851b and before)")
    parser.add_argument("--benchmarks", type=Path, default=Path(__file__).resolve().parent, help="the checkout's tests/benchmarks (its recorded stroke and window set-up)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.benchmarks))
    import bench_live_latency as bench
    from PySide6.QtWidgets import QApplication

    try:  # as the app's main sets the process up (absent in older checkouts)
        from aegui.__main__ import collect_garbage_on_the_gui_thread, configure_process_for_live_drawing, configure_torch_for_live_drawing

        configure_process_for_live_drawing()
        configure_torch_for_live_drawing()
        app = QApplication([])
        collector = collect_garbage_on_the_gui_thread()  # noqa: F841 (kept alive)
    except ImportError:
        app = QApplication([])  # noqa: F841
    window = bench.open_window()
    import aegui.core.explorer as explorer_module

    work: dict[str, list[float]] = collections.defaultdict(list)
    views: dict[str, list[float]] = collections.defaultdict(list)
    session = window.explorer.session
    timed(explorer_module, "to_mnist", work)
    for name in ("analyse_image", "_live_pass", "encode", "decode", "digit_probabilities", "nearest_references"):
        if hasattr(session, name):
            timed(session, name, work)
    if getattr(session, "anomaly_scorer", None) is not None:
        timed(session.anomaly_scorer, "assess", work)
    if args.old:
        calls = [("decoded_view", "show_analysis"), ("anomaly_meter", "show_analysis"), ("latent_bars", "show_code"), ("sliders", "show_code"), ("latent_map", "show_position"), ("probabilities", "show_analysis"), ("nearest_digits", "show_analysis"), ("traversal_panel", "show_analysis"), ("interpolation_panel", "show_analysis"), ("compare_panel", "show_analysis")]
        for attribute, method in calls:
            view = getattr(window, attribute)
            timed(view, method, views, f"{type(view).__name__}.{method}")
    else:
        callbacks = window.explorer.analysis_changed._callbacks

        def wrapped(callback):
            label = getattr(callback, "__qualname__", repr(callback))

            def wrapper(*args):
                started = time.thread_time()
                callback(*args)
                views[label].append(time.thread_time() - started)

            return wrapper

        callbacks[:] = [wrapped(callback) for callback in callbacks]
    bench.measure_latency(window)  # warm: every cache filled once
    for values in (*work.values(), *views.values()):
        values.clear()
    before, events = thread_cpu(), 0
    for _ in range(max(1, args.strokes // 3)):
        events += len(bench.measure_latency(window))  # three replays each
    after = thread_cpu()
    print(f"{events} pen events")
    print("CPU per pen event by thread (/proc):")
    spent = {name: (after[name] - before.get(name, 0.0)) / events * 1000 for name in after}
    for name, value in sorted(spent.items(), key=lambda item: -item[1]):
        if value >= 0.001:
            print(f"  {name:34s} {value:6.3f} ms")
    print(f"  {'all threads':34s} {sum(spent.values()):6.3f} ms")
    print("model work in the worker, per call (thread CPU, median):")
    for name, values in work.items():
        if values:
            print(f"  {name:34s} {statistics.median(values) * 1000:6.3f} ms  ({len(values) / events:.2f} per pen event)")
    print("each view taking in the analysis (thread CPU, median):")
    total = 0.0
    for name, values in sorted(views.items(), key=lambda item: -statistics.median(item[1]) if item[1] else 0):
        if values:
            value = statistics.median(values) * 1e6
            total += value
            print(f"  {name:50s} {value:6.1f} µs")
    print(f"  {'sum':50s} {total:6.1f} µs")


if __name__ == "__main__":
    main()
