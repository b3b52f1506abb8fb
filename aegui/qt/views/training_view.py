"""Watch a training run: loss curves, progress with ETA, and the latent map forming epoch by epoch.

Reads a folder that ``aegui-train fit --progress-dir DIR`` writes (started by the app's Train
dialog, or elsewhere and synced here) through ``aegui.core.training_run.RunWatcher``, polled once
a second; snapshots are loaded and mapped on the executor's ``training`` channel, never on the
GUI thread. The map of each epoch is turned to match the one before, so clusters move instead of
jumping; the epoch slider replays how it formed. Stop, Resume, Open best and Compare with the
previous model act on the run; a run the app started opens its best checkpoint when it ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from aegui.core.model_format import IMAGE_SIZE
from aegui.core.training_plan import OUTPUT_LOG, TrainingPlan, failure_advice, read_plan, request_stop, run_folder_of
from aegui.core.training_run import RunWatcher, load_snapshot_codes, load_snapshot_network, snapshot_map
from aegui.qt.painting.pixel_images import PixelImageRow
from aegui.qt.views.latent_map import DIGIT_COLOURS

TRAINING = "training"
POLL_MS = 1000


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _signature(path: Path) -> tuple:
    """A file's size and modification time (None if absent): it changed if these did."""
    try:
        status = Path(path).stat()
    except OSError:
        return (None, None)
    return (status.st_size, status.st_mtime_ns)


