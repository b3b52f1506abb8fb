"""A run folder that ``aegui-train fit --progress-dir DIR`` writes, read as untrusted input.

A watched folder may come from another machine, so it is a boundary. A stream line can name
only files inside it (after symbolic links and ``..`` are resolved); a line that names anything
else is skipped and counted like a damaged line, and the file is never opened. Only regular
files are opened: the type is checked with ``stat`` before ``open`` (so a FIFO or a device is
never opened at all), the file is opened without following a final link and without blocking,
and ``fstat`` confirms it is the file that was checked.

The stream is read incrementally and boundedly: each ``poll`` reads at most ``MAX_POLL_BYTES``
and ``MAX_POLL_LINES`` lines, and the state keeps a summary (a thinned loss history, at most
``MAX_EPOCHS`` epochs and ``MAX_SNAPSHOTS`` snapshots), so millions of lines cost bounded memory
and no single read takes long. A line still being written (no newline yet) waits for the next
poll; a line that is not a progress record is skipped and counted.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from aegui.core.quoting import clean_text
from aegui.core.training_plan import PLAN_FILE, PROGRESS_SUBDIR, STOP_FILE, TrainingPlan, run_folder_of

PROGRESS_FILE = "progress.jsonl"  # written by training/progress.py, read here
MAX_LINE = 1 << 20  # a progress line is a few hundred bytes; longer ones are skipped
MAX_POLL_BYTES = 8 << 20  # read per poll: a backlog of millions of lines is read in slices
MAX_POLL_LINES = 50_000
MAX_STEP_POINTS = 4_000  # the loss history is thinned to at most this many points
MAX_EPOCHS = 10_000
MAX_SNAPSHOTS = 2_000
MAX_PLAN_BYTES = 100_000
YIELD_EVERY_LINES = 500  # a reader thread parsing without pause starves the GUI thread of the GIL
YIELD_SECONDS = 0.0  # sleep(0) hands the interpreter to a waiting GUI thread without idling (1 ms idled a third of the time)


class OutsideRunFolder(OSError):
    """A name that leads outside the run folder, or to something that is not a regular file."""


class RunFolder:
    """The boundary of a watched run: the run folder (when the folder watched is a run folder
    the app made, or its ``progress`` part) or else the progress folder itself."""

    def __init__(self, folder: str | Path):
        folder = Path(os.path.abspath(Path(folder).expanduser()))  # names in the stream are read from the progress folder, not from the cwd
        self.run_dir, self.progress_dir = run_folder_of(folder)
        looks_like_run = (self.run_dir / PLAN_FILE).exists() or (self.run_dir / "checkpoints").is_dir()
        chosen_run = Path(folder) == self.run_dir
        bound = self.run_dir if chosen_run or (self.progress_dir.name == PROGRESS_SUBDIR and looks_like_run) else self.progress_dir
        self.root = Path(os.path.realpath(bound))

    def inside(self, name: str | os.PathLike, relative_to: Path | None = None) -> Path | None:
        """The real path ``name`` leads to (relative names from the progress folder), or None
        when it leads outside the boundary or cannot be a path at all."""
        try:
            path = Path(name)
            if not path.is_absolute():
                path = (relative_to or self.progress_dir) / path
            real = Path(os.path.realpath(path))
        except (OSError, ValueError, TypeError):  # an embedded NUL, a name too long
            return None
        return real if real == self.root or self.root in real.parents else None

    def open_regular(self, name: str | os.PathLike, relative_to: Path | None = None):
        """A binary file object for a regular file inside the boundary; ``OutsideRunFolder``
        for anything else, which is never opened."""
        real = self.inside(name, relative_to)
        if real is None:
            raise OutsideRunFolder("it leads outside the run folder")
        before = os.stat(real)
        if not stat.S_ISREG(before.st_mode):
            raise OutsideRunFolder("it is not a regular file")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(real, flags)
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            os.close(descriptor)
            raise OutsideRunFolder("it changed while it was opened")
        return os.fdopen(descriptor, "rb")

    def last_line(self, name: str | os.PathLike, limit: int = 4096) -> str:
        """The last non-empty line of a text file inside the boundary, from at most its last
        ``limit`` bytes, cleaned for showing ("" when it cannot be read)."""
        try:
            with self.open_regular(name) as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - limit))
                tail = handle.read(limit)
        except OSError:
            return ""
        lines = [line for line in tail.decode("utf-8", "replace").splitlines() if line.strip()]
        return clean_text(lines[-1], 600) if lines else ""

    def read_plan(self) -> TrainingPlan | None:
        """The plan the app saved in the run folder (None for runs started elsewhere or a plan
        that is not one), read through the boundary with a size cap."""
        try:
            with self.open_regular(self.run_dir / PLAN_FILE) as handle:
                values = json.loads(handle.read(MAX_PLAN_BYTES).decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(values, dict):
            return None
        try:
            return replace(TrainingPlan.from_dict(values), output_dir=str(self.run_dir))
        except (TypeError, ValueError):
            return None

    def request_stop(self) -> bool:
        """Ask the run to stop after its step (the trainer watches for ``stop-requested``): the
        file is created without following a link and without blocking on a pipe."""
        path = self.progress_dir / STOP_FILE
        if self.inside(path) is None:
            return False
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            descriptor = os.open(path, flags, 0o666)
        except OSError:
            return False
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return False
            os.write(descriptor, b"stop\n")
        finally:
            os.close(descriptor)
        return True


@dataclass
class RunState:
    """Everything read so far from one run folder (a summary: bounded whatever the stream)."""

    config: dict = field(default_factory=dict)
    max_epochs: int | None = None
    steps: list[tuple[int, float]] = field(default_factory=list)  # (global step, train loss), thinned
    epochs: list[tuple[int, float]] = field(default_factory=list)  # (epoch, validation MSE)
    snapshots: dict[int, Path] = field(default_factory=dict)  # epoch -> snapshot file (real path, inside)
    elapsed: float | None = None
    eta: float | None = None
    finished: bool = False
    checkpoints: dict[str, Path] = field(default_factory=dict)  # "best"/"last" -> real path, inside
    test_metrics: dict = field(default_factory=dict)
    error: str | None = None
    stopping: bool = False  # a stop was asked for and the run has seen it
    stopped: bool = False  # the run ended because a stop was asked for (resumable)
    statistics: bool = False  # training is over; the app's statistics are being computed
    skipped_lines: int = 0  # lines that were not progress records
    outside_names: int = 0  # snapshots and checkpoints named outside the watched folder: never opened
    outside_example: str = ""  # the first such name as the stream gives it (cleaned, bounded), to say where it is
    lines: int = 0  # lines read in all
    starts: int = 0  # 1 for a run, 2 and more once it was resumed
    unreadable_stream: str | None = None  # why progress.jsonl itself cannot be read
    no_stream: bool = False  # looked, and the folder holds no progress.jsonl (yet)

    @property
    def epoch(self) -> int | None:
        return self.epochs[-1][0] if self.epochs else None

    def copy(self) -> RunState:
        """A copy whose containers are its own, to publish while reading goes on."""
        return replace(self, steps=list(self.steps), epochs=list(self.epochs), snapshots=dict(self.snapshots), checkpoints=dict(self.checkpoints))


class RunWatcher:
    """Reads a run folder's stream incrementally; ``state`` is this reader's own (mutable)."""

    def __init__(self, folder: str | Path | RunFolder):
        self.boundary = folder if isinstance(folder, RunFolder) else RunFolder(folder)
        self.folder = self.boundary.progress_dir
        self.state = RunState()
        self.more = False  # bytes were left for the next poll
        self._offset = 0
        self._discarding = False  # inside a line too long to keep, until its newline
        self._step_stride = 1  # one step kept of every this many
        self._since_kept = 0
        self._last_step: dict | None = None  # a step line whose timing waits: a later line may replace it
        self._elapsed_before = 0.0  # the time of the run's earlier processes (it was resumed)

    def poll(self) -> bool:
        """Read (a bounded slice of) what was appended since the last poll; True if anything
        new was read or the stream's state changed (found missing, or unreadable)."""
        self.more = False
        try:
            with self.boundary.open_regular(self.folder / PROGRESS_FILE) as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(self._offset)
                data = handle.read(MAX_POLL_BYTES)
        except FileNotFoundError:  # not yet, or not a run's folder: said once, then looked for again
            changed = not self.state.no_stream
            self.state.no_stream = True
            return changed
        except OSError as error:
            problem = f"{PROGRESS_FILE} is not read: {error.strerror or error}"
            changed = problem != self.state.unreadable_stream
            self.state.unreadable_stream = problem
            return changed
        self.state.unreadable_stream, self.state.no_stream = None, False
        # line by line with find: no single call over the whole slice holds the interpreter long
        position, lines, read = 0, 0, False
        while lines < MAX_POLL_LINES:
            newline = data.find(b"\n", position, position + MAX_LINE + 1)
            if newline < 0:
                if len(data) - position > MAX_LINE:  # no progress line is this long: skip it, never wait for it
                    self.state.skipped_lines += 0 if self._discarding else 1
                    self._discarding, position, read = True, position + MAX_LINE + 1, True
                    continue
                break
            line, position, lines = data[position:newline], newline + 1, lines + 1
            if lines % YIELD_EVERY_LINES == 0:  # hand the interpreter to the GUI thread for a moment
                time.sleep(YIELD_SECONDS)
            if self._discarding:  # the end of a line already counted as skipped
                self._discarding, read = False, True
                continue
            if not line.strip():
                continue
            read = True
            self.state.lines += 1
            record = _json_object(line)
            if record is None or not self._apply(record):
                self.state.skipped_lines += 1
        if self._last_step is not None:
            self._apply_timing(self._last_step)
        self._offset += position
        # more complete lines wait (the slice was full): read again at once, not at the next poll
        self.more = lines >= MAX_POLL_LINES or (len(data) == MAX_POLL_BYTES and self._offset < size)
        return read

    def _apply(self, record: dict) -> bool:
        """Fold one record into the summary; False when it is not a progress record or names a
        file outside the run folder."""
        state, event = self.state, record.get("event")
        if event == "step":  # by far the most frequent line: its timing is read only if it is the last
            step, loss = _finite_number(record.get("step")), _finite_number(record.get("train_loss"))
            if step is None or loss is None:
                return False
            self._add_step(int(step), float(loss))
            self._last_step = record
            return True
        if self._last_step is not None:
            self._apply_timing(self._last_step)
        if event == "epoch":
            epoch = _finite_number(record.get("epoch"))
            if epoch is None:
                return False
            while state.epochs and state.epochs[-1][0] >= epoch:  # a resumed run repeats epochs
                state.epochs.pop()
            if len(state.epochs) >= MAX_EPOCHS:
                return False
            mse = _finite_number(record.get("val_mse"))
            state.epochs.append((int(epoch), float(mse) if mse is not None else float("nan")))
        elif event == "start":  # a run, or the same run resumed: what ended it before is over
            self._elapsed_before = state.elapsed or 0.0  # a resumed process counts from zero; the run's time goes on
            state.config = record.get("config") if isinstance(record.get("config"), dict) else {}
            state.max_epochs = _finite_number(record.get("max_epochs"))
            state.finished, state.error, state.stopping, state.stopped, state.statistics = False, None, False, False, False
            state.starts += 1
        elif event == "stopping":
            state.stopping = True
        elif event == "statistics":
            state.statistics = True
        elif event == "snapshot":
            epoch, name = _finite_number(record.get("epoch")), record.get("path")
            if epoch is None or not isinstance(name, str):
                return False
            path = self.boundary.inside(name)
            if path is None:  # the line is sound; the file it names is not ours to open
                self._note_outside(name)
                return True
            if int(epoch) not in state.snapshots and len(state.snapshots) >= MAX_SNAPSHOTS:
                return False
            state.snapshots[int(epoch)] = path
        elif event == "end":
            self._apply_end(record)
        elif event == "error":
            state.error = whole_words(str(record.get("message", "")), 1000)
        else:
            return False
        self._apply_timing(record)
        return True

    def _apply_timing(self, record: dict) -> None:
        """The run's elapsed time and, from a step or an epoch line, its remaining time."""
        self._last_step = None
        elapsed = _finite_number(record.get("elapsed"))
        if elapsed is not None:
            self.state.elapsed = self._elapsed_before + float(elapsed)
        if record.get("event") in ("step", "epoch"):
            eta = _finite_number(record.get("eta"))
            self.state.eta = float(eta) if eta is not None else None

    def _apply_end(self, record: dict) -> None:
        state = self.state
        state.finished = True
        named = record.get("checkpoints") if isinstance(record.get("checkpoints"), dict) else {}
        state.checkpoints = {}
        for role in ("best", "last"):
            if isinstance(named.get(role), str) and named[role]:
                path = self.boundary.inside(named[role])
                if path is None:  # the rest of the line stands; the file named outside does not
                    self._note_outside(named[role])
                else:
                    state.checkpoints[role] = path
        metrics = record.get("test_metrics") if isinstance(record.get("test_metrics"), dict) else {}
        state.test_metrics = {str(key)[:80]: value for key, value in list(metrics.items())[:50] if _finite_number(value) is not None}
        state.stopped = record.get("stopped") is True

    def _note_outside(self, name: str) -> None:
        self.state.outside_names += 1
        if not self.state.outside_example:
            self.state.outside_example = clean_text(name, 120)

    def _add_step(self, step: int, loss: float) -> None:
        """Keep the loss history bounded: when it is full, every other point goes and only
        every second step after that is kept (the curve keeps its shape, evenly thinned)."""
        steps = self.state.steps
        resumed = bool(steps) and steps[-1][0] >= step
        while steps and steps[-1][0] >= step:  # a resumed run repeats the steps after its checkpoint
            steps.pop()
        if steps and not resumed and self._since_kept + 1 < self._step_stride:
            self._since_kept += 1
            return
        self._since_kept = 0
        steps.append((step, loss))
        if len(steps) > MAX_STEP_POINTS:
            del steps[1::2]
            self._step_stride *= 2


