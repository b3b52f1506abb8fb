"""Named directions: fitted where a property grows, stored and checked, moved along live."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aegui.core.model_files import CheckpointError, load_model
from aegui.core.executor import ImmediateExecutor
from aegui.core.explorer import Explorer
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
from training.statistics import fit_property_directions
from training.stroke_properties import thickness


def test_a_known_direction_is_recovered_from_synthetic_codes():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=8)
    truth /= np.linalg.norm(truth)
    codes = rng.normal(size=(3000, 8)) * rng.uniform(0.5, 3.0, size=8)
    values = codes @ truth * 2.0 + rng.normal(scale=0.1, size=3000)
    directions, quality = fit_property_directions(codes[:2500], {"p": values[:2500]}, codes[2500:], {"p": values[2500:]})
    assert float(directions["p"].double() @ torch.from_numpy(truth)) > 0.99
    r2, spread = quality["p"].tolist()
    assert r2 > 0.99 and spread > 0


@pytest.fixture
def explorer():
    explorer = Explorer(load_reference_digits(limit=300), ImmediateExecutor())
    explorer.open_model(DEFAULT_CHECKPOINT)
    return explorer


def test_moving_along_thickness_thickens_the_decoded_digit_and_moves_from_the_sketch(explorer):
    digit = load_reference_digits().images[2500]
    raster = np.kron(digit, np.ones((12, 12), np.float32))  # a real digit drawn large, as the canvas holds it
    explorer.set_sketch(raster)
    sketch_code = explorer.analysis.code.copy()
    widths = []
    for amount in (-2.0, 0.0, 2.0):
        explorer.set_direction("thickness", amount)
        widths.append(float(thickness(explorer.analysis.reconstruction[None].astype(np.float64))[0]))
    assert widths[0] < widths[1] < widths[2] and explorer.analysis.origin == "direction"
    direction, spread, _ = explorer.session.property_directions["thickness"]
    assert np.allclose(explorer.analysis.code, sketch_code + 2.0 * spread * direction, atol=1e-4)
    explorer.set_direction("slant", 1.0)  # a second direction adds to the first
    slant_direction, slant_spread, _ = explorer.session.property_directions["slant"]
    assert np.allclose(explorer.analysis.code, sketch_code + 2.0 * spread * direction + slant_spread * slant_direction, atol=1e-4)
    explorer.set_sketch(raster[:, ::-1].copy())  # a new sketch is the new starting point
    new_code = explorer.analysis.code.copy()
    explorer.set_direction("thickness", 1.0)
    assert np.allclose(explorer.analysis.code, new_code + spread * direction, atol=1e-4)


def test_a_direction_that_is_not_a_unit_vector_is_refused(tmp_path):
    table = torch.load(DEFAULT_CHECKPOINT, weights_only=True)
    table["aegui_statistics"]["property_directions"]["slant"] = table["aegui_statistics"]["property_directions"]["slant"] * 3
    torch.save(table, tmp_path / "bad.ckpt")
    with pytest.raises(CheckpointError, match="property_directions/slant is not a unit direction"):
        load_model(tmp_path / "bad.ckpt")
