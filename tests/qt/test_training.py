"""Train from the window: the dialog, a real run in a separate process, Stop, Resume, the result.

Each run is a real ``python -m training fit`` process (a tiny network on 600 of the bundled
sample digits); the app only reads its progress folder, as it would a run on another machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from aegui.core.training_plan import DENOISING_PRESET, TrainingPlan
from aegui.qt.settings import RECENT_FILES, TRAINING_PLAN
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, wait_until_idle

RUN_TIMEOUT_MS = 180_000  # a process start, Lightning's import and a few epochs on a slow machine


@contextlib.contextmanager
def no_run_left(process):
    """Whatever the test did, no training process outlives it (pytest-qt closes the window
    before fixtures end, and a window with a run going would ask whether to stop it)."""
    try:
        yield
    finally:
        process.kill()


def type_into(widget, text: str) -> None:
    """Replace a field's text the way a user does: focus, select all, type, Tab away."""
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Tab)


def fill_tiny_run(dialog, data_dir, run_dir, epochs: int) -> None:
    dialog.preset_combo.setCurrentIndex(0)  # Custom
    dialog.data_combo.setCurrentIndex(dialog.data_combo.findData("folder"))
    type_into(dialog.data_dir_edit, str(data_dir))
    type_into(dialog.limit_edit, "0")
    type_into(dialog.latent_edit, "4")
    type_into(dialog.width_edit, "32")
    type_into(dialog.layers_edit, "1")
    type_into(dialog.channels_edit, "4")
    type_into(dialog.augmentation_edit, "0")
    type_into(dialog.epochs_edit, str(epochs))
    type_into(dialog.output_edit, str(run_dir))


def test_the_dialog_shows_the_command_it_will_run_and_refuses_what_cannot_run(qtbot, window, tiny_mnist_dir, tmp_path):
    dialog = window.show_train_dialog()
    qtbot.waitExposed(dialog)
    assert dialog.preset_combo.currentText().startswith("Quick look") and dialog.data_combo.currentData() == "download"  # a first run
    assert str(tmp_path) not in dialog.output_edit.text() and "run-" in dialog.output_edit.text()
    dialog.data_combo.setCurrentIndex(dialog.data_combo.findData("folder"))
    type_into(dialog.data_dir_edit, "")
    assert not dialog.train_button.isEnabled() and "folder" in dialog.shown_problems["data_dir"]
    fill_tiny_run(dialog, tmp_path / "my digits", tmp_path / "run", epochs=7)
    assert not dialog.train_button.isEnabled() and dialog.shown_problems["data_dir"] == f"--data.data_dir {tmp_path / 'my digits'}: no such folder"  # said before a run fails
    assert dialog.data_dir_edit.toolTip() == dialog.shown_problems["data_dir"] and dialog.shown_problems["data_dir"] in dialog.problem_label.text()
    assert not dialog.command_view.isEnabled() and not dialog.copy_button.isEnabled()  # not the command of what is typed
    (tmp_path / "my digits").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / "my digits" / name).write_bytes((tiny_mnist_dir / name).read_bytes())
    type_into(dialog.data_dir_edit, str(tmp_path / "my digits"))
    assert dialog.train_button.isEnabled() and dialog.problem_label.text() == ""
    words = shlex.split(dialog.command_view.command())
    flags = dict(zip(words[2::2], words[3::2]))
    assert words[:2] == ["aegui-train", "fit"] and flags["--model.latent_dim"] == "4" and flags["--trainer.max_epochs"] == "7"
    assert flags["--data.data_dir"] == str(tmp_path / "my digits") and flags["--progress-dir"] == str(tmp_path / "run" / "progress")
    QTest.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == dialog.command_view.command()
    dialog.variational_box.setChecked(False)
    assert not dialog.beta_edit.isEnabled()
    QTest.mouseClick(dialog.variational_box, Qt.MouseButton.LeftButton, pos=dialog.variational_box.rect().center())
    assert dialog.beta_edit.isEnabled() and "--model.variational true" in dialog.command_view.command()
    dialog.preset_combo.setCurrentText("A 2-D code (k = 2: the code is the map)")
    assert dialog.latent_edit.text() == "2" and dialog.data_dir_edit.text() == str(tmp_path / "my digits")  # a preset keeps the data
    type_into(dialog.init_from_edit, str(tmp_path / "base.ckpt"))  # fine-tune: start from a checkpoint
    assert not dialog.train_button.isEnabled() and dialog.shown_problems["init_from"] == f"--init_from {tmp_path / 'base.ckpt'}: no such file"
    (tmp_path / "base.ckpt").write_bytes(b"read by aegui-train")
    type_into(dialog.init_from_edit, str(tmp_path / "base.ckpt"))
    words = shlex.split(dialog.command_view.command())
    assert dialog.train_button.isEnabled() and words[words.index("--init_from") + 1] == str(tmp_path / "base.ckpt")
    type_into(dialog.input_noise_edit, "snow=1")  # denoising: a kind the trainer does not know
    assert not dialog.train_button.isEnabled() and dialog.shown_problems["input_noise"].startswith("--model.input_noise snow=1: unknown kind 'snow'")
    dialog.preset_combo.setCurrentText(DENOISING_PRESET)
    words = shlex.split(dialog.command_view.command())
    assert dialog.train_button.isEnabled() and words[words.index("--model.input_noise") + 1] == dialog.input_noise_edit.text() != ""
    dialog.reject()


