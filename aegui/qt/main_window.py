"""The aegui window: composes the views, menus and docks; holds no state of its own.

The explorer (the app's state) and the executor are built first and handed in; every view
subscribes to the explorer itself and forwards user intent to it. The window adds what
belongs to a window: menus, file dialogs, recent files, the status bar and error messages.
Where the views go and where the window goes on the screen is window_layout's job; the help
and about boxes are help_dialogs'; File ▸ Export is export_actions' (written off the GUI thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QProgressBar, QWidget

from aegui.core.errors import CheckpointError
from aegui.core.model_format import CHECKPOINT_SUFFIXES
from aegui.core.model_names import distinguishing_names, shown_name, unseen_digits_note
from aegui.core.projection import PROJECTION_LABELS
from aegui.core.resources import CHECKPOINTS_DIR, ICON
from aegui.core.robustness import RobustnessComparison
from aegui.core.training_plan import TrainingPlan
from aegui.core.training_run import TrainingRun
from aegui.qt import help_dialogs, window_layout, window_menus
from aegui.qt.export_actions import WindowExports
from aegui.qt.settings import LAST_MODEL_DIR, PROJECTION, Settings
from aegui.qt.training_process import TrainingProcess
from aegui.qt.views.anomaly_meter import AnomalyMeter
from aegui.qt.views.canvas import SketchPanel
from aegui.qt.views.import_steps import IMAGE_FILTER, ImageImporter, is_image_file
from aegui.qt.views.decoded_view import DecodedView
from aegui.qt.views.digit_probabilities import DigitProbabilities
from aegui.qt.views.explore_panels import ComparePanel, DirectionPanel, ExploreTabs, InterpolationPanel, TraversalPanel
from aegui.qt.views.latent_bars import LatentBars
from aegui.qt.views.latent_map import DigitLegend, LatentMap, ProjectionChoice
from aegui.qt.views.latent_sliders import SliderPanel
from aegui.qt.views.model_panel import ModelPanel
from aegui.qt.views.nearest_digits import NearestDigits
from aegui.qt.views.train_dialog import TrainDialog
from aegui.qt.views.training_view import TrainingRunView

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import ModelSession
    from aegui.qt.worker import LatestWinsExecutor


MAX_MESSAGE_CHARACTERS = 800
TRAINING_DOCK_HEIGHT = 240  # its curves and map at the 60-pixel floor, on a 720-pixel screen


class MainWindow(QMainWindow):
    analysis_shown = Signal(object)  # every view has shown this Analysis
    model_shown = Signal(object)  # every view has shown this ModelSession
    model_refused = Signal(str)  # the message shown for a model that could not be loaded
    map_shown = Signal(object)  # the map shows this ModelSession's new projection
    first_painted = Signal()  # the window has been painted once (emitted after that paint)

    def __init__(self, explorer: Explorer, executor: LatestWinsExecutor, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self.executor = executor
        self.settings = settings
        self.setWindowTitle("aegui — draw into an autoencoder's latent space")
        self.setWindowIcon(QIcon(str(ICON)))
        self._help_box: QMessageBox | None = None  # the open help box, kept alive
        self.setAcceptDrops(True)
        self._error_box: QMessageBox | None = None
        self._tasks: list[str] = []
        self._painted = False
        self._build_views()
        window_menus.build_menus(self)
        self._connect()
        self.resize(window_layout.PREFERRED_SIZE)

    # --- construction ----------------------------------------------------------------------
    def _build_views(self) -> None:
        explorer = self.explorer
        self.sketch_panel = SketchPanel(explorer)
        self.canvas = self.sketch_panel.canvas
        self.image_importer = ImageImporter(self.canvas, self.executor, self)
        self.image_importer.failed.connect(lambda message: self._show_error("Cannot import the image", message))
        self.decoded_view = DecodedView(explorer)
        self.anomaly_meter = AnomalyMeter(explorer)
        self.latent_bars = LatentBars(explorer)
        self.probabilities = DigitProbabilities(explorer)
        self.nearest_digits = NearestDigits(explorer)
        self.latent_map = LatentMap(explorer)
        self.projection_combo = ProjectionChoice(explorer)
        self.digit_legend = DigitLegend()
        self.setCentralWidget(window_layout.ViewsArea(window_layout.central_splitter(self)))
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.slider_panel = SliderPanel(explorer)
        self.sliders = self.slider_panel.sliders
        self.sliders_dock = self._add_dock("Latent sliders", "sliders", self.slider_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.model_panel = ModelPanel(explorer)
        self.model_dock = self._add_dock("Model", "model", window_layout.scrolled(self.model_panel), Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.sliders_dock, self.model_dock)
        self.sliders_dock.raise_()

        self.traversal_panel = TraversalPanel(explorer)
        self.interpolation_panel = InterpolationPanel(explorer)
        self.robustness = RobustnessComparison(explorer)  # the compared models' noise robustness
        self.compare_panel = ComparePanel(explorer, self.robustness)
        self.direction_panel = DirectionPanel(explorer)
        self.explore_tabs = ExploreTabs()
        self.explore_tabs.add_panel(self.traversal_panel, "Traverse a dimension", "traversal")
        self.explore_tabs.add_panel(self.interpolation_panel, "Interpolate A → B", "interpolation")
        self.explore_tabs.add_panel(self.compare_panel, "Compare models", "comparison")
        self.explore_tabs.add_panel(self.direction_panel, "Edit by meaning", "direction_sweep")
        self.explore_dock = self._add_dock("Explore the code", "explore", self.explore_tabs, Qt.DockWidgetArea.BottomDockWidgetArea)

        self.training_process = TrainingProcess(self)
        self.training_run = TrainingRun(self.executor, explorer)  # a watched run: core state the dock shows
        self.training_view = TrainingRunView(self.training_run, self.training_process)
        self.training_dock = self._add_dock("Training run", "training", window_layout.scrolled(self.training_view, around_controls=True, as_tall_as_its_minimum=True), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.explore_dock, self.training_dock)
        self.explore_dock.raise_()
        self.training_dock.hide()

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.hide()
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.exports = WindowExports(self, explorer, self.executor, self.settings, self.explore_tabs.strip_kind)
        self.default_state = self.saveState()  # what a layout saved on a larger screen falls back to

    def _add_dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        explorer = self.explorer
        # connected after the views, so these run once every view has updated
        explorer.model_changed.connect(self._on_explorer_model_changed)
        explorer.model_load_failed.connect(self._on_explorer_model_load_failed)
        explorer.analysis_changed.connect(self.analysis_shown.emit)
        explorer.projection_changed.connect(self.map_shown.emit)
        explorer.projection_method_changed.connect(self._on_explorer_projection_method_changed)
        explorer.projection_failed.connect(self._on_explorer_projection_failed)
        explorer.task_started.connect(self._on_explorer_task_started)
        explorer.task_finished.connect(self._on_explorer_task_finished)
        explorer.task_failed.connect(self._on_explorer_task_failed)
        explorer.selection_changed.connect(self._on_explorer_selection_changed)
        self.canvas.history_changed.connect(self._on_canvas_history_changed)
        self.compare_panel.family_requested.connect(self._on_compare_panel_family_requested)
        self.compare_panel.files_requested.connect(self._on_compare_panel_files_requested)
        self.training_view.comparison_requested.connect(self._on_training_view_comparison_requested)
        self.training_view.run_ended.connect(self._on_training_view_run_ended)
        self.training_process.start_failed.connect(lambda message: self._show_error("Cannot train", message))
        self.exports.saved.connect(self._on_exports_saved)
        self.exports.failed.connect(lambda message: self._show_error("Cannot export", message))
        self.exports.nothing_to_export.connect(lambda message: self.statusBar().showMessage(message, 8000))

    # --- user intent -----------------------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        self.explorer.open_model(path)

    def _on_open_action_triggered(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.models_folder(), f"Models ({patterns});;All files (*)")
        if path:
            self.settings.write(LAST_MODEL_DIR, str(Path(path).parent))
            self.open_model(path)

    def _on_import_image_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a photo or scan of a digit", self._last_folder(), f"{IMAGE_FILTER};;All files (*)")
        if path:
            self.image_importer.import_file(path)

    def _on_paste_image_triggered(self) -> None:
        if not self.image_importer.import_clipboard(QGuiApplication.clipboard()):
            self.statusBar().showMessage("The clipboard holds no image", 4000)

    def models_folder(self) -> str:
        """Where a model file dialog opens: the folder of the last model opened, else the bundled ones."""
        return self.settings.read(LAST_MODEL_DIR) or str(CHECKPOINTS_DIR)

    def _last_folder(self) -> str:
        """Where the other file dialogs open: the folder of the last model opened, else home."""
        return self.settings.read(LAST_MODEL_DIR) or str(Path.home())

    def _on_compare_panel_family_requested(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load sweep family", self._last_folder(), "Sweep family (family.json);;JSON (*.json)")
        if path:
            self.open_family(Path(path))

    def _on_compare_panel_files_requested(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Checkpoints to compare", self.models_folder(), f"Models ({patterns})")
        if paths:
            self.explorer.open_comparison([Path(p) for p in paths] + list(self.explorer.compared_paths))

    def _on_watch_run_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder (aegui-train fit --progress-dir DIR)", self.settings.runs_folder(self.training_run.folder) or self._last_folder())
        if folder:
            self.watch_training_run(Path(folder))

    def show_train_dialog(self) -> TrainDialog:
        """File ▸ Train a model…: last time's choices, in a new run folder; Train starts the run."""
        dialog = TrainDialog(self.settings.plan_for_new_run(), self)
        dialog.accepted.connect(lambda: self.start_training(dialog.plan()))
        dialog.open()
        self._train_dialog = dialog
        return dialog

    def start_training(self, plan: TrainingPlan) -> None:
        self.settings.remember_run(plan)
        if self.training_process.start(plan):
            self._show_training_dock()
            self.statusBar().showMessage(f"Training in {plan.run_dir} (output in output.log there)", 8000)

    def _show_training_dock(self) -> None:
        """The Training run dock raised, tall enough for its curves and map."""
        self.training_dock.show()
        self.training_dock.raise_()
        self.resizeDocks([self.training_dock], [TRAINING_DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _on_training_view_comparison_requested(self) -> None:
        self.explore_tabs.setCurrentWidget(self.compare_panel)
        self.explore_dock.show()
        self.explore_dock.raise_()

    def _on_training_view_run_ended(self, status: str) -> None:
        self.statusBar().showMessage(status, 10000)

    def watch_training_run(self, folder: Path) -> None:
        """Show the run that ``aegui-train fit --progress-dir folder`` writes, live."""
        self._show_training_dock()
        self.training_run.watch(folder)

    def open_family(self, family_file: Path) -> None:
        try:
            self.explorer.open_family(family_file)
        except CheckpointError as error:
            self._show_error("Cannot compare", str(error))
            return
        self.explore_tabs.setCurrentWidget(self.compare_panel)
        self.explore_dock.show()

    def _on_canvas_history_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)

    # --- core -> window ----------------------------------------------------------------------
    def open_bundled_model(self, path: Path) -> None:
        """File > Bundled models: a click has toggled the item's check; it shows the model loaded until this one is."""
        self.open_model(path)
        self.check_bundled_model()

    def check_bundled_model(self) -> None:
        """The bundled model loaded now is the one checked in File > Bundled models (a click
        toggles the check before the model is loaded, or refused)."""
        current = Path(self.explorer.session.model.path).resolve() if self.explorer.session is not None else None
        for path, action in self.bundled_actions.items():
            action.setChecked(path.resolve() == current)  # aegui resources/checkpoints/X.ckpt names it relatively

    def _on_explorer_model_changed(self, session: ModelSession) -> None:
        self.check_bundled_model()
        self.settings.remember_recent(session.model.path)
        self._refresh_recent_menu()
        self.setWindowTitle(f"aegui — {shown_name(session.model.path)} (k = {session.latent_dim})")
        self.statusBar().showMessage(("Opened the run's best model, " if session.model.path == self.training_run.best_checkpoint else "Loaded ") + f"{shown_name(session.model.path)}: k = {session.latent_dim}{unseen_digits_note(session.model)}", 10000)
        self.model_shown.emit(session)

    def _on_explorer_model_load_failed(self, path: Path, message: str) -> None:
        current = self.explorer.session
        kept = f"\n\nStill using {shown_name(current.model.path)}." if current is not None else ""
        self.statusBar().showMessage(f"Could not open {Path(path).name}", 8000)
        self._show_error("Cannot open model", f"Could not open {Path(path).name}:\n\n{message}{kept}")
        self.model_refused.emit(message)

    def _on_explorer_selection_changed(self, dimension: int | None) -> None:
        if dimension is not None:
            self.explore_tabs.setCurrentWidget(self.traversal_panel)

    def _on_explorer_projection_method_changed(self, method: str) -> None:
        self.settings.write(PROJECTION, method)
        self.projection_actions[method].setChecked(True)

    def _on_explorer_projection_failed(self, method: str, message: str) -> None:
        self._show_error("Cannot fit map", f"The {PROJECTION_LABELS.get(method, method)} map could not be fitted:\n\n{message}")

    def _on_explorer_task_started(self, description: str) -> None:
        self._tasks.append(description)
        self.busy_bar.show()
        self.statusBar().showMessage(description + "…")

    def _on_explorer_task_finished(self, description: str) -> None:
        if description in self._tasks:
            self._tasks.remove(description)
        self.busy_bar.setVisible(bool(self._tasks))
        if self.statusBar().currentMessage() == description + "…":
            self.statusBar().clearMessage()

    def _on_explorer_task_failed(self, description: str, message: str) -> None:
        self.statusBar().showMessage(f"{description} failed: {message}", 8000)

    def add_to_error(self, text: str) -> None:
        """A line added to the message on show (what was done about it)."""
        if self._error_box is not None:
            self._error_box.setText(f"{self._error_box.text()}\n\n{text}")

    def _show_error(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop (nor the tests)."""
        if self._error_box is not None:
            self._error_box.close()
        if len(text) > MAX_MESSAGE_CHARACTERS:  # text from a file is bounded where it is read; this bounds the rest
            text = text[: MAX_MESSAGE_CHARACTERS - 1] + "…"
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    # --- help ------------------------------------------------------------------------------
    def shortcut_rows(self) -> list[tuple[str, str]]:
        return help_dialogs.shortcut_rows(self.menuBar())

    def show_shortcuts(self) -> None:
        self._help_box = help_dialogs.show_shortcuts(self, self.shortcut_rows())

    def about_text(self) -> str:
        return help_dialogs.about_html()

    def show_about(self) -> None:
        self._help_box = help_dialogs.show_about(self)

    # --- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self.settings.recent_files()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path, name in zip(recent, distinguishing_names(recent)):  # two runs' best.ckpt: "run-a/best.ckpt", "run-b/best.ckpt"
            self.recent_menu.addAction(name + Path(path).suffix, lambda p=path: self.open_model(p)).setToolTip(path)
        self.recent_menu.setEnabled(bool(recent))

    def _on_exports_saved(self, what: str, path: Path) -> None:
        self.statusBar().showMessage(f"Saved {what} to {Path(path).resolve()}", 10000)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)

    # --- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            if is_image_file(files[0]):
                self.image_importer.import_file(files[0])
            else:
                self.open_model(files[0])

    def confirm_stop_training(self) -> bool:
        """Ask before quitting with a run going; True to stop it and quit."""
        return help_dialogs.ask_to_stop_training(self)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab skip what the user cannot see (docks behind another tab)."""
        for _ in range(200):
            if not super().focusNextPrevChild(next) or self.focusWidget() is None or window_layout.on_show(self, self.focusWidget()):
                return True
        return True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        window_layout.keep_on_screen(self)

    def closeEvent(self, event) -> None:
        if self.training_process.is_running():
            if not self.confirm_stop_training():
                event.ignore()
                return
            self.training_process.stop_and_wait()
        window_layout.save_layout(self, self.settings)
        self.training_view.stop_watching()
        self.executor.shutdown()
        super().closeEvent(event)

    def restore_layout(self, available: QRect | None = None) -> None:
        """The size, place and docks of last time, fitted to the screen as it is now."""
        window_layout.restore_layout(self, self.settings, available)
