"""A loaded model together with what it takes to explain its codes.

``ModelSession`` encodes the reference digits once, fits the map projection, and answers the
live questions (encode, decode, error, percentile, probe, neighbours) for one image or code
at a time. A session is a value: frozen once constructed (attributes cannot be reassigned and
its arrays are read-only), so a worker thread can use it while the GUI thread publishes the
next one. Another map is another value (``with_projection``), never an edit of this one.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aegui.core.anomaly import FEATURE_LABELS, AnomalyScorer, error_percentile, reconstruction_error, smallest_indices, verdict
from aegui.core.model_files import LoadedModel, load_model
from aegui.core.dimension_labels import label_dimensions
from aegui.core.errors import CheckpointError
from aegui.core.live_pass import build_live_pass
from aegui.core.model_format import ERROR_QUANTILE_COUNT, IMAGE_SIZE
from aegui.core.projection import MAP_LIMIT_WIDTHS, Projection, fit_projection
from aegui.core.resources import LabelledImages
from aegui.core.torch_threads import torch_threads

SLIDER_STD_RANGE = 3.0
# Codes are held within this many training standard deviations of the mean: far beyond the
# sliders' 3 and any digit's code, well within what float32 decoders handle.
CODE_STD_LIMIT = 50.0
NEIGHBOURS = 5
FINITE_CHECK_SAMPLE = 256  # reference digits decoded to check a model with stored statistics
# Reference digits per encoder pass when a model opens: a batch's activations then stay in the
# CPU's caches (3,000 digits in batches of 256 took 0.36-0.42 s of CPU here, in batches of
# 1,000 0.61-0.68 s, with the same codes).
REFERENCE_BATCH = 256
# Intra-op threads for encoding the reference digits when a model opens (the live pen uses
# one): the slowest step of a model load, done while the GUI thread waits for it.
REFERENCE_THREADS = 2
_model_numbers = itertools.count(1)  # one per model loaded: keys caches by value, never by id()


def _image_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, IMAGE_SIZE, IMAGE_SIZE)


def finite_image(image: np.ndarray) -> np.ndarray:
    """A decoded image as views can paint it: NaN as paper, everything within [0, 1]."""
    if np.isfinite(image).all():
        return image
    return np.clip(np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Analysis:
    """Everything the views show for one code: where it came from and what it decodes to."""

    session: "ModelSession"
    origin: str
    code: np.ndarray
    reconstruction: np.ndarray
    map_position: np.ndarray
    neighbours: np.ndarray
    digit_probabilities: np.ndarray | None
    input_image: np.ndarray | None = None
    error_map: np.ndarray | None = None
    reconstruction_error: float | None = None
    error_percentile: float | None = None  # of the reconstruction error among held-out digits
    verdict: str | None = None  # from anomaly_percentile
    anomaly_percentile: float | None = None  # the combined score's (the reconstruction's without one)
    anomaly_parts: dict[str, float] = field(default_factory=dict)  # each part's percentile
    anomaly_reason: str = ""  # which part makes it unusual, in words
    extras: dict = field(default_factory=dict)


DECODED_GRID_CELLS = 14  # 196 decoded digits behind the map


@dataclass(frozen=True)
class DecodedGrid:
    low: np.ndarray  # map coordinates of the grid's lower left corner
    high: np.ndarray
    cells: int
    images: np.ndarray  # (cells, cells, 28, 28), top row first
    digits: np.ndarray  # (cells, cells) the probe's digit per cell, -1 without a probe


def class_gaussians(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(means (c, k), Cholesky factors (c, k, k)) of the codes of each digit class 0-9 that has
    more than one example; a small ridge keeps a class with fewer examples than dimensions
    positive definite."""
    means, factors = [], []
    for digit in range(10):
        chosen = codes[np.asarray(labels) == digit].astype(np.float64)
        if len(chosen) < 2:
            continue
        covariance = np.atleast_2d(np.cov(chosen, rowvar=False))
        covariance += np.eye(len(covariance)) * (1e-3 * float(np.mean(np.diag(covariance))) + 1e-9)
        means.append(chosen.mean(0))
        factors.append(np.linalg.cholesky(covariance))
    k = codes.shape[1]
    if not means:
        return np.zeros((0, k), np.float32), np.zeros((0, k, k), np.float32)
    return np.array(means, np.float32), np.array(factors, np.float32)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class ModelSession:
    """One loaded model with its reference codes and map; frozen once constructed."""

    def __init__(self, model: LoadedModel, reference: LabelledImages, projection_method: str = "pca", projection_cache: Path | None = None):
        self.model = model
        self.model_number = next(_model_numbers)  # shared by every map of this model
        self.reference = reference
        autoencoder = model.autoencoder
        with torch.inference_mode(), torch_threads(REFERENCE_THREADS):
            images = torch.from_numpy(reference.images).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
            codes = torch.cat([autoencoder.encode(images[i : i + REFERENCE_BATCH]) for i in range(0, len(images), REFERENCE_BATCH)])
            statistics = model.statistics
            # Every reconstruction only without stored statistics (their errors make the
            # quantiles); otherwise a sample shows the decoder is sane: decoding all the
            # reference digits was over half of the time to a ready model.
            decoded = len(codes) if statistics is None else min(len(codes), FINITE_CHECK_SAMPLE)
            reconstructions = torch.cat([autoencoder.decode(codes[i : min(i + REFERENCE_BATCH, decoded)]) for i in range(0, decoded, REFERENCE_BATCH)])
        if not (torch.isfinite(codes).all() and torch.isfinite(reconstructions).all()):
            raise CheckpointError("This model turns real digits into numbers that overflow (its weights are out of any trained range); aegui cannot show it.")
        self.reference_codes = codes.numpy()
        self._reference_norms = np.einsum("nk,nk->n", self.reference_codes, self.reference_codes)
        if statistics is not None:
            self.latent_mean = statistics.latent_mean.numpy()
            self.latent_std = statistics.latent_std.numpy()
            self.error_quantiles = statistics.error_quantiles.numpy()
            self.statistics_source = "training set (stored in the checkpoint)"
        else:  # an older or hand-made checkpoint: estimate from the bundled digits
            self.latent_mean = self.reference_codes.mean(0)
            self.latent_std = self.reference_codes.std(0) + 1e-6
            reference_errors = ((reconstructions - images) ** 2).flatten(1).mean(1).numpy()
            self.error_quantiles = np.quantile(reference_errors, np.linspace(0, 1, ERROR_QUANTILE_COUNT)).astype(np.float32)
            self.statistics_source = "bundled MNIST sample (the checkpoint stores none)"
        limit = CODE_STD_LIMIT * self.latent_std  # the bounds every code is held within (clamp_code, the live pass)
        self._code_low, self._code_high = self.latent_mean - limit, self.latent_mean + limit
        self._live_pass, self.live_pass_traced = build_live_pass(autoencoder, self.latent_mean, self._code_low, self._code_high)
        if statistics is not None and statistics.probe_weight is not None:
            self._probe = (statistics.probe_weight.numpy(), statistics.probe_bias.numpy())
        else:
            self._probe = None
        anomaly = statistics.anomaly if statistics is not None else None
        if anomaly is not None and self._probe is not None:
            self.anomaly_scorer: AnomalyScorer | None = AnomalyScorer.from_table(anomaly)
            self.anomaly_source = ", ".join(FEATURE_LABELS[name] for name in self.anomaly_scorer.feature_names) + " combined"
        else:
            self.anomaly_scorer = None
            self.anomaly_source = "reconstruction error only (this checkpoint stores no combined score)"
        # named directions: {property: (unit direction (k,), spread of training codes along it, R^2)}
        self.property_directions: dict[str, tuple[np.ndarray, float, float]] = {}
        if statistics is not None:
            for name, direction in statistics.property_directions.items():
                r2, spread = (float(v) for v in statistics.direction_quality[name])
                self.property_directions[name] = (direction.numpy().astype(np.float32), spread, r2)
        properties = {name: values.numpy() for name, values in statistics.dimension_properties.items()} if statistics is not None else {}
        self.dimension_labels = label_dimensions(properties, self.latent_dim)
        self._place_on_map(fit_projection(projection_method, self.reference_codes, projection_cache))
        self.class_gaussians = class_gaussians(self.reference_codes, reference.labels)
        for array in (*self.class_gaussians, self.reference_codes, self._reference_norms, self.latent_mean, self.latent_std, self.error_quantiles, self._code_low, self._code_high):
            _read_only(array)
        self._frozen = True

    def __setattr__(self, name: str, value) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"a ModelSession is frozen once published; make a new one instead of setting {name}")
        object.__setattr__(self, name, value)

    @classmethod
    def from_file(cls, path: str | Path, reference: LabelledImages, projection_method: str = "pca", projection_cache: Path | None = None) -> "ModelSession":
        return cls(load_model(path), reference, projection_method, projection_cache)

    # --- facts about the model -------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def slider_low(self) -> np.ndarray:
        return self.latent_mean - SLIDER_STD_RANGE * self.latent_std

    @property
    def slider_high(self) -> np.ndarray:
        return self.latent_mean + SLIDER_STD_RANGE * self.latent_std

    def with_projection(self, projection: Projection) -> ModelSession:
        """This model on another map: a new session value sharing everything else (this one
        stays as it is, for any worker still using it)."""
        other = copy.copy(self)
        object.__setattr__(other, "_frozen", False)
        other._place_on_map(projection)
        other._frozen = True
        return other

    def _place_on_map(self, projection: Projection) -> None:
        positions = getattr(projection, "reference_positions", None)
        positions = positions if positions is not None else projection.transform(self.reference_codes)
        if not np.isfinite(positions).all():
            raise ValueError(f"the {projection.name} map placed some reference digits at infinity")
        self.projection = projection
        self.reference_positions = _read_only(np.array(positions, dtype=np.float32))
        low, high = positions.min(axis=0), positions.max(axis=0)
        self.map_bounds = (_read_only(low), _read_only(np.maximum(high, low + 1e-6)))

    # --- where the code looks ----------------------------------------------------------------
    def saliency(self, image: np.ndarray, dimension: int) -> np.ndarray:
        """d h[dimension] / d x: how each input pixel moves that code component (28 x 28)."""
        pixels = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, IMAGE_SIZE, IMAGE_SIZE).requires_grad_(True)
        with torch.enable_grad():
            self.model.autoencoder.encode(pixels)[0, dimension].backward()
        gradient = pixels.grad[0, 0].numpy().copy()
        return np.where(np.isfinite(gradient), gradient, 0.0).astype(np.float32)

    # --- the decoded map ---------------------------------------------------------------------
    def decoded_grid(self, cells: int = DECODED_GRID_CELLS) -> DecodedGrid:
        """What lives where on the map: a ``cells`` x ``cells`` grid over the map's extent,
        each point mapped back to a code (exactly for PCA and k = 2, by the nearest reference
        codes for UMAP and t-SNE) and decoded, with the probe's digit for each."""
        low, high = self.map_bounds
        margin = 0.08 * (high - low)
        low, high = low - margin, high + margin
        xs = np.linspace(low[0], high[0], cells)
        ys = np.linspace(high[1], low[1], cells)  # top row first, as an image is stored
        points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
        codes = np.stack([self.clamp_code(code) for code in self.projection.inverse_transform(points)])
        images = np.stack([finite_image(image) for image in self.decode_many(codes)])
        digits = np.full(len(codes), -1) if self._probe is None else np.argmax(codes @ self._probe[0].T + self._probe[1], axis=1)
        return DecodedGrid(low=low, high=high, cells=cells, images=images.reshape(cells, cells, IMAGE_SIZE, IMAGE_SIZE), digits=digits.reshape(cells, cells))

    # --- keeping every code finite and bounded ----------------------------------------------
    def clamp_code(self, code: np.ndarray) -> np.ndarray:
        """The code with non-finite entries replaced by the training mean and every entry held
        within ``CODE_STD_LIMIT`` training standard deviations of it: codes from a map click far
        off the digits, a slider or a file reach the decoder as numbers it was built for."""
        code = np.asarray(code, dtype=np.float64).reshape(-1)
        code = np.where(np.isfinite(code), code, self.latent_mean)
        return np.clip(code, self._code_low, self._code_high).astype(np.float32)

    def clamp_map_point(self, x: float, y: float) -> tuple[float, float] | None:
        """A point of the map held within three map widths of the reference digits (None if
        not a number at all)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        low, high = self.map_bounds
        span = high - low
        margin = MAP_LIMIT_WIDTHS * span
        return float(np.clip(x, low[0] - margin[0], high[0] + margin[0])), float(np.clip(y, low[1] - margin[1], high[1] + margin[1]))

    # --- live questions --------------------------------------------------------------------
    def encode(self, image: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model.autoencoder.encode(_image_tensor(image))[0].numpy()

    def encode_with_inner(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(code, the encoder's last hidden layer) of one image, from one encoder pass."""
        with torch.inference_mode():
            code, inner = self.model.autoencoder.encode_with_inner(_image_tensor(image))
        return code[0].numpy(), inner[0].numpy()

    def decode(self, code: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model.autoencoder.decode(torch.from_numpy(np.ascontiguousarray(code, dtype=np.float32)).reshape(1, -1))[0, 0].numpy()

    def decode_many(self, codes: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model.autoencoder.decode(torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))).numpy()[:, 0]

    def digit_probabilities(self, code: np.ndarray) -> np.ndarray | None:
        if self._probe is None:
            return None
        weight, bias = self._probe
        logits = weight @ code + bias
        exp = np.exp(logits - logits.max())
        return (exp / exp.sum()).astype(np.float32)

    def nearest_references(self, code: np.ndarray, count: int = NEIGHBOURS) -> np.ndarray:
        # |r - c|^2 = |r|^2 - 2 r.c + |c|^2; the last term is the same for every r, so the
        # ranking needs one matrix-vector product per code instead of a (n, k) difference
        distances = self._reference_norms - 2.0 * (self.reference_codes @ np.asarray(code, dtype=np.float32))
        return smallest_indices(distances, count)

    def analyse_code(self, code: np.ndarray, origin: str) -> Analysis:
        code = self.clamp_code(code)
        return Analysis(
            session=self,
            origin=origin,
            code=code,
            reconstruction=finite_image(self.decode(code)),
            map_position=self.projection.transform(code[None])[0],
            neighbours=self.nearest_references(code),
            digit_probabilities=self.digit_probabilities(code),
        )

    def encode_images(self, images: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """(code, last hidden layer when the anomaly score needs it) of each 28x28 image, from
        one encoder pass over them all (a sketch and its noisy copy cost about one)."""
        batch = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        with torch.inference_mode():
            if self.anomaly_scorer is not None and self.anomaly_scorer.needs_inner:
                codes, inners = self.model.autoencoder.encode_with_inner(batch)
                return [(code.numpy(), inner.numpy()) for code, inner in zip(codes, inners)]
            return [(code.numpy(), None) for code in self.model.autoencoder.encode(batch)]

    def analyse_image(self, image: np.ndarray, origin: str = "sketch", encoded: tuple[np.ndarray, np.ndarray | None] | None = None) -> Analysis:
        """Encode an MNIST-style 28x28 image and say how well the model reconstructs it
        (``encoded``: its (code, inner) from ``encode_images``, to skip the encoder)."""
        image = np.asarray(image, dtype=np.float32)
        if encoded is not None:
            code, inner = encoded
            code = self.clamp_code(code)
            reconstruction = finite_image(self.decode(code))
        else:  # encode, clamp and decode in one call (aegui.core.live_pass: why)
            with torch.inference_mode():
                code_tensor, inner_tensor, decoded = self._live_pass(_image_tensor(image))
            code, reconstruction = code_tensor[0].numpy(), finite_image(decoded[0, 0].numpy())
            inner = inner_tensor[0].numpy() if self.anomaly_scorer is not None and self.anomaly_scorer.needs_inner else None
        error = reconstruction_error(image, reconstruction)
        percentile = error_percentile(error, self.error_quantiles)
        probabilities = self.digit_probabilities(code)
        if self.anomaly_scorer is not None:
            assessment = self.anomaly_scorer.assess(error, code, probabilities, inner)
            combined, outcome, parts, reason = assessment.percentile, assessment.verdict, assessment.parts, assessment.reason
        else:
            combined, outcome = percentile, verdict(percentile)
            parts, reason = {"reconstruction": percentile}, ("" if outcome == "typical digit" else "the decoder cannot rebuild it")
        return Analysis(
            session=self,
            origin=origin,
            code=code,
            reconstruction=reconstruction,
            map_position=self.projection.transform(code[None])[0],
            neighbours=self.nearest_references(code),
            digit_probabilities=probabilities,
            input_image=image,
            error_map=(image - reconstruction) ** 2,
            reconstruction_error=error,
            error_percentile=percentile,
            verdict=outcome,
            anomaly_percentile=combined,
            anomaly_parts=parts,
            anomaly_reason=reason,
        )

    def random_code(self, rng: np.random.Generator) -> np.ndarray:
        """A code drawn where digits' codes lie: a digit class at random, then a Gaussian fitted
        to the reference digits' codes of that class (``class_gaussians``). Independent normals
        per dimension mostly land where no digit's code lies and decode to blobs (3.7 % typical
        digits against 82 % for the default model, ``scripts/random_samples.py``): an
        autoencoder's codes fill only part of the space."""
        means, factors = self.class_gaussians
        if len(means) == 0:  # no labelled digits to fit: independent normals per dimension
            return (self.latent_mean + self.latent_std * rng.standard_normal(self.latent_dim)).astype(np.float32)
        digit = int(rng.integers(len(means)))
        return (means[digit] + factors[digit] @ rng.standard_normal(self.latent_dim)).astype(np.float32)

    def interpolation(self, code_a: np.ndarray, code_b: np.ndarray, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
        """Codes on the straight line from A to B, decoded: (fractions 0..1, images)."""
        fractions = np.linspace(0.0, 1.0, steps, dtype=np.float32)
        codes = (1 - fractions[:, None]) * np.asarray(code_a, np.float32) + fractions[:, None] * np.asarray(code_b, np.float32)
        return fractions, self.decode_many(codes)

    def traversal(self, code: np.ndarray, dimension: int, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
        """The code decoded with one dimension swept over mean ± 3 std: (values, images)."""
        values = np.linspace(self.slider_low[dimension], self.slider_high[dimension], steps, dtype=np.float32)
        codes = np.repeat(np.asarray(code, dtype=np.float32)[None], steps, axis=0)
        codes[:, dimension] = values
        return values, self.decode_many(codes)