def test_the_dialog_marks_a_bad_value_with_the_command_lines_sentence_and_never_rewrites_it(qtbot, window, tiny_mnist_dir, tmp_path):
    dialog = window.show_train_dialog()
    qtbot.waitExposed(dialog)
    fill_tiny_run(dialog, tiny_mnist_dir, tmp_path / "run", epochs=3)
    assert dialog.train_button.isEnabled()
    for edit, name, typed, sentence in (
        (dialog.learning_rate_edit, "learning_rate", "-0.01", "--model.learning_rate -0.01: must be above 0"),
        (dialog.epochs_edit, "max_epochs", "0", "--trainer.max_epochs 0 (nothing to train): must be from 1 to 100000, or -1 for no limit"),
        (dialog.latent_edit, "latent_dim", "0", "--model.latent_dim 0: must be from 1 to 256"),
        (dialog.width_edit, "hidden_dim", "wide", "--model.hidden_dim wide: must be a whole number from 4 to 4096"),
    ):
        before, tip, base = edit.text(), edit.toolTip(), edit.palette().color(QPalette.ColorRole.Base)
        type_into(edit, typed)
        assert edit.text() == typed and dialog.shown_problems == {name: sentence} and edit.toolTip() == sentence and edit.palette().color(QPalette.ColorRole.Base) != base
        assert not dialog.train_button.isEnabled() and dialog.problem_title.text() == "Fix before Train:" and dialog.problem_label.text() == sentence
        flag = sentence.split(" ")[0]
        words = shlex.split(dialog.command_view.command())
        assert words[words.index(flag) + 1] == typed and not dialog.command_view.isEnabled()  # the preview shows what was typed, greyed
        type_into(edit, before)
        assert dialog.shown_problems == {} and edit.toolTip() == tip and edit.palette().color(QPalette.ColorRole.Base) == base and dialog.train_button.isEnabled()
    # several refused at once, typed one after the other: no field moves, the list keeps the form's order
    dialog.setFixedSize(dialog.minimumSizeHint())  # as on a laptop's screen: the dialog at its smallest, unable to grow
    QApplication.processEvents()
    places = {field: (widget.mapTo(dialog, widget.rect().topLeft()), widget.size()) for field, widget in dialog.field_edits.items()}
    for edit, typed in ((dialog.channels_edit, "0"), (dialog.learning_rate_edit, "abc"), (dialog.width_edit, ""), (dialog.epochs_edit, "0"), (dialog.latent_edit, "-3")):
        type_into(edit, typed)
        assert {field: (widget.mapTo(dialog, widget.rect().topLeft()), widget.size()) for field, widget in dialog.field_edits.items()} == places
    assert list(dialog.shown_problems) == [name for name in dialog.field_edits if name in dialog.shown_problems]
    # three refusals are read whole without scrolling (with the title above them, the third was cut)
    for edit, typed in ((dialog.channels_edit, "8"), (dialog.width_edit, "64")):
        type_into(edit, typed)
    QApplication.processEvents()
    assert len(dialog.shown_problems) == 3
    viewport = dialog.problem_area.viewport()
    assert dialog.problem_label.heightForWidth(viewport.width()) <= viewport.height()
    dialog.reject()


