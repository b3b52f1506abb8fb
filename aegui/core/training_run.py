"""A watched training run as the app's state: what a run is, read and mapped off the GUI thread.

``TrainingRun`` owns one run: its folder (a boundary, ``aegui.core.run_folder``), its plan, the
stream's summary (``RunState``), the map of each epoch's snapshot (turned to match the epoch
before), its checkpoints, the network of the epoch shown (to rebuild the sketch) and what the
app's own training process said when it ended. Requests (watch, poll, stop, show an epoch, open
the best checkpoint, compare) are stored at once on the caller's thread; reading the stream,
reading snapshots (through ``aegui.core.model_files.snapshot.read_snapshot``, the guarded reader) and
decoding run through the injected executor. A job captures what it needs and changes no
published state; its result is published through the events below, which the training dock
subscribes to. Qt-free, and torch is imported only inside jobs.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aegui.core.events import Signal
from aegui.core.executor import Executor
from aegui.core.run_folder import PROGRESS_FILE, RunFolder, RunState, RunWatcher, outside_note
from aegui.core.run_snapshots import SnapshotNetworks, map_snapshots, rebuild_sketch, snapshot_map
from aegui.core.training_plan import OUTPUT_LOG, TrainingPlan, failure_advice

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer

__all__ = ["PROGRESS_FILE", "RunState", "RunWatcher", "TrainingRun", "snapshot_map", "status_text"]

READ = "training-read"  # the stream
MAP = "training-map"  # snapshots -> aligned maps
SKETCH = "training-sketch"  # the sketch rebuilt by the network of the epoch shown
CATCH_UP_PAUSE = 0.03  # seconds between full slices of a long backlog, for the GUI to paint (a frame or two)


def _read_stream(watcher: RunWatcher, plan: TrainingPlan | None, catching_up: bool = False, ended: bool = False) -> tuple:
    """The job of one poll: a bounded slice of the stream, the plan while there is none, and
    whether the checkpoints the run names exist (stat only); once the app's process has ended,
    the last line it wrote to its log (its one-line refusal, when it refused to start). Runs in
    the executor; a slice that follows a full one first leaves the GUI thread a moment to show
    the one before."""
    if catching_up:
        time.sleep(CATCH_UP_PAUSE)
    read_plan = watcher.boundary.read_plan() if plan is None else None
    plan = plan or read_plan
    changed = watcher.poll()
    state = watcher.state.copy()
    best = state.checkpoints.get("best")
    best_exists = best is not None and os.path.isfile(best)
    last_exists = plan is not None and os.path.isfile(plan.last_checkpoint)
    log_line = watcher.boundary.last_line(plan.run_dir / OUTPUT_LOG) if ended and plan is not None else ""
    return changed, watcher.more, state, read_plan, best_exists, last_exists, log_line


class TrainingRun:
    def __init__(self, executor: Executor, explorer: Explorer | None = None):
        self.executor = executor
        self.explorer = explorer  # where the run's checkpoints are opened and compared
        # --- state: the run watched and what was read of it -----------------------------------
        self.boundary: RunFolder | None = None
        self.plan: TrainingPlan | None = None  # the run's plan, when the app started it
        self.state = RunState()  # the newest summary published
        self.maps: dict[int, np.ndarray] = {}  # epoch -> aligned 2-D map of the snapshot's digits
        self.labels: np.ndarray | None = None
        self.unreadable: dict[int, str] = {}  # epoch -> why its snapshot could not be read
        self.best_checkpoint: Path | None = None  # inside the run folder and present
        self.last_checkpoint_exists = False
        self.selected_epoch: int | None = None
        self.following = True  # the epoch shown follows the newest until the user picks one
        self.stop_requested = False
        self.map_problem = ""  # why mapping failed unexpectedly (a snapshot's own problem is in unreadable)
        self.process_note = ""  # how the app's own process ended, when it ended early
        self._log_line = ""  # the last line the app's process wrote to its log, once it ended
        self.previous_model: Path | None = None  # the model loaded before the run's best was opened
        self._process_run_dir: Path | None = None  # the run the app's own process is running
        self._open_best_when_done = False
        self._ended_process: tuple | None = None  # (plan, exit code, crashed) until the stream is read to its end
        self._failures: dict[int, tuple] = {}  # epoch -> (size, mtime) of its snapshot when it failed
        self._watcher: RunWatcher | None = None
        self._reading = False  # one read of the stream in flight at a time
        self._read_again = False
        self._mapping = False
        self._networks = SnapshotNetworks()
        # --- events --------------------------------------------------------------------------
        self.opened = Signal()  # (progress folder): another run is watched, nothing read yet
        self.state_changed = Signal()  # (TrainingRun): the summary, checkpoints or process note
        self.maps_changed = Signal()  # (TrainingRun): new maps or unreadable snapshots
        self.epoch_shown = Signal()  # (epoch): the map of this epoch is the one to show
        self.reconstruction_changed = Signal()  # (epoch, loaded model's image, run's image)
        self.ended = Signal()  # (message): the app's own process ended; what the run says about it
        self.comparison_opened = Signal()  # (): the previous model and the best sent to Compare
        if explorer is not None:  # the sketch row follows the sketch and the model loaded
            explorer.analysis_changed.connect(self._on_explorer_analysis_changed)

    # --- what is watched ----------------------------------------------------------------------
    @property
    def folder(self) -> Path | None:
        """The progress folder read."""
        return self.boundary.progress_dir if self.boundary is not None else None

    @property
    def run_dir(self) -> Path | None:
        return self.boundary.run_dir if self.boundary is not None else None

    def watch(self, folder: str | Path) -> None:
        """Show the run in ``folder``: a run folder the app made, or any ``--progress-dir``."""
        self.boundary = RunFolder(folder)
        self._watcher = RunWatcher(self.boundary)
        self.plan, self.state = None, RunState()
        self.maps, self.labels, self.unreadable, self._failures = {}, None, {}, {}
        self.best_checkpoint, self.last_checkpoint_exists = None, False
        self.selected_epoch, self.following, self.stop_requested = None, True, False
        self.process_note, self._ended_process, self.map_problem, self._log_line = "", None, "", ""
        self._reading, self._read_again, self._mapping = False, False, False
        self._networks = SnapshotNetworks()
        self.opened.emit(self.boundary.progress_dir)
        self._submit_read()

    @property
    def running_here(self) -> bool:
        """The app's own process is running the watched run."""
        return self._process_run_dir is not None and self.run_dir is not None and _same(self._process_run_dir, self.run_dir)

    @property
    def is_over(self) -> bool:
        state = self.state
        return state.finished or state.error is not None or bool(self.process_note)

    @property
    def live(self) -> bool:
        """Worth reading again: the run may still write (it has not ended, or the app runs it)."""
        return self.boundary is not None and (not (self.state.finished or self.state.error) or self.running_here)

    @property
    def resumable(self) -> bool:
        """The app can continue the run from its last.ckpt (a plan it saved, the file there)."""
        state = self.state
        ended_early = state.stopped or state.error is not None or bool(self.process_note)
        return self.plan is not None and self.last_checkpoint_exists and not self.running_here and ended_early

    # --- reading --------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read what the run appended since the last read (called by a timer while ``live``)."""
        if self._watcher is not None:
            self._submit_read()

    def _submit_read(self, catching_up: bool = False) -> None:
        if self._reading:
            self._read_again = True
            return
        watcher, plan, self._reading, self._read_again = self._watcher, self.plan, True, False

        def done(result) -> None:
            if watcher is not self._watcher:  # another run is watched now
                return
            self._reading = False
            changed, more, state, read_plan, best_exists, last_exists, log_line = result
            self._log_line = log_line or self._log_line
            if read_plan is not None:
                self.plan = read_plan
            self.state = state
            best = state.checkpoints.get("best")
            self.best_checkpoint = best if best_exists else None
            changed = changed or read_plan is not None or last_exists != self.last_checkpoint_exists
            self.last_checkpoint_exists = last_exists
            if changed:
                self.state_changed.emit(self)
            self._submit_maps()
            if more or self._read_again:
                self._submit_read(catching_up=more)
            elif self._ended_process is not None:
                self._finish_process_end()

        def failed(error: BaseException) -> None:  # reported in the status line, read again at the next poll
            if watcher is self._watcher:
                self._reading = False
                self.state = replace(self.state, unreadable_stream=f"{PROGRESS_FILE} could not be read: {type(error).__name__}")
                self.state_changed.emit(self)

        ended = self._ended_process is not None
        self.executor.submit(READ, lambda: _read_stream(watcher, plan, catching_up, ended), done, failed)

    def _submit_maps(self) -> None:
        """Map the snapshots not mapped yet, in epoch order, a few per job."""
        missing = sorted(epoch for epoch in self.state.snapshots if epoch not in self.maps)
        if self._mapping or not missing:
            return
        paths = [(epoch, self.state.snapshots[epoch]) for epoch in missing]
        earlier = [epoch for epoch in self.maps if epoch < missing[0]]
        previous = self.maps[max(earlier)] if earlier else None
        boundary, failures, self._mapping = self.boundary, dict(self._failures), True

        def done(result) -> None:
            if boundary is not self.boundary:
                return
            self._mapping = False
            maps, labels, failed, more = result
            for epoch, (signature, reason) in failed.items():
                self._failures[epoch] = signature
                self.unreadable[epoch] = reason
            for epoch in maps:
                self.unreadable.pop(epoch, None)
                self._failures.pop(epoch, None)
            self.maps.update(maps)
            if labels is not None:
                self.labels = labels
            self.map_problem = ""
            if maps or failed:
                self.maps_changed.emit(self)
                if self.maps and (self.following or self.selected_epoch not in self.maps):
                    self.show_epoch(max(self.maps))
            if more:
                self._submit_maps()

        def failed(error: BaseException) -> None:  # logged by the executor; said in the status line
            if boundary is self.boundary:
                self._mapping = False
                self.map_problem = f"the snapshots could not be mapped: {str(error)[:120] or type(error).__name__}"
                self.maps_changed.emit(self)

        self.executor.submit(MAP, lambda: map_snapshots(boundary, paths, previous, failures), done, failed)

    # --- what the user asks for ---------------------------------------------------------------
    def show_epoch(self, epoch: int) -> None:
        """Show the map of ``epoch`` (one that has a map); following the newest again when it is
        the newest. The sketch is rebuilt by that epoch's network in the background."""
        if epoch not in self.maps:
            return
        self.selected_epoch = epoch
        self.following = epoch == max(self.maps)
        self.epoch_shown.emit(epoch)
        self._rebuild_sketch(epoch)

    def _on_explorer_analysis_changed(self, analysis) -> None:
        """A finished stroke, an imported image or another loaded model: rebuild the row beside
        the shown epoch's map. Not on every pen event: a second network per event made the pen
        30-40 % slower with a run watched (p50 10.3 -> 14.3 ms)."""
        if self.selected_epoch is not None and analysis.input_image is not None and not self.explorer.drawing:
            self._rebuild_sketch(self.selected_epoch)

    def _rebuild_sketch(self, epoch: int) -> None:
        analysis = self.explorer.analysis if self.explorer is not None else None
        path = self.state.snapshots.get(epoch)
        if analysis is None or analysis.input_image is None or path is None:
            return
        image, loaded, networks, boundary = analysis.input_image, analysis.reconstruction, self._networks, self.boundary

        def done(rebuilt) -> None:
            if rebuilt is not None and self.selected_epoch == epoch and boundary is self.boundary:
                self.reconstruction_changed.emit(epoch, loaded, rebuilt)

        self.executor.submit(SKETCH, lambda: rebuild_sketch(networks, boundary, path, image), done, lambda error: None)

    def request_stop(self) -> None:
        """Ask the run to stop after its step: it validates, keeps last.ckpt and can be resumed."""
        if self.boundary is not None and self.boundary.request_stop():
            self.stop_requested = True
            self.state_changed.emit(self)

    def open_best(self) -> None:
        """Open the run's best checkpoint in the explorer, remembering the model it replaces."""
        best = self.best_checkpoint
        if best is None or self.explorer is None or self.boundary is None or self.boundary.inside(best) is None:
            return
        session = self.explorer.session
        if session is not None and session.model.path != best:
            self.previous_model = session.model.path
        self.explorer.open_model(best)
        self.state_changed.emit(self)

    def compare_with_previous(self) -> None:
        if self.best_checkpoint is not None and self.previous_model is not None and self.explorer is not None:
            self.explorer.open_comparison([self.previous_model, self.best_checkpoint])
            self.comparison_opened.emit()

    # --- the app's own training process ---------------------------------------------------------
    def process_started(self, plan: TrainingPlan) -> None:
        """The app started (or resumed) ``plan``: watch it, and open its best when it finishes."""
        self._process_run_dir = plan.run_dir
        self.watch(plan.run_dir)
        self._open_best_when_done = True

    def process_ended(self, plan: TrainingPlan | None, exit_code: int, crashed: bool) -> None:
        """The app's process ended: read the stream to its end, then say how the run ended."""
        self._process_run_dir = None
        if plan is None or self.run_dir is None or not _same(plan.run_dir, self.run_dir):  # another run on show
            self.ended.emit(f"The training run in {plan.run_dir if plan else '?'} ended (exit status {exit_code}).")
            return
        self._ended_process = (plan, exit_code, crashed)
        self._submit_read()

    def _finish_process_end(self) -> None:
        _, exit_code, crashed = self._ended_process
        self._ended_process = None
        state = self.state
        if state.finished and exit_code == 0 and not crashed:
            self.process_note = ""
        else:
            how = "was killed" if crashed else f"ended with exit status {exit_code}"
            if self._log_line and not crashed and state.starts == 0:  # refused before it began: its one line
                self.process_note = f"The run did not start (exit status {exit_code}). It said: {_as_sentence(self._log_line)} ({OUTPUT_LOG} in {self.run_dir} has its whole output.)"
            else:
                self.process_note = f"The run {how} before it finished; see {OUTPUT_LOG} in {self.run_dir}."
        self.state_changed.emit(self)
        if state.finished and not state.stopped and self._open_best_when_done and self.best_checkpoint is not None:
            self._open_best_when_done = False
            self.open_best()
        self.ended.emit(status_text(self))


