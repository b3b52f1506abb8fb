"""Values from a file, quoted in a message: bounded and built lazily, whatever the value is.

A refusal names what it refuses, and what it names came from the file: a list that repeats one
shared list a million times (a few bytes of pickle, 2**60 leaves once expanded), a list nested a
hundred thousand levels deep, a string of a hundred megabytes, a tensor of a billion numbers.
``quote`` renders such a value from its first few parts only. It walks the value with its own
stack (never recursion), visits at most ``MAX_NODES`` values, shows at most ``MAX_ITEMS`` items of
a container and ``MAX_DEPTH`` levels, stops once ``max_chars`` characters are written, and calls
``repr`` only on short slices of text and on small numbers: its cost does not depend on the
value's size, depth or sharing.
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from itertools import islice
from typing import Any

MAX_CHARS = 60
MAX_ITEMS = 4
MAX_DEPTH = 3
MAX_NODES = 40
MAX_INT_BITS = 64
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
_SEQUENCES = {list: ("[", "]"), tuple: ("(", ")"), set: ("{", "}"), frozenset: ("frozenset({", "})")}
_TABLES = (dict, OrderedDict)
_MORE = "…"


def quote(value: Any, max_chars: int = MAX_CHARS) -> str:
    """``value`` as a message shows it: at most ``max_chars`` characters of printable text."""
    pieces: list[str] = []
    written = nodes = 0
    stack: list[Any] = [(value, 0)]  # text to write, or (value, depth) to render
    while stack and written <= max_chars:
        entry = stack.pop()
        if type(entry) is str:
            piece = entry
        else:
            item, depth = entry
            nodes += 1
            if nodes > MAX_NODES:
                stack.append(_MORE)  # there is more than the budget shows
                break
            piece = _leaf(item, max_chars)
            if piece is None:
                piece = _open_container(item, depth, stack)
        pieces.append(piece)
        written += len(piece)
    text = "".join(pieces)
    if stack or len(text) > max_chars:
        text = text[: max_chars - 1] + _MORE
    return text


def _leaf(item: Any, max_chars: int) -> str | None:
    """The text of a value that is not a container, or None for a container."""
    kind = type(item)
    if kind in _SEQUENCES or kind in _TABLES:
        return None
    if kind is str or kind is bytes:
        head = item[: max_chars + 1]
        return repr(head[:max_chars]) + (_MORE if len(head) > max_chars else "")
    if kind is int:
        return repr(item) if item.bit_length() <= MAX_INT_BITS else f"<an integer of {item.bit_length():,} bits>"
    if kind in (float, complex, bool, type(None)):
        return repr(item)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(item, torch.Tensor):
        # Only the tensor's shape and dtype: its numbers may be a billion, or a view that repeats one.
        shape = tuple(torch.Tensor.size(item))
        shown = "×".join(str(n) for n in shape[:8]) + ("×…" if len(shape) > 8 else "")
        return f"<tensor {shown or 'scalar'} {str(item.dtype).removeprefix('torch.')}>"
    return f"<{clean_text(kind.__name__, 40)}>"


def _open_container(item: Any, depth: int, stack: list[Any]) -> str:
    """Push the first items of a list, tuple, set or table; return its opening bracket."""
    kind = type(item)
    opening, closing = _SEQUENCES.get(kind, ("{", "}"))
    if depth >= MAX_DEPTH:
        return f"{opening}{_MORE}{closing}"
    if kind in _TABLES:
        head = list(islice(dict.items(item), MAX_ITEMS + 1))  # dict's own items: no method of the file's object runs
        children = [part for key, value in head[:MAX_ITEMS] for part in ((key, depth + 1), ": ", (value, depth + 1))]
        groups = 3
    else:
        head = list(islice(iter(item), MAX_ITEMS + 1))
        children = [(child, depth + 1) for child in head[:MAX_ITEMS]]
        groups = 1
    stack.append(closing)
    if len(head) > MAX_ITEMS:
        stack.append(", " + _MORE)
    for index in range(len(children) - groups, -1, -groups):
        stack.extend(reversed(children[index : index + groups]))
        if index:
            stack.append(", ")
    return opening


def clean_text(text: str, limit: int = 160) -> str:
    """One line of printable text: no terminal escape codes or control characters, bounded."""
    if type(text) is not str:
        text = quote(text, limit)
    text = ANSI_ESCAPE.sub("", text[: limit * 4])
    lines = text.strip().splitlines()
    first = "".join(character if character.isprintable() else " " for character in (lines[0] if lines else ""))
    first = " ".join(first.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"
