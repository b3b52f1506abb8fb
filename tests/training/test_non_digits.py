"""What the code detector learns from: restyled digits stay digits in MNIST's frame, drawings
are not empty."""

from __future__ import annotations

import numpy as np
import torch

from training.non_digits import (
    random_drawings,
    restyle_share,
    restyled,
    varied_drawings,
)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.max(1) > 0.02), np.flatnonzero(image.max(0) > 0.02)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_restyled_digits_are_heavier_or_softer_and_still_fill_the_20_box(reference):
    digits = torch.from_numpy(reference.images[:60]).unsqueeze(1)
    styled = restyled(digits, seed=1)
    assert styled.shape == digits.shape and float(styled.min()) >= 0 and float(styled.max()) <= 1
    assert (styled - digits).abs().mean() > 0.05  # a different look, not the same digits
    assert all(max(ink_box(image[0].numpy())) in (19, 20, 21) for image in styled)
    grey = ((styled > 0.1) & (styled < 0.9)).float().mean() / ((digits > 0.1) & (digits < 0.9)).float().mean()
    assert grey > 1.3  # blur and low resolution widen the soft edge
    assert torch.equal(restyled(digits, seed=1), styled)  # seeded


def test_random_drawings_are_seeded_sketches_with_ink():
    drawings = random_drawings(8, seed=2)
    assert drawings.shape == (8, 1, 28, 28)
    assert all(image.max() > 0.8 and max(ink_box(image[0].numpy())) in (19, 20, 21) for image in drawings)
    assert torch.equal(random_drawings(8, seed=2), drawings)


def test_varied_drawings_are_seeded_sketches_of_many_looks():
    drawings = varied_drawings(40, seed=3)
    assert drawings.shape == (40, 1, 28, 28)
    assert all(image.max() > 0.8 and max(ink_box(image[0].numpy())) in (19, 20, 21) for image in drawings)
    assert torch.equal(varied_drawings(40, seed=3), drawings) and not torch.equal(varied_drawings(40, seed=4), drawings)
    ink = (drawings > 0.5).float().mean((1, 2, 3))
    assert float(ink.min()) < 0.15 and float(ink.max()) > 0.35  # thin outlines and filled shapes both


def test_restyle_share_restyles_about_that_share_of_a_batch_and_repeats_with_the_seed(reference):
    digits = torch.from_numpy(reference.images[:200]).unsqueeze(1)
    assert restyle_share(digits, 0.0) is digits
    torch.manual_seed(5)
    half = restyle_share(digits, 0.5)
    changed = (half - digits).abs().flatten(1).amax(1) > 0
    assert 70 <= int(changed.sum()) <= 130
    torch.manual_seed(5)
    assert torch.equal(restyle_share(digits, 0.5), half)


def test_the_style_aware_inner_distance_also_learns_restyled_training_digits(reference, monkeypatch):
    import training.anomaly_fitting as fitting
    from aegui.core.networks import build_autoencoder
    from training.metrics import encode_inner

    autoencoder = build_autoencoder({"architecture": "conv", "latent_dim": 4, "hidden_dim": 32, "channels": 4})
    digits = torch.from_numpy(reference.images[:50]).unsqueeze(1)
    labels = torch.from_numpy(reference.labels[:50]).long()
    _, inner = encode_inner(autoencoder, digits)
    assert fitting.style_aware_inner(autoencoder, digits, labels, inner)[0] is inner  # off: the training digits alone
    monkeypatch.setattr(fitting, "STYLE_AWARE_INNER", True)
    monkeypatch.setattr(fitting, "MAX_RESTYLED", 20)
    fitted, fitted_labels = fitting.style_aware_inner(autoencoder, digits, labels, inner)
    assert fitted.shape == (70, inner.shape[1]) and torch.equal(fitted[:50], inner)
    assert not torch.equal(fitted[50:], inner[:20]) and bool(torch.isin(fitted_labels[50:], labels).all())
    assert torch.equal(fitting.style_aware_inner(autoencoder, digits, labels, inner)[0], fitted)  # seeded