class TrainingRunView(QWidget):
    comparison_requested = Signal()  # both models were sent to the Compare view
    run_ended = Signal(str)  # the run's process ended; what the status line says about it

    def __init__(self, executor, explorer=None, process=None, parent=None):
        super().__init__(parent)
        self._executor = executor
        self._explorer = explorer
        self._process = process  # aegui.qt.training_process.TrainingProcess, for runs the app starts
        self.plan: TrainingPlan | None = None  # the watched run's plan, when the app started it
        self.run_dir: Path | None = None
        self.previous_model: Path | None = None  # the model loaded before the run's best was opened
        self.best_checkpoint: Path | None = None
        self._open_best_when_done = False
        self._process_note = ""
        self.sketch_row = PixelImageRow(2, captions=["loaded", "this epoch"])
        self.sketch_row.setMinimumSize(170, 70)  # room for "this epoch" and "epoch 15" under the images
        self.sketch_row.setToolTip("Your sketch reconstructed by the loaded model and by the run's model at the epoch on the slider")
        self._networks: dict[int, object] = {}
        self._failures: dict[int, tuple] = {}  # epoch -> (size, mtime) of its snapshot when it could not be read
        self.unreadable: dict[int, str] = {}  # epoch -> why its snapshot could not be read
        self.watcher: RunWatcher | None = None
        self.maps: dict[int, np.ndarray] = {}  # epoch -> aligned 2-D map of the snapshot's digits
        self.labels: np.ndarray | None = None
        self.status = QLabel("File ▸ Watch a training run… shows a run that aegui-train fit --progress-dir DIR writes.")
        self.status.setWordWrap(True)
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setTitle("train loss by step", size="9pt")
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen((40, 90, 180), width=1.5))
        self.val_plot = pg.PlotWidget(background="w")
        self.val_plot.setTitle("validation MSE by epoch", size="9pt")
        self.val_curve = self.val_plot.plot(pen=pg.mkPen((200, 80, 40), width=1.5), symbol="o", symbolSize=5)
        self.map_plot = pg.PlotWidget(background="w")
        self.map_plot.setTitle("latent map by epoch (PCA)", size="9pt")
        self.map_plot.setToolTip("The latent map forming: each epoch's PCA map, turned to match the epoch before so clusters move instead of jumping")
        self.map_points = pg.ScatterPlotItem(size=4, pen=None)
        self.map_plot.addItem(self.map_points)
        for plot in (self.loss_plot, self.val_plot, self.map_plot):
            plot.setMinimumSize(160, 114)  # a 60-pixel data area under the title
            plot.getPlotItem().setMenuEnabled(False)
        self.epoch_slider = QSlider(Qt.Orientation.Horizontal)
        self.epoch_slider.setEnabled(False)
        self.epoch_slider.setAccessibleName("epoch of the map")
        self.epoch_slider.valueChanged.connect(self._on_epoch_slider_value_changed)
        self.epoch_label = QLabel("")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step: the run validates, keeps last.ckpt and can be resumed")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the run from its last.ckpt (aegui-train fit … --ckpt_path last)")
        self.open_best_button = QPushButton("Open best")
        self.open_best_button.setToolTip("Open the run's best checkpoint (lowest validation MSE)")
        self.compare_button = QPushButton("Compare with the previous model")
        self.compare_button.setToolTip("Show the new model and the one loaded before the run side by side in Compare bottlenecks")
        for button in (self.stop_button, self.resume_button, self.open_best_button, self.compare_button):
            button.setEnabled(False)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.resume_button.clicked.connect(self._on_resume_button_clicked)
        self.open_best_button.clicked.connect(self._on_open_best_button_clicked)
        self.compare_button.clicked.connect(self._on_compare_button_clicked)
        controls = QHBoxLayout()
        controls.addWidget(self.status, 1)
        for button in (self.stop_button, self.resume_button, self.open_best_button, self.compare_button):
            controls.addWidget(button)
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.val_plot, 1)
        plots.addWidget(self.map_plot, 1)
        plots.addWidget(self.sketch_row)
        replay = QHBoxLayout()
        replay.addWidget(QLabel("Map at epoch"))
        replay.addWidget(self.epoch_slider, 1)
        replay.addWidget(self.epoch_label)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(plots, 1)
        layout.addLayout(replay)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._following = True  # the slider follows the newest epoch until the user moves it
        if process is not None:
            process.run_started.connect(self._on_process_run_started)
            process.run_finished.connect(self._on_process_run_finished)
            process.start_failed.connect(self._on_process_start_failed)

    # --- what the user asks for ----------------------------------------------------------------
    def watch(self, folder: str | Path) -> None:
        """Show the run in ``folder``: a run folder the app made, or any ``--progress-dir``."""
        self.run_dir, progress_dir = run_folder_of(folder)
        self.plan = read_plan(self.run_dir)
        self.watcher = RunWatcher(progress_dir)
        self.maps, self.labels, self._following = {}, None, True
        self._networks = {}
        self._failures, self.unreadable = {}, {}
        self.best_checkpoint = None
        self._process_note = ""
        self.epoch_slider.setEnabled(False)
        self.map_points.clear()
        self.loss_curve.setData([], [])
        self.val_curve.setData([], [])
        self.status.setText(f"Watching {progress_dir} …")
        self.refresh()
        self._timer.start()

    def stop_watching(self) -> None:
        self._timer.stop()

    def _running_here(self) -> bool:
        """The app's own process is running the watched run."""
        process = self._process
        return process is not None and process.is_running() and process.plan is not None and self.plan is not None and process.plan.run_dir == self.plan.run_dir

    def _on_stop_button_clicked(self) -> None:
        if self.watcher is None:
            return
        request_stop(self.watcher.folder)  # the app's own run, or one on this file system started elsewhere
        self.stop_button.setEnabled(False)
        self.status.setText("Stopping after this step: validating and keeping last.ckpt…")

    def _on_resume_button_clicked(self) -> None:
        if self._process is not None and self.plan is not None:
            self._process.start(self.plan, resume=True)

    def _on_open_best_button_clicked(self) -> None:
        if self.best_checkpoint is not None and self._explorer is not None:
            session = self._explorer.session
            if session is not None and session.model.path != self.best_checkpoint:
                self.previous_model = session.model.path  # "the previous model": the one the best replaces
            self._explorer.open_model(self.best_checkpoint)
            self.compare_button.setEnabled(self.previous_model is not None)

    def _on_compare_button_clicked(self) -> None:
        if self.best_checkpoint is not None and self.previous_model is not None and self._explorer is not None:
            self._explorer.open_comparison([self.previous_model, self.best_checkpoint])
            self.comparison_requested.emit()

    # --- the app's own process -------------------------------------------------------------------
    def _on_process_run_started(self, plan: TrainingPlan) -> None:
        self.watch(plan.run_dir)
        self._open_best_when_done = True

    def _on_process_run_finished(self, exit_code: int, crashed: bool) -> None:
        plan = self._process.plan
        if plan is None or self.run_dir != plan.run_dir:  # the dock shows another run now
            self.run_ended.emit(f"The training run in {plan.run_dir if plan else '?'} ended (exit status {exit_code}).")
            return
        if self.watcher is not None:
            self.watcher.poll()
        state = self.watcher.state if self.watcher is not None else None
        if state is not None and state.finished and exit_code == 0 and not crashed:
            self._process_note = ""
        else:
            how = "was killed" if crashed else f"ended with exit status {exit_code}"
            self._process_note = f"The run {how} before it finished; see {OUTPUT_LOG} in {self.run_dir}."
        self._show_state()
        if state is not None and state.finished and not state.stopped and self._open_best_when_done and self.best_checkpoint is not None:
            self._open_best_when_done = False
            self._on_open_best_button_clicked()
        self.run_ended.emit(self.status.text())

    def _on_process_start_failed(self, message: str) -> None:
        self.status.setText(message)

    # --- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        watcher = self.watcher
        if watcher is None:
            return
        if watcher.poll():
            self._show_state()
        state = watcher.state
        missing = sorted(epoch for epoch in state.snapshots if epoch not in self.maps and self._failures.get(epoch) != _signature(state.snapshots[epoch]))
        if missing:
            paths = [(epoch, state.snapshots[epoch]) for epoch in missing]
            previous = self.maps[max(e for e in self.maps if e < missing[0])] if any(e < missing[0] for e in self.maps) else None
            self._executor.submit(TRAINING, lambda: self._map_snapshots(paths, previous), self._on_maps_ready, self._on_maps_failed)
        if (state.finished or state.error) and not self._running_here():
            self._timer.stop()

    @staticmethod
    def _map_snapshots(paths, previous):
        """Each readable snapshot's aligned map; the others with why and the file's size and time
        then (read again once the file changes: one synced or copied in pieces becomes whole)."""
        maps, labels, failed = {}, None, {}
        for epoch, path in paths:
            signature = _signature(path)
            try:
                codes, labels = load_snapshot_codes(path)
            except Exception as error:  # noqa: BLE001 - any unreadable file is reported, never fatal
                failed[epoch] = (signature, str(error).splitlines()[0][:120] if str(error) else type(error).__name__)
                continue
            previous = maps[epoch] = snapshot_map(codes, previous)
        return maps, labels, failed

    def _on_maps_ready(self, result) -> None:
        maps, labels, failed = result
        for epoch, (signature, reason) in failed.items():
            self._failures[epoch] = signature
            self.unreadable[epoch] = reason
        for epoch in maps:
            self.unreadable.pop(epoch, None)
        self.maps.update(maps)
        if labels is not None:
            self.labels = labels
        if self.watcher is not None and failed:
            self._show_state()
        if not self.maps:
            return
        epochs = sorted(self.maps)
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(0, len(epochs) - 1)
        if self._following:
            self.epoch_slider.setValue(len(epochs) - 1)
        self.epoch_slider.blockSignals(False)
        self.epoch_slider.setEnabled(True)
        self.show_epoch(epochs[self.epoch_slider.value()])

    def _on_maps_failed(self, error: BaseException) -> None:
        self.status.setText(f"The snapshots could not be mapped: {str(error)[:120]}")

    # --- showing -------------------------------------------------------------------------------
    def _show_state(self) -> None:
        state = self.watcher.state
        if state.steps:
            steps, losses = zip(*state.steps)
            self.loss_curve.setData(np.array(steps, float), np.array(losses, float))
        if state.epochs:
            epochs, values = zip(*state.epochs)
            self.val_curve.setData(np.array(epochs, float) + 1, np.array(values, float))  # epochs count from 1, as the slider and status do
        total = f" of {state.max_epochs}" if state.max_epochs else ""
        best = state.checkpoints.get("best") if isinstance(state.checkpoints.get("best"), str) else ""
        self.best_checkpoint = (Path(best) if Path(best).is_absolute() else self.watcher.folder / best) if best else None
        resumable = self.plan is not None and self._process is not None and self.plan.last_checkpoint.is_file()
        running_here = self._running_here()
        skipped = f" ({state.skipped_lines} damaged progress lines skipped)" if state.skipped_lines else ""
        if self.unreadable:
            epoch, reason = max(self.unreadable.items())
            skipped += f" (the snapshot of epoch {epoch + 1} could not be read: {reason})"
        if state.error:
            text = f"The run stopped: {state.error}" + failure_advice(self.plan, state.error) + (" Resume continues from last.ckpt." if resumable else "")
        elif state.finished and state.stopped:
            text = f"Stopped at epoch {(state.epoch or 0) + 1}{total} after {_format_seconds(state.elapsed)}; last.ckpt kept" + (": Resume continues the run." if resumable else ".")
        elif state.finished:
            mse = state.test_metrics.get("test_mse")
            text = f"Finished after {_format_seconds(state.elapsed)}" + (f": test MSE {mse:.5f}" if isinstance(mse, float) else "") + (f". Best checkpoint: {best}" if best else "")
        elif self._process_note:
            text = self._process_note + (" Resume continues from the last complete epoch." if resumable else "")
        elif state.stopping:
            text = "Stopping after this step: validating and keeping last.ckpt…"
        elif state.epoch is not None:
            text = f"Epoch {state.epoch + 1}{total} done, {_format_seconds(state.elapsed)} so far, about {_format_seconds(state.eta)} to go"
        else:
            text = "Started; waiting for the first epoch…"
        self.status.setText(text + skipped)
        ended = state.finished or state.error is not None or bool(self._process_note)
        self.stop_button.setEnabled(not ended and not state.stopping)
        self.resume_button.setEnabled(resumable and not running_here and (state.stopped or state.error is not None or bool(self._process_note)))
        self.open_best_button.setEnabled(self.best_checkpoint is not None and self.best_checkpoint.is_file() and self._explorer is not None)

    def show_epoch(self, epoch: int) -> None:
        points = self.maps[epoch]
        labels = self.labels if self.labels is not None and len(self.labels) == len(points) else np.zeros(len(points), int)
        brushes = [pg.mkBrush(*DIGIT_COLOURS[int(label) % len(DIGIT_COLOURS)], 160) for label in labels]
        self.map_points.setData(x=points[:, 0], y=points[:, 1], brush=brushes)
        self.shown_epoch = epoch
        self.epoch_label.setText(f"{epoch + 1}")
        self._show_sketch(epoch)

    def _show_sketch(self, epoch: int) -> None:
        """The sketch on the canvas as the loaded model and the run's model at ``epoch`` rebuild it
        (the snapshot's network is built on the ``training`` channel)."""
        analysis = self._explorer.analysis if self._explorer is not None else None
        if analysis is None or analysis.input_image is None or self.watcher is None or epoch not in self.watcher.state.snapshots:
            return
        image, path, networks = analysis.input_image, self.watcher.state.snapshots[epoch], self._networks

        def rebuild():
            import torch

            if epoch not in networks:
                networks[epoch] = load_snapshot_network(path)
            with torch.no_grad():
                return networks[epoch](torch.from_numpy(np.ascontiguousarray(image)).reshape(1, 1, IMAGE_SIZE, IMAGE_SIZE))[0, 0].numpy()

        def done(reconstruction) -> None:
            if getattr(self, "shown_epoch", None) == epoch:
                self.sketch_row.set_images([analysis.reconstruction, reconstruction], ["loaded", f"epoch {epoch + 1}"])

        self._executor.submit(TRAINING + "-sketch", rebuild, done, lambda error: None)

    def _on_epoch_slider_value_changed(self, index: int) -> None:
        epochs = sorted(self.maps)
        if epochs:
            self._following = index == len(epochs) - 1
            self.show_epoch(epochs[index])
