"""Noise on the model's input: deterministic per seed, nothing at strength 0, each kind its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.held_executor import HeldExecutor
from aegui.core.explorer import Explorer
from aegui.core.noise import NOISE_KINDS, NO_NOISE, NoiseSettings, add_noise, apply_noise, code_drift, parse_noise_spec, random_noise


@pytest.fixture(scope="module")
def digit(reference) -> np.ndarray:
    return reference.images[0]


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_the_same_seed_gives_the_same_noise_and_another_seed_other_noise(digit, kind):
    settings = NoiseSettings(((kind, 0.5),), seed=7)
    first, again = apply_noise(digit, settings), apply_noise(digit, settings)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, digit)
    assert not np.array_equal(first, apply_noise(digit, settings.with_seed(8)))
    assert first.min() >= 0.0 and first.max() <= 1.0 and first.dtype == np.float32


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_strength_zero_leaves_the_image_unchanged(digit, kind):
    assert np.array_equal(apply_noise(digit, NoiseSettings(((kind, 0.0),), seed=3)), digit)
    batch = torch.from_numpy(np.stack([digit, digit])).unsqueeze(1)
    assert torch.equal(add_noise(batch, {kind: torch.tensor([0.0, 0.0])}), batch)
    assert np.array_equal(apply_noise(digit, NO_NOISE), digit)


def test_the_kinds_differ(digit):
    noisy = {kind: apply_noise(digit, NoiseSettings(((kind, 0.5),), seed=1)) for kind in NOISE_KINDS}
    for first in NOISE_KINDS:
        for second in NOISE_KINDS:
            if first < second:
                assert not np.allclose(noisy[first], noisy[second]), (first, second)
    assert (noisy["erased_blocks"] <= digit).all()  # erasing only removes ink
    assert (noisy["stroke_across"] >= digit).all()  # a stroke only adds ink
    assert set(np.unique(noisy["salt_and_pepper"][noisy["salt_and_pepper"] != digit])) <= {0.0, 1.0}


def test_a_stronger_setting_changes_more_pixels_of_the_same_field(digit):
    weak = apply_noise(digit, NoiseSettings((("salt_and_pepper", 0.1),), seed=2))
    strong = apply_noise(digit, NoiseSettings((("salt_and_pepper", 0.4),), seed=2))
    changed_weak, changed_strong = weak != digit, strong != digit
    assert changed_strong.sum() > 2 * changed_weak.sum()
    assert (changed_strong | ~changed_weak).all()  # every pixel the weak noise changed, the strong one does too


def test_training_noise_differs_per_batch_keeps_its_strength_range_and_some_digits_clean(reference):
    batch = torch.from_numpy(reference.images[:400]).unsqueeze(1)
    generator = torch.Generator().manual_seed(0)
    first = random_noise(batch, {"gaussian": 0.3, "erased_blocks": 0.5}, generator)
    second = random_noise(batch, {"gaussian": 0.3, "erased_blocks": 0.5}, generator)
    assert not torch.equal(first, second)
    changed = (first != batch).flatten(1).any(1)
    assert 0.2 < float(changed.float().mean()) < 0.9  # a clean share stays clean
    assert float((first - batch).flatten(1).std(1).max()) <= 0.35
    assert torch.equal(random_noise(batch, {}, generator), batch)


def test_noise_spec_text_round_trips_and_bad_text_gets_one_line():
    assert parse_noise_spec("gaussian=0.3, erased_blocks=0.25") == {"gaussian": 0.3, "erased_blocks": 0.25}
    assert parse_noise_spec("") == {}
    for bad in ("snow=0.2", "gaussian", "gaussian=2", "gaussian=x", "gaussian=0.1,gaussian=0.2"):
        with pytest.raises(ValueError) as error:
            parse_noise_spec(bad)
        assert "\n" not in str(error.value) and "input_noise" in str(error.value)


def test_drift_is_the_distance_over_the_total_spread():
    std = np.array([3.0, 4.0])  # total spread 5
    assert code_drift(np.zeros(2), np.array([3.0, 4.0]), std) == pytest.approx(1.0)
    assert code_drift(np.ones(2), np.ones(2), std) == 0.0


def test_the_explorer_shows_the_noisy_input_and_how_far_its_code_moved(default_checkpoint, reference):
    executor = HeldExecutor()
    explorer = Explorer(reference, executor, seed=0)
    explorer.open_model(default_checkpoint)
    executor.flush()
    raster = np.zeros((336, 336), np.uint8)
    raster[60:280, 150:190] = 255  # a thick "1"
    explorer.set_sketch(raster)
    executor.flush()
    clean = explorer.analysis
    assert "noise" not in clean.extras
    settings = NoiseSettings((("gaussian", 0.4), ("erased_blocks", 0.25)), seed=5)
    explorer.set_noise(settings)
    assert explorer.noise == settings  # stored at once, before any work
    executor.flush()
    noisy = explorer.analysis
    effect = noisy.extras["noise"]
    assert not np.array_equal(noisy.input_image, clean.input_image)
    assert np.array_equal(effect.clean_image, clean.input_image)
    assert np.allclose(effect.clean_code, clean.code, atol=1e-4)  # the clean code of the same pass
    assert effect.drift > 0
    assert effect.drift == pytest.approx(code_drift(clean.code, noisy.code, explorer.session.latent_std), rel=1e-3)
    explorer.set_sketch(raster)  # the same sketch again: the same noise
    executor.flush()
    assert np.array_equal(explorer.analysis.input_image, noisy.input_image)
    explorer.set_noise(NO_NOISE)
    executor.flush()
    assert "noise" not in explorer.analysis.extras and np.array_equal(explorer.analysis.input_image, clean.input_image)


def test_a_checkpoint_names_its_input_noise_and_a_bad_one_is_refused_in_one_line(default_checkpoint, tmp_path):
    from aegui.core.model_files import load_model, slim_checkpoint
    from aegui.core.errors import CheckpointError

    table = slim_checkpoint(load_model(default_checkpoint))
    assert "input_noise" not in table["hyper_parameters"] or table["hyper_parameters"]["input_noise"] == ""
    for value, accepted in (("gaussian=0.3,erased_blocks=0.25", True), ("snow=0.2", False), (0.3, False)):
        table["hyper_parameters"]["input_noise"] = value
        path = tmp_path / "model.ckpt"
        torch.save(table, path)
        if accepted:
            assert load_model(path).hparams["input_noise"] == value
        else:
            with pytest.raises(CheckpointError) as refused:
                load_model(path)
            assert "input_noise" in str(refused.value) and "\n" not in str(refused.value)
