"""``aegui [CHECKPOINT]``: open the window on a checkpoint (the bundled default if none)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from aegui.core.paths import state_dir
from aegui.core.resources import DEFAULT_CHECKPOINT


def log_file_path() -> Path:
    return state_dir("aegui.log")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aegui", description="Draw a digit and watch an autoencoder's latent code.")
    parser.add_argument("checkpoint", nargs="?", type=Path, default=DEFAULT_CHECKPOINT, help="model file (.ckpt or .safetensors); default: the bundled k=32 model")
    parser.add_argument("--settings", type=Path, help="use this INI file for settings instead of the user's")
    return parser.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from aegui.core.resources import load_reference_digits
    from aegui.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("aegui")
    app.setOrganizationName("aegui")
    install_exception_dialog(log_file_path())
    settings = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else QSettings()
    window = MainWindow(load_reference_digits(), settings)
    window.restore_layout()
    window.show()
    window.open_model(args.checkpoint)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
