"""Screenshots of training from the window: ``python scripts/screenshot_training.py --data-dir DIR``.

Run it under ``xvfb-run -a -s "-screen 0 1366x768x24"`` for a real X11 window. It opens
File ▸ Train a model… with the quick preset on the MNIST folder DIR (``docs/train-dialog.png``),
clicks Train, draws the recorded "2", and once a few epochs are on the map grabs the window with
the run in progress (``docs/training-run.png``); then stops the run gracefully. With
``--watch RUN`` it follows an existing run folder instead (as File ▸ Watch a training run… does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aegui.__main__ import create_window  # noqa: E402
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits  # noqa: E402
from aegui.core.training_plan import QUICK_PRESET  # noqa: E402
from scripts.screenshot import draw_recorded_stroke  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="train on this MNIST folder (and grab the Train dialog too)")
    parser.add_argument("--watch", type=Path, help="instead, watch this run folder (aegui-train fit --progress-dir, running or done)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs on the map before the screenshot")
    parser.add_argument("--output-dir", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    if (args.data_dir is None) == (args.watch is None):
        parser.error("give --data-dir DIR (train) or --watch RUN (a run folder)")
    app = QApplication(sys.argv[:1])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "screenshot.ini"), QSettings.Format.IniFormat)
    window = create_window(settings, load_reference_digits())
    window.restore_layout()
    window.show()
    view = window.training_view

    def start(_session) -> None:
        window.model_shown.disconnect(start)
        if args.watch is not None:  # a run elsewhere, followed as File ▸ Watch a training run… does
            window.watch_training_run(args.watch)
            draw_recorded_stroke(window.canvas)
            poll()
            return
        dialog = window.show_train_dialog()
        dialog.preset_combo.setCurrentText(QUICK_PRESET)
        dialog.data_combo.setCurrentIndex(dialog.data_combo.findData("folder"))
        dialog.data_dir_edit.setText(str(args.data_dir.resolve()))
        dialog.output_edit.setText(str(Path.home() / "aegui-runs" / "quick-look"))
        QTimer.singleShot(500, lambda: train(dialog))

    def train(dialog) -> None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        shown = Path(tempfile.mkdtemp()) / "mnist"  # a short folder name in the picture, holding the same files
        shown.mkdir()
        for file in args.data_dir.resolve().iterdir():
            (shown / file.name).symlink_to(file)
        dialog.data_dir_edit.setText(str(shown))
        dialog.grab().save(str(args.output_dir / "train-dialog.png"))
        dialog.data_dir_edit.setText(str(args.data_dir.resolve()))
        dialog.output_edit.setText(str(Path(tempfile.mkdtemp()) / "run"))  # the run itself goes to a scratch folder
        dialog.train_button.click()
        draw_recorded_stroke(window.canvas)
        poll()

    def poll() -> None:
        if len(view.maps) >= args.epochs and view.sketch_row.image(1) is not None:
            QTimer.singleShot(1500, save)
        else:
            QTimer.singleShot(200, poll)

    def save() -> None:
        window.grab().save(str(args.output_dir / "training-run.png"))
        print(f"wrote {args.output_dir / 'training-run.png'} ({app.platformName()} platform)")
        window.training_process.stop_and_wait()
        window.close()
        app.quit()

    window.model_shown.connect(start)
    window.open_model(DEFAULT_CHECKPOINT)
    app.exec()


if __name__ == "__main__":
    main()
