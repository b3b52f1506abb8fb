"""CPU time to read a run folder's stream of millions of valid lines (the hostile corpus's
``millions_of_lines``) with the app's reader, without a window: the cost of catching up on a
long run, and of the hostile-run test that reads it.

    python tests/benchmarks/bench_stream_reading.py [--million-lines 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from aegui.core.run_folder import RunWatcher  # noqa: E402
from tests.hostile_corpus import build_run_folders  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million-lines", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folders = {item.name: item for item in build_run_folders(Path(folder), million_lines=args.million_lines, random_megabytes=16)}
        for name in ("millions_of_lines", "random_bytes"):
            watcher = RunWatcher(folders[name].folder)
            cpu, wall, polls = time.process_time(), time.perf_counter(), 0
            while True:
                watcher.poll()
                polls += 1
                if not watcher.more:
                    break
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            lines = watcher.state.lines
            print(f"{name:<18} {lines:>9,} lines in {polls} polls: {cpu:5.2f} s CPU ({cpu / lines * 1e6:.2f} us a line), {wall:5.2f} s wall (the reader's pauses for the GUI included); {watcher.state.skipped_lines:,} skipped")


if __name__ == "__main__":
    main()
