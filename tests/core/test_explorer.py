"""The explorer's state without a view: requests are stored at once, results arrive later."""

from __future__ import annotations

import numpy as np
import pytest

from aegui.core.executor import ImmediateExecutor
from aegui.core.explorer import Explorer
from tests.core.held_executor import HeldExecutor


@pytest.fixture
def held(default_checkpoint, reference):
    """An explorer on the default model whose jobs wait until flushed."""
    executor = HeldExecutor()
    explorer = Explorer(reference, executor, seed=0)
    explorer.open_model(default_checkpoint)
    executor.flush()
    assert explorer.session is not None and explorer.analysis.origin == "mean"
    return explorer, executor


def test_two_slider_moves_before_any_result_both_survive(held):
    explorer, executor = held
    mean = explorer.session.latent_mean
    explorer.set_dimension(3, 5.0)
    explorer.set_dimension(5, -5.0)  # before the first move's result has come back
    assert explorer.code[3] == np.float32(5.0) and explorer.code[5] == np.float32(-5.0)  # stored at once
    executor.flush()
    shown = explorer.analysis.code
    assert shown[3] == np.float32(5.0) and shown[5] == np.float32(-5.0)
    untouched = [d for d in range(len(mean)) if d not in (3, 5)]
    assert np.allclose(shown[untouched], mean[untouched])


def test_selection_projection_and_kept_codes_are_stored_before_any_work(held):
    explorer, executor = held
    explorer.select_dimension(4)
    explorer.keep_current("A")
    explorer.set_projection_method("tsne")
    assert explorer.selected_dimension == 4 and "A" in explorer.kept_codes and explorer.projection_method == "tsne"
    assert "projection" in executor.pending  # the fit waits; the request is already recorded


def test_a_slider_moved_while_the_sketch_is_encoded_starts_from_the_sketch(held, reference):
    explorer, executor = held
    raster = np.zeros((336, 336), np.uint8)
    raster[60:280, 150:190] = 255  # a thick "1"
    explorer.set_sketch(raster)
    executor.flush()
    sketch_code = explorer.analysis.code.copy()
    explorer.set_dimension(0, 1.5)
    executor.flush()
    expected = sketch_code.copy()
    expected[0] = 1.5
    assert np.allclose(explorer.analysis.code, expected)
    assert explorer.analysis.origin == "sliders"


def test_refitting_the_map_keeps_the_sketch_analysis(default_checkpoint, reference, tmp_path):
    pytest.importorskip("openTSNE")
    explorer = Explorer(reference, ImmediateExecutor(), projection_cache_dir=tmp_path)
    explorer.open_model(default_checkpoint)
    raster = np.zeros((336, 336), np.uint8)
    raster[60:280, 150:190] = 255
    explorer.set_sketch(raster)
    before = explorer.analysis
    explorer.set_projection_method("tsne")
    after = explorer.analysis
    assert explorer.session.projection.name == "tsne"
    assert after is not before and after.origin == "sketch"
    assert after.input_image is not None and after.error_percentile is not None
    assert np.allclose(after.input_image, before.input_image)


def test_the_decoded_map_is_computed_off_the_caller_once_per_model_and_map(reference, k2_checkpoint):
    loader = Explorer(reference, ImmediateExecutor())
    loader.open_model(k2_checkpoint)
    held = HeldExecutor()
    explorer = Explorer(reference, held)
    explorer._set_session(loader.session)
    held.flush()
    grids = []
    explorer.decoded_map_changed.connect(grids.append)
    explorer.show_decoded_map(True)
    assert grids == [] and "grid" in held.pending  # asked for, not computed on the caller
    held.flush()
    grid = grids[-1]
    assert grid.images.shape == (14, 14, 28, 28) and np.isfinite(grid.images).all()
    assert len(set(grid.digits.ravel().tolist())) >= 5  # the k = 2 plane holds many digits
    session = explorer.session  # a cell is the decoding of its point of the plane, mapped back
    x = grid.low[0] + 3 * (grid.high[0] - grid.low[0]) / 13
    y = grid.high[1] - 5 * (grid.high[1] - grid.low[1]) / 13
    direct = session.decode(session.clamp_code(session.projection.inverse_transform(np.array([[x, y]], np.float32))[0]))
    assert np.allclose(grid.images[5, 3], direct, atol=1e-5)
    explorer.show_decoded_map(False)
    explorer.show_decoded_map(True)
    assert grids[-2] is None and grids[-1] is grid and "grid" not in held.pending  # cached: no second computation
