"""Two checkouts' live drawing speed, measured alternately in one run.

Each round runs every checkout's own ``bench_live_latency.py`` (its app as shipped, with the
machine's load of the moment) with PYTHONPATH set to that checkout, the order alternating
(ABBA), and collects pen-event p50 / p99 and the cold start to the model ready. Prints each
round, the medians, and the ratios new / base: on a loaded machine only ratios of
alternated runs mean anything.

    python tests/benchmarks/ab_live_latency.py --base ../kernel-base --new . [--rounds 6] [--cold-start]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

PEN = re.compile(r"pen event -> all views repainted, \d+ events: p50 ([\d.]+) ms, p99 ([\d.]+) ms")
READY = re.compile(r"cold start to (?:the model ready in the window|first painted window with the model loaded): median ([\d.]+) s")


def run(checkout: Path, cold_start: bool) -> dict[str, float]:
    command = [sys.executable, str(checkout / "tests" / "benchmarks" / "bench_live_latency.py"), "--strokes", "0"]
    if not cold_start:
        command.append("--skip-cold-start")
    env = {**os.environ, "PYTHONPATH": str(checkout), "QT_QPA_PLATFORM": "offscreen"}
    output = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, timeout=900).stdout
    pen = PEN.search(output)
    if pen is None:
        raise SystemExit(f"no figures from {checkout}:\n{output[-2000:]}")
    figures = {"p50": float(pen.group(1)), "p99": float(pen.group(2))}
    ready = READY.search(output)
    if ready is not None:
        figures["ready"] = float(ready.group(1))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cold-start", action="store_true", help="also time the cold start to the model ready")
    args = parser.parse_args()
    checkouts = {"base": args.base.resolve(), "new": args.new.resolve()}
    results: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
    for round_number in range(args.rounds):
        order = ["base", "new"] if round_number % 2 == 0 else ["new", "base"]
        for name in order:
            figures = run(checkouts[name], args.cold_start)
            results[name].append(figures)
            print(f"round {round_number + 1} {name:4s} " + "  ".join(f"{key} {value:.2f}" for key, value in figures.items()), flush=True)
    print(f"\nmedians over {args.rounds} alternated rounds (pen event in ms, ready in s):")
    for key in ("p50", "p99", "ready"):
        if all(key in row for rows in results.values() for row in rows):
            base = statistics.median(row[key] for row in results["base"])
            new = statistics.median(row[key] for row in results["new"])
            paired = statistics.median(n[key] / b[key] for b, n in zip(results["base"], results["new"]))
            print(f"  {key:5s} base {base:7.2f}   new {new:7.2f}   ratio of medians {new / base:.3f}   median of per-round ratios {paired:.3f}")


if __name__ == "__main__":
    main()
