"""Pen-event latency while the Training run dock shows a run (its snapshots carry networks).

The dock rebuilds your sketch with the loaded model and the run's network of the epoch shown;
this measures what that costs the pen. It writes a run folder of three epochs whose snapshots
hold the quick preset's network (conv, k = 16), watches it, and replays the recorded stroke
as ``bench_live_latency.py`` does.

    python tests/benchmarks/bench_watched_run.py [--strokes 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import bench_live_latency as bench  # noqa: E402
from machine_reference import machine_reference  # noqa: E402

QUICK_NETWORK = {"architecture": "conv", "latent_dim": 16, "hidden_dim": 128, "hidden_layers": 1, "channels": 8}


def write_run(folder: Path, epochs: int = 3) -> Path:
    from aegui.core.networks import build_autoencoder

    progress = folder / "progress"
    (progress / "snapshots").mkdir(parents=True)
    lines = [{"event": "start", "max_epochs": 15}]
    for epoch in range(epochs):
        table = {"codes": torch.randn(1000, 16), "labels": torch.arange(1000) % 10, "state_dict": build_autoencoder(QUICK_NETWORK).state_dict(), "hyper_parameters": QUICK_NETWORK}
        torch.save(table, progress / "snapshots" / f"epoch-{epoch:04d}.pt")
        lines += [{"event": "epoch", "epoch": epoch, "val_mse": 0.05}, {"event": "snapshot", "epoch": epoch, "path": f"snapshots/epoch-{epoch:04d}.pt"}]
    (progress / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strokes", type=int, default=3)
    strokes = parser.parse_args().strokes
    reference = machine_reference()
    print(f"machine reference: batch-1 forward of the default network {reference['forward_ms']:.3f} ms")
    app = QApplication([])
    from aegui.__main__ import configure_process_for_live_drawing, configure_torch_for_live_drawing

    configure_process_for_live_drawing()
    configure_torch_for_live_drawing()
    folder = write_run(Path(tempfile.mkdtemp()))
    window = bench.open_window()
    window.resize(1400, 860)
    window.watch_training_run(folder)
    deadline = time.monotonic() + 60
    while len(window.training_run.maps) < 3 and time.monotonic() < deadline:
        app.processEvents()
    bench.wait_idle(window)
    latencies = []
    for _ in range(strokes):
        latencies += bench.measure_latency(window)
    latencies = np.asarray(latencies)  # ms
    rebuilt = window.training_view.sketch_row.image(0) is not None
    print(f"run watched: {len(latencies)} pen events, p50 {np.percentile(latencies, 50):.2f} ms, p99 {np.percentile(latencies, 99):.2f} ms; the dock's sketch rebuilt after the strokes: {rebuilt}")


if __name__ == "__main__":
    main()
