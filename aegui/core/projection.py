"""Latent codes to 2-D map positions and back.

For k <= 2 the code is the map. For larger k a projection is fitted on the reference codes:
PCA (linear, instant, exact inverse onto its plane), or UMAP / t-SNE when installed
(the ``maps`` extra: ``MAPS_INSTALL``), fitted once per model and cached.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from aegui.core.paths import cache_dir


class Projection:
    """Fitted map from codes (n, k) to positions (n, 2), with an approximate inverse."""

    name = "projection"

    def transform(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class IdentityProjection(Projection):
    """k = 2: the latent code is itself the map (k = 1 is drawn on a line)."""

    name = "latent"

    def __init__(self, latent_dim: int):
        if latent_dim > 2:
            raise ValueError("the identity map needs k <= 2")
        self.latent_dim = latent_dim

    def transform(self, codes: np.ndarray) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        if self.latent_dim == 2:
            return codes.copy()
        return np.column_stack([codes[:, 0], np.zeros(len(codes), np.float32)])

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=np.float32))
        return points[:, : self.latent_dim].copy()


class PCAProjection(Projection):
    """The plane of the two directions along which the reference codes vary most."""

    name = "pca"

    def __init__(self, codes: np.ndarray):
        codes = np.asarray(codes, dtype=np.float64)
        self.mean = codes.mean(axis=0)
        # The leading eigenvectors of the k x k scatter matrix: the same directions as the
        # leading right singular vectors of the (n, k) centred codes, but a k x k problem
        # (about 1 ms for 3,000 codes of 32 dimensions, where the SVD took 0.2-0.4 s of a
        # model's start-up on a 2-core machine).
        centred = codes - self.mean
        eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
        components = eigenvectors[:, np.argsort(eigenvalues)[::-1][:2]].T
        # a deterministic sign, so the map does not flip between runs
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        self.components = components * signs[:, None]

    def transform(self, codes: np.ndarray) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float64))
        return ((codes - self.mean) @ self.components.T).astype(np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        return (self.mean + points @ self.components).astype(np.float32)


class NeighbourInverse:
    """Inverse of a non-linear map: inverse-distance average of the nearest references' codes."""

    def __init__(self, codes: np.ndarray, positions: np.ndarray, neighbours: int = 8):
        self.codes = np.asarray(codes, dtype=np.float32)
        self.positions = np.asarray(positions, dtype=np.float32)
        self.neighbours = min(neighbours, len(codes))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=np.float32))
        distances = np.linalg.norm(points[:, None, :] - self.positions[None, :, :], axis=2)
        nearest = np.argsort(distances, axis=1)[:, : self.neighbours]
        weights = 1.0 / (np.take_along_axis(distances, nearest, axis=1) + 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nj,njk->nk", weights, self.codes[nearest]).astype(np.float32)


class EmbeddingProjection(Projection):
    """A non-linear map (UMAP, t-SNE) fitted once on the reference codes.

    New codes are placed live by inverse-distance weighting of their nearest reference codes'
    positions (in latent space): the same initial placement UMAP's and openTSNE's own
    ``transform`` start from, fast enough for every pen event. A reference code lands exactly
    on its own position; a map click returns the weighted codes of the nearest points.
    """

    def __init__(self, name: str, codes: np.ndarray, positions: np.ndarray, neighbours: int = 8):
        self.name = name
        self.codes = np.asarray(codes, dtype=np.float32)
        self.reference_positions = np.asarray(positions, dtype=np.float32)
        self.neighbours = min(neighbours, len(codes))
        self.inverse = NeighbourInverse(self.codes, self.reference_positions, neighbours)

    def transform(self, codes: np.ndarray) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        distances = np.sqrt(((codes[:, None, :] - self.codes[None, :, :]) ** 2).sum(axis=2))
        nearest = np.argpartition(distances, self.neighbours - 1, axis=1)[:, : self.neighbours]
        weights = 1.0 / (np.take_along_axis(distances, nearest, axis=1) ** 2 + 1e-12)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nj,njd->nd", weights, self.reference_positions[nearest]).astype(np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return self.inverse(points)


def _fit_umap(codes: np.ndarray, neighbours: int = 15) -> np.ndarray:
    import umap

    codes = np.asarray(codes, dtype=np.float32)
    neighbours = min(neighbours, len(codes) - 1)
    # Seeded, so one thread (n_jobs=1 says so, and keeps UMAP from warning that it chose it).
    options = dict(n_components=2, random_state=0, n_neighbors=neighbours, min_dist=0.1, n_jobs=1)
    if len(codes) >= _UMAP_ALL_DISTANCES_BELOW:
        return umap.UMAP(**options).fit_transform(codes)
    # Below this size UMAP computes all distances too, then spends seconds compiling (numba,
    # parallel) its search of them; numpy finds the same exact neighbours at once.
    wide = codes.astype(np.float64)
    squared = (wide**2).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * wide @ wide.T, 0.0))
    np.fill_diagonal(distances, 0.0)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :neighbours]
    nearest_distances = np.take_along_axis(distances, nearest, axis=1).astype(np.float32)
    with warnings.catch_warnings():  # that transform() would need its search index: the map never calls it
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        return umap.UMAP(**options, precomputed_knn=(nearest, nearest_distances)).fit_transform(codes)


