"""Latent codes to 2-D map positions and back.

For k <= 2 the code is the map. For larger k a projection is fitted on the reference codes:
PCA (linear, instant, exact inverse onto its plane), or UMAP / t-SNE when installed (they
place new sketches with their own ``transform``; a map click is turned back into a code by
averaging the codes of the nearest reference points).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

Progress = Callable[[str], None]


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
        _, singular_values, vt = np.linalg.svd(codes - self.mean, full_matrices=False)
        components = vt[:2]
        # a deterministic sign, so the map does not flip between runs
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        self.components = components * signs[:, None]
        variance = singular_values**2
        self.explained_variance_ratio = variance[:2] / variance.sum()

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


class UMAPProjection(Projection):
    name = "umap"

    def __init__(self, codes: np.ndarray, random_state: int = 0):
        import umap

        self.model = umap.UMAP(n_components=2, random_state=random_state, n_neighbors=15, min_dist=0.1)
        positions = self.model.fit_transform(np.asarray(codes, dtype=np.float32))
        self.inverse = NeighbourInverse(codes, positions)
        self.reference_positions = positions.astype(np.float32)

    def transform(self, codes: np.ndarray) -> np.ndarray:
        return self.model.transform(np.atleast_2d(np.asarray(codes, dtype=np.float32))).astype(np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return self.inverse(points)


class TSNEProjection(Projection):
    name = "tsne"

    def __init__(self, codes: np.ndarray, random_state: int = 0):
        from openTSNE import TSNE

        self.embedding = TSNE(n_components=2, random_state=random_state, n_jobs=1, verbose=False).fit(np.asarray(codes, dtype=np.float64))
        positions = np.asarray(self.embedding, dtype=np.float32)
        self.inverse = NeighbourInverse(codes, positions)
        self.reference_positions = positions

    def transform(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(self.embedding.transform(np.atleast_2d(np.asarray(codes, dtype=np.float64))), dtype=np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return self.inverse(points)


_OPTIONAL_MODULES = {"umap": "umap", "tsne": "openTSNE"}
PROJECTION_METHODS = ("pca", "umap", "tsne")


def available_methods() -> list[str]:
    return ["pca"] + [method for method, module in _OPTIONAL_MODULES.items() if importlib.util.find_spec(module) is not None]


def fit_projection(method: str, codes: np.ndarray) -> Projection:
    """Fit the named projection on reference codes; k <= 2 always maps by identity."""
    latent_dim = np.asarray(codes).shape[1]
    if latent_dim <= 2:
        return IdentityProjection(latent_dim)
    if method == "pca":
        return PCAProjection(codes)
    if method == "umap":
        return UMAPProjection(codes)
    if method == "tsne":
        return TSNEProjection(codes)
    raise ValueError(f"unknown projection {method!r}; choose one of {PROJECTION_METHODS}")
