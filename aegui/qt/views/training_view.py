"""The Training run dock: loss curves, progress with ETA, and the latent map forming epoch by epoch.

It displays a ``aegui.core.training_run.TrainingRun`` and forwards what the user asks for (stop,
resume, open best, compare, the epoch on the slider); the run itself (its plan, stream, maps,
checkpoints, the network that rebuilds the sketch) is core state, read and mapped off the GUI
thread. The dock's timer only asks the run to read again, once a second while the run is live.
The map of each epoch is turned to match the one before, so clusters move instead of jumping;
the slider replays how it formed. A run the app started opens its best checkpoint when it ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from aegui.core.training_run import TrainingRun, status_text
from aegui.qt.painting.pixel_images import PixelImageRow
from aegui.qt.views.latent_map import DIGIT_COLOURS

POLL_MS = 1000
FEW_STEPS = 8  # fewer logged steps than this are drawn as points as well as a line


class TrainingRunView(QWidget):
    comparison_requested = Signal()  # both models were sent to the Compare view
    run_ended = Signal(str)  # the run's process ended; what the status line says about it

    def __init__(self, run: TrainingRun, process=None, parent=None):
        super().__init__(parent)
        self.run = run
        self._process = process  # aegui.qt.training_process.TrainingProcess, for runs the app starts
        self.sketch_row = PixelImageRow(2, captions=["loaded", "this epoch"])
        self.sketch_row.setMinimumSize(170, 70)  # room for "this epoch" and "epoch 15" under the images
        self.sketch_row.setToolTip("Your sketch reconstructed by the loaded model and by the run's model at the epoch on the slider")
        self.status = QLabel(status_text(run))
        self.status.setWordWrap(True)
        self.loss_plot = pg.PlotWidget(background="w", enableMenu=False)
        self.loss_plot.setTitle("train loss by step", size="9pt")
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen((40, 90, 180), width=1.5))
        self.val_plot = pg.PlotWidget(background="w", enableMenu=False)
        self.val_plot.setTitle("validation MSE by epoch", size="9pt")
        self.val_curve = self.val_plot.plot(pen=pg.mkPen((200, 80, 40), width=1.5), symbol="o", symbolSize=5)
        self.map_plot = pg.PlotWidget(background="w", enableMenu=False)
        self.map_plot.setTitle("latent map by epoch (PCA)", size="9pt")
        self.map_plot.setToolTip("The latent map forming: each epoch's PCA map, turned to match the epoch before so clusters move instead of jumping")
        self.map_points = pg.ScatterPlotItem(size=4, pen=None)
        self._digit_brushes = np.array([pg.mkBrush(*colour, 160) for colour in DIGIT_COLOURS], dtype=object)
        self.map_plot.addItem(self.map_points)
        for plot in (self.loss_plot, self.val_plot, self.map_plot):
            plot.setMinimumSize(160, 114)  # a 60-pixel data area under the title (no context menu: not even built)
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
        self.compare_button.setToolTip("Show the new model and the one loaded before the run side by side in the Compare models tab")
        for button in (self.stop_button, self.resume_button, self.open_best_button, self.compare_button):
            button.setEnabled(False)
        self.stop_button.clicked.connect(self._on_stop_button_clicked)
        self.resume_button.clicked.connect(self._on_resume_button_clicked)
        self.open_best_button.clicked.connect(self._on_open_best_button_clicked)
        self.compare_button.clicked.connect(self._on_compare_button_clicked)
        # The status has the dock's whole width (a failed run's message is several sentences);
        # the buttons sit with the epoch slider under the plots.
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.val_plot, 1)
        plots.addWidget(self.map_plot, 1)
        plots.addWidget(self.sketch_row)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Map at epoch"))
        controls.addWidget(self.epoch_slider, 1)
        controls.addWidget(self.epoch_label)
        for button in (self.stop_button, self.resume_button, self.open_best_button, self.compare_button):
            controls.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(plots, 1)
        layout.addLayout(controls)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(run.poll)
        run.opened.connect(self._on_run_opened)
        run.state_changed.connect(self._on_run_state_changed)
        run.maps_changed.connect(self._on_run_maps_changed)
        run.epoch_shown.connect(self._on_run_epoch_shown)
        run.reconstruction_changed.connect(self._on_run_reconstruction_changed)
        run.ended.connect(self.run_ended.emit)
        run.comparison_opened.connect(self.comparison_requested.emit)
        if process is not None:
            process.run_started.connect(run.process_started)
            process.run_finished.connect(self._on_process_run_finished)
            process.start_failed.connect(self.status.setText)

    def heightForWidth(self, width: int) -> int:
        """The least height at which nothing is squeezed: the dock's scroll area gives the view
        this, so a long status (several lines) scrolls the dock instead of the plots growing
        to their preferred height or being drawn over."""
        margins = self.layout().contentsMargins()
        status_lines = self.status.heightForWidth(width - margins.left() - margins.right())
        return self.minimumSizeHint().height() + max(0, status_lines - self.status.minimumSizeHint().height())

    def watch(self, folder: str | Path) -> None:
        """Show the run in ``folder`` (File ▸ Watch a training run…, ``aegui --watch DIR``)."""
        self.run.watch(folder)

    def stop_watching(self) -> None:
        self._timer.stop()

    # --- what the user asks for ----------------------------------------------------------------
    def _on_stop_button_clicked(self) -> None:
        self.run.request_stop()

    def _on_resume_button_clicked(self) -> None:
        if self._process is not None and self.run.plan is not None:
            self._process.start(self.run.plan, resume=True)

    def _on_open_best_button_clicked(self) -> None:
        self.run.open_best()

    def _on_compare_button_clicked(self) -> None:
        self.run.compare_with_previous()

    def _on_epoch_slider_value_changed(self, index: int) -> None:
        epochs = sorted(self.run.maps)
        if 0 <= index < len(epochs):
            self.run.show_epoch(epochs[index])

    def _on_process_run_finished(self, exit_code: int, crashed: bool) -> None:
        self.run.process_ended(self._process.plan, exit_code, crashed)

    # --- showing what the run publishes ----------------------------------------------------------
    def _on_run_opened(self, progress_dir: Path) -> None:
        self.epoch_slider.setEnabled(False)
        self.map_points.clear()
        self.loss_curve.setData([], [])
        self.val_curve.setData([], [])
        self.epoch_label.setText("")
        self.sketch_row.set_images([None, None], ["loaded", "this epoch"])  # nothing of the run before stays on show
        for plot in (self.loss_plot, self.val_plot, self.map_plot):
            plot.getPlotItem().getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            plot.getPlotItem().enableAutoRange()
        self._on_run_state_changed(self.run)
        self._timer.start()

    def _on_run_state_changed(self, run: TrainingRun) -> None:
        state = run.state
        title = "train loss by step" if state.steps or not state.epochs else "train loss: no step logged"
        if self.loss_plot.getPlotItem().titleLabel.text != title:  # a run shorter than its logging interval says so, not an empty plot
            self.loss_plot.setTitle(title, size="9pt")
            self.loss_plot.setToolTip("" if state.steps else "The run logs its training loss every few steps (--trainer.log_every_n_steps); none has been logged in this run yet.")
        if state.steps:
            steps, losses = zip(*state.steps)
            # a short run logs a step or two: a line through one point draws nothing, so points show until there are a few
            self.loss_curve.setData(np.array(steps, float), np.array(losses, float), symbol="o" if len(steps) < FEW_STEPS else None, symbolSize=4)
        if state.epochs:
            epochs, values = zip(*state.epochs)
            self.val_curve.setData(np.array(epochs, float) + 1, np.array(values, float))  # epochs count from 1, as the slider and status do
        self.status.setText(status_text(run))
        # A run that ended with nothing to plot (refused before its first step) leaves its
        # message and the buttons the room: empty plots would push the buttons out of a
        # laptop's dock. A run that is starting keeps them, so they do not jump in later.
        nothing_to_plot = run.is_over and not (state.steps or state.epochs or run.maps)
        for widget in (self.loss_plot, self.val_plot, self.map_plot, self.sketch_row):
            widget.setVisible(not nothing_to_plot)
        watching = run.boundary is not None and (state.starts > 0 or state.lines > 0)
        self.stop_button.setEnabled(watching and not run.is_over and not (state.stopping or run.stop_requested))
        self.resume_button.setEnabled(self._process is not None and run.resumable)
        self.open_best_button.setEnabled(run.best_checkpoint is not None and run.explorer is not None)
        self.compare_button.setEnabled(run.best_checkpoint is not None and run.previous_model is not None)
        if not run.live:
            self._timer.stop()

    def _on_run_maps_changed(self, run: TrainingRun) -> None:
        self.status.setText(status_text(run))
        if not run.maps:
            return
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(0, len(run.maps) - 1)
        self.epoch_slider.blockSignals(False)
        self.epoch_slider.setEnabled(True)

    def _on_run_epoch_shown(self, epoch: int) -> None:
        points, labels = self.run.maps[epoch], self.run.labels
        labels = labels if labels is not None and len(labels) == len(points) else np.zeros(len(points), int)
        # one shared brush per colour: the plot renders one symbol per distinct brush
        self.map_points.setData(x=points[:, 0], y=points[:, 1], brush=self._digit_brushes[np.asarray(labels, np.int64) % len(DIGIT_COLOURS)])
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setValue(sorted(self.run.maps).index(epoch))
        self.epoch_slider.blockSignals(False)
        self.epoch_label.setText(f"{epoch + 1}")

    def _on_run_reconstruction_changed(self, epoch: int, loaded, rebuilt) -> None:
        self.sketch_row.set_images([loaded, rebuilt], ["loaded", f"epoch {epoch + 1}"])
