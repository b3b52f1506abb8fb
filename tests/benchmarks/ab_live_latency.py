"""Two checkouts' live drawing speed, measured alternately in one run.

On a loaded machine only alternated measurements can be compared. Each checkout runs in its
own process with its window open on the bundled default model (PYTHONPATH set to that
checkout); the controller asks them in turn to replay the recorded stroke with real mouse
events (``bench_live_latency.replay_stroke``), so both see the same load within seconds.
Each stroke's pen-event latencies (pen event to all views repainted) are collected; the
cold start to the model ready in the window is timed alternately too.

    python tests/benchmarks/ab_live_latency.py --base ../kernel-base --new . [--strokes 20] [--cold-starts 5]

Prints the machine reference, p50 / p99 per checkout over all its strokes, the median of
per-pair ratios, the CPU time per pen event of each checkout's process (all its threads: a
loaded machine stretches wall time far more than CPU time), and the cold-start medians.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# Runs inside each checkout's process: works with windows built by ``create_window`` and with
# older ones built directly, so a commit from before that function can be measured too.
SERVER = r"""
import json, os, sys, tempfile
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, sys.argv[1])
import bench_live_latency as bench
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
try:
    from aegui.__main__ import configure_process_for_live_drawing, configure_torch_for_live_drawing
    configure_process_for_live_drawing(); configure_torch_for_live_drawing()
except ImportError:
    pass
app = QApplication([])
try:
    from aegui.__main__ import collect_garbage_on_the_gui_thread
    garbage_collector = collect_garbage_on_the_gui_thread()  # as aegui's main does
except ImportError:
    pass
try:
    from aegui.__main__ import create_window  # noqa: F401
    window = bench.open_window()
except ImportError:
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
    from aegui.qt.main_window import MainWindow
    window = MainWindow(load_reference_digits(), QSettings(tempfile.mkdtemp() + "/b.ini", QSettings.Format.IniFormat))
    window.show()
    loaded = []
    window.model_shown.connect(loaded.append)
    window.open_model(DEFAULT_CHECKPOINT)
    while not loaded:
        QApplication.processEvents()
    bench.wait_idle(window)
try:
    from aegui.__main__ import freeze_start_up_objects
    freeze_start_up_objects()  # as aegui's main does once the first model is shown
except ImportError:
    pass
bench.measure_latency(window)  # warm up
print("READY", flush=True)
import time
for line in sys.stdin:
    latencies = []
    def measure_move(point):
        start = time.perf_counter()
        bench.send_move(window, point)
        bench.wait_shown(window)
        QApplication.processEvents()
        latencies.append((time.perf_counter() - start) * 1000)
    cpu = time.process_time()  # every thread of the process: the GUI thread and the workers
    bench.replay_stroke(window, measure_move)
    print(json.dumps({"latencies": latencies, "cpu_ms": (time.process_time() - cpu) * 1000}), flush=True)
"""

COLD_START = r"""
import sys, time
from PySide6.QtWidgets import QApplication
import aegui.__main__ as entry
from aegui.qt import main_window
original_init = main_window.MainWindow.__init__
def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    def shown(session):
        self.repaint()
        print(f"MODEL_READY {time.time():.6f}", flush=True)
        QApplication.instance().quit()
    self.model_shown.connect(shown)
main_window.MainWindow.__init__ = init
sys.exit(entry.main(["--settings", sys.argv[1]]))
"""


def environment(checkout: Path, folder: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout), "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": folder, "XDG_CACHE_HOME": folder}


def start_server(checkout: Path, folder: str) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(HERE)], cwd=checkout, env=environment(checkout, folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in server.stdout:
        if line.startswith("READY"):
            return server
    raise SystemExit(f"the window of {checkout} did not open")


def replay(server: subprocess.Popen) -> dict:
    """One stroke's pen-event latencies (ms) and the CPU time its process spent on it."""
    server.stdin.write("stroke\n")
    server.stdin.flush()
    return json.loads(server.stdout.readline())


