"""Torch's intra-op thread count, raised for one piece of work and put back.

Torch keeps the count per thread: a thread takes the process-wide setting on its first torch
call and keeps its own from then on. aegui sets one at start-up (the live pen's), so a worker
that raises it for a batch must lower it again before its job ends.
"""

from __future__ import annotations

import contextlib
import os

import torch


def _thread_limit() -> int:
    """OMP_NUM_THREADS, when set, is the most threads a process may use (the test suite runs
    one worker per core on one thread each)."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1 << 16


@contextlib.contextmanager
def torch_threads(count: int):
    """Up to ``count`` intra-op threads for the torch work inside, then back to as many as
    before. Torch applies the count to the calling thread (and to threads that first use torch
    meanwhile): the live worker, already running on one, keeps it."""
    before = torch.get_num_threads()
    count = min(count, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, _thread_limit())
    if count <= before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
