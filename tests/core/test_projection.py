import numpy as np
import pytest

from aegui.core.projection import IdentityProjection, NeighbourInverse, PCAProjection, available_methods, fit_projection


def _codes(n=500, k=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, k)) * np.linspace(3, 0.1, k)).astype(np.float32)


def test_pca_places_a_reference_code_at_its_own_position():
    codes = _codes()
    projection = fit_projection("pca", codes)
    positions = projection.transform(codes)
    assert np.allclose(projection.transform(codes[7]), positions[7], atol=1e-5)
    assert positions[:, 0].var() > positions[:, 1].var()  # the first axis is the widest spread


def test_pca_inverse_lands_back_on_the_same_map_point():
    projection = PCAProjection(_codes())
    point = np.array([[1.5, -0.5]], np.float32)
    assert np.allclose(projection.transform(projection.inverse_transform(point)), point, atol=1e-4)


def test_k2_uses_the_code_itself():
    projection = fit_projection("pca", _codes(k=2))
    assert isinstance(projection, IdentityProjection)
    assert np.allclose(projection.transform(np.array([[0.3, -2.0]])), [[0.3, -2.0]])
    assert np.allclose(projection.inverse_transform(np.array([[1.0, 2.0]])), [[1.0, 2.0]])


def test_k1_is_drawn_on_a_line():
    projection = fit_projection("pca", _codes(k=1))
    assert np.allclose(projection.transform(np.array([[0.7]])), [[0.7, 0.0]])


def test_neighbour_inverse_of_a_reference_position_returns_its_code():
    codes = _codes()
    positions = PCAProjection(codes).transform(codes)
    inverse = NeighbourInverse(codes, positions)
    assert np.allclose(inverse(positions[3:4]), codes[3], atol=1e-3)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown projection"):
        fit_projection("isomap", _codes())


def test_pca_is_available_without_the_optional_map_packages(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("umap", "openTSNE") else real_find_spec(name, *a))
    assert available_methods() == ["pca"]
    assert fit_projection("pca", _codes()).name == "pca"


def test_dimension_labels_go_to_the_most_correlated_dimension_once():
    from aegui.core.dimension_labels import label_dimensions

    correlations = {
        "slant": np.array([0.1, -0.8, 0.5, 0.0]),
        "thickness": np.array([0.6, 0.9, 0.2, 0.1]),
        "loops": np.array([0.1, 0.1, 0.1, 0.2]),
    }
    assert label_dimensions(correlations, 4) == ["", "thickness", "slant", ""]
    assert label_dimensions({"slant": np.array([-0.7, 0.1])}, 2) == ["slant-", ""]


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_nonlinear_map_places_a_reference_digit_on_its_own_position_and_is_cached(method, tmp_path, monkeypatch, reference):
    pytest.importorskip({"tsne": "openTSNE", "umap": "umap"}[method])
    from aegui.core import projection as projection_module
    from aegui.core.resources import DEFAULT_CHECKPOINT
    from aegui.core.session import ModelSession

    session = ModelSession.from_file(DEFAULT_CHECKPOINT, reference)
    codes = session.reference_codes[:400]
    fitted = fit_projection(method, codes, cache_dir=tmp_path)
    assert fitted.name == method and fitted.reference_positions.shape == (400, 2)
    spread = np.linalg.norm(fitted.reference_positions.max(0) - fitted.reference_positions.min(0))
    assert np.linalg.norm(fitted.transform(codes[17]) - fitted.reference_positions[17]) < 1e-3 * spread
    # a new digit of a class lands among references of the same class
    labels = session.reference.labels[:400]
    new_codes = session.reference_codes[400:500]
    new_labels = session.reference.labels[400:500]
    placed = fitted.transform(new_codes)
    nearest = np.argmin(np.linalg.norm(placed[:, None] - fitted.reference_positions[None], axis=2), axis=1)
    assert np.mean(labels[nearest] == new_labels) > 0.8
    # the second fit of the same codes reads the cache instead of fitting again
    monkeypatch.setitem(projection_module._EMBEDDINGS, method, lambda codes: (_ for _ in ()).throw(AssertionError("refitted")))
    cached = fit_projection(method, codes, cache_dir=tmp_path)
    assert np.array_equal(cached.reference_positions, fitted.reference_positions)


def test_fitting_umap_prints_no_warnings():
    import warnings

    pytest.importorskip("umap")
    from aegui.core.projection import _fit_umap

    codes = np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit_umap(codes)
    assert [str(w.message) for w in caught if "umap" in w.filename] == []
