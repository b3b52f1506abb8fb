"""CPU seconds per test and per test file, for finding what makes the suite slow.

As a pytest plugin it writes, for each test, the CPU its process used and the CPU of the
commands the test started (``getrusage``: self and children), one JSON line per test in
``$SUITE_PROFILE_DIR/out-WORKER.jsonl``; run as a script it sums them per file.

    PYTHONPATH=tests/benchmarks SUITE_PROFILE_DIR=/tmp/profile python -m pytest -p cpu_per_test
    python tests/benchmarks/cpu_per_test.py /tmp/profile [--tests 40]

A test's module and session fixtures count for the first test that uses them; each worker's
start-up and collection (before its first test) are not counted.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import time
from pathlib import Path

import pytest

_output = None


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _write(record: dict) -> None:
    global _output
    if _output is None:
        folder = Path(os.environ.get("SUITE_PROFILE_DIR", "suite-profile"))
        folder.mkdir(parents=True, exist_ok=True)
        _output = open(folder / f"out-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl", "w")  # noqa: SIM115
    _output.write(json.dumps(record) + "\n")
    _output.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    own, children = _cpu()
    started = time.time()
    yield
    own_after, children_after = _cpu()
    _write({"id": item.nodeid, "self": own_after - own, "children": children_after - children, "wall": time.time() - started})


def main() -> None:
    parser = argparse.ArgumentParser(description="Sum the plugin's records per test file.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tests", type=int, default=40, help="also list this many costliest tests")
    args = parser.parse_args()
    files, tests = collections.defaultdict(lambda: [0.0, 0.0, 0]), []
    for path in args.folder.glob("out-*.jsonl"):
        for record in map(json.loads, path.read_text().splitlines()):
            total = files[record["id"].split("::")[0]]
            total[0] += record["self"] + record["children"]
            total[1] += record["wall"]
            total[2] += 1
            tests.append((record["self"] + record["children"], record["wall"], record["id"]))
    print(f"{sum(cpu for cpu, _, _ in files.values()):.0f} s of CPU in the tests")
    for name, (cpu, wall, count) in sorted(files.items(), key=lambda item: -item[1][0]):
        print(f"{cpu:7.1f} s CPU {wall:7.1f} s wall {count:4d} tests  {name}")
    for cpu, wall, name in sorted(tests, reverse=True)[: args.tests]:
        print(f"{cpu:7.1f} s CPU {wall:7.1f} s wall  {name}")


if __name__ == "__main__":
    main()
