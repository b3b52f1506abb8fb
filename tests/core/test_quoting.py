"""Values from a file quoted in messages: short, and as cheap for a hostile value as for a small one.

Work is measured as memory allocated while quoting (tracemalloc, deterministic) plus a generous
time bound: writing any of these values out in full would take gigabytes, or never end.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import pytest
import torch

from aegui.core.model_format import HYPERPARAMETERS
from aegui.core.quoting import MAX_CHARS, clean_text, quote


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def _shared(levels: int) -> list:
    value: list = ["leaf"]
    for _ in range(levels):
        value = [value, value]
    return value


def _shared_table(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"left": value, "right": value}
    return value


def _quoted_with_work(value) -> tuple[str, int, float]:
    """(quote, bytes allocated at the peak while quoting, seconds)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        started = time.perf_counter()
        text = quote(value)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return text, peak, seconds


HOSTILE = {
    "deep: a list nested 100,000 levels": lambda: _deep(100_000),
    "shared: 2**60 leaves once written out": lambda: _shared(60),
    "shared table: 2**60 values": lambda: _shared_table(60),
    "huge list: 10**7 numbers": lambda: list(range(10**7)),
    "huge string: 10**8 characters": lambda: "s" * 10**8,
    "huge table: 10**6 keys": lambda: {str(i): i for i in range(10**6)},
    "huge tensor: 10**8 numbers (a repeated view)": lambda: torch.zeros(1).expand(10**8),
    "huge integer: 10**5 digits": lambda: 10**100_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_value_is_quoted_short_and_cheaply(name):
    value = HOSTILE[name]()
    text, peak, seconds = _quoted_with_work(value)
    assert 0 < len(text) <= MAX_CHARS and text.isprintable(), (name, text)
    assert peak < 64 * 1024, (name, peak)  # the value's own size is megabytes to (never-ending) exabytes
    assert seconds < 1.0, (name, seconds)


def test_a_small_value_is_quoted_in_full():
    assert quote([1, 2.5, "two", None]) == "[1, 2.5, 'two', None]"
    assert quote({"a": (1, 2), "b": []}) == "{'a': (1, 2), 'b': []}"
    assert quote(torch.zeros(3, 4)) == "<tensor 3×4 float32>"


def test_what_is_left_out_is_marked():
    assert quote(list(range(10))) == "[0, 1, 2, 3, …]"
    assert quote(_deep(10)) == "[[[[…]]]]"
    assert quote("x" * 500).endswith("…") and len(quote("x" * 500)) == MAX_CHARS
    assert quote(10**100) == "<an integer of 333 bits>"


def test_control_characters_and_escapes_from_a_file_are_shown_escaped():
    text = quote("red\x1b[31m\nline")
    assert "\x1b" not in text and "\n" not in text
    assert clean_text(["\x1b[2J", "a\nb"]) == "['\\x1b[2J', 'a\\nb']"


def test_a_hyperparameter_refusal_quotes_a_hostile_value_in_one_short_line():
    limit = sys.getrecursionlimit()
    for value in (_deep(100_000), _shared(60), {str(i): i for i in range(10**6)}, "c" * 10**7):
        started = time.perf_counter()
        problem = HYPERPARAMETERS["latent_dim"].problem(value)
        assert time.perf_counter() - started < 1.0
        assert problem.startswith("latent_dim must be int, got ") and len(problem) < 120 and "\n" not in problem
    assert sys.getrecursionlimit() == limit
