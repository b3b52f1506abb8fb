import numpy as np
import pytest

from aegui.core.anomaly import error_percentile, reconstruction_error, verdict
from aegui.core.export import save_code
from tests.core.code_files import load_code


def test_percentile_reads_the_stored_distribution():
    quantiles = np.linspace(0.0, 0.1, 1001)  # uniform errors on [0, 0.1]
    assert error_percentile(0.05, quantiles) == pytest.approx(50.0)
    assert error_percentile(0.099, quantiles) == pytest.approx(99.0)
    assert error_percentile(1.0, quantiles) == 100.0
    assert error_percentile(-1.0, quantiles) == 0.0


def test_verdicts_at_the_documented_thresholds():
    assert verdict(50) == "typical digit"
    assert verdict(97) == "unusual"
    assert verdict(99.5) == "not a digit"


def test_reconstruction_error_is_mean_squared_error_per_pixel():
    a = np.zeros((28, 28))
    b = np.full((28, 28), 0.5)
    assert reconstruction_error(a, b) == pytest.approx(0.25)


@pytest.mark.parametrize("suffix", [".json", ".csv", ".npy"])
def test_code_round_trips(tmp_path, suffix):
    code = np.array([0.5, -1.25, 3.0], np.float32)
    save_code(tmp_path / f"code{suffix}", code, {"checkpoint": "x.ckpt"})
    assert np.array_equal(load_code(tmp_path / f"code{suffix}"), code)


def test_unknown_code_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        save_code(tmp_path / "code.txt", np.zeros(2))


def test_strips_save_as_png_and_as_a_gif_that_plays_there_and_back(tmp_path):
    from PIL import Image

    from aegui.core.export import save_animation_gif, save_strip_png

    images = np.stack([np.full((28, 28), value, np.float32) for value in (0.0, 0.5, 1.0, float("nan"))])
    gif = Image.open(save_animation_gif(tmp_path / "a.gif", images))
    shades = []
    for index in range(gif.n_frames):
        gif.seek(index)
        shades.append(int(np.asarray(gif.convert("L"))[0, 0]))
    assert shades == [0, 128, 255, 0, 255, 128]  # NaN painted as paper; forward, then back without repeating the ends
    assert Image.open(save_strip_png(tmp_path / "s.png", images[:2])).size == (2 * 112 + 4, 112)
    with pytest.raises(ValueError, match="no strip to save"):
        save_animation_gif(tmp_path / "empty.gif", np.zeros((0, 28, 28)))


def test_a_saved_strip_says_what_it_shows_and_a_long_title_is_never_cut(tmp_path):
    from PIL import Image

    from aegui.core.export import CAPTION_SIZE, save_strip_png

    images = np.zeros((2, 28, 28), np.float32)
    plain = np.asarray(Image.open(save_strip_png(tmp_path / "plain.png", images)))
    assert plain.shape == (112, 2 * 112 + 4)  # no text asked for: the digits alone, as before
    title = "one input rebuilt by mnist-conv-k2 (k = 2), mnist-conv-k32 (k = 32); the MSE under each"
    labelled = np.asarray(Image.open(save_strip_png(tmp_path / "labelled.png", images, title, ["k=2\n0.0145", "k=32\n0.0014"])))
    band = CAPTION_SIZE + 8
    assert labelled.shape[0] == band + 112 + 2 * (CAPTION_SIZE + 4) + 4  # a title line above, two caption lines below
    assert labelled.shape[1] > 2 * 112 + 4 and labelled[:band, -40:].min() < 128  # widened: the title's end is written
    assert (labelled[band : band + 112, : 2 * 112 + 4] == plain).all()  # the digits untouched
