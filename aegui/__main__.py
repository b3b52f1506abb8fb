"""``aegui [CHECKPOINT]``: open the window on a checkpoint (the bundled default if none).

Start-up builds the collaborators first and hands them to the window (settings, executor,
explorer, then the window given them). The window is shown and painted before torch is
imported: the model and its libraries load in the background, and ink drawn meanwhile is
encoded as soon as the model is ready.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from aegui.core.paths import state_dir
from aegui.core.resources import DEFAULT_CHECKPOINT

STARTUP_CHANNEL = "startup"


def log_file_path() -> Path:
    return state_dir("aegui.log")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aegui", description="Draw a digit and watch an autoencoder's latent code.")
    parser.add_argument("checkpoint", nargs="?", type=Path, default=DEFAULT_CHECKPOINT, help="model file (.ckpt or .safetensors); default: the bundled k = 32 model")
    parser.add_argument("--settings", type=Path, help="use this INI file for settings instead of the user's")
    return parser.parse_args(argv)


def configure_process_for_live_drawing() -> None:
    """Process-wide settings for one small image at a time, shared with the GUI thread.

    - A short GIL switch interval lets the worker and the GUI thread hand over quickly.
    - No Qt GUI thread pool: Qt's raster engine otherwise hands every fill taller than about
      96 lines to pool threads and waits for them, which on a pen event costs more than the
      fill itself. Qt reads the variable when it first needs the pool (the first large paint).
    """
    sys.setswitchinterval(0.0005)
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def configure_torch_for_live_drawing() -> None:
    """One torch intra-op thread: a single 28x28 image is faster without a thread pool's
    hand-offs. Imports torch, so it runs in the background at start-up."""
    import torch

    torch.set_num_threads(1)


def install_exception_dialog(log_path: Path) -> None:
    """Unexpected errors are logged and shown in a dialog; the app keeps running."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("aegui")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
            handler.close()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)

    def hook(kind, value, trace) -> None:
        details = "".join(traceback.format_exception(kind, value, trace))
        logger.error("unexpected error\n%s", details)
        handler.flush()
        sys.__stderr__.write(details)
        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error", f"{kind.__name__}: {value}\n\nThe app keeps running. Details were written to {log_path}.")
        box.setDetailedText(details)
        box.open()
        hook.last_box = box

    sys.excepthook = hook


def create_window(settings_store, reference=None):
    """Settings, executor and explorer first, then the window given them (no model yet)."""
    from aegui.core.explorer import Explorer
    from aegui.core.resources import load_reference_digits
    from aegui.qt.main_window import MainWindow
    from aegui.qt.settings import PROJECTION, Settings
    from aegui.qt.worker import LatestWinsExecutor

    settings = Settings(settings_store)
    executor = LatestWinsExecutor()
    explorer = Explorer(reference if reference is not None else load_reference_digits(), executor, projection_method=settings.read(PROJECTION))
    window = MainWindow(explorer, executor, settings)
    executor.setParent(window)
    return window


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_process_for_live_drawing()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("aegui")
    app.setOrganizationName("aegui")
    install_exception_dialog(log_file_path())
    store = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else QSettings()
    window = create_window(store)
    window.restore_layout()

    def load_model() -> None:
        # once the window has painted: torch's import must not delay the first frame
        window.executor.submit(STARTUP_CHANNEL, configure_torch_for_live_drawing, lambda _: None, lambda error: None)
        window.open_model(args.checkpoint)

    window.first_painted.connect(load_model)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
