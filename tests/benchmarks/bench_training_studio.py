"""Training from the window: time to the first map on screen, and drawing while a run trains.

1. Pen-event latency of the real window (as ``bench_live_latency.py``) with no run.
2. File ▸ Train a model… with the quick preset on an MNIST folder, Train clicked: the time
   until the first epoch's map of the reference digits is on screen in the Training run dock.
3. The same pen-event latency while that run trains in the background (nice 10), then the
   time a graceful Stop takes.

    python tests/benchmarks/bench_training_studio.py --data-dir ../shared/data/mnist

Starts with this machine's speed (``machine_reference``); compare figures as ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_live_latency import measure_latency, open_window  # noqa: E402
from machine_reference import machine_reference  # noqa: E402


def wait_for(condition, timeout: float) -> float:
    """Run the event loop until ``condition()``; the seconds it took (raises on timeout)."""
    started = time.perf_counter()
    while not condition():
        QApplication.processEvents()
        time.sleep(0.005)
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the condition was not met in time")
    return time.perf_counter() - started


def summary(name: str, latencies: list[float]) -> str:
    values = np.array(latencies)
    return f"{name}: {len(values)} pen events, p50 {np.percentile(values, 50):.2f} ms, p99 {np.percentile(values, 99):.2f} ms, max {values.max():.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder with the four MNIST IDX files")
    parser.add_argument("--replays", type=int, default=2, help="latency measurements (each three replays of the stroke) during the run")
    args = parser.parse_args()
    reference = machine_reference()
    print(f"machine reference: batch-1 forward of the default network {reference['forward_ms']:.3f} ms, pure-Python loop {reference['python_loop_ms']:.1f} ms (medians)")
    from aegui.__main__ import configure_process_for_live_drawing, configure_torch_for_live_drawing

    configure_process_for_live_drawing()
    configure_torch_for_live_drawing()
    QApplication.instance() or QApplication([])
    window = open_window()
    idle = measure_latency(window)
    print(summary("no run", idle))

    from aegui.core.training_plan import QUICK_PRESET

    view, run, process = window.training_view, window.training_run, window.training_process
    dialog = window.show_train_dialog()
    dialog.preset_combo.setCurrentText(QUICK_PRESET)
    dialog.data_combo.setCurrentIndex(dialog.data_combo.findData("folder"))
    dialog.data_dir_edit.setText(str(args.data_dir.resolve()))
    dialog.output_edit.setText(str(Path(tempfile.mkdtemp()) / "run"))
    print(f"command: {dialog.command_view.toPlainText()}")
    started = time.perf_counter()
    QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: len(run.maps) > 0 and len(view.map_points.data) > 0, timeout=300)
    print(f"Train clicked -> first map snapshot on screen: {time.perf_counter() - started:.1f} s")

    during = []
    for _ in range(args.replays):
        during += measure_latency(window)
    running = process.is_running()
    state = run.state
    print(summary("while the run trains" + ("" if running else " (WARNING: the run ended during the measurement)"), during))
    print(f"  the run meanwhile: epoch {state.epoch + 1 if state.epoch is not None else 0} of {state.max_epochs}, {state.elapsed or 0:.0f} s in, about {state.eta or 0:.0f} s to go")
    print(f"  ratios to no run: p50 {np.percentile(during, 50) / np.percentile(idle, 50):.2f}, p99 {np.percentile(during, 99) / np.percentile(idle, 99):.2f}")
    if running:
        stop_clicked = time.perf_counter()
        QTest.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
        wait_for(lambda: not process.is_running(), timeout=300)
        seconds = time.perf_counter() - stop_clicked
        wait_for(lambda: run.state.finished, timeout=60)
        print(f"Stop clicked -> process ended (validated, last.ckpt and statistics written): {seconds:.1f} s; the run's end line says stopped: {run.state.stopped}")
    window.close()


if __name__ == "__main__":
    main()
