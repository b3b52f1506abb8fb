"""The window's menu bar: File, Edit, View and Help, each action forwarding to the window or the
explorer. Kept apart from the window so the window file only composes."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit

from aegui.core.projection import MAPS_INSTALL, PROJECTION_LABELS, PROJECTION_METHODS, available_methods
from aegui.core.resources import bundled_checkpoints
from aegui.qt import window_layout
from aegui.qt.painting.slider_rows import SliderRows


def build_menus(window) -> None:
    """Add the menus to ``window`` (the MainWindow); the actions tests and shortcuts reach are kept on it."""
    canvas = window.canvas
    file_menu = window.menuBar().addMenu("&File")
    window.open_action = QAction("&Open model…", window, shortcut=QKeySequence.StandardKey.Open, triggered=window._on_open_action_triggered)
    file_menu.addAction(window.open_action)
    window.recent_menu = file_menu.addMenu("Open &recent")
    window.recent_menu.setToolTipsVisible(True)  # each entry's whole path
    window.bundled_menu = file_menu.addMenu("&Bundled models")
    window.bundled_actions = {}  # path -> its action, checked while that model is the one loaded
    bundled_group = QActionGroup(window)  # one model at a time: radio items; none while another file is open
    bundled_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    for path in bundled_checkpoints():
        action = window.bundled_menu.addAction(path.stem, lambda p=path: window.open_bundled_model(p))
        action.setCheckable(True)
        bundled_group.addAction(action)
        window.bundled_actions[path] = action
    file_menu.addAction(QAction("&Import a digit image…", window, shortcut=QKeySequence("Ctrl+I"), triggered=window._on_import_image_triggered))
    file_menu.addAction("Compare a sweep &family…", window._on_compare_panel_family_requested)
    window.train_action = QAction("&Train a model…", window, shortcut=QKeySequence("Ctrl+T"), triggered=window.show_train_dialog)
    file_menu.addAction(window.train_action)
    file_menu.addAction("&Watch a training run…", window._on_watch_run_triggered)
    file_menu.addSeparator()
    window.exports.add_to(file_menu)
    file_menu.addSeparator()
    file_menu.addAction(QAction("&Quit", window, shortcut=QKeySequence.StandardKey.Quit, triggered=window.close))
    window._refresh_recent_menu()

    edit_menu = window.menuBar().addMenu("&Edit")
    window.undo_action = QAction("&Undo stroke", window, shortcut=QKeySequence("Ctrl+Z"), triggered=canvas.undo, enabled=False)
    window.redo_action = QAction("&Redo stroke", window, shortcut=QKeySequence("Ctrl+Shift+Z"), triggered=canvas.redo, enabled=False)
    window.clear_action = QAction("&Clear", window, shortcut=QKeySequence(Qt.Key.Key_Escape), triggered=canvas.clear)
    # Esc clears in the canvas (its own key handling) and wherever no control used it (a
    # button, the map, a tab: see EscapeClears); from a combo box or a slider it closes or
    # cancels there, and a press meant for a popup that already closed wiped the sketch
    window.clear_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    window.escape_clears = EscapeClears(canvas, window)
    window.installEventFilter(window.escape_clears)
    window.status_tips = StatusTipsKeepMessages(window.statusBar(), window)
    window.installEventFilter(window.status_tips)
    window.paste_image_action = QAction("&Paste an image", window, shortcut=QKeySequence.StandardKey.Paste, triggered=window._on_paste_image_triggered)
    edit_menu.addAction(window.paste_image_action)
    for action in (window.undo_action, window.redo_action, window.clear_action):
        edit_menu.addAction(action)

    view_menu = window.menuBar().addMenu("&View")
    projection_menu = view_menu.addMenu("Map &projection")
    group = QActionGroup(window)
    window.projection_actions = {}
    for method in PROJECTION_METHODS:
        installed = method in available_methods()
        action = QAction(PROJECTION_LABELS[method] + ("" if installed else f" (not installed: {MAPS_INSTALL})"), window, checkable=True)
        action.setEnabled(installed)
        action.setChecked(method == window.explorer.projection_method)
        action.triggered.connect(lambda checked, m=method: window.explorer.set_projection_method(m))
        group.addAction(action)
        projection_menu.addAction(action)
        window.projection_actions[method] = action
    for dock, text in ((window.sliders_dock, "Latent &sliders"), (window.model_dock, "&Model"), (window.explore_dock, "&Explore the code"), (window.training_dock, "&Training run")):
        view_menu.addAction(dock_action(window, dock, text))  # Alt letters, as every other menu item has (the dock's title is unchanged)
    view_menu.addSeparator()
    window.reset_layout_action = QAction("&Reset layout", window, triggered=lambda: window_layout.reset_layout(window))
    window.reset_layout_action.setToolTip("The docks where a first start puts them, the window at its preferred size on this screen")
    view_menu.addAction(window.reset_layout_action)

    help_menu = window.menuBar().addMenu("&Help")
    window.shortcuts_action = QAction("&Keyboard and mouse", window, shortcut=QKeySequence.StandardKey.HelpContents, triggered=window.show_shortcuts)
    window.about_action = QAction("&About aegui", window, triggered=window.show_about)
    help_menu.addAction(window.shortcuts_action)
    help_menu.addAction(window.about_action)


def dock_action(window, dock, text: str) -> QAction:
    """View ▸ <dock>: shows a hidden dock, brings one tabbed behind another to the front, hides
    one in view. Qt's own toggle hid a dock that sat behind a tab, and showing it again left
    it behind: from the keyboard the Model dock could not be brought to the front."""
    action = QAction(text, window, checkable=True)
    action.setChecked(not dock.isHidden())
    dock.toggleViewAction().toggled.connect(action.setChecked)  # closed by its title bar's button, or shown by a layout reset

    def _on_action_triggered() -> None:
        behind = not dock.isHidden() and not dock.isFloating() and dock.visibleRegion().isEmpty() and bool(window.tabifiedDockWidgets(dock))
        if dock.isHidden() or behind:
            dock.show()
            dock.raise_()
        else:
            dock.hide()
        action.setChecked(not dock.isHidden())

    action.triggered.connect(_on_action_triggered)
    return action


# controls where Esc means "close" or "cancel", or a second press after a popup closed lands
KEEP_ESCAPE = (QComboBox, QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit, QAbstractSlider, SliderRows)


class EscapeClears(QObject):
    """Esc that no control used clears the canvas, as the help says: after a click on a
    button (Keep as A, Back to sketch), on the map or a tab, the next sketch should not be
    drawn over the last. A key no control used travels up to the window, where this sees it;
    a control that takes typed text or values, or the latent sliders, keeps Esc to itself."""

    def __init__(self, canvas, parent: QObject):
        super().__init__(parent)
        self._canvas = canvas

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.KeyPress or event.key() != Qt.Key.Key_Escape or event.modifiers() != Qt.KeyboardModifier.NoModifier:
            return False
        focus = QApplication.focusWidget()
        if focus is None or isinstance(focus, KEEP_ESCAPE) or focus.window() is not watched:
            return False
        self._canvas.clear()
        return True


class StatusTipsKeepMessages(QObject):
    """A menu's status tips do not wipe the window's own message.

    Qt shows every hovered item's status tip in the status bar and an empty one when the
    pointer leaves the menu, which cleared "Loaded mnist-conv-k2.ckpt: k = 2" as the menu that
    loaded it closed. Here a tip shows while it is hovered and the message it covered comes
    back after; an empty tip with nothing covered leaves the message as it is."""

    def __init__(self, status_bar, parent: QObject):
        super().__init__(parent)
        self._status_bar = status_bar
        self._covered: str | None = None  # the message a tip on show covers

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.StatusTip:
            return False
        tip = event.tip()
        if tip:
            if self._covered is None:
                self._covered = self._status_bar.currentMessage()
            self._status_bar.showMessage(tip)
        elif self._covered is not None:
            self._status_bar.showMessage(self._covered, 10_000)
            self._covered = None
        return True
