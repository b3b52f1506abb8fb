"""Time ``aegui-train``'s refusal of each command-line mistake, as a user runs it.

Runs ``python -m training ARGS`` in a new process for every mistake of
``tests/training/test_command_line.py`` (the test checks each one-line answer and that neither
torch nor Lightning was imported; this script only times them), ``--repeats`` times each, and
prints the median wall time, the median CPU time of the process (user + sys) and the answer.
For scale it also times ``python -c pass`` (the interpreter's own start).

    python tests/benchmarks/bench_cli_refusals.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from aegui.core.resources import DEFAULT_CHECKPOINT  # noqa: E402
from tests.training.test_command_line import MISTAKES  # noqa: E402


def workspace(folder: Path) -> Path:
    """The files the mistakes name (as the test's ``workspace`` fixture makes them)."""
    (folder / "empty").mkdir()
    (folder / "notes.ckpt").write_text("meeting notes, not a model\n")
    (folder / "empty.safetensors").write_bytes(b"")
    (folder / "bad-rate.yaml").write_text("model:\n  learning_rate: -1\n")
    (folder / "page.ckpt").write_text("<!DOCTYPE html><html><body>Sign in to download</body></html>")
    os.mkfifo(folder / "pipe.ckpt")
    return folder


def timed(command: list[str], cwd: Path) -> tuple[float, float, str, int]:
    """(wall s, CPU s of the child, last line of stderr, exit status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cwd / "cache")}, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = result.stderr.strip().splitlines()
    return wall, cpu, lines[-1] if lines else "", result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = workspace(Path(temporary))
        start = [statistics.median(timed([sys.executable, "-c", "pass"], folder)[index] for _ in range(args.repeats)) for index in (0, 1)]
        print(f"python -c pass: {start[0]:.2f} s wall, {start[1]:.2f} s CPU (median of {args.repeats})")
        print(f"{'wall s':>7} {'CPU s':>6} status  mistake -> answer")
        walls = []
        for mistake, _ in MISTAKES:
            mistake = [str(DEFAULT_CHECKPOINT) if arg == "BUNDLED" else arg for arg in mistake]
            runs = [timed([sys.executable, "-m", "training", *mistake], folder) for _ in range(args.repeats)]
            wall, cpu = statistics.median(run[0] for run in runs), statistics.median(run[1] for run in runs)
            walls.append(wall)
            shown = " ".join("CKPT" if arg == str(DEFAULT_CHECKPOINT) else arg for arg in mistake)
            print(f"{wall:7.2f} {cpu:6.2f} {runs[0][3]:>6}  aegui-train {shown} -> {runs[0][2]}", flush=True)
        print(f"{len(walls)} mistakes: median {statistics.median(walls):.2f} s wall, slowest {max(walls):.2f} s")


if __name__ == "__main__":
    main()
