"""Where a pen event's GUI time goes: window paint passes, paints, pixels and CPU per widget.

Opens the window on the bundled default model at the A/B benchmark's 1400 × 860, replays the
recorded stroke (``bench_live_latency.replay_stroke``, one analysis shown per pen event) and
counts, per pen event: the window's paint passes (``UpdateRequest`` delivered to it), each
widget's ``Paint`` events, the pixels they cover and the GUI thread's CPU time inside them
(``time.thread_time`` around ``QApplication.notify``). Counts do not depend on the machine's
load; the CPU times do, a little.

    python tests/benchmarks/paint_passes.py [--strokes 3]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import bench_live_latency as bench  # noqa: E402


class CountingApplication(QApplication):
    counting = False
    passes = 0
    paints: collections.Counter = collections.Counter()
    pixels: collections.Counter = collections.Counter()
    cpu: collections.Counter = collections.Counter()

    def notify(self, receiver, event):
        if not self.counting:
            return super().notify(receiver, event)
        kind = event.type()
        if kind == QEvent.Type.UpdateRequest and receiver.isWidgetType() and receiver.isWindow():
            self.passes += 1
        if kind != QEvent.Type.Paint:
            return super().notify(receiver, event)
        name = type(receiver).__name__
        if name == "QWidget" and receiver.parent() is not None:  # a scroll area's or a plot's viewport
            name = type(receiver.parent()).__name__ + " viewport"
        start = time.thread_time()
        result = super().notify(receiver, event)
        self.cpu[name] += time.thread_time() - start
        self.paints[name] += 1
        self.pixels[name] += sum(rect.width() * rect.height() for rect in event.region())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strokes", type=int, default=3)
    strokes = parser.parse_args().strokes
    app = CountingApplication([])
    from aegui.__main__ import configure_process_for_live_drawing, configure_torch_for_live_drawing

    configure_process_for_live_drawing()
    configure_torch_for_live_drawing()
    window = bench.open_window()
    window.resize(1400, 860)
    bench.wait_idle(window)
    events = [0]

    def measure_move(point) -> None:
        events[0] += 1
        bench.send_move(window, point)
        bench.wait_shown(window)
        QApplication.processEvents()

    bench.replay_stroke(window, measure_move)  # warm-up
    events[0] = 0
    app.counting = True
    start = time.thread_time()
    for _ in range(strokes):
        bench.replay_stroke(window, measure_move)
    app.counting = False
    count = events[0]
    print(f"{count} pen events; window paint passes per event {app.passes / count:.2f}; GUI thread CPU per event {(time.thread_time() - start) / count * 1000:.2f} ms")
    for name, seconds in sorted(app.cpu.items(), key=lambda item: -item[1]):
        print(f"  {name:30s} paints {app.paints[name] / count:5.2f}  pixels {app.pixels[name] / count:8.0f}  CPU {seconds / count * 1000:6.3f} ms")


if __name__ == "__main__":
    main()