def test_tab_stops_in_the_dialog_only_where_the_focus_shows(qtbot, window):
    """With Tab from the first field round to it again: the refusals' box (frameless, it showed
    nothing) is a stop only when it has more to scroll to, and then it draws a focus frame."""
    dialog = window.show_train_dialog()
    qtbot.waitExposed(dialog)

    def tab_stops() -> list:
        first = dialog.data_combo
        first.setFocus()
        QApplication.processEvents()
        stops = [first]
        for _ in range(60):
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            if QApplication.focusWidget() is first:
                return stops
            stops.append(QApplication.focusWidget())
        raise AssertionError("Tab never came back round")

    assert dialog.problem_area not in tab_stops()
    for edit, typed in ((dialog.channels_edit, "0"), (dialog.learning_rate_edit, "abc"), (dialog.width_edit, ""), (dialog.epochs_edit, "0"), (dialog.latent_edit, "-3")):
        type_into(edit, typed)  # five refusals: more than the box's three lines
    QApplication.processEvents()
    assert dialog.problem_area.verticalScrollBar().maximum() > 0
    assert dialog.problem_area in tab_stops()
    dialog.problem_area.setFocus()
    QApplication.processEvents()
    shot = dialog.problem_area.grab().toImage()
    highlight = dialog.palette().color(QPalette.ColorRole.Highlight)
    edge = shot.pixelColor(0, shot.height() // 2)
    assert abs(edge.red() - highlight.red()) + abs(edge.green() - highlight.green()) + abs(edge.blue() - highlight.blue()) < 60, (edge.name(), highlight.name())
    dialog.reject()


def test_the_command_shown_wraps_between_words_and_copies_clean(qtbot, window, tiny_mnist_dir, tmp_path):
    """A line of the command ended in "--" and the option's name began the next (a hyphen is a
    line break opportunity); a selection copied from it must still be the command itself."""
    dialog = window.show_train_dialog()
    qtbot.waitExposed(dialog)
    fill_tiny_run(dialog, tiny_mnist_dir, tmp_path / "run", epochs=3)
    view = dialog.command_view
    QApplication.processEvents()
    block, lines = view.document().firstBlock(), []
    while block.isValid():
        layout = block.layout()
        lines += [block.text()[layout.lineAt(i).textStart() : layout.lineAt(i).textStart() + layout.lineAt(i).textLength()] for i in range(layout.lineCount())]
        block = block.next()
    assert len(lines) > 2  # wrapped: the test means something
    assert not any(line.replace("\u2060", "").rstrip().endswith(("-", "/")) for line in lines), lines  # nor a path cut at a slash
    view.selectAll()
    view.copy()
    assert QApplication.clipboard().text() == view.command() == dialog.plan().shell_command()
    dialog.reject()


def test_a_failed_download_is_shown_whole_with_what_to_do_in_the_dialog(qtbot, window, tmp_path):
    from aegui.core.training_plan import apply_preset, QUICK_PRESET

    message = "the mnist IDX files (train-images-idx3-ubyte[.gz] and the other three) are not in " + str(tmp_path / ("cache " * 40)) + ", and downloading them failed: could not download train-images-idx3-ubyte.gz (ossci-datasets.s3.amazonaws.com: Name or service not known)"
    run_dir = tmp_path / "run"
    plan = apply_preset(TrainingPlan(output_dir=str(run_dir), data_source="download"), QUICK_PRESET)
    (run_dir / "progress").mkdir(parents=True)
    (run_dir / "plan.json").write_text(json.dumps(plan.to_dict()))
    (run_dir / "progress" / "progress.jsonl").write_text(json.dumps({"event": "error", "time": 0, "message": message}) + "\n")
    window.watch_training_run(run_dir)
    view = window.training_view
    qtbot.waitUntil(lambda: "The run stopped" in view.status.text(), timeout=SIGNAL_TIMEOUT_MS)
    assert message in view.status.text()  # whole, not cut mid-word
    assert "Train a model" in view.status.text() and "an MNIST-format folder" in view.status.text() and "--data" not in view.status.text()
    assert "not known). To train without the internet" in view.status.text()  # two sentences, not one run-on
    # readable in the dock a 1366 x 768 screen leaves it, and nothing drawn over anything else
    window.resize(1366, 740)
    window.resizeDocks([window.training_dock], [200], Qt.Orientation.Vertical)
    QApplication.processEvents()
    assert view.status.heightForWidth(view.status.width()) <= view.status.height()
    placed = [widget.geometry().translated(widget.parentWidget().mapTo(view, widget.parentWidget().rect().topLeft())) for widget in (view.status, view.epoch_slider, view.stop_button)]
    assert not any(first.intersects(second) for index, first in enumerate(placed) for second in placed[index + 1 :])
    # nothing was plotted: the empty plots give the message their room, and the buttons stay
    # in view, not below the dock's edge behind a scroll bar
    assert not view.loss_plot.isVisible() and not view.map_plot.isVisible()
    for button in (view.resume_button, view.open_best_button):
        assert button.visibleRegion().boundingRect() == button.rect()


def test_watching_another_folder_leaves_nothing_of_the_run_before_on_show(qtbot, window, tmp_path):
    import numpy as np

    from tests.qt.layout_probe import write_run_folder

    view, run = window.training_view, window.training_run
    window.watch_training_run(write_run_folder(tmp_path / "first"))
    qtbot.waitUntil(lambda: len(run.maps) >= 10 and view.epoch_label.text() != "", timeout=SIGNAL_TIMEOUT_MS)
    image = np.full((28, 28), 0.5, np.float32)
    run.reconstruction_changed.emit(9, image, image)  # the sketch rebuilt by the run's network, as a run with networks shows it
    assert view.sketch_row.image(1) is not None and view.val_plot.getPlotItem().getViewBox().viewRange()[0][1] > 5
    empty = tmp_path / "second" / "progress"
    empty.mkdir(parents=True)
    window.watch_training_run(empty)
    qtbot.waitUntil(lambda: "no run has written" in view.status.text(), timeout=SIGNAL_TIMEOUT_MS)
    assert view.sketch_row.image(0) is None and view.sketch_row.image(1) is None
    assert view.val_curve.getData()[0] is None or len(view.val_curve.getData()[0]) == 0
    assert view.map_points.data.size == 0 and not view.epoch_slider.isEnabled() and view.epoch_label.text() == ""
    for plot in (view.loss_plot, view.val_plot, view.map_plot):  # the axes of a plot with nothing to show, not the last run's
        assert [[round(low, 6), round(high, 6)] for low, high in plot.getPlotItem().getViewBox().viewRange()] == [[0, 1], [0, 1]]


def first_snapshot_written(progress_dir) -> bool:
    stream = progress_dir / "progress.jsonl"
    return stream.is_file() and any(json.loads(line)["event"] == "snapshot" for line in stream.read_text().splitlines() if line.endswith("}"))


def test_train_stop_resume_and_the_result_opens_and_compares(qtbot, window, tiny_mnist_dir, tmp_path):
    view, run, process = window.training_view, window.training_run, window.training_process
    with no_run_left(process):
        view._timer.setInterval(100)
        previous = window.explorer.session.model.path
        run_dir = tmp_path / "run"
        dialog = window.show_train_dialog()
        fill_tiny_run(dialog, tiny_mnist_dir, run_dir, epochs=3)
        with qtbot.waitSignal(process.run_started, timeout=SIGNAL_TIMEOUT_MS):
            QTest.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
        assert window.training_dock.isVisible() and process.is_running()
        assert json.loads(window.settings.read(TRAINING_PLAN))["latent_dim"] == 4  # remembered for next time

        # A long run, deterministically: once its first epoch is kept the process is paused
        # (SIGSTOP, as a slow machine would leave it mid-epoch) until Stop has been clicked, so
        # Stop always lands mid-run, whatever the load, without training many epochs.
        qtbot.waitUntil(lambda: first_snapshot_written(run_dir / "progress"), timeout=RUN_TIMEOUT_MS)
        pid = process._process.processId()
        os.kill(pid, signal.SIGSTOP)
        try:
            # progress lines arrive, the curves and the map update
            qtbot.waitUntil(lambda: len(run.maps) >= 1 and view.epoch_slider.isEnabled(), timeout=RUN_TIMEOUT_MS)
            assert len(view.val_curve.getData()[0]) >= 1 and len(view.map_points.data) == 1000
            assert view.status.text().startswith("Epoch") and view.stop_button.isEnabled() and not view.resume_button.isEnabled()

            # Stop leaves a resumable run
            with qtbot.waitSignal(process.run_finished, timeout=RUN_TIMEOUT_MS) as finished, qtbot.waitSignal(view.run_ended, timeout=RUN_TIMEOUT_MS):
                QTest.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
                os.kill(pid, signal.SIGCONT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        assert finished.args == [0, False]
        state = run.state
        assert state.stopped and state.epoch < 2 and (run_dir / "checkpoints" / "last.ckpt").is_file()
        assert "Stopped at epoch" in view.status.text() and "Resume" in view.status.text()
        assert view.resume_button.isEnabled() and not view.stop_button.isEnabled()
        assert window.explorer.session.model.path == previous  # a stopped run does not replace the model
        stopped_epoch = state.epoch

        # Resume finishes it; the best checkpoint opens through the safe loader and joins the recent files
        with qtbot.waitSignal(window.model_shown, timeout=RUN_TIMEOUT_MS):
            QTest.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
        state = run.state
        assert state.finished and not state.stopped and state.starts == 2 and state.epoch == 2
        assert [epoch for epoch, _ in state.epochs] == list(range(3)) and stopped_epoch in run.maps
        best = run_dir / "checkpoints" / "best.ckpt"
        assert window.explorer.session.model.path == best and str(best.resolve()) in window.settings.read(RECENT_FILES)
        assert window.statusBar().currentMessage().startswith(f"Opened the run's best model, {run_dir.name}/best.ckpt: k = 4")  # not a silent swap
        assert "Finished after" in view.status.text() and "best.ckpt" in view.status.text()

        # "Compare with the previous model" puts both in the Compare view
        assert view.compare_button.isEnabled()
        with qtbot.waitSignal(window.explorer.comparison_changed, timeout=SIGNAL_TIMEOUT_MS):
            QTest.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
        assert window.explorer.compared_paths == [previous, best]
        assert window.explore_tabs.currentWidget() is window.compare_panel
        wait_until_idle(qtbot, window)


def answer_next_box(qtbot, text: str) -> None:
    """Click the button labelled ``text`` on the message box that is about to open."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        button = next(button for button in box.buttons() if button.text().replace("&", "") == text)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(20, click)


def test_a_killed_run_says_so_and_closing_with_a_run_going_asks_first(qtbot, window, tiny_mnist_dir, tmp_path):
    view, run, process = window.training_view, window.training_run, window.training_process
    with no_run_left(process):
        view._timer.setInterval(100)
        plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir), latent_dim=4, hidden_dim=32, channels=4, augmentation=0.0, max_epochs=400)
        window.start_training(plan)
        qtbot.waitUntil(lambda: len(run.maps) >= 1 and plan.last_checkpoint.is_file(), timeout=RUN_TIMEOUT_MS)  # an epoch kept
        with qtbot.waitSignal(process.run_finished, timeout=SIGNAL_TIMEOUT_MS) as finished, qtbot.waitSignal(view.run_ended, timeout=SIGNAL_TIMEOUT_MS):
            process.kill()  # as the OOM killer would
        assert finished.args[1] is True
        assert "was killed" in view.status.text() and "Resume" in view.status.text() and view.resume_button.isEnabled()

        with qtbot.waitSignal(process.run_started, timeout=SIGNAL_TIMEOUT_MS):
            QTest.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: run.state.starts == 2 and len(run.state.epochs) > 0, timeout=RUN_TIMEOUT_MS)
        answer_next_box(qtbot, "Cancel")
        assert not window.close()  # the user changed their mind: the window and the run stay
        assert window.isVisible() and process.is_running()
        answer_next_box(qtbot, "Stop the run and quit")
        assert window.close()
        assert not process.is_running()
        end = json.loads((tmp_path / "run" / "progress" / "progress.jsonl").read_text().splitlines()[-1])
        assert end["event"] == "end" and end["stopped"] is True  # stopped gracefully, resumable


def test_a_damaged_stream_and_a_half_copied_snapshot_are_reported_never_a_crash(qtbot, window, tmp_path):
    import io

    import torch

    view, run = window.training_view, window.training_run
    progress = tmp_path / "progress"
    (progress / "snapshots").mkdir(parents=True)
    codes = torch.randn(1000, 4)
    for epoch in (0, 1):
        torch.save({"codes": codes * (epoch + 1), "labels": torch.arange(1000) % 10}, progress / "snapshots" / f"epoch-000{epoch}.pt")
    whole = io.BytesIO()
    torch.save({"codes": codes * 3, "labels": torch.arange(1000) % 10}, whole)
    (progress / "snapshots" / "epoch-0002.pt").write_bytes(whole.getvalue()[:5000])  # still being synced
    lines = [json.dumps({"event": "start", "max_epochs": 5}), "{not json", json.dumps({"event": "epoch", "epoch": 1e400})]
    for epoch in (0, 1, 2):
        lines += [json.dumps({"event": "epoch", "epoch": epoch, "val_mse": 0.05 - epoch / 100}), json.dumps({"event": "snapshot", "epoch": epoch, "path": f"snapshots/epoch-000{epoch}.pt"})]
    (progress / "progress.jsonl").write_text("\n".join(lines) + "\n")
    view._timer.setInterval(50)
    window.watch_training_run(progress)
    qtbot.waitUntil(lambda: sorted(run.maps) == [0, 1] and 2 in run.unreadable, timeout=SIGNAL_TIMEOUT_MS)
    assert "2 damaged progress lines skipped" in view.status.text() and "snapshot of epoch 3 could not be read" in view.status.text()
    assert view.loss_plot.getPlotItem().titleLabel.text == "train loss: no step logged"  # epochs, but no step lines: says so
    assert run.selected_epoch == 1 and view.epoch_label.text() == "2" and len(view.val_curve.getData()[0]) == 3
    (progress / "snapshots" / "epoch-0002.pt").write_bytes(whole.getvalue())  # the copy completes
    qtbot.waitUntil(lambda: 2 in run.maps, timeout=SIGNAL_TIMEOUT_MS)
    assert run.selected_epoch == 2 and view.epoch_label.text() == "3" and not run.unreadable
    view.stop_watching()


def test_the_apps_run_ending_while_the_dock_shows_another_run_leaves_that_run_on_show(qtbot, window, tiny_mnist_dir, tmp_path):
    view, run, process = window.training_view, window.training_run, window.training_process
    view._timer.setInterval(100)
    other = tmp_path / "elsewhere" / "progress"
    other.mkdir(parents=True)
    (other / "progress.jsonl").write_text(json.dumps({"event": "start", "max_epochs": 3}) + "\n" + json.dumps({"event": "epoch", "epoch": 0, "val_mse": 0.05}) + "\n")
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir), latent_dim=4, hidden_dim=32, channels=4, augmentation=0.0, max_epochs=400)
    with no_run_left(process):
        window.start_training(plan)
        qtbot.waitUntil(lambda: run.state.starts == 1 and run.folder == plan.progress_dir, timeout=RUN_TIMEOUT_MS)
        window.watch_training_run(other)
        qtbot.waitUntil(lambda: run.state.epoch == 0, timeout=SIGNAL_TIMEOUT_MS)
        with qtbot.waitSignal(view.run_ended, timeout=SIGNAL_TIMEOUT_MS) as ended:
            process.kill()
    assert run.folder == other and view.status.text().startswith("Epoch 1 of 3 done")  # still the run the user chose
    assert str(plan.run_dir) in ended.args[0] and window.explorer.session.model.path.name == "mnist-conv-k32.ckpt"


def test_a_run_folder_the_app_made_can_be_resumed_after_a_restart(qtbot, window, tiny_mnist_dir, tmp_path):
    view, run = window.training_view, window.training_run
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tiny_mnist_dir), latent_dim=4, hidden_dim=32, channels=4)
    (plan.run_dir / "checkpoints").mkdir(parents=True)
    (plan.run_dir / "checkpoints" / "last.ckpt").write_bytes(b"stands for the checkpoint")
    (plan.run_dir / "plan.json").write_text(json.dumps(plan.to_dict()))
    plan.progress_dir.mkdir()
    lines = [{"event": "start", "max_epochs": 20}, {"event": "epoch", "epoch": 3, "val_mse": 0.05}, {"event": "end", "checkpoints": {}, "stopped": True}]
    (plan.progress_dir / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    window.watch_training_run(plan.run_dir)  # File > Watch a training run…, pointed at the run folder
    qtbot.waitUntil(lambda: run.state.finished, timeout=SIGNAL_TIMEOUT_MS)
    assert run.plan == plan and run.folder == plan.progress_dir
    assert view.status.text().startswith("Stopped at epoch 4 of 20") and "Resume continues the run" in view.status.text()
    assert view.resume_button.isEnabled() and not view.stop_button.isEnabled()
    (plan.run_dir / "plan.json").unlink()  # a run started elsewhere: nothing to resume it with here
    window.watch_training_run(plan.run_dir / "progress")
    qtbot.waitUntil(lambda: run.state.finished, timeout=SIGNAL_TIMEOUT_MS)
    assert run.plan is None and not view.resume_button.isEnabled()
    view.stop_watching()


def test_the_plan_of_a_run_started_is_on_disk_at_once(qtbot, window, tiny_mnist_dir, tmp_path, monkeypatch):
    """The next Train dialog offers a run folder beside this one, with these choices; a crash or
    a kill soon after the run started left the settings file without them (QSettings writes
    when it gets round to it), and the next dialog offered ~/aegui-runs again."""
    monkeypatch.setattr(window.training_process, "start", lambda plan: False)  # the settings, not the run
    plan = TrainingPlan(output_dir=str(tmp_path / "elsewhere" / "r1"), data_dir=str(tiny_mnist_dir), latent_dim=4)
    window.start_training(plan)
    on_disk = Path(window.settings.store.fileName()).read_text()  # the file, not the process's cache of it
    assert f"runs_dir={tmp_path / 'elsewhere'}" in on_disk and "latent_dim" in on_disk


def test_the_dialogs_command_shows_whole_lines_never_one_cut_through(qtbot, window):
    """A new user saw the command's fifth line sliced through its middle: the box shows as many
    whole lines as fit and scrolls to the rest."""
    dialog = window.show_train_dialog()
    qtbot.waitExposed(dialog)
    view = dialog.command_view
    for height in (dialog.height(), dialog.height() - 23, dialog.height() + 41):  # whatever height the layout gives it
        dialog.resize(dialog.width(), height)
        QApplication.processEvents()
        line = view.fontMetrics().lineSpacing()
        below_margin = view.viewport().height() - view.document().documentMargin()
        assert below_margin % line == 0 and below_margin // line >= 3, (view.height(), view.viewport().height(), line)
    dialog.close()


def test_watch_opens_beside_the_run_on_show_or_where_the_apps_runs_go(qtbot, window, tmp_path, monkeypatch):
    """File ▸ Watch a training run… opened in the last model's folder (the home folder, after a
    bundled model) however many runs the app had made elsewhere."""
    from PySide6.QtWidgets import QFileDialog

    from aegui.qt.settings import RUNS_DIR

    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda parent, caption, folder: asked.append(folder) or "")
    runs = tmp_path / "my-runs"
    window.settings.write(RUNS_DIR, str(runs))
    window._on_watch_run_triggered()
    assert asked[-1] != str(runs)  # not made yet: nowhere to offer
    runs.mkdir()
    window._on_watch_run_triggered()
    assert asked[-1] == str(runs)
    shown = tmp_path / "elsewhere" / "run-1"
    shown.mkdir(parents=True)
    window.watch_training_run(shown)
    window._on_watch_run_triggered()
    assert asked[-1] == str(shown.parent)
