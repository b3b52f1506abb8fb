"""The thread rule under load: projection changes, model switches and sketches interleaved
hundreds of times with the real threaded executor end with every view showing the last
request, and no job fails or raises."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from aegui.core import projection as projection_module
from aegui.core.executor import ImmediateExecutor
from aegui.core.explorer import Explorer
from aegui.core.preprocess import to_mnist
from aegui.qt.worker import LatestWinsExecutor
from tests.qt.conftest import canvas_points, draw_stroke, wait_until_idle

OPERATIONS = 300


def quick_embedding(codes: np.ndarray) -> np.ndarray:
    """A stand-in for t-SNE with its shape and determinism, fast enough for hundreds of fits."""
    codes = np.asarray(codes, dtype=np.float64)
    return np.column_stack([codes[:, 0] + 0.5 * codes[:, 1], np.sin(codes[:, 2]) + codes[:, 3]]).astype(np.float32)


def test_interleaved_models_maps_and_sketches_end_showing_the_last_request(qtbot, window, default_checkpoint, k2_checkpoint, monkeypatch, caplog, tmp_path):
    monkeypatch.setitem(projection_module._EMBEDDINGS, "tsne", quick_embedding)
    explorer, canvas = window.explorer, window.canvas
    explorer.projection_cache_dir = tmp_path / "maps"
    failures = []
    explorer.task_failed.connect(lambda description, message: failures.append((description, message)))
    rng = np.random.default_rng(23)
    shapes = ["one", "zero", "seven"]
    last_model, last_method, last_origin = default_checkpoint, explorer.projection_method, None
    with caplog.at_level(logging.ERROR, logger="aegui"):
        for step in range(OPERATIONS):
            action = rng.choice(["sketch", "sketch", "projection", "model", "map", "select", "grid", "clear"])
            if action == "sketch":
                points = canvas_points(canvas, str(rng.choice(shapes)), count=int(rng.integers(4, 12)))
                draw_stroke(canvas, [(x + rng.normal(0, 6), y + rng.normal(0, 6)) for x, y in points])
                last_origin = "sketch"
            elif action == "clear":
                canvas.clear()
                last_origin = "mean"
            elif action == "projection":
                last_method = str(rng.choice(["pca", "tsne"]))
                explorer.set_projection_method(last_method)
            elif action == "model":
                last_model = k2_checkpoint if rng.random() < 0.5 else default_checkpoint
                window.open_model(last_model)
                if last_origin != "sketch":
                    last_origin = "mean"  # another model's codes mean nothing: back to its mean
            elif action == "map" and explorer.session is not None:
                explorer.set_map_point(*rng.normal(0.0, 1.0, 2))
                last_origin = "map"
            elif action == "select" and explorer.session is not None:
                explorer.select_dimension(int(rng.integers(0, 2)) if rng.random() < 0.7 else None)
            elif action == "grid":
                explorer.show_decoded_map(bool(rng.random() < 0.5))
            QApplication.processEvents()  # results of earlier requests arrive among the later ones
            if step % 40 == 39:
                wait_until_idle(qtbot, window)
        wait_until_idle(qtbot, window)
        wait_until_idle(qtbot, window)  # a model that arrived last may have asked for its map again

    assert failures == [] and [record.getMessage() for record in caplog.records] == []
    session, analysis = explorer.session, explorer.analysis
    assert session.model.path == last_model
    assert session.projection.name == (last_method if session.latent_dim > 2 else "latent")
    assert analysis.session is session
    if last_origin is not None:
        assert analysis.origin == last_origin
    if analysis.origin == "sketch":
        assert np.array_equal(analysis.input_image, to_mnist(explorer.sketch))
    # every view shows that analysis of that session on that map
    assert np.array_equal(window.latent_bars.bar_heights(), analysis.code)
    assert np.allclose(window.latent_map.marker_position(), analysis.map_position)
    x, y = window.latent_map._references.getData()
    assert np.allclose(np.column_stack([x, y]), session.reference_positions)
    assert np.array_equal(window.nearest_digits.shown_indices, analysis.neighbours)
    assert np.array_equal(window.decoded_view.images.image(1), analysis.reconstruction)
    assert window.anomaly_meter.gauge.percentile == pytest.approx(analysis.anomaly_percentile)
    assert window.anomaly_meter.gauge.shown_percentile == window.anomaly_meter.gauge.percentile  # its number too, at its pace
    assert f"k = {session.latent_dim}" in window.windowTitle() and session.model.path.name in window.windowTitle()
    assert window.latent_map.decoded_grid_shown() == explorer.decoded_map_shown


def test_a_published_session_is_frozen_and_another_map_is_another_session(reference, default_checkpoint):
    explorer = Explorer(reference, ImmediateExecutor())
    explorer.open_model(default_checkpoint)
    session = explorer.session
    positions = session.reference_positions.copy()
    with pytest.raises(AttributeError):
        session.projection = None
    with pytest.raises(ValueError):
        session.reference_codes[0, 0] = 1.0  # read-only: a worker may be reading it
    explorer.set_projection_method("tsne" if "tsne" in projection_module.available_methods() else "pca")
    assert explorer.session is not session and explorer.session.model is session.model
    assert np.array_equal(session.reference_positions, positions)  # the old value is untouched


@pytest.mark.parametrize("threaded", [False, True])
def test_a_failed_job_is_logged_and_reported_to_its_requester_never_raised(qtbot, reference, caplog, threaded, tmp_path):
    executor = LatestWinsExecutor() if threaded else ImmediateExecutor()
    explorer = Explorer(reference, executor)
    refused, failed = [], []
    explorer.model_load_failed.connect(lambda path, message: refused.append(message))
    explorer.task_failed.connect(lambda description, message: failed.append(description))
    with caplog.at_level(logging.ERROR, logger="aegui"):
        explorer.open_model(tmp_path / "missing.ckpt")
        qtbot.waitUntil(lambda: bool(refused), timeout=20000)
    if threaded:
        executor.shutdown()
    assert len(refused) == 1 and failed == []  # the requester heard; nobody else needs to
    assert any("missing.ckpt" in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_failed_analysis_is_shown_as_a_failed_task_and_the_next_request_works(reference, default_checkpoint, monkeypatch, caplog):
    from aegui.core.session import ModelSession

    explorer = Explorer(reference, ImmediateExecutor())
    explorer.open_model(default_checkpoint)
    failed, shown = [], []
    explorer.task_failed.connect(lambda description, message: failed.append(message))
    explorer.analysis_changed.connect(shown.append)
    analyse_code = ModelSession.analyse_code
    monkeypatch.setattr(ModelSession, "analyse_code", lambda self, code, origin: (_ for _ in ()).throw(RuntimeError("decoder out of memory")))
    with caplog.at_level(logging.ERROR, logger="aegui"):
        explorer.sample_random()  # raises inside the job: reported, not raised here
    assert failed == ["decoder out of memory"] and shown == []
    assert any("decoder out of memory" in record.getMessage() for record in caplog.records)
    monkeypatch.setattr(ModelSession, "analyse_code", analyse_code)
    explorer.reset_to_mean()
    assert len(shown) == 1 and shown[0].origin == "mean"