def _same(first: Path, second: Path) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def status_text(run: TrainingRun) -> str:
    """One sentence on where the run is, with what could not be read."""
    state = run.state
    if run.boundary is None:
        return "File ▸ Watch a training run… shows a run that aegui-train fit --progress-dir DIR writes."
    if state.unreadable_stream and not state.lines:
        return f"Nothing to show from {run.folder}: {state.unreadable_stream}."
    if state.starts == 0 and not state.lines:
        if run.process_note:  # the app's run ended before it wrote a line: how, and what it said
            return run.process_note + failure_advice(run.plan, run.process_note)
        if run.running_here:
            return "Starting the run (its first seconds load PyTorch Lightning)…"
        if state.no_stream:  # said at once, not after a wait that looks like a hang
            return f"Watching {run.folder}: no run has written its progress ({PROGRESS_FILE}) there yet; it shows as soon as one does."
        return f"Watching {run.folder} …"
    total = f" of {state.max_epochs}" if state.max_epochs else ""
    best = state.checkpoints.get("best")
    resumable = run.resumable
    skipped = f" ({state.skipped_lines} damaged progress lines skipped)" if state.skipped_lines else ""
    if state.outside_names:
        skipped += f" ({outside_note(state)})"
    if state.unreadable_stream:
        skipped += f" ({state.unreadable_stream})"
    if run.map_problem:
        skipped += f" ({run.map_problem})"
    if run.unreadable:
        epoch, reason = max(run.unreadable.items())
        skipped += f" (the snapshot of epoch {epoch + 1} could not be read: {reason})"
    if state.error:
        text = f"The run stopped: {_as_sentence(state.error)}" + failure_advice(run.plan, state.error) + (" Resume continues from last.ckpt." if resumable else "")
    elif state.finished and state.stopped:
        text = f"Stopped at epoch {(state.epoch or 0) + 1}{total} after {_format_seconds(state.elapsed)}; last.ckpt kept" + (": Resume continues the run." if resumable else ".")
    elif state.finished:
        mse = state.test_metrics.get("test_mse")
        text = f"Finished after {_format_seconds(state.elapsed)}" + (f": test MSE {mse:.5f}" if isinstance(mse, float) else "") + (f". Best checkpoint: {best}" if best else "")
    elif run.process_note:
        text = run.process_note + (" Resume continues from the last complete epoch." if resumable else "")
    elif state.statistics:  # the last epoch is done, and this part can take as long as an epoch
        done = f"Stopped at epoch {(state.epoch or 0) + 1}{total}" if state.stopping or run.stop_requested else "Training done"
        text = f"{done} after {_format_seconds(state.elapsed)}; computing what the app needs (the reference digits' codes, the anomaly score)…"
    elif state.stopping or run.stop_requested:
        text = "Stopping after this step: validating and keeping last.ckpt…"
    elif state.epoch is not None:
        text = f"Epoch {state.epoch + 1}{total} done, {_format_seconds(state.elapsed)} so far, about {_format_seconds(state.eta)} to go"
    else:
        text = "Started; waiting for the first epoch…"
    return text + skipped


def _as_sentence(text: str) -> str:
    """``text`` ending in a full stop, so the advice after it reads as a sentence of its own."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."
