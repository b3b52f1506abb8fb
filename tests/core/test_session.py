"""The model session and explorer without any display, on the bundled default model."""

from __future__ import annotations

import numpy as np
import pytest

from aegui.core.executor import ImmediateExecutor
from aegui.core.explorer import Explorer
from aegui.core.resources import load_reference_digits
from aegui.core.session import ModelSession
from tests.core.sketches import dense_scribble


@pytest.fixture(scope="module")
def session(default_checkpoint, reference):
    return ModelSession.from_file(default_checkpoint, reference)


@pytest.fixture(scope="module")
def unseen_digits():
    """Test digits beyond the 1,000 used as map references."""
    digits = load_reference_digits()
    return digits.images[2000:2400], digits.labels[2000:2400]


def test_real_digits_score_below_and_scribbles_above_the_99th_percentile(session, unseen_digits):
    images, _ = unseen_digits
    digit_percentiles = [session.analyse_image(image).error_percentile for image in images[:200]]
    scribble_percentiles = [session.analyse_image(dense_scribble(seed)).error_percentile for seed in range(10)]
    assert np.median(digit_percentiles) < 70
    assert np.mean(np.array(digit_percentiles) < 99) > 0.95
    assert min(scribble_percentiles) > 99
    assert {session.analyse_image(dense_scribble(0)).verdict} == {"not a digit"}


def test_probe_predicts_real_test_digits(session, unseen_digits):
    images, labels = unseen_digits
    predictions = [int(np.argmax(session.analyse_image(image).digit_probabilities)) for image in images]
    assert np.mean(np.array(predictions) == labels) > 0.9


def test_nearest_references_of_a_digit_mostly_share_its_label(session, unseen_digits):
    images, labels = unseen_digits
    agreement = [np.mean(session.reference.labels[session.analyse_image(image).neighbours] == label) for image, label in zip(images[:100], labels[:100])]
    assert np.mean(agreement) > 0.85


def test_reconstruction_of_a_real_digit_is_close(session, unseen_digits):
    images, _ = unseen_digits
    analysis = session.analyse_image(images[0])
    assert analysis.reconstruction_error < 0.02
    assert np.allclose(analysis.error_map.mean(), analysis.reconstruction_error, rtol=1e-4)


def test_a_pen_events_single_decode_draws_what_the_batch_decode_draws(session, unseen_digits):
    """A single code is decoded by torch's own transposed-convolution kernel (faster for one
    image than oneDNN, which decodes batches); the pixels must be the same."""
    images, _ = unseen_digits
    codes = np.stack([session.analyse_image(image).code for image in images[:20]])
    singles = np.stack([session.decode(code) for code in codes])
    assert np.abs(singles - session.decode_many(codes)).max() < 1e-5
    assert np.abs(singles).max() > 0.5  # digits were drawn


def test_traversal_changes_only_the_chosen_dimension(session, unseen_digits):
    code = session.encode(unseen_digits[0][0])
    values, images = session.traversal(code, dimension=5, steps=7)
    assert images.shape == (7, 28, 28)
    assert np.allclose(values, np.linspace(session.slider_low[5], session.slider_high[5], 7))
    assert np.abs(images[0] - images[-1]).mean() > 0.005
    assert np.abs(np.diff(values)).min() > 0


def test_explorer_flow_without_a_view(default_checkpoint, reference, tmp_path, unseen_digits):
    explorer = Explorer(reference, ImmediateExecutor(), seed=0)
    shown, refused = [], []
    explorer.analysis_changed.connect(shown.append)
    explorer.model_load_failed.connect(lambda path, message: refused.append(message))
    explorer.open_model(default_checkpoint)
    assert explorer.session is not None and shown[-1].origin == "mean"
    session = explorer.session
    raster = np.kron(unseen_digits[0][0], np.ones((12, 12), np.float32))  # the digit, drawn big
    explorer.set_sketch(raster)
    assert shown[-1].origin == "sketch" and shown[-1].input_image is not None
    explorer.set_dimension(0, float(session.slider_high[0]))
    assert shown[-1].origin == "sliders" and shown[-1].code[0] == pytest.approx(session.slider_high[0])
    explorer.back_to_sketch()
    assert shown[-1].origin == "sketch"
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"<html></html>")
    explorer.open_model(bad)
    assert refused and "web page" in refused[-1]
    assert explorer.session is session  # the loaded model stays
    explorer.set_sketch(None)
    assert shown[-1].origin == "mean" and explorer.sketch is None