_DECODER = json.JSONDecoder()


def _json_object(line: bytes) -> dict | None:
    """The JSON object a line holds (UTF-8, JSON's whitespace around it allowed), or None:
    anything else is skipped without parsing it. The decoder's scanner directly: ``json.loads``
    would first guess the encoding of every line, a third of the time a long stream takes."""
    stripped = line.strip(b" \t\r\n")
    if len(line) > MAX_LINE or not stripped.startswith(b"{"):
        return None
    try:
        text = stripped.decode()
        record, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return record if end == len(text) else None


def _finite_number(value) -> float | int | None:
    """A number from a line, or None: not a bool, not NaN or infinite (JSON's 1e400 is inf)."""
    kind = type(value)
    if kind is not int and kind is not float:  # a bool is not a number here
        return None
    return value if -1e15 < value < 1e15 else None  # NaN and infinities fail both comparisons


def outside_note(state: RunState) -> str:
    """What the status says of files the stream names outside the watched folder."""
    count = state.outside_names
    files = "file" if count == 1 else "files"
    return f"{count} {files} named outside the watched folder not opened, e.g. {state.outside_example} (from the progress folder): watch a folder that holds them too"


def whole_words(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, cut between words (never mid-word) with an ellipsis."""
    return textwrap.shorten(text, limit, placeholder=" …") if len(text) > limit else text
