"""Noise robustness figures: the same noisy digits for every model, worse as the noise grows."""

from __future__ import annotations

import pytest

from aegui.core.model_files import load_model
from aegui.core.executor import ImmediateExecutor
from aegui.core.explorer import Explorer
from aegui.core.noise import NOISE_KINDS
from aegui.core.robustness import RobustnessComparison, model_robustness


@pytest.fixture(scope="module")
def default_figures(default_checkpoint, reference):
    return model_robustness(load_model(default_checkpoint), reference.images[:100], reference.labels[:100])


def test_robustness_is_repeatable_and_falls_as_the_noise_grows(default_checkpoint, reference, default_figures):
    again = model_robustness(load_model(default_checkpoint), reference.images[:100], reference.labels[:100])
    assert again == default_figures  # the very same noisy digits
    assert default_figures.strengths[0] == 0.0 and default_figures.n_digits == 100
    for kind in NOISE_KINDS:
        mse, accuracy = default_figures.mse_to_clean[kind], default_figures.probe_accuracy[kind]
        assert mse[0] < mse[-1] and accuracy[0] > accuracy[-1]
    assert default_figures.probe_accuracy["gaussian"][0] > 0.9


def test_the_comparison_measures_each_compared_model_smallest_k_first(default_checkpoint, k2_checkpoint, reference):
    explorer = Explorer(reference, ImmediateExecutor(), seed=0)
    comparison = RobustnessComparison(explorer, digits=100)
    published = []
    comparison.robustness_changed.connect(published.append)
    explorer.open_comparison([default_checkpoint, k2_checkpoint])
    names = [name for name, _ in published[-1]]
    assert names == ["mnist-conv-k2", "mnist-conv-k32"] or [n.split(".")[0] for n in names] == ["mnist-conv-k2", "mnist-conv-k32"]
    k2, k32 = (figures for _, figures in published[-1])
    assert k2.mean_over_kinds("probe_accuracy")[0] < k32.mean_over_kinds("probe_accuracy")[0]  # a 2-D code reads fewer digits
    explorer.clear_comparison()
    assert published[-1] == []


def test_a_checkpoint_replaced_in_the_same_file_shows_its_own_figures_and_the_same_weights_are_measured_once(default_checkpoint, k2_checkpoint, reference, tmp_path, monkeypatch):
    import shutil

    from aegui.core import robustness

    measured = []
    real = robustness.model_robustness
    monkeypatch.setattr(robustness, "model_robustness", lambda model, *args: measured.append(model.latent_dim) or real(model, *args))
    explorer = Explorer(reference, ImmediateExecutor(), seed=0)
    comparison = RobustnessComparison(explorer, digits=50, seed=123)  # a seed no other test measures with
    published = []
    comparison.robustness_changed.connect(published.append)
    best = tmp_path / "run" / "best.ckpt"
    best.parent.mkdir()
    shutil.copy(k2_checkpoint, best)
    explorer.open_comparison([best, default_checkpoint])
    first = dict(published[-1])
    explorer.open_comparison([default_checkpoint, tmp_path / "run" / "best.ckpt"])  # nothing new: nothing measured again
    assert measured == [2, 32]
    shutil.copy(default_checkpoint, best)  # the run trained again, into the same file
    explorer.open_comparison([best, default_checkpoint])
    assert measured == [2, 32]  # best.ckpt now holds the very weights measured already: the same figures
    (_, figures_a), (_, figures_b) = published[-1]
    assert figures_a == figures_b == first["mnist-conv-k32"] and first["best"] != figures_a
