"""Live drawing speed of the real window on the bundled default model.

1. Pen event to all views repainted: replays a recorded 200-point stroke as real mouse
   events, three times; for each event, the time until the model's answer is set in every
   view and Qt has painted every widget that changed. Prints p50 / p99 / max in milliseconds.
2. Cold start: a fresh interpreter, ``python -m aegui``, until the first painted window and
   until the model is ready (loaded and shown). Prints seconds (medians of three).
3. Resident memory after N strokes (default 1,000; 50 pen events each, every 4th point of
   the recording, jittered), and its growth.

    python tests/benchmarks/bench_live_latency.py [--strokes 1000] [--breakdown] [--noise]

``--noise`` also replays the stroke with input noise off and on (all four kinds at 0.3),
alternating round by round, and prints both latencies and their ratio: a loaded machine slows
both alike, so the ratio is what to read.

Every run starts with this machine's speed (``machine_reference``): compare figures between
runs or machines as ratios to it, since speed drifts from run to run.
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent
STROKE = json.loads((HERE / "stroke-200.json").read_text())["points"]
sys.path.insert(0, str(HERE))

from machine_reference import machine_reference  # noqa: E402


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def send(widget, kind, point, button, buttons) -> None:
    QApplication.sendEvent(widget, QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons, Qt.KeyboardModifier.NoModifier))


def wait_idle(window) -> None:
    """Run the Qt event loop (which releases the GIL, as the app does) until all work is shown."""
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: window.executor.is_idle() and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    QApplication.processEvents()


def wait_shown(window) -> None:
    """Block in the Qt event loop until the window has shown the next analysis."""
    loop = QEventLoop()
    window.analysis_shown.connect(loop.quit)
    loop.exec()
    window.analysis_shown.disconnect(loop.quit)


def stroke_points(canvas, jitter: float = 0.0, rng=None):
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2
    offset = rng.normal(0, jitter, 2) if rng is not None else np.zeros(2)
    return [QPointF(x0 + (x + offset[0]) * side, y0 + (y + offset[1]) * side) for x, y, _ in STROKE]


def open_window():
    from aegui.__main__ import create_window
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = create_window(settings, load_reference_digits())
    window.show()
    loaded = []
    window.model_shown.connect(loaded.append)
    window.open_model(DEFAULT_CHECKPOINT)
    while not loaded:
        QApplication.processEvents()
    wait_idle(window)
    return window


def replay_stroke(window, measure_move) -> None:
    """Press, then every recorded point as a move with the button held, then release.

    ``measure_move(point)`` sends one move and times it; sub-pixel moves, which the canvas
    ignores (no analysis would follow), are skipped.
    """
    canvas = window.canvas
    points = stroke_points(canvas)
    left = Qt.MouseButton.LeftButton
    canvas.clear()
    wait_idle(window)
    send(canvas, QEvent.Type.MouseButtonPress, points[0], left, left)
    wait_idle(window)
    last = points[0]
    for point in points[1:]:
        if canvas.has_ink() and abs(point.x() - last.x()) < 1 and abs(point.y() - last.y()) < 1:
            continue
        last = point
        measure_move(point)
    send(canvas, QEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton)
    wait_idle(window)


def send_move(window, point) -> None:
    left = Qt.MouseButton.LeftButton
    send(window.canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, left)


def measure_latency(window) -> list[float]:
    latencies = []

    def measure_move(point) -> None:
        start = time.perf_counter()
        send_move(window, point)
        wait_shown(window)
        QApplication.processEvents()  # Qt paints every widget the update touched, as in use
        latencies.append((time.perf_counter() - start) * 1000)

    for _ in range(3):
        replay_stroke(window, measure_move)
    return latencies


NOISE_ON_STRENGTH = 0.3


def measure_noise_latency(window, rounds: int = 3) -> dict[str, list[float]]:
    """Pen event to all views repainted with input noise off and on, alternating per stroke."""
    from aegui.core.noise import NO_NOISE, NOISE_KINDS, NoiseSettings

    noisy = NoiseSettings(tuple((kind, NOISE_ON_STRENGTH) for kind in NOISE_KINDS), seed=0)
    latencies: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for name, settings in (("off", NO_NOISE), ("on", noisy)):
            window.explorer.set_noise(settings)
            wait_idle(window)

            def measure_move(point, name=name) -> None:
                start = time.perf_counter()
                send_move(window, point)
                wait_shown(window)
                QApplication.processEvents()
                latencies[name].append((time.perf_counter() - start) * 1000)

            replay_stroke(window, measure_move)
    window.explorer.set_noise(NO_NOISE)
    wait_idle(window)
    return latencies


def measure_breakdown(window) -> dict[str, np.ndarray]:
    """Where one pen event's time goes: the same replay, with timestamps at each hand-over.

    Wraps the executor's submission on the live channel and the explorer's delivery for the
    duration of the replay.
    """
    from aegui.core.explorer import LIVE

    executor = window.executor
    marks: dict[str, float] = {}
    submit = executor.submit

    def timed_submit(channel, job, on_done, on_error):
        if channel != LIVE:
            return submit(channel, job, on_done, on_error)
        marks["submitted"] = time.perf_counter()

        def timed_job():
            marks["job_started"] = time.perf_counter()
            result = job()
            marks["job_finished"] = time.perf_counter()
            return result

        def timed_done(analysis):
            marks["delivered"] = time.perf_counter()
            on_done(analysis)
            marks["views_set"] = time.perf_counter()

        submit(channel, timed_job, timed_done, on_error)

    rows = []

    def measure_move(point) -> None:
        marks.clear()
        start, start_cpu = time.perf_counter(), time.thread_time()
        send_move(window, point)
        wait_shown(window)
        shown = time.perf_counter()
        QApplication.processEvents()
        end, end_cpu = time.perf_counter(), time.thread_time()
        rows.append([
            marks["submitted"] - start, marks["job_started"] - marks["submitted"],
            marks["job_finished"] - marks["job_started"], marks["delivered"] - marks["job_finished"],
            marks["views_set"] - marks["delivered"], end - shown, end - start, end_cpu - start_cpu,
        ])  # fmt: skip

    executor.submit = timed_submit
    try:
        replay_stroke(window, measure_move)
    finally:
        del executor.submit
    names = ["pen event to job submitted (canvas ink, raster)", "worker picks the job up", "model work in the worker", "result back on the GUI thread", "setting every view", "Qt repaints what changed", "total", "GUI thread CPU time"]
    table = np.array(rows) * 1000
    return {name: table[:, column] for column, name in enumerate(names)}


def measure_memory(window, strokes: int) -> tuple[float, float, float]:
    canvas = window.canvas
    left = Qt.MouseButton.LeftButton
    rng = np.random.default_rng(0)
    before = resident_mb()
    after_first_hundred = before
    for index in range(strokes):
        points = stroke_points(canvas, 0.03, rng)
        send(canvas, QEvent.Type.MouseButtonPress, points[0], left, left)
        for index_in_stroke, point in enumerate(points[1::4]):
            send(canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, left)
            if index_in_stroke % 10 == 9:
                QApplication.processEvents()  # a fast pen: several events arrive per frame
        send(canvas, QEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton)
        wait_idle(window)
        if index % 10 == 9:
            canvas.clear()  # a person clears now and then; the undo history keeps growing
            wait_idle(window)
        if index == 99:
            after_first_hundred = resident_mb()
    return before, after_first_hundred, resident_mb()


def measure_cold_start(runs: int = 3) -> tuple[list[float], list[float]]:
    """Seconds from launching ``python -m aegui`` to the first painted window, and to the
    model shown in it."""
    code = (
        "import time, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import aegui.__main__ as entry\n"
        "from aegui.qt import main_window\n"
        "original_init = main_window.MainWindow.__init__\n"
        "def init(self, *args, **kwargs):\n"
        "    original_init(self, *args, **kwargs)\n"
        "    self.first_painted.connect(lambda: print(f'FIRST_PAINT {time.time():.6f}', flush=True))\n"
        "    def shown(session):\n"
        "        self.repaint()\n"
        "        print(f'MODEL_READY {time.time():.6f}', flush=True)\n"
        "        QApplication.instance().quit()\n"
        "    self.model_shown.connect(shown)\n"
        "main_window.MainWindow.__init__ = init\n"
        "sys.exit(entry.main(['--settings', sys.argv[1]]))\n"
    )
    first_paint, model_ready = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            launched = time.time()
            output = subprocess.run([sys.executable, "-c", code, str(Path(folder) / "s.ini")], capture_output=True, text=True, timeout=120, env={**os.environ, "XDG_STATE_HOME": folder})
        marks = dict(line.split() for line in output.stdout.splitlines() if line.startswith(("FIRST_PAINT", "MODEL_READY")))
        if len(marks) != 2:
            raise SystemExit(output.stdout[-1000:] + output.stderr[-2000:])
        first_paint.append(float(marks["FIRST_PAINT"]) - launched)
        model_ready.append(float(marks["MODEL_READY"]) - launched)
    return first_paint, model_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=1000)
    parser.add_argument("--skip-cold-start", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="also print where a pen event's time goes")
    parser.add_argument("--noise", action="store_true", help="also compare latency with input noise off and on, alternating")
    args = parser.parse_args()
    reference = machine_reference()
    print(f"machine reference: batch-1 forward of the default network {reference['forward_ms']:.3f} ms, pure-Python loop {reference['python_loop_ms']:.1f} ms (medians)")
    from aegui.__main__ import collect_garbage_on_the_gui_thread, configure_process_for_live_drawing, configure_torch_for_live_drawing, freeze_start_up_objects

    configure_process_for_live_drawing()
    configure_torch_for_live_drawing()
    app = QApplication.instance() or QApplication([])
    garbage_collector = collect_garbage_on_the_gui_thread()  # noqa: F841 (as aegui's main does)
    import torch

    window = open_window()
    freeze_start_up_objects()  # as aegui's main does once the first model is shown
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s) in the app, platform {app.platformName()}")
    latencies = np.array(measure_latency(window))
    p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
    print(f"pen event -> all views repainted, {len(latencies)} events: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies.max():.2f} ms")
    print(f"  as multiples of the reference forward: p50 {p50 / reference['forward_ms']:.1f}x, p99 {p99 / reference['forward_ms']:.1f}x")
    if args.breakdown:
        for name, values in measure_breakdown(window).items():
            print(f"  {name:50s} p50 {np.percentile(values, 50):5.2f} ms   p99 {np.percentile(values, 99):5.2f} ms")
    if args.noise:
        by_setting = {name: np.array(values) for name, values in measure_noise_latency(window).items()}
        for name, values in by_setting.items():
            print(f"input noise {name:3s} ({len(values)} events, alternating strokes): p50 {np.percentile(values, 50):.2f} ms, p99 {np.percentile(values, 99):.2f} ms, max {values.max():.2f} ms")
        print(f"  noise on / off: p50 x{np.percentile(by_setting['on'], 50) / np.percentile(by_setting['off'], 50):.2f}, p99 x{np.percentile(by_setting['on'], 99) / np.percentile(by_setting['off'], 99):.2f}")
    before, hundred, after = measure_memory(window, args.strokes)
    print(f"resident memory: {before:.0f} MB before, {hundred:.0f} MB after 100 strokes, {after:.0f} MB after {args.strokes} strokes (growth {after - before:+.1f} MB, {after - hundred:+.1f} MB after the first 100)")
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    window.close()
    if not args.skip_cold_start:
        first_paint, model_ready = measure_cold_start()
        print(f"cold start to the first painted window: median {statistics.median(first_paint):.2f} s (runs: {', '.join(f'{t:.2f}' for t in first_paint)})")
        print(f"cold start to the model ready in the window: median {statistics.median(model_ready):.2f} s (runs: {', '.join(f'{t:.2f}' for t in model_ready)})")


if __name__ == "__main__":
    main()
