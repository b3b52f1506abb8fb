"""Help ▸ Keyboard and mouse, Help ▸ About, and the question asked before quitting mid-run."""

from __future__ import annotations

import html
import importlib.metadata
import platform

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar, QMessageBox, QWidget

# Keys and gestures the views handle themselves (not menu actions).
VIEW_GESTURES = [
    ("left button drag", "draw on the canvas"),
    ("right button drag", "erase on the canvas"),
    ("click on a latent bar", "traverse that dimension (Explore dock)"),
    ("click on the map", "decode that point of the map"),
    ("arrows (Shift: farther)", "map: move the star and decode where it lands"),
    ("Home", "map: show every reference digit again"),
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


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str]]:
    """(keys, what they do): the menus' own shortcuts, read from their actions, then the keys
    and mouse gestures of the views."""
    rows = []
    for menu_action in menu_bar.actions():
        for action in menu_action.menu().actions():
            if not action.shortcut().isEmpty():
                rows.append((action.shortcut().toString(QKeySequence.SequenceFormat.NativeText), action.text().replace("&", "").rstrip("…")))
    return rows + VIEW_GESTURES


def show_shortcuts(parent: QWidget, rows: list[tuple[str, str]]) -> QMessageBox:
    table = "".join(f"<tr><td style='padding-right:14px'><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>" for keys, what in rows)
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard and mouse", f"<table>{table}</table>", QMessageBox.StandardButton.Close, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.open()
    return box


def show_about(parent: QWidget) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About aegui", about_html(), QMessageBox.StandardButton.Close, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.open()
    return box


def ask_to_stop_training(parent: QWidget) -> bool:
    """Before quitting with a run going: True to stop it (resumable) and quit."""
    box = QMessageBox(QMessageBox.Icon.Question, "A training run is going", "Stop the training run and quit?\n\n"
                      "It stops after its current step and keeps last.ckpt, so Resume can continue it later.", parent=parent)
    stop = box.addButton("Stop the run and quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(stop)
    parent._quit_box = box  # reachable while it is open (the tests answer it)
    box.exec()
    return box.clickedButton() is stop
