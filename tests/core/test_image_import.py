"""Image import: photographed digits come out looking like MNIST, and the probe reads them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aegui.core.model_files import load_model
from aegui.core.image_import import ImageImportError, import_image, prepare_photo
from aegui.core.preprocess import to_mnist
from aegui.core.session import ModelSession
from training.photographed import photographed_set


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def session(default_checkpoint, reference):
    return ModelSession(load_model(default_checkpoint), reference)


def test_the_probe_reads_photographed_digits_after_import(session, reference):
    """50 sample digits photographed (pen colour, tinted paper, light gradient, texture, blur,
    JPEG, ±15 degrees): the probe reads at least 45 of them right after import."""
    digits, labels = reference.images[:50], reference.labels[:50]
    read = 0
    for photo, label in zip(photographed_set(digits, seed=3), labels):
        imported = prepare_photo(photo.astype(np.float32) / 255.0)
        read += int(np.argmax(session.digit_probabilities(session.encode(imported.digit))) == label)
    assert read >= 45


def test_dark_ink_on_light_paper_becomes_light_ink_on_black_centred_in_a_20_box():
    paper = np.full((120, 90), 0.9, dtype=np.float32)
    paper[20:100, 40:52] = 0.1  # a dark bar: a "1"
    paper += np.linspace(-0.15, 0.1, 90, dtype=np.float32)[None, :]  # uneven light
    imported = prepare_photo(paper)
    assert imported.inverted
    digit = imported.digit
    rows, cols = np.flatnonzero(digit.max(1) > 0.05), np.flatnonzero(digit.max(0) > 0.05)
    assert rows[-1] - rows[0] + 1 == 20  # the taller side fits the 20-pixel box
    assert cols[-1] - cols[0] + 1 < 12
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # black background, no paper left
    assert abs(np.average(np.arange(28), weights=digit.sum(0)) - 14) <= 1


def test_a_shadow_along_the_edge_is_not_ink():
    """A phone photo of a 3 whose left sixth lies in a shadow (data/shadowed-3.png, 160 x 120,
    grey): the shadow's faint band was kept, so the crop took in the whole width, the digit came
    out squeezed to the right and the canvas showed a grey bar at its left edge."""
    imported = import_image(Path(__file__).parent / "data" / "shadowed-3.png")
    inked = np.flatnonzero(imported.canvas.max(axis=0) > 0)
    assert inked[0] > 336 * 4 // 28  # nothing in the canvas's left margin (was from column 0)
    columns = np.flatnonzero(imported.digit.max(axis=0) > 0.05)
    assert columns[0] >= 4 and abs((columns[0] + columns[-1]) / 2 - 13.5) <= 3  # the 3 centred, not pushed right


def test_light_ink_on_dark_board_is_not_inverted():
    board = np.full((100, 100), 0.15, dtype=np.float32)
    board[30:70, 45:55] = 0.85
    imported = prepare_photo(board)
    assert not imported.inverted
    assert imported.digit.max() > 0.9


def test_the_canvas_raster_prepares_to_the_imported_digit():
    photo = photographed_set(_seven()[None], seed=1)[0]
    imported = prepare_photo(photo.astype(np.float32) / 255.0)
    assert imported.canvas.dtype == np.uint8 and imported.canvas.shape == (336, 336)
    np.testing.assert_array_equal(imported.digit, to_mnist(imported.canvas))
    assert [step.title for step in imported.steps][:2] == ["photo", "grey"]


def test_a_blank_page_gives_no_ink():
    imported = prepare_photo(np.full((80, 80, 3), 0.95, dtype=np.float32))
    assert imported.digit.max() == 0 and imported.canvas.max() == 0


def test_transparent_png_is_ink_on_white_paper():
    rgba = np.zeros((60, 60, 4), dtype=np.uint8)
    rgba[10:50, 25:35] = (0, 0, 0, 255)  # opaque black bar on a transparent background
    imported = import_image(png_bytes(rgba, "RGBA"))
    assert imported.inverted and imported.digit.max() > 0.9


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not an image at all", "not an image"), (png_bytes(np.zeros((50, 50), np.uint8))[:60], "damaged")],
)
def test_a_bad_file_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "digit.png"
    path.write_bytes(content)
    with pytest.raises(ImageImportError, match=message) as refused:
        import_image(path)
    assert "\n" not in str(refused.value) and "digit.png" in str(refused.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ImageImportError, match="does not exist"):
        import_image(tmp_path / "nothing.jpg")


def _seven() -> np.ndarray:
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[6:9, 6:22] = 1.0
    for row in range(9, 24):
        col = 21 - (row - 9) // 2
        digit[row, col - 1 : col + 2] = 1.0
    return digit


def test_one_small_digit_on_a_page_lying_on_a_lighter_desk_is_dark_ink():
    """A quarter of the picture brighter than the paper (the desk), the digit under 1 % of it:
    the tails at 1 % read the desk as the ink's side."""
    from aegui.core.image_import import ink_is_dark

    picture = np.ones((300, 400), dtype=np.float32)  # the desk
    picture[40:260, 50:350] = 0.72  # the page
    picture[140:170, 195:199] = 0.19  # one dark stroke, 0.1 % of the picture
    picture[140:143, 185:215] = 0.19
    assert ink_is_dark(picture)