def cold_start(checkout: Path) -> tuple[float, float]:
    """Seconds from launch to the model ready in the window, and the CPU seconds (user + sys,
    every thread) the process used in all (it quits once the model is shown)."""
    with tempfile.TemporaryDirectory() as folder:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        launched = time.time()
        output = subprocess.run([sys.executable, "-c", COLD_START, str(Path(folder) / "s.ini")], cwd=checkout, env=environment(checkout, folder), capture_output=True, text=True, timeout=300).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marks = [line.split()[1] for line in output.splitlines() if line.startswith("MODEL_READY")]
    if not marks:
        raise SystemExit(f"no model ready from {checkout}: {output[-500:]}")
    return float(marks[0]) - launched, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--strokes", type=int, default=20, help="strokes replayed by each checkout, alternating")
    parser.add_argument("--cold-starts", type=int, default=0, help="cold starts of each checkout, alternating")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from machine_reference import machine_reference

    reference = machine_reference()
    print(f"machine reference: batch-1 forward {reference['forward_ms']:.3f} ms, pure-Python loop {reference['python_loop_ms']:.1f} ms (medians); load average {os.getloadavg()[0]:.1f}", flush=True)
    checkouts = {"base": args.base.resolve(), "new": args.new.resolve()}
    folders = {name: tempfile.mkdtemp() for name in checkouts}
    servers = {name: start_server(checkout, folders[name]) for name, checkout in checkouts.items()}
    strokes: dict[str, list[list[float]]] = {"base": [], "new": []}
    cpu_per_event: dict[str, list[float]] = {"base": [], "new": []}
    try:
        for index in range(args.strokes):
            for name in (["base", "new"] if index % 2 == 0 else ["new", "base"]):
                result = replay(servers[name])
                strokes[name].append(result["latencies"])
                cpu_per_event[name].append(result["cpu_ms"] / len(result["latencies"]))
    finally:
        for server in servers.values():
            server.stdin.close()
            server.wait(timeout=60)
    print(f"pen event -> all views repainted, {args.strokes} alternated strokes each (load average now {os.getloadavg()[0]:.1f}):")
    summary = {}
    for name in checkouts:
        values = np.concatenate(strokes[name])
        summary[name] = (np.percentile(values, 50), np.percentile(values, 99))
        print(f"  {name:4s} {len(values)} events: p50 {summary[name][0]:.2f} ms, p99 {summary[name][1]:.2f} ms")
    cpu = {name: statistics.median(values) for name, values in cpu_per_event.items()}
    print(f"  CPU time per pen event (all threads, median of strokes; less sensitive to load than wall time): base {cpu['base']:.2f} ms, new {cpu['new']:.2f} ms, ratio {cpu['new'] / cpu['base']:.3f}")
    pairs = list(zip(strokes["base"], strokes["new"]))
    for column, (label, q) in enumerate((("p50", 50), ("p99", 99))):
        ratios = [np.percentile(new, q) / np.percentile(base, q) for base, new in pairs]
        print(f"  {label}: ratio new / base {summary['new'][column] / summary['base'][column]:.3f} over all events, median of per-stroke ratios {statistics.median(ratios):.3f}")
    if args.cold_starts:
        times: dict[str, list[float]] = {"base": [], "new": []}
        cpu_times: dict[str, list[float]] = {"base": [], "new": []}
        for index in range(args.cold_starts):
            for name in (["base", "new"] if index % 2 == 0 else ["new", "base"]):
                wall, cpu_seconds = cold_start(checkouts[name])
                times[name].append(wall)
                cpu_times[name].append(cpu_seconds)
        for name in checkouts:
            print(f"cold start to the model ready, {name}: median {statistics.median(times[name]):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times[name])}); CPU of the whole run median {statistics.median(cpu_times[name]):.2f} s")
        print(f"  ratio new / base {statistics.median(times['new']) / statistics.median(times['base']):.3f} (CPU {statistics.median(cpu_times['new']) / statistics.median(cpu_times['base']):.3f})")


if __name__ == "__main__":
    main()
