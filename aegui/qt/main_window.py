"""The aegui window: assembles the views, menus, drag and drop and recent files.

The window subscribes to the core's ``Explorer`` and forwards user intent to it; views are
updated only from the explorer's signals, so sliders, bars and map cannot feed back into
each other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
    QProgressBar, QPushButton, QSlider, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)  # fmt: skip

from aegui.core.checkpoint import CheckpointError
from aegui.core.model_format import CHECKPOINT_SUFFIXES
from aegui.core.explorer import Explorer
from aegui.core.export import CODE_FORMATS, save_code
from aegui.core.projection import PROJECTION_METHODS, available_methods
from aegui.core.resources import ReferenceDigits, bundled_checkpoints
from aegui.core.session import Analysis, ModelSession
from aegui.qt.canvas import DrawingCanvas
from aegui.qt.decoded_view import DecodedView
from aegui.qt.insight import AnomalyMeter, DigitProbabilities, NearestDigits
from aegui.qt.latent_bars import LatentBars
from aegui.qt.latent_map import DigitLegend, LatentMap
from aegui.qt.latent_sliders import LatentSliders
from aegui.qt.model_panel import ModelPanel
from aegui.qt.pixel_images import image_to_qimage
from aegui.qt.strips import ComparePanel, InterpolationPanel, TraversalPanel
from aegui.qt.worker import LatestWinsExecutor

MAX_RECENT_FILES = 8
PROJECTION_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def configure_threads_for_live_inference() -> None:
    """Threads tuned for one small image at a time.

    - One torch intra-op thread: 0.5 ms instead of 1.8 ms per forward pass on 2 cores,
      measured from a worker thread.
    - A short GIL switch interval lets the worker and the GUI thread hand over quickly.
    - No Qt GUI thread pool: Qt's raster engine otherwise hands every fill taller than ~96
      lines (plot backgrounds, the canvas, the slider panel) to pool threads and waits for
      them, which on a pen event costs more than the fill itself (pen event to all views
      repainted p50 5.4 -> 4.2 ms on 2 cores, medians of three alternating runs of
      ``tests/benchmarks/bench_live_latency.py`` when it was introduced).
      Qt reads the variable when it first needs the pool, i.e. at the first large paint.
    """
    import os
    import sys

    import torch

    torch.set_num_threads(1)
    sys.setswitchinterval(0.0005)
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


class MainWindow(QMainWindow):
    analysis_shown = Signal(object)  # every view shows this Analysis
    model_shown = Signal(object)  # every view shows this ModelSession
    model_refused = Signal(str)  # the message shown for a model that could not be loaded
    map_shown = Signal(object)

    def __init__(self, reference: ReferenceDigits, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        configure_threads_for_live_inference()
        self.settings = settings
        self.setWindowTitle("aegui — draw into an autoencoder's latent space")
        self.setAcceptDrops(True)
        self.executor = LatestWinsExecutor(self)
        projection = str(settings.value("map/projection", "pca"))
        if projection not in available_methods():
            projection = "pca"
        self.explorer = Explorer(reference, self.executor, projection_method=projection)
        self.last_error_message = ""
        self._error_box: QMessageBox | None = None
        self._tasks: list[str] = []
        self._build_views()
        self._build_menus()
        self._connect()
        self.resize(1400, 860)

    # --- construction ----------------------------------------------------------------------
    def _build_views(self) -> None:
        self.canvas = DrawingCanvas()
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(6, 60)
        self.brush_slider.setValue(int(self.canvas.brush_width))
        self.brush_slider.setToolTip("Brush width")
        self.clear_button = QPushButton("Clear")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        brush_row = QHBoxLayout()
        brush_row.addWidget(QLabel("Brush"))
        brush_row.addWidget(self.brush_slider, 1)
        buttons = QHBoxLayout()
        for button in (self.clear_button, self.undo_button, self.redo_button):
            buttons.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        hint = QLabel("Draw a digit. Right button erases.")
        hint.setStyleSheet("color: #666")
        left_layout.addWidget(hint)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addLayout(brush_row)
        left_layout.addLayout(buttons)

        self.decoded_view = DecodedView()
        self.anomaly_meter = AnomalyMeter()
        self.latent_bars = LatentBars()
        self.probabilities = DigitProbabilities()
        self.nearest_digits = NearestDigits()
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.decoded_view, 3)
        middle_layout.addWidget(self.anomaly_meter)
        middle_layout.addWidget(self.latent_bars, 3)
        middle_layout.addWidget(self.probabilities, 2)
        middle_layout.addWidget(self.nearest_digits, 1)

        self.latent_map = LatentMap()
        self.projection_combo = QComboBox()
        for method in PROJECTION_METHODS:
            self.projection_combo.addItem(PROJECTION_LABELS[method], method)
            if method not in available_methods():
                index = self.projection_combo.count() - 1
                self.projection_combo.model().item(index).setEnabled(False)
                self.projection_combo.setItemData(index, f"install aegui[maps] for {PROJECTION_LABELS[method]}", Qt.ItemDataRole.ToolTipRole)
        self.projection_combo.setCurrentIndex(PROJECTION_METHODS.index(self.explorer.projection_method))
        self.map_hint = QLabel("Click anywhere on the map to decode that point.")
        self.map_hint.setStyleSheet("color: #666")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        map_row = QHBoxLayout()
        map_row.addWidget(QLabel("Map"))
        map_row.addWidget(self.projection_combo)
        map_row.addStretch(1)
        right_layout.addLayout(map_row)
        right_layout.addWidget(self.latent_map, 1)
        right_layout.addWidget(DigitLegend())
        right_layout.addWidget(self.map_hint)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, middle, right):
            splitter.addWidget(widget)
        splitter.setSizes([420, 520, 460])
        self.setCentralWidget(splitter)

        self.sliders = LatentSliders()
        self.back_to_sketch_button = QPushButton("Back to sketch")
        self.random_button = QPushButton("Random sample")
        self.mean_button = QPushButton("Reset to mean")
        slider_panel = QWidget()
        slider_layout = QVBoxLayout(slider_panel)
        slider_buttons = QHBoxLayout()
        for button in (self.back_to_sketch_button, self.random_button, self.mean_button):
            slider_buttons.addWidget(button)
        slider_layout.addLayout(slider_buttons)
        slider_layout.addWidget(self.sliders, 1)
        self.sliders_dock = QDockWidget("Latent sliders", self)
        self.sliders_dock.setObjectName("sliders")
        self.sliders_dock.setWidget(slider_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.sliders_dock)

        self.model_panel = ModelPanel()
        self.model_dock = QDockWidget("Model", self)
        self.model_dock.setObjectName("model")
        self.model_dock.setWidget(self.model_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.model_dock)

        self.traversal_panel = TraversalPanel()
        self.interpolation_panel = InterpolationPanel()
        self.explore_tabs = QTabWidget()
        self.explore_tabs.addTab(self.traversal_panel, "Traverse a dimension")
        self.explore_tabs.addTab(self.interpolation_panel, "Interpolate A → B")
        self.compare_panel = ComparePanel()
        self.explore_tabs.addTab(self.compare_panel, "Compare bottlenecks")
        self.explore_dock = QDockWidget("Explore the code", self)
        self.explore_dock.setObjectName("explore")
        self.explore_dock.setWidget(self.explore_tabs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.explore_dock)
        self.resizeDocks([self.explore_dock], [190], Qt.Orientation.Vertical)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.hide()
        self.statusBar().addPermanentWidget(self.busy_bar)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open, triggered=self._on_open_action_triggered)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.bundled_menu = file_menu.addMenu("&Bundled models")
        for path in bundled_checkpoints():
            self.bundled_menu.addAction(path.stem, lambda p=path: self.open_model(p))
        file_menu.addAction("Compare a sweep &family…", self._on_compare_panel_family_requested)
        file_menu.addSeparator()
        file_menu.addAction("Export sketch as PNG…", self._on_export_sketch_triggered)
        file_menu.addAction("Export decoded image as PNG…", self._on_export_decoded_triggered)
        file_menu.addAction("Export latent code (JSON, CSV, NPY)…", self._on_export_code_triggered)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        self._refresh_recent_menu()

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo stroke", self, shortcut=QKeySequence("Ctrl+Z"), triggered=self.canvas.undo, enabled=False)
        self.redo_action = QAction("&Redo stroke", self, shortcut=QKeySequence("Ctrl+Shift+Z"), triggered=self.canvas.redo, enabled=False)
        self.clear_action = QAction("&Clear", self, shortcut=QKeySequence(Qt.Key.Key_Escape), triggered=self.canvas.clear)
        for action in (self.undo_action, self.redo_action, self.clear_action):
            edit_menu.addAction(action)

        view_menu = self.menuBar().addMenu("&View")
        projection_menu = view_menu.addMenu("Map &projection")
        group = QActionGroup(self)
        self.projection_actions = {}
        for method in PROJECTION_METHODS:
            action = QAction(PROJECTION_LABELS[method], self, checkable=True)
            action.setEnabled(method in available_methods())
            action.setChecked(method == self.explorer.projection_method)
            action.triggered.connect(lambda checked, m=method: self.set_projection(m))
            group.addAction(action)
            projection_menu.addAction(action)
            self.projection_actions[method] = action
        view_menu.addAction(self.sliders_dock.toggleViewAction())
        view_menu.addAction(self.model_dock.toggleViewAction())
        view_menu.addAction(self.explore_dock.toggleViewAction())

    def _connect(self) -> None:
        explorer = self.explorer
        explorer.model_changed.connect(self._on_explorer_model_changed)
        explorer.model_load_failed.connect(self._on_explorer_model_load_failed)
        explorer.analysis_changed.connect(self._on_explorer_analysis_changed)
        explorer.projection_changed.connect(self._on_explorer_projection_changed)
        explorer.projection_failed.connect(self._on_explorer_projection_failed)
        explorer.task_started.connect(self._on_explorer_task_started)
        explorer.task_finished.connect(self._on_explorer_task_finished)
        self.canvas.stroke_started.connect(explorer.begin_stroke)
        self.canvas.raster_changed.connect(self._on_canvas_raster_changed)
        self.canvas.history_changed.connect(self._on_canvas_history_changed)
        self.brush_slider.valueChanged.connect(self.canvas.set_brush_width)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.redo_button.clicked.connect(self.canvas.redo)
        self.sliders.dimension_changed.connect(explorer.set_dimension)
        self.latent_map.point_clicked.connect(explorer.set_map_point)
        self.back_to_sketch_button.clicked.connect(explorer.back_to_sketch)
        self.random_button.clicked.connect(explorer.sample_random)
        self.mean_button.clicked.connect(explorer.reset_to_mean)
        explorer.kept_changed.connect(self.interpolation_panel.show_kept)
        self.latent_bars.dimension_selected.connect(self._on_latent_bars_dimension_selected)
        self.traversal_panel.dimension_chosen.connect(self._on_traversal_panel_dimension_chosen)
        self.interpolation_panel.keep_requested.connect(explorer.keep_current)
        self.interpolation_panel.fraction_changed.connect(explorer.interpolate)
        explorer.comparison_changed.connect(self.compare_panel.show_models)
        self.compare_panel.family_requested.connect(self._on_compare_panel_family_requested)
        self.compare_panel.files_requested.connect(self._on_compare_panel_files_requested)
        self.compare_panel.clear_requested.connect(explorer.clear_comparison)
        self.projection_combo.activated.connect(lambda index: self.set_projection(self.projection_combo.itemData(index)))

    # --- user intent -----------------------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        self.statusBar().showMessage(f"Loading {Path(path).name}…")
        self.explorer.open_model(path)

    def set_projection(self, method: str) -> None:
        self.settings.setValue("map/projection", method)
        self.projection_combo.setCurrentIndex(PROJECTION_METHODS.index(method))
        self.projection_actions[method].setChecked(True)
        self.explorer.set_projection_method(method)

    def _on_open_action_triggered(self) -> None:
        start = str(self.settings.value("files/last_dir", str(Path.home())))
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open model", start, f"Models ({patterns});;All files (*)")
        if path:
            self.settings.setValue("files/last_dir", str(Path(path).parent))
            self.open_model(path)

    def _on_compare_panel_family_requested(self) -> None:
        start = str(self.settings.value("files/last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Load sweep family", start, "Sweep family (family.json);;JSON (*.json)")
        if path:
            self.open_family(Path(path))

    def _on_compare_panel_files_requested(self) -> None:
        start = str(self.settings.value("files/last_dir", str(Path.home())))
        patterns = " ".join(f"*{suffix}" for suffix in CHECKPOINT_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Checkpoints to compare", start, f"Models ({patterns})")
        if paths:
            self.explorer.open_comparison([Path(p) for p in paths] + [m.path for m in self.explorer.compared_models])

    def open_family(self, family_file: Path) -> None:
        try:
            self.explorer.open_family(family_file)
        except CheckpointError as error:
            self._show_error("Cannot compare", str(error))
            return
        self.explore_tabs.setCurrentWidget(self.compare_panel)
        self.explore_dock.show()

    def _on_latent_bars_dimension_selected(self, dimension: int) -> None:
        self.traversal_panel.select(dimension)
        self.explore_tabs.setCurrentWidget(self.traversal_panel)
        self.explorer.select_dimension(dimension)

    def _on_traversal_panel_dimension_chosen(self, dimension: int) -> None:
        self.explorer.select_dimension(None if dimension < 0 else dimension)

    def _on_canvas_raster_changed(self, raster: np.ndarray) -> None:
        self.explorer.set_sketch(raster if self.canvas.has_ink() else None)

    def _on_canvas_history_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.undo_action.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)
        self.redo_action.setEnabled(can_redo)

    # --- core -> views ---------------------------------------------------------------------
    def _on_explorer_model_changed(self, session: ModelSession) -> None:
        self.latent_bars.set_session(session, session.dimension_labels)
        self.sliders.set_session(session, session.dimension_labels)
        self.latent_map.set_session(session)
        self.nearest_digits.set_session(session)
        self.model_panel.set_session(session)
        self.traversal_panel.set_session(session)
        self.traversal_panel.select(self.explorer.selected_dimension)
        self.back_to_sketch_button.setEnabled(self.explorer.sketch_raster is not None)
        self._remember_recent(session.model.path)
        self.setWindowTitle(f"aegui — {session.model.path.name} (k = {session.latent_dim})")
        self.statusBar().showMessage(f"Loaded {session.model.path.name}: k = {session.latent_dim}", 5000)
        self.model_shown.emit(session)

    def _on_explorer_model_load_failed(self, path: Path, message: str) -> None:
        self.last_error_message = message
        current = self.explorer.session
        kept = f"\n\nStill using {current.model.path.name}." if current is not None else ""
        self.statusBar().showMessage(f"Could not open {Path(path).name}", 8000)
        self._show_error("Cannot open model", f"Could not open {Path(path).name}:\n\n{message}{kept}")
        self.model_refused.emit(message)

    def _on_explorer_analysis_changed(self, analysis: Analysis) -> None:
        self.decoded_view.show_analysis(analysis)
        self.anomaly_meter.show_analysis(analysis)
        self.latent_bars.show_code(analysis.code)
        self.sliders.show_code(analysis.code)
        self.latent_map.show_position(analysis.map_position, self.explorer.trail if analysis.origin == "sketch" else None)
        self.probabilities.show_analysis(analysis)
        self.nearest_digits.show_analysis(analysis)
        self.traversal_panel.show_analysis(analysis)
        self.interpolation_panel.show_analysis(analysis)
        self.compare_panel.show_analysis(analysis)
        self.back_to_sketch_button.setEnabled(self.explorer.sketch_raster is not None and analysis.origin != "sketch")
        self.analysis_shown.emit(analysis)

    def _on_explorer_projection_changed(self, session: ModelSession) -> None:
        self.latent_map.set_session(session)
        self.map_shown.emit(session)

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

    def _show_error(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop (nor the tests)."""
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    # --- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return []
        return [item for item in value if isinstance(item, str) and Path(item).is_file()]

    def _remember_recent(self, path: Path) -> None:
        path_text = str(Path(path).resolve())
        recent = [item for item in self.recent_files() if item != path_text]
        self.settings.setValue("files/recent", [path_text, *recent][:MAX_RECENT_FILES])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_model(p)).setToolTip(path)
        self.recent_menu.setEnabled(bool(recent))

    # --- export ----------------------------------------------------------------------------
    def _ask_save_path(self, title: str, name: str, filters: str) -> Path | None:
        start = Path(str(self.settings.value("files/export_dir", str(Path.home())))) / name
        path, _ = QFileDialog.getSaveFileName(self, title, str(start), filters)
        if not path:
            return None
        self.settings.setValue("files/export_dir", str(Path(path).parent))
        return Path(path)

    def export_sketch(self, path: Path) -> None:
        self.canvas.image().save(str(path), "PNG")

    def export_decoded(self, path: Path) -> None:
        if self.explorer.analysis is not None:
            image_to_qimage(self.explorer.analysis.reconstruction).save(str(path), "PNG")

    def export_code(self, path: Path) -> None:
        analysis = self.explorer.analysis
        if analysis is None:
            return
        model = analysis.session.model
        save_code(path, analysis.code, {"checkpoint": model.path.name, "origin": analysis.origin})

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

    # --- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_model(files[0])

    def closeEvent(self, event) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.executor.shutdown()
        super().closeEvent(event)

    def restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        try:
            if geometry is not None:
                self.restoreGeometry(geometry)
            if state is not None:
                self.restoreState(state)
        except TypeError:
            pass  # a damaged settings entry: keep the default layout

