"""Words that change on every pen event, shown at a pace a person can read."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

READABLE_PACE = 0.1  # seconds: a number in words changes at most ten times a second
TRAILING_GRACE = 0.02  # seconds a waiting value waits past the interval for the next value to carry it
SPREAD = 0.001  # seconds: a pace due within this of another's showing waits for the next value
_last_shown_by_any = [float("-inf")]  # when any pace last showed a value that was due (GUI thread only)


NUMBER = re.compile(r"[-+−]?\d[\d.,%]*")


def words_of(text: str) -> str:
    """``text`` with its numbers blanked: two texts that differ only in numbers are one kind."""
    return NUMBER.sub("#", text)


class Pace(QObject):
    """Shows values through ``show`` at most once per ``interval`` seconds, the latest winning.

    A pen event comes a hundred times a second; a number in a sentence that changes that often
    flickers and cannot be read, and laying it out and painting it each time costs the pen more
    than the graphics beside it (the gauge's fill, the bars), which follow every event. The first
    value after a pause is shown at once; values within the interval wait. While values keep
    coming, the first one past the interval is shown with its own request; when they stop, the
    last one is shown by a timer the interval and ``TRAILING_GRACE`` after the last shown, so
    what is finally shown is always the last value asked for.
    """

    def __init__(self, show: Callable[[Any], None], shown: Any = None, interval: float = READABLE_PACE, kind: Callable[[Any], Any] | None = None, parent: QObject | None = None):
        """``shown``: what is on screen before the first value (not shown again)."""
        super().__init__(parent)
        self._show = show
        self._kind = kind
        self.interval = interval
        self.shown = shown  # the value last passed to ``show``
        self._waiting = False
        self._pending: Any = None
        self._shown_at = float("-inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    def request(self, value: Any, at_once: bool = False) -> None:
        """Show ``value`` now if the interval has passed since the last one shown (or
        ``at_once``: the user's own change, such as a dragged slider's value), else soon."""
        if not self._waiting and value == self.shown:
            return
        other_kind = self._kind is not None and self._kind(value) != self._kind(self.shown)
        now = time.monotonic()
        # Due: shown with its analysis, in the other views' paint pass, but not in the same
        # pass as another pace's due value: paces started together (a stroke's first event)
        # would otherwise all lay out and paint their text on one pen event in ten, and that
        # event would stand out; spread, each takes a different event.
        due = now - self._shown_at >= self.interval and now - _last_shown_by_any[0] >= SPREAD
        if at_once or other_kind or due or self.interval <= 0:
            if due:
                _last_shown_by_any[0] = now
            self._timer.stop()
            self._waiting, self._pending = False, None
            self._pass_on(value)
        elif self._waiting:
            self._pending = value
        else:
            self._waiting, self._pending = True, value
            # for the last value of a stroke: while values keep coming, the next one past the
            # interval shows the latest (above), so the timer adds no paint pass of its own
            self._timer.start(max(1, round((max(0.0, self.interval - (now - self._shown_at)) + TRAILING_GRACE) * 1000)))

    def reset(self, shown: Any) -> None:
        """``shown`` is on screen now (set by other means); nothing waits any more."""
        self._timer.stop()
        self._waiting, self._pending, self.shown = False, None, shown

    @property
    def waiting(self) -> bool:
        """A value waits for the interval to pass."""
        return self._waiting

    def latest(self) -> Any:
        """The value last asked for: shown, or waiting for the interval to pass."""
        return self._pending if self._waiting else self.shown

    def _on_timer_timeout(self) -> None:
        if self._waiting:
            value, self._waiting, self._pending = self._pending, False, None
            self._pass_on(value)

    def _pass_on(self, value: Any) -> None:
        self._shown_at = time.monotonic()
        self.shown = value
        self._show(value)