def test_explorer_map_click_decodes_the_point_it_was_given(default_checkpoint, reference):
    explorer = Explorer(reference, ImmediateExecutor())
    explorer.open_model(default_checkpoint)
    target = explorer.session.reference_positions[10]
    explorer.set_map_point(float(target[0]), float(target[1]))
    assert explorer.analysis.origin == "map"
    assert np.allclose(explorer.analysis.map_position, target, atol=1e-3)  # PCA: exact on its plane


def test_nearest_references_are_the_closest_codes_in_order(session, unseen_digits):
    images, _ = unseen_digits
    codes = session.reference_codes.astype(np.float64)
    for image in images[:20]:
        code = session.encode(image)
        distances = np.linalg.norm(codes - code.astype(np.float64), axis=1)
        nearest = session.nearest_references(code)
        assert len(nearest) == 5
        # the five returned are the five smallest distances, closest first
        assert np.allclose(distances[nearest], np.sort(distances)[:5], rtol=1e-4, atol=1e-4)


def test_saliency_is_the_gradient_of_one_code_component_with_respect_to_the_pixels(session, unseen_digits):
    images, _ = unseen_digits
    image = images[0].astype(np.float32)
    gradient = session.saliency(image, 3)
    assert gradient.shape == (28, 28) and np.abs(gradient).max() > 0
    rows, cols = np.unravel_index(np.argsort(np.abs(gradient).ravel())[-5:], gradient.shape)  # the five strongest pixels
    for row, col in zip(rows, cols):
        step = np.zeros_like(image)
        step[row, col] = 1e-2
        numeric = (session.encode(image + step)[3] - session.encode(image - step)[3]) / 2e-2
        assert np.isclose(numeric, gradient[row, col], rtol=0.05, atol=1e-3)


def test_random_samples_decode_digits_the_model_itself_calls_typical(session):
    """A random sample is drawn where digits' codes lie: most of them decode to something the
    session's own anomaly score reads as a typical digit, in every class. (Independent normals
    per dimension, the sampler before, gave 3-4 % typical for this model.)"""
    rng = np.random.default_rng(5)
    codes = np.stack([session.random_code(rng) for _ in range(120)])
    analyses = [session.analyse_image(image) for image in session.decode_many(codes)]
    typical = np.mean([analysis.verdict == "typical digit" for analysis in analyses])
    read_as = {int(np.argmax(analysis.digit_probabilities)) for analysis in analyses}
    assert typical >= 0.7, typical
    assert read_as == set(range(10))  # every digit class is sampled, not one blob


def test_random_sampling_without_labelled_digits_falls_back_to_the_training_spread(session):
    from aegui.core.session import class_gaussians

    means, factors = class_gaussians(session.reference_codes, np.full(len(session.reference_codes), 255))
    assert means.shape == (0, session.latent_dim) and factors.shape == (0, session.latent_dim, session.latent_dim)


def test_a_model_opens_on_two_threads_and_the_pen_keeps_one(session, reference, monkeypatch):
    """As aegui runs: torch on one thread (the live pen's), set at start-up. Encoding the
    reference digits, the slowest step of opening a model, uses two where there are two cores
    (and OMP_NUM_THREADS, which the suite sets to 1, allows them); the loading thread and
    threads started after it are back on one."""
    import os
    import threading

    import torch

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: nothing to share")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    model, seen = session.model, {}
    encode = type(model.autoencoder).encode

    def counting_encode(self, images):
        seen.setdefault("threads", torch.get_num_threads())
        return encode(self, images)

    def open_and_start_another() -> None:
        before = torch.get_num_threads()
        torch.set_num_threads(1)  # as aegui's start-up does
        try:
            ModelSession(model, reference)
            seen["after"] = torch.get_num_threads()
            later = threading.Thread(target=lambda: seen.setdefault("later", torch.get_num_threads()))
            later.start()
            later.join()
        finally:
            torch.set_num_threads(before)  # the test process's own setting

    type(model.autoencoder).encode = counting_encode
    try:
        loading = threading.Thread(target=open_and_start_another)
        loading.start()
        loading.join()
    finally:
        type(model.autoencoder).encode = encode
    assert seen == {"threads": 2, "after": 1, "later": 1}


def test_omp_num_threads_caps_the_threads_a_model_opens_on(monkeypatch):
    """The suite's workers (one per core) run on OMP_NUM_THREADS=1: opening a model there
    must not start a second thread that spins beside the other worker."""
    import threading

    import torch

    from aegui.core.torch_threads import torch_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    seen = {}

    def open_a_model() -> None:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch_threads(2):
                seen["inside"] = torch.get_num_threads()
        finally:
            torch.set_num_threads(before)

    thread = threading.Thread(target=open_a_model)
    thread.start()
    thread.join()
    assert seen == {"inside": 1}
