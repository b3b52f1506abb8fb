"""Image import in the window: drop, paste or open a photo of a digit; it lands on the canvas
as an editable sketch, its steps shown, and the model reads it."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage, QKeySequence

from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, draw_stroke, wait_until_idle
from training.photographed import photographed_set


def photo_of_sample_digit(reference, index: int = 0) -> np.ndarray:
    return photographed_set(reference.images[index : index + 1], seed=5)[0]


def drop(window, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def test_dropping_a_photo_puts_the_digit_on_the_canvas_and_the_probe_reads_it(qtbot, window, reference, tmp_path):
    path = tmp_path / "seven.jpg"
    Image.fromarray(photo_of_sample_digit(reference)).save(path, quality=80)  # the first sample digit is a 7
    assert reference.labels[0] == 7
    model = window.explorer.session
    with qtbot.waitSignal(window.image_importer.imported, timeout=SIGNAL_TIMEOUT_MS):
        drop(window, path)
    wait_until_idle(qtbot, window)
    assert window.explorer.session is model  # an image is not a model
    assert window.canvas.has_ink() and window.canvas.can_undo()
    assert window.explorer.analysis.origin == "sketch"
    assert int(np.argmax(window.explorer.analysis.digit_probabilities)) == 7
    dialog = window.image_importer.dialog
    assert dialog.isVisible() and dialog.step_titles[0] == "photo" and "inverted" in dialog.step_titles
    assert dialog.step_titles[-1].startswith("28 x 28")
    from PySide6.QtWidgets import QLabel

    shading = [label for label in dialog.findChildren(QLabel) if label.text().endswith("shading to subtract")]
    assert shading and "black where the light is even" in shading[0].toolTip()  # a black square there is no fault


def test_the_imported_digit_is_edited_with_the_pen_and_undone(qtbot, window, reference, tmp_path):
    path = tmp_path / "seven.png"
    Image.fromarray(photo_of_sample_digit(reference)).save(path)
    with qtbot.waitSignal(window.image_importer.imported, timeout=SIGNAL_TIMEOUT_MS):
        drop(window, path)
    imported = window.canvas.ink()
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"), Qt.MouseButton.RightButton)  # erase across it
    wait_until_idle(qtbot, window)
    edited = window.canvas.ink()
    assert (edited < imported).any() and (edited <= imported).all()
    window.canvas.undo()
    np.testing.assert_array_equal(window.canvas.ink(), imported)
    window.canvas.undo()  # and the empty canvas from before the import
    assert window.canvas.ink().max() == 0


def test_ctrl_v_pastes_an_image_from_the_clipboard(qtbot, window, reference):
    photo = np.ascontiguousarray(photo_of_sample_digit(reference, 1))  # a 2
    assert reference.labels[1] == 2
    QGuiApplication.clipboard().setImage(QImage(photo.data, photo.shape[1], photo.shape[0], 3 * photo.shape[1], QImage.Format.Format_RGB888).copy())
    assert window.paste_image_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Paste)
    with qtbot.waitSignal(window.image_importer.imported, timeout=SIGNAL_TIMEOUT_MS):
        window.paste_image_action.trigger()
    wait_until_idle(qtbot, window)
    assert int(np.argmax(window.explorer.analysis.digit_probabilities)) == 2


def test_a_damaged_image_shows_one_line_and_keeps_the_sketch(qtbot, window, tmp_path):
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    before = window.canvas.ink()
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with qtbot.waitSignal(window.image_importer.failed, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        drop(window, path)
    assert "broken.png" in blocker.args[0] and "\n" not in blocker.args[0]
    assert window._error_box is not None and "broken.png" in window._error_box.text()
    np.testing.assert_array_equal(window.canvas.ink(), before)


def test_an_image_without_ink_is_refused_and_the_sketch_stays(qtbot, window, tmp_path):
    """A blank page was "now on the canvas as a sketch": the sketch was wiped for nothing."""
    from PIL import Image

    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    before = window.canvas.ink()
    path = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(path)
    with qtbot.waitSignal(window.image_importer.failed, timeout=SIGNAL_TIMEOUT_MS) as blocker:
        drop(window, path)
    assert blocker.args[0] == "blank.png: no ink found (nothing in it stands out from its paper); the canvas keeps its sketch."
    np.testing.assert_array_equal(window.canvas.ink(), before)
    assert not window.image_importer.dialog.isVisible()
