"""The aegui window: composes the views, menus and docks; holds no state of its own.

The explorer (the app's state) and the executor are built first and handed in; every view
subscribes to the explorer itself and forwards user intent to it. The window adds what
belongs to a window: menus, file dialogs, recent files, the status bar and error messages.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aegui.core.errors import CheckpointError
from aegui.core.export import CODE_FORMATS, save_animation_gif, save_code, save_strip_png
from aegui.core.model_format import CHECKPOINT_SUFFIXES
from aegui.core.projection import PROJECTION_LABELS, PROJECTION_METHODS, available_methods
from aegui.core.resources import ICON, bundled_checkpoints
from aegui.core.robustness import RobustnessComparison
from aegui.core.training_plan import QUICK_PRESET, TrainingPlan, apply_preset
from aegui.core.training_run import TrainingRun
from aegui.qt.painting.pixel_images import image_to_qimage
from aegui.qt.settings import EXPORT_DIR, LAST_MODEL_DIR, PROJECTION, RUNS_DIR, TRAINING_PLAN, WINDOW_GEOMETRY, WINDOW_STATE, Settings
from aegui.qt.training_process import TrainingProcess
from aegui.qt.views.anomaly_meter import AnomalyMeter
from aegui.qt.views.canvas import SketchPanel
from aegui.qt.views.decoded_view import DecodedView
from aegui.qt.views.digit_probabilities import DigitProbabilities
from aegui.qt.views.explore_panels import ComparePanel, DirectionPanel, InterpolationPanel, TraversalPanel
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


PREFERRED_SIZE = QSize(1400, 860)
MAX_MESSAGE_CHARACTERS = 800
# What a window manager adds around the client area (title bar, borders), before the window
# is shown and its real frame is known.
FRAME_ALLOWANCE = QSize(16, 40)


def window_rect_for(available: QRect, minimum: QSize, preferred: QSize = PREFERRED_SIZE) -> QRect:
    """The client rect of a new window on a screen with ``available`` geometry: the preferred
    size shrunk to fit (frame included), never below ``minimum``, centred."""
    width = max(minimum.width(), min(preferred.width(), available.width() - FRAME_ALLOWANCE.width()))
    height = max(minimum.height(), min(preferred.height(), available.height() - FRAME_ALLOWANCE.height()))
    left = available.x() + max(0, (available.width() - width - FRAME_ALLOWANCE.width()) // 2) + FRAME_ALLOWANCE.width() // 2
    top = available.y() + max(0, (available.height() - height - FRAME_ALLOWANCE.height()) // 2) + FRAME_ALLOWANCE.height() - FRAME_ALLOWANCE.width() // 2
    return QRect(left, top, width, height)


# Keys and gestures the views handle themselves (not menu actions).
VIEW_GESTURES = [
    ("left button drag", "draw on the canvas"),
    ("right button drag", "erase on the canvas"),
    ("click on a latent bar", "traverse that dimension (Explore dock)"),
    ("click on the map", "decode that point of the map"),
    ("Up / Down", "latent sliders: choose the slider"),
    ("Left / Right", "latent sliders: move by 1 % of the range"),
    ("Page Up / Page Down", "latent sliders: move by 10 % of the range"),
    ("Home / End", "latent sliders: to either end"),
]


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    """Version, the libraries it runs on, licence and data credits (no torch import needed)."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from aegui import __version__

    return (
        f"<h3>aegui {__version__}</h3>"
        "<p>Draw a digit and watch an autoencoder's latent code: encoded on every stroke, shown as bars and as a point "
        "on a map of real MNIST digits, decoded beside your sketch.</p>"
        f"<p>Python {platform.python_version()} · PyTorch {package_version('torch')} · Qt {qVersion()} (PySide6 {pyside_version}) · "
        f"pyqtgraph {package_version('pyqtgraph')} · PyTorch Lightning {package_version('pytorch-lightning')} (training only)</p>"
        "<p>Licence: MIT. Source and documentation: the project's README.</p>"
        "<p>Data: the MNIST database of handwritten digits by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, "
        "CC BY-SA 3.0; the reference digits on the map and the bundled models come from it. Fashion-MNIST (for the "
        "anomaly benchmark) by Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research, MIT licence.</p>"
    )


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
        self._help_box: QMessageBox | None = None
        self.setAcceptDrops(True)
        self._error_box: QMessageBox | None = None
        self._tasks: list[str] = []
        self._painted = False
        self._build_views()
        self._build_menus()
        self._connect()
        self.resize(PREFERRED_SIZE)

    # --- construction ----------------------------------------------------------------------
    def _build_views(self) -> None:
        explorer = self.explorer
        self.sketch_panel = SketchPanel(explorer)
        self.canvas = self.sketch_panel.canvas

        self.decoded_view = DecodedView(explorer)
        self.anomaly_meter = AnomalyMeter(explorer)
        self.latent_bars = LatentBars(explorer)
        self.probabilities = DigitProbabilities(explorer)
        self.nearest_digits = NearestDigits(explorer)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(4, 4, 4, 4)
        middle_layout.addWidget(self.decoded_view, 3)
        middle_layout.addWidget(self.anomaly_meter)
        middle_layout.addWidget(self.latent_bars, 3)
        middle_layout.addWidget(self.probabilities, 2)
        middle_layout.addWidget(self.nearest_digits, 1)

        self.latent_map = LatentMap(explorer)
        self.projection_combo = ProjectionChoice(explorer)
        self.map_hint = QLabel("Click anywhere on the map to decode that point.")
        self.map_hint.setStyleSheet("color: #666")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        map_row = QHBoxLayout()
        map_row.addWidget(QLabel("Map"))
        map_row.addWidget(self.projection_combo)
        map_row.addStretch(1)
        self.decoded_map_box = QCheckBox("decoded digits")
        self.decoded_map_box.setToolTip("Show what lives where: digits decoded on a grid over the map, behind its points (computed in the background once per model and map)")
        self.decoded_map_box.toggled.connect(explorer.show_decoded_map)
        map_row.addWidget(self.decoded_map_box)
        self.map_reset_button = QPushButton("Reset view")
        self.map_reset_button.setToolTip("Show every reference digit again (or double-click the map). Drag to pan, wheel to zoom.")
        self.map_reset_button.clicked.connect(self.latent_map.reset_view)
        map_row.addWidget(self.map_reset_button)
        right_layout.addLayout(map_row)
        right_layout.addWidget(self.latent_map, 1)
        right_layout.addWidget(DigitLegend())
        right_layout.addWidget(self.map_hint)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.sketch_panel, middle, right):
            splitter.addWidget(widget)
        splitter.setSizes([420, 520, 460])
        self.setCentralWidget(splitter)

        self.slider_panel = SliderPanel(explorer)
        self.sliders = self.slider_panel.sliders
        self.sliders_dock = self._add_dock("Latent sliders", "sliders", self.slider_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.model_panel = ModelPanel(explorer)
        model_scroll = QScrollArea()  # every row reachable however short the dock
        model_scroll.setWidget(self.model_panel)
        model_scroll.setWidgetResizable(True)
        model_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.model_dock = self._add_dock("Model", "model", model_scroll, Qt.DockWidgetArea.RightDockWidgetArea)

        self.traversal_panel = TraversalPanel(explorer)
        self.interpolation_panel = InterpolationPanel(explorer)
        self.robustness = RobustnessComparison(explorer)  # the compared models' noise robustness
        self.compare_panel = ComparePanel(explorer, self.robustness)
        self.explore_tabs = QTabWidget()
        self.explore_tabs.addTab(self.traversal_panel, "Traverse a dimension")
        self.explore_tabs.addTab(self.interpolation_panel, "Interpolate A → B")
        self.explore_tabs.addTab(self.compare_panel, "Compare bottlenecks")
        self.direction_panel = DirectionPanel(explorer)
        direction_scroll = QScrollArea()  # five rows of sliders must not make the dock taller
        direction_scroll.setWidget(self.direction_panel)
        direction_scroll.setWidgetResizable(True)
        direction_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.explore_tabs.addTab(direction_scroll, "Edit by meaning")
        self.explore_dock = self._add_dock("Explore the code", "explore", self.explore_tabs, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.explore_dock], [160], Qt.Orientation.Vertical)

        self.training_process = TrainingProcess(self)
        self.training_run = TrainingRun(self.executor, explorer)  # a watched run: core state the dock shows
        self.training_view = TrainingRunView(self.training_run, self.training_process)
        self.training_dock = self._add_dock("Training run", "training", self.training_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.explore_dock, self.training_dock)
        self.explore_dock.raise_()
        self.training_dock.hide()

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.hide()
        self.statusBar().addPermanentWidget(self.busy_bar)

    def _add_dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        canvas = self.canvas
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open, triggered=self._on_open_action_triggered)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.bundled_menu = file_menu.addMenu("&Bundled models")
        for path in bundled_checkpoints():
            self.bundled_menu.addAction(path.stem, lambda p=path: self.open_model(p))
        file_menu.addAction("Compare a sweep &family…", self._on_compare_panel_family_requested)
        self.train_action = QAction("&Train a model…", self, shortcut=QKeySequence("Ctrl+T"), triggered=self.show_train_dialog)
        file_menu.addAction(self.train_action)
        file_menu.addAction("&Watch a training run…", self._on_watch_run_triggered)
        file_menu.addSeparator()
        file_menu.addAction("Export sketch as PNG…", self._on_export_sketch_triggered)
        file_menu.addAction("Export decoded image as PNG…", self._on_export_decoded_triggered)
        file_menu.addAction("Export latent code (JSON, CSV, NPY)…", self._on_export_code_triggered)
        file_menu.addAction("Export Explore strip (PNG strip or animated GIF)…", self._on_export_strip_triggered)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        self._refresh_recent_menu()

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo stroke", self, shortcut=QKeySequence("Ctrl+Z"), triggered=canvas.undo, enabled=False)
        self.redo_action = QAction("&Redo stroke", self, shortcut=QKeySequence("Ctrl+Shift+Z"), triggered=canvas.redo, enabled=False)
        self.clear_action = QAction("&Clear", self, shortcut=QKeySequence(Qt.Key.Key_Escape), triggered=canvas.clear)
        for action in (self.undo_action, self.redo_action, self.clear_action):
            edit_menu.addAction(action)

        view_menu = self.menuBar().addMenu("&View")
        projection_menu = view_menu.addMenu("Map &projection")
        group = QActionGroup(self)
        self.projection_actions = {}
        for method in PROJECTION_METHODS:
            installed = method in available_methods()
            action = QAction(PROJECTION_LABELS[method] + ("" if installed else " (pip install aegui[maps])"), self, checkable=True)
            action.setEnabled(installed)
            action.setChecked(method == self.explorer.projection_method)
            action.triggered.connect(lambda checked, m=method: self.explorer.set_projection_method(m))
            group.addAction(action)
            projection_menu.addAction(action)
            self.projection_actions[method] = action
        view_menu.addAction(self.sliders_dock.toggleViewAction())
        view_menu.addAction(self.model_dock.toggleViewAction())
        view_menu.addAction(self.explore_dock.toggleViewAction())
        view_menu.addAction(self.training_dock.toggleViewAction())

        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("&Keyboard and mouse", self, shortcut=QKeySequence.StandardKey.HelpContents, triggered=self.show_shortcuts)
        self.about_action = QAction("&About aegui", self, triggered=self.show_about)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

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

    # --- user intent -----------------------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        self.explorer.open_model(path)

    def _on_open_action_triggered(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.settings.read(LAST_MODEL_DIR), f"Models ({patterns});;All files (*)")
        if path:
            self.settings.write(LAST_MODEL_DIR, str(Path(path).parent))
            self.open_model(path)

    def _on_compare_panel_family_requested(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load sweep family", self.settings.read(LAST_MODEL_DIR), "Sweep family (family.json);;JSON (*.json)")
        if path:
            self.open_family(Path(path))

    def _on_compare_panel_files_requested(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Checkpoints to compare", self.settings.read(LAST_MODEL_DIR), f"Models ({patterns})")
        if paths:
            self.explorer.open_comparison([Path(p) for p in paths] + list(self.explorer.compared_paths))

    def _on_watch_run_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder (aegui-train fit --progress-dir DIR)", self.settings.read(LAST_MODEL_DIR))
        if folder:
            self.watch_training_run(Path(folder))

    def show_train_dialog(self) -> TrainDialog:
        """File ▸ Train a model…: last time's choices, in a new run folder; Train starts the run."""
        try:
            values = json.loads(self.settings.read(TRAINING_PLAN) or "null")
        except (ValueError, RecursionError):
            values = None
        if isinstance(values, dict):
            remembered = TrainingPlan.from_dict(values)
        else:  # a first run: a quick look at MNIST, downloaded once
            remembered = apply_preset(TrainingPlan(output_dir="", data_source="download"), QUICK_PRESET)
        runs_dir = Path(self.settings.read(RUNS_DIR))
        plan = replace(remembered, output_dir=str(runs_dir / time.strftime("run-%Y%m%d-%H%M%S")))
        dialog = TrainDialog(plan, self)
        dialog.accepted.connect(lambda: self.start_training(dialog.plan()))
        dialog.open()
        self._train_dialog = dialog
        return dialog

    def start_training(self, plan: TrainingPlan) -> None:
        self.settings.write(TRAINING_PLAN, json.dumps(plan.to_dict()))
        self.settings.write(RUNS_DIR, str(plan.run_dir.parent))
        if self.training_process.start(plan):
            self._show_training_dock()
            self.statusBar().showMessage(f"Training in {plan.run_dir} (output in output.log there)", 8000)

    def _show_training_dock(self) -> None:
        """The Training run dock raised, tall enough for its curves and map."""
        self.training_dock.show()
        self.training_dock.raise_()
        self.resizeDocks([self.training_dock], [max(self.training_dock.height(), 280)], Qt.Orientation.Vertical)

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
    def _on_explorer_model_changed(self, session: ModelSession) -> None:
        self.settings.remember_recent(session.model.path)
        self._refresh_recent_menu()
        self.setWindowTitle(f"aegui — {session.model.path.name} (k = {session.latent_dim})")
        self.statusBar().showMessage(f"Loaded {session.model.path.name}: k = {session.latent_dim}", 5000)
        self.model_shown.emit(session)

    def _on_explorer_model_load_failed(self, path: Path, message: str) -> None:
        current = self.explorer.session
        kept = f"\n\nStill using {current.model.path.name}." if current is not None else ""
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
        """(keys, what they do): the menus' own shortcuts, read from their actions, then the
        keys and mouse gestures of the views."""
        rows = []
        for menu_action in self.menuBar().actions():
            for action in menu_action.menu().actions():
                if not action.shortcut().isEmpty():
                    rows.append((action.shortcut().toString(QKeySequence.SequenceFormat.NativeText), action.text().replace("&", "").rstrip("…")))
        return rows + VIEW_GESTURES

    def show_shortcuts(self) -> None:
        table = "".join(f"<tr><td style='padding-right:14px'><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>" for keys, what in self.shortcut_rows())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard and mouse", f"<table>{table}</table>", QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()
        self._help_box = box

    def about_text(self) -> str:
        return about_html()

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About aegui", self.about_text(), QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.open()
        self._help_box = box

    # --- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self.settings.recent_files()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_model(p)).setToolTip(path)
        self.recent_menu.setEnabled(bool(recent))

    # --- export ----------------------------------------------------------------------------
    def _ask_save_path(self, title: str, name: str, filters: str) -> Path | None:
        start = Path(self.settings.read(EXPORT_DIR)) / name
        path, _ = QFileDialog.getSaveFileName(self, title, str(start), filters)
        if not path:
            return None
        self.settings.write(EXPORT_DIR, str(Path(path).parent))
        return Path(path)

    def _report_saved(self, what: str, path: Path, saved: bool = True) -> None:
        """Say where a file went (or that it did not), in the status bar, with the full path."""
        if saved:
            self.statusBar().showMessage(f"Saved {what} to {Path(path).resolve()}", 10000)
        else:
            self._show_error("Cannot export", f"Could not write {Path(path).resolve()}.")

    def export_sketch(self, path: Path) -> None:
        self._report_saved("the sketch", path, self.canvas.image().save(str(path), "PNG"))

    def export_decoded(self, path: Path) -> None:
        if self.explorer.analysis is not None:
            self._report_saved("the decoded image", path, image_to_qimage(self.explorer.analysis.reconstruction).save(str(path), "PNG"))

    def export_code(self, path: Path) -> None:
        analysis = self.explorer.analysis
        if analysis is None:
            return
        model = analysis.session.model
        save_code(path, analysis.code, {"checkpoint": model.path.name, "origin": analysis.origin})
        self._report_saved("the latent code", path)

    def current_strip_images(self):
        """The images of the Explore tab on show (a traversal, an interpolation, a comparison)."""
        strip = getattr(self.explore_tabs.currentWidget(), "strip", None)
        if strip is None:  # Edit by meaning: a sweep along the direction moved last
            return self.explorer.direction_sweep()
        return strip.images

    def export_strip(self, path: Path) -> bool:
        """Save the Explore strip on show: ``.gif`` as an animation that plays forward and back,
        anything else as one PNG strip. Says where it went, or why nothing was saved."""
        images = self.current_strip_images()
        if len(images) == 0:
            self.statusBar().showMessage(f"Nothing to export: the {self.explore_tabs.tabText(self.explore_tabs.currentIndex())} strip is empty.", 8000)
            return False
        try:
            if Path(path).suffix.lower() == ".gif":
                save_animation_gif(path, images)
            else:
                save_strip_png(path, images)
        except (OSError, ValueError) as error:
            self._show_error("Cannot export", f"Could not write {Path(path).resolve()}: {error}")
            return False
        self._report_saved("the Explore strip", path)
        return True

    def _on_export_strip_triggered(self) -> None:
        path = self._ask_save_path("Export Explore strip", "strip.gif", "Animated GIF (*.gif);;PNG strip (*.png)")
        if path:
            self.export_strip(path)

    def _on_export_sketch_triggered(self) -> None:
        path = self._ask_save_path("Export sketch", "sketch.png", "PNG image (*.png)")
        if path:
            self.export_sketch(path)

    def _on_export_decoded_triggered(self) -> None:
        path = self._ask_save_path("Export decoded image", "decoded.png", "PNG image (*.png)")
        if path:
            self.export_decoded(path)

    def _on_export_code_triggered(self) -> None:
        filters = ";;".join(f"{name} (*{suffix})" for suffix, name in CODE_FORMATS.items())
        path = self._ask_save_path("Export latent code", "code.json", filters)
        if path:
            try:
                self.export_code(path)
            except (OSError, ValueError) as error:
                self._show_error("Cannot export", str(error))

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
            self.open_model(files[0])

    def confirm_stop_training(self) -> bool:
        """Ask before quitting with a run going; True to stop it and quit."""
        box = QMessageBox(QMessageBox.Icon.Question, "A training run is going", "Stop the training run and quit?\n\n"
                          "It stops after its current step and keeps last.ckpt, so Resume can continue it later.", parent=self)
        stop = box.addButton("Stop the run and quit", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(stop)
        self._quit_box = box
        box.exec()
        return box.clickedButton() is stop

    def closeEvent(self, event) -> None:
        if self.training_process.is_running():
            if not self.confirm_stop_training():
                event.ignore()
                return
            self.training_process.stop_and_wait()
        self.settings.write(WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.write(WINDOW_STATE, self.saveState())
        self.training_view.stop_watching()
        self.executor.shutdown()
        super().closeEvent(event)

    def restore_layout(self, available: QRect | None = None) -> None:
        """The size, place and docks of last time, on the screen as it is now.

        A first start, or a saved geometry that no longer fits the screen (a smaller monitor,
        another resolution), gets the preferred size shrunk to the available screen area.
        """
        if available is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            available = screen.availableGeometry()
        geometry = self.settings.read(WINDOW_GEOMETRY)
        state = self.settings.read(WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        restored = geometry is not None and self.restoreGeometry(geometry)
        if not restored or not available.contains(self.geometry()):
            self.setGeometry(window_rect_for(available, self.minimumSizeHint()))

