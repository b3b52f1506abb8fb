"""The live pass (encode, clamp, decode in one traced call) computes what the eager path does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aegui.core.live_pass import build_live_pass
from aegui.core.networks import build_autoencoder
from aegui.core.session import CODE_STD_LIMIT, ModelSession

NETWORKS = [
    {"architecture": "conv", "latent_dim": 4, "hidden_dim": 32, "channels": 4},
    {"architecture": "conv", "latent_dim": 3, "hidden_dim": 32, "channels": 4, "variational": True, "hidden_layers": 2},
    {"architecture": "dense", "latent_dim": 5, "hidden_dim": 64},
]


def sketches(reference) -> list[np.ndarray]:
    """Real digits, an empty canvas, and images far outside anything drawn (codes the clamp holds)."""
    digits = [reference.images[index] for index in range(0, 40, 4)]
    return [*digits, np.zeros((28, 28), np.float32), digits[0] * 1e4, -digits[1] * 1e4]


@pytest.mark.parametrize("hparams", NETWORKS, ids=["conv", "variational-deeper", "dense"])
def test_the_traced_pass_equals_the_eager_pass_for_every_network_shape(hparams, reference):
    torch.manual_seed(0)
    autoencoder = build_autoencoder(hparams).eval()
    mean, std = np.linspace(-1, 1, hparams["latent_dim"]).astype(np.float32), np.full(hparams["latent_dim"], 0.01, np.float32)
    limit = CODE_STD_LIMIT * std
    traced, is_traced = build_live_pass(autoencoder, mean, mean - limit, mean + limit)
    assert is_traced and isinstance(traced, torch.jit.ScriptModule)
    clamped = 0
    with torch.inference_mode():
        for image in sketches(reference):
            batch = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, 28, 28)
            code, inner = autoencoder.encode_with_inner(batch)
            held = torch.minimum(torch.maximum(code, torch.from_numpy(mean - limit)), torch.from_numpy(mean + limit))
            clamped += int((held != code).any())
            expected = (held, inner, autoencoder.decode(held))
            for got, want in zip(traced(batch), expected):
                assert torch.equal(got, want)
    assert clamped >= 2  # the bounds were reached, and held the same way


@pytest.mark.parametrize("checkpoint", ["default_checkpoint", "k2_checkpoint"])
def test_a_sketchs_analysis_is_the_same_through_the_live_pass_and_through_encode_then_decode(checkpoint, reference, request):
    session = ModelSession.from_file(request.getfixturevalue(checkpoint), reference)
    assert session.live_pass_traced
    for image in sketches(reference):
        live = session.analyse_image(image)
        stepwise = session.analyse_image(image, encoded=session.encode_with_inner(image))  # encoder, clamp_code, decoder one by one
        assert np.array_equal(live.code, stepwise.code) and np.array_equal(live.reconstruction, stepwise.reconstruction)
        assert live.anomaly_percentile == stepwise.anomaly_percentile and live.verdict == stepwise.verdict
        assert np.array_equal(live.map_position, stepwise.map_position)


def test_without_tracing_the_eager_pass_gives_the_same_analysis(default_checkpoint, reference, monkeypatch):
    traced_session = ModelSession.from_file(default_checkpoint, reference)

    def refuse(*args, **kwargs):
        raise RuntimeError("tracing is not available in this torch")

    monkeypatch.setattr(torch.jit, "trace", refuse)
    eager_session = ModelSession.from_file(default_checkpoint, reference)
    assert traced_session.live_pass_traced and not eager_session.live_pass_traced
    for image in sketches(reference):
        traced, eager = traced_session.analyse_image(image), eager_session.analyse_image(image)
        assert np.array_equal(traced.code, eager.code) and np.array_equal(traced.reconstruction, eager.reconstruction)
