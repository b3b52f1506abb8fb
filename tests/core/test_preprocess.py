import numpy as np
import pytest

from aegui.core.preprocess import centre_of_mass, ink_bounding_box, to_mnist
from aegui.core.resources import load_reference_digits


def _stroke_raster(size=336, centre=(80, 250), radius=(30, 70), width=12):
    """An off-centre ellipse outline, like a '0' drawn in a corner of the canvas."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.sqrt(((yy - centre[0]) / radius[0]) ** 2 + ((xx - centre[1]) / radius[1]) ** 2)
    return np.clip(1.0 - np.abs(distance - 1.0) * min(radius) / width, 0, 1).astype(np.float32)


def test_sketch_is_centred_by_mass_on_14_14():
    image = to_mnist(_stroke_raster())
    row, col = centre_of_mass(image)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1


@pytest.mark.parametrize("centre,radius", [((80, 250), (30, 70)), ((250, 60), (70, 20)), ((168, 168), (150, 150))])
def test_ink_fits_the_central_20x20_box_keeping_aspect_ratio(centre, radius):
    image = to_mnist(_stroke_raster(centre=centre, radius=radius))
    top, bottom, left, right = ink_bounding_box(image)
    assert 4 <= top and bottom <= 24 and 4 <= left and right <= 24
    assert max(bottom - top, right - left) == 20  # the longer side fills the box
    tall = radius[0] > radius[1]
    assert ((bottom - top) > (right - left)) == tall


def test_blank_raster_gives_blank_image():
    assert not to_mnist(np.zeros((336, 336), np.float32)).any()
    assert not to_mnist(np.zeros((336, 336), np.uint8)).any()


def test_uint8_ink_gives_the_same_digit_as_float_ink():
    """The canvas hands its 8-bit ink over as is; the digit is the one its float copy gives."""
    ink = np.rint(_stroke_raster(centre=(200, 120), radius=(60, 25)) * 255).astype(np.uint8)
    from_bytes, from_floats = to_mnist(ink), to_mnist(ink.astype(np.float32) / 255)
    assert from_bytes.max() > 0.5
    assert np.allclose(from_bytes, from_floats, atol=1e-6)


def test_mnist_test_digits_pass_through_nearly_unchanged():
    digits = load_reference_digits(limit=300).images
    differences = [np.abs(to_mnist(digit) - digit).mean() for digit in digits]
    correlations = [np.corrcoef(to_mnist(digit).ravel(), digit.ravel())[0, 1] for digit in digits]
    assert np.median(differences) < 0.01
    assert np.median(correlations) > 0.98
    assert np.min(correlations) > 0.6  # shifted by at most a pixel or so, never scrambled


def test_output_is_anti_aliased_not_binary():
    image = to_mnist(_stroke_raster())
    grey = ((image > 0.05) & (image < 0.95)).sum()
    assert grey > 20


@pytest.mark.parametrize("size", [2, 3, 7, 19, 20, 21, 28, 40, 99, 150, 233, 336, 500])
def test_the_resampling_weighs_pixels_as_torchs_antialiased_bilinear_interpolate(size):
    """``to_mnist`` resamples the ink with two matrix products; they give what torch's
    ``interpolate(antialias=True)`` gives, shrinking and enlarging, to float rounding."""
    import torch
    from torch.nn import functional as F

    from aegui.core.preprocess import resize_weights

    rng = np.random.default_rng(size)
    for new_size in sorted({1, 2, 5, 13, 19, 20, max(1, size // 3), size * 2}):
        other = int(rng.integers(2, 60))
        ink = (rng.random((size, other)) * (rng.random((size, other)) < 0.4)).astype(np.float32)
        expected = F.interpolate(torch.from_numpy(ink)[None, None], size=(new_size, other), mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()
        got = resize_weights(size, new_size) @ ink
        assert np.abs(got - expected).max() < 1e-5, (size, new_size)  # float32 rounding (torch weighs in single precision)


def test_a_line_one_pixel_wide_is_resampled_along_its_length():
    """An ink box one pixel wide (a hairline stroke in an imported image) is resampled along its
    height only; torch's interpolate filled such a column with its first pixel's ink, so a
    line dark above and faint below reached the model dark from end to end."""
    raster = np.zeros((336, 336), np.uint8)
    raster[40:170, 170] = 255  # dark above
    raster[170:300, 170] = 25  # faint below (still ink: above 2 % of full)
    column = to_mnist(raster).max(axis=0)
    assert np.count_nonzero(column) == 1  # one column of ink, 20 pixels tall
    line = to_mnist(raster)[:, int(np.argmax(column))]
    inked = line[line > 0]
    assert len(inked) == 20 and inked[:9].min() > 0.95 and inked[-9:].max() < 0.15