_UMAP_ALL_DISTANCES_BELOW = 4096  # UMAP's own threshold for its exact all-distances search


def _fit_tsne(codes: np.ndarray) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(n_components=2, random_state=0, n_jobs=1, verbose=False).fit(codes.astype(np.float64)))


_EMBEDDINGS = {"umap": _fit_umap, "tsne": _fit_tsne}


def _embedding_positions(method: str, codes: np.ndarray, cache_dir: Path | None) -> np.ndarray:
    """Fit the embedding, or read it from the cache keyed by the codes themselves."""
    key = hashlib.sha256(method.encode() + np.ascontiguousarray(codes, dtype=np.float32).tobytes()).hexdigest()[:32]
    cache_file = cache_dir / f"{method}-{key}.npy" if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        try:
            positions = np.load(cache_file, allow_pickle=False)
            if positions.shape == (len(codes), 2) and np.isfinite(positions).all():
                return positions.astype(np.float32)
        except (OSError, ValueError):
            pass  # a damaged cache entry is simply fitted again
    positions = np.asarray(_EMBEDDINGS[method](codes), dtype=np.float32)
    if cache_file is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".npy")
            with os.fdopen(handle, "wb") as output:
                np.save(output, positions, allow_pickle=False)
            os.replace(temporary, cache_file)
        except OSError:
            pass  # no cache this time
    return positions


def default_cache_dir() -> Path:
    return cache_dir("projections")


_OPTIONAL_MODULES = {"umap": "umap", "tsne": "openTSNE"}
PROJECTION_METHODS = ("pca", "umap", "tsne")
# Map points (clicks, the view's pan) are held within this many map widths of the reference digits.
MAP_LIMIT_WIDTHS = 3.0
MAPS_INSTALL = "pip install umap-learn openTSNE"  # the maps extra's packages: works from any folder, unlike -e ".[maps]"
PROJECTION_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def available_methods() -> list[str]:
    return ["pca"] + [method for method, module in _OPTIONAL_MODULES.items() if importlib.util.find_spec(module) is not None]


def fit_projection(method: str, codes: np.ndarray, cache_dir: Path | None = None) -> Projection:
    """Fit the named projection on reference codes; k <= 2 always maps by identity.

    UMAP and t-SNE embeddings are cached in ``cache_dir`` (per model: the key is a hash of
    the reference codes), so reopening a checkpoint shows its map at once.
    """
    latent_dim = np.asarray(codes).shape[1]
    if latent_dim <= 2:
        return IdentityProjection(latent_dim)
    if method == "pca":
        return PCAProjection(codes)
    if method in _EMBEDDINGS:
        return EmbeddingProjection(method, codes, _embedding_positions(method, np.asarray(codes, np.float32), cache_dir))
    raise ValueError(f"unknown projection {method!r}; choose one of {PROJECTION_METHODS}")
