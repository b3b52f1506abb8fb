"""DCI against known answers: a code that is the factors, one that mixes them all."""

from __future__ import annotations

import numpy as np

from training.disentanglement import dci


def test_a_code_that_is_the_factors_is_fully_disentangled_and_complete():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(4000, 3))
    result = dci(factors.copy(), factors)
    assert result["disentanglement"] > 0.99 and result["completeness"] > 0.99 and result["informativeness"] > 0.99


def test_a_rotation_that_mixes_every_factor_into_every_dimension_scores_low():
    rng = np.random.default_rng(1)
    factors = rng.normal(size=(4000, 3))
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    mixed = factors @ (rotation + 0.6)  # every dimension a blend of all three
    result = dci(mixed, factors)
    assert result["informativeness"] > 0.99  # the information is all there...
    assert result["disentanglement"] < 0.6 and result["completeness"] < 0.6  # ...but spread over the dimensions


def test_dimensions_that_carry_only_noise_leave_both_scores_high():
    rng = np.random.default_rng(2)
    factors = rng.normal(size=(4000, 2))
    codes = np.concatenate([factors, rng.normal(scale=0.01, size=(4000, 6))], axis=1)  # six dimensions of noise
    result = dci(codes, factors)
    assert result["disentanglement"] > 0.9 and result["completeness"] > 0.9
