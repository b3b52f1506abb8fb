"""Words that change on every pen event, shown at a pace a person can read."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

READABLE_PACE = 0.1  # seconds: a number in words changes at most ten times a second
TRAILING_GRACE = 0.02  # seconds a waiting value waits past the interval for the next value to carry it


class _Turn:
    """One pace's due value per pass of the event loop (GUI thread only).

    An analysis reaches every view in one event; paces started together (on a stroke's first
    event) fall due together, and each laying out and painting its text on that one pen event
    would make it stand out. The first due pace takes the turn; the others wait for the next
    analysis. The turn comes back when the event loop runs again (a zero timer).
    """

    taken = False

    @classmethod
    def take(cls) -> bool:
        if cls.taken:
            return False
        cls.taken = True
        QTimer.singleShot(0, cls.give_back)
        return True

    @classmethod
    def give_back(cls) -> None:
        cls.taken = False


NUMBER = re.compile(r"[-+−]?\d[\d.,%]*")


def words_of(text: str) -> str:
    """``text`` with its numbers blanked: two texts that differ only in numbers are one kind."""
    return NUMBER.sub("#", text)


class Pace(QObject):
    """Shows values through ``show`` at most once per ``interval`` seconds, the latest winning.

    A pen event comes a hundred times a second; a number in a sentence that changes that often
    flickers and cannot be read, and laying it out and painting it each time costs the pen more
    than the graphics beside it (the gauge's bar, the bars), which follow every event. A value
    is due once the interval has passed since the last one shown: it is shown with its own
    request, in the paint pass of the views that changed with it, unless another pace's due
    value took this pass of the event loop (``_Turn``; then the next request shows it). Values
    not due wait, the latest winning; when they stop coming, a timer shows the last one the
    interval and ``TRAILING_GRACE`` after the last shown, so what is finally shown is always
    the last value asked for. ``kind(value)``, when given, says what a value is about: a value
    of another kind than the one shown (other words, not other numbers) is shown at once, as is
    one asked for ``at_once`` (the user's own change).
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
        """Show ``value`` now if it is due (or ``at_once``: the user's own change, such as a
        dragged slider's value), else soon."""
        if value == self.shown:  # back to what is on screen: nothing to show, nothing waits
            self._cancel_wait()
            return
        other_kind = self._kind is not None and self._kind(value) != self._kind(self.shown)
        now = time.monotonic()
        if at_once or other_kind or self.interval <= 0 or (now - self._shown_at >= self.interval and _Turn.take()):
            self._cancel_wait()
            self._pass_on(value)
        elif self._waiting:
            self._pending = value
        else:
            self._waiting, self._pending = True, value
            self._timer.start(max(1, round((max(0.0, self.interval - (now - self._shown_at)) + TRAILING_GRACE) * 1000)))

    def _cancel_wait(self) -> None:
        self._timer.stop()
        self._waiting, self._pending = False, None

    def reset(self, shown: Any) -> None:
        """``shown`` is on screen now (set by other means); nothing waits any more."""
        self._cancel_wait()
        self.shown = shown

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
