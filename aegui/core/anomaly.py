"""Is this sketch a digit? Scores ranked against held-out MNIST digits.

An autoencoder reconstructs what resembles its training data well, so ||x - x_hat||^2 is low
for digits and high for anything else. The checkpoint stores the error distribution on
held-out digits; a sketch's error becomes a percentile of that distribution.

A large bottleneck rebuilds letters almost as well as digits, so the checkpoint can also store
a combined score: the reconstruction error together with where the code sits (its distance
to the nearest training codes), how sure the linear probe is, how far the encoder's last
hidden layer is from every digit class's (a Mahalanobis distance), and a small detector on the
code that learnt what non-digits made from digits (mirrored, turned, cut and overlaid) and
random pen strokes look like there. A logistic regression
fitted on held-out digits and near-OOD characters weighs them, and the result is ranked among
held-out digits like the reconstruction error.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

TYPICAL_BELOW = 95.0
NOT_A_DIGIT_ABOVE = 99.0
VERDICTS = ("typical digit", "unusual", "not a digit")


def reconstruction_error(image: np.ndarray, reconstruction: np.ndarray) -> float:
    """Mean squared error per pixel, the same measure training reports as test MSE."""
    return float(np.mean((np.asarray(image, np.float64) - np.asarray(reconstruction, np.float64)) ** 2))


def error_percentile(error: float, quantiles: np.ndarray) -> float:
    """Percentage of held-out digits (0-100) whose error is below ``error``.

    ``quantiles`` are the held-out errors at evenly spaced probabilities 0..1; interpolating
    between them gives the percentile.
    """
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if error <= quantiles[0]:
        return 0.0
    if error >= quantiles[-1]:
        return 100.0
    return float(np.interp(error, quantiles, probability_grid(len(quantiles))))


@functools.lru_cache(maxsize=8)
def probability_grid(count: int) -> np.ndarray:
    """0..100 in ``count`` even steps, made once per length: a pen event ranks six values."""
    grid = np.linspace(0.0, 100.0, count)
    grid.flags.writeable = False
    return grid


def percentiles(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """``error_percentile`` for many values at once."""
    quantiles = np.asarray(quantiles, dtype=np.float64)
    return np.interp(np.asarray(values, dtype=np.float64), quantiles, probability_grid(len(quantiles)), left=0.0, right=100.0)


def verdict_statistic(combined_scores: np.ndarray, reconstruction_features: np.ndarray, score_quantiles: np.ndarray, reconstruction_quantiles: np.ndarray) -> np.ndarray:
    """The larger of two percentiles among held-out digits: the combined score's and the
    reconstruction error's (see ``AnomalyScorer.verdict_statistics``); training ranks it once
    more among the held-out digits to make ``verdict_quantiles``."""
    return np.maximum(percentiles(combined_scores, score_quantiles), percentiles(reconstruction_features, reconstruction_quantiles))


def rebuilt_worse_than_every_digit(reconstruction_features: np.ndarray, reconstruction_quantiles: np.ndarray) -> np.ndarray:
    """Whether each sketch's reconstruction error is above every held-out digit's (the last
    quantile; compared in float32, the precision the checkpoint stores it in, so no held-out
    digit is ever above its own maximum)."""
    return np.asarray(reconstruction_features, dtype=np.float32) > np.float32(reconstruction_quantiles[-1])


def beyond_every_digit(scores: np.ndarray, unrebuildable: np.ndarray, verdict_quantiles: np.ndarray) -> np.ndarray:
    """The combined score, lifted above every held-out digit's where the decoder rebuilds the
    sketch worse than it rebuilds any of them. The combiner weighs the reconstruction error
    against the other parts (negatively, for a large bottleneck that rebuilds letters well), so
    alone it could call a dense scribble the decoder cannot rebuild at all merely unusual.
    Held-out digits are never lifted, so their ranking, and the thresholds' meaning, stay."""
    return np.where(unrebuildable, np.maximum(scores, verdict_quantiles[-1]) + 1.0, scores)


def verdict_values(
    scores: np.ndarray,
    reconstruction_features: np.ndarray,
    score_quantiles: np.ndarray,
    reconstruction_quantiles: np.ndarray,
    verdict_quantiles: np.ndarray,
    reconstruction_opinion: bool,
) -> np.ndarray:
    """The verdict statistic of each sketch, ranked with ``verdict_quantiles``: with the
    reconstruction's opinion the larger of the two percentiles (``verdict_statistic``),
    without it the combined score lifted where the decoder rebuilds worse than every held-out
    digit (``beyond_every_digit``). The app and ``fit``'s choice between the two share it."""
    if reconstruction_opinion:
        return verdict_statistic(scores, reconstruction_features, score_quantiles, reconstruction_quantiles)
    return beyond_every_digit(scores, rebuilt_worse_than_every_digit(reconstruction_features, reconstruction_quantiles), verdict_quantiles)


def verdict(percentile: float) -> str:
    if percentile <= TYPICAL_BELOW:
        return VERDICTS[0]
    if percentile <= NOT_A_DIGIT_ABOVE:
        return VERDICTS[1]
    return VERDICTS[2]


# --- the combined score: reconstruction, where the code sits, how sure the probe is ---------
ANOMALY_FEATURES = ("reconstruction", "code_distance", "probe_doubt", "inner_distance", "code_detector")
FIRST_TABLE_FEATURES = 3  # checkpoints written before the inner distance and the detector: the first three
FEATURE_LABELS = {"reconstruction": "rebuild", "code_distance": "distance", "probe_doubt": "doubt", "inner_distance": "inner", "code_detector": "detector"}  # short: the gauge has one line
REASONS = {
    "reconstruction": "the decoder cannot rebuild it",
    "code_distance": "its code is far from every digit's",
    "probe_doubt": "the probe cannot tell which digit it is",
    "inner_distance": "the encoder's inner layer sees it unlike any digit",
    "code_detector": "its code sits where non-digits' codes do",
}
DETECTOR_LAYERS = 3  # code -> hidden -> hidden -> logit
NEIGHBOURS_FOR_DISTANCE = 5


def smallest_indices(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` smallest of a 1-D array, smallest first.

    A pen event asks this of 9,000-10,000 distances: a full partial sort takes 60-120 µs,
    while the ``count``-th smallest of every 16th value bounds the answer from above (those
    ``count`` values are in the array too), leaving a few dozen candidates to sort: about 15 µs.
    """
    values = np.asarray(values)
    count = min(count, len(values))
    if count == 0:
        return np.zeros(0, dtype=np.intp)
    sample = values[::16]
    if len(sample) < count:
        candidates = np.arange(len(values))
    else:
        candidates = np.flatnonzero(values <= np.partition(sample, count - 1)[count - 1])
    return candidates[np.argsort(values[candidates], kind="stable")[:count]]


def nearest_code_distance(code: np.ndarray, reference_codes: np.ndarray, reference_norms: np.ndarray) -> float:
    """``code_distances`` of one float32 code (a pen event's): one matrix-vector product, then
    the few nearest picked out (NaN with no reference codes)."""
    squared = reference_norms - 2.0 * (reference_codes @ code)
    nearest = (squared[smallest_indices(squared, NEIGHBOURS_FOR_DISTANCE)] + float(code @ code)).tolist()
    return sum(math.sqrt(max(value, 0.0)) for value in nearest) / len(nearest) if nearest else math.nan


def code_distances(codes: np.ndarray, reference_codes: np.ndarray, reference_norms: np.ndarray | None = None) -> np.ndarray:
    """Mean Euclidean distance of each code to its 5 nearest reference codes (one matrix
    product, then a partial sort)."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
    norms = np.einsum("nk,nk->n", reference_codes, reference_codes) if reference_norms is None else reference_norms
    count = min(NEIGHBOURS_FOR_DISTANCE, reference_codes.shape[0])
    if len(codes) == 1:
        return np.array([nearest_code_distance(codes[0], reference_codes, norms)], dtype=np.float64)
    distances = np.empty(len(codes))
    for start in range(0, len(codes), 1000):  # bounded memory for whole test sets
        block = codes[start : start + 1000]
        squared = norms[None, :] - 2.0 * (block @ reference_codes.T)
        nearest = np.partition(squared, count - 1, axis=1)[:, :count] + np.einsum("nk,nk->n", block, block)[:, None]
        distances[start : start + 1000] = np.sqrt(np.maximum(nearest, 0.0)).mean(axis=1)
    return distances


def gelu(values: np.ndarray) -> np.ndarray:
    """GELU in its tanh form, as the detector was trained (``nn.GELU(approximate="tanh")``)."""
    return 0.5 * values * (1.0 + np.tanh(0.7978845608028654 * (values + 0.044715 * values**3)))


@dataclass(frozen=True)
class CodeDetector:
    """A small network on the code, trained at the end of ``fit`` to tell training digits'
    codes from those of non-digits made from them; its logit is one of the anomaly features."""

    code_mean: np.ndarray  # (k,)
    code_std: np.ndarray  # (k,)
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weight (out, in), bias (out,)) each

    @classmethod
    def from_table(cls, table: dict) -> CodeDetector:
        as_array = lambda name: np.asarray(table[name], dtype=np.float32)  # noqa: E731
        layers = tuple((as_array(f"detector_weight_{i}"), as_array(f"detector_bias_{i}")) for i in range(1, DETECTOR_LAYERS + 1))
        return cls(as_array("detector_code_mean"), as_array("detector_code_std"), layers)

    def logits(self, codes: np.ndarray) -> np.ndarray:
        values = (np.atleast_2d(np.asarray(codes, dtype=np.float32)) - self.code_mean) / self.code_std
        for index, (weight, bias) in enumerate(self.layers):
            values = values @ weight.T + bias
            if index < len(self.layers) - 1:
                values = gelu(values)
        return values[:, 0].astype(np.float64)

    def logit(self, code: np.ndarray) -> float:
        """``logits`` of one code (a pen event's): the same arithmetic on vectors, fewer calls."""
        values = (code - self.code_mean) / self.code_std
        for index, (weight, bias) in enumerate(self.layers):
            values = weight @ values + bias
            if index < len(self.layers) - 1:
                values = gelu(values)
        return float(values[0])


@dataclass(frozen=True)
class InnerDistance:
    """Class-conditional Gaussian of the encoder's last hidden layer with one shared covariance,
    fitted on the training digits: the squared Mahalanobis distance to the nearest class mean
    is a whitening (one matrix-vector product) and ten distances."""

    whitening: np.ndarray  # (d, d): rows scaled eigenvectors of the shared covariance
    class_means: np.ndarray  # (10, d), whitened
    class_norms: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_norms", np.einsum("cd,cd->c", self.class_means, self.class_means))

    @classmethod
    def from_table(cls, table: dict) -> InnerDistance:
        return cls(np.asarray(table["inner_whitening"], dtype=np.float32), np.asarray(table["inner_class_means"], dtype=np.float32))

    def distances(self, inner: np.ndarray) -> np.ndarray:
        whitened = np.atleast_2d(np.asarray(inner, dtype=np.float32)) @ self.whitening.T
        squared = np.einsum("nd,nd->n", whitened, whitened)[:, None] - 2.0 * (whitened @ self.class_means.T) + self.class_norms[None, :]
        return np.maximum(squared.min(axis=1), 0.0).astype(np.float64)

    def distance(self, inner: np.ndarray) -> float:
        """``distances`` of one inner layer (a pen event's), with the class means' norms kept."""
        whitened = inner @ self.whitening.T  # as ``distances`` multiplies (the same sums, the same rounding)
        return max(float(((whitened @ whitened) - 2.0 * (whitened @ self.class_means.T) + self.class_norms).min()), 0.0)


def anomaly_features(
    errors: np.ndarray,
    codes: np.ndarray,
    probabilities: np.ndarray,
    reference_codes: np.ndarray,
    reference_norms: np.ndarray | None = None,
    inner: np.ndarray | None = None,
    inner_distance: InnerDistance | None = None,
    detector: CodeDetector | None = None,
) -> np.ndarray:
    """(n, 3) or (n, 5): log reconstruction error, log distance to the nearest training codes,
    the probe's doubt (-log of its top probability), and with ``inner_distance`` and
    ``detector`` the log Mahalanobis distance of the encoder's last hidden layer (``inner``) to
    the nearest digit class and the detector's logit, for images already encoded and decoded."""
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    distances = code_distances(codes, reference_codes, reference_norms).astype(np.float64)
    top = np.asarray(probabilities, dtype=np.float64).reshape(len(errors), -1).max(axis=1)
    columns = [np.log(errors + 1e-8), np.log(distances + 1e-6), -np.log(top + 1e-9)]
    if inner_distance is not None and detector is not None:
        if inner is None:
            raise ValueError("the inner distance needs the encoder's last hidden layer")
        columns += [np.log(inner_distance.distances(inner) + 1e-6), detector.logits(codes)]
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class AnomalyAssessment:
    percentile: float  # of the combined score among held-out digits
    verdict: str
    parts: dict[str, float]  # each feature's percentile among held-out digits
    reason: str  # which part says it is not a digit (empty for a typical digit)


@dataclass(frozen=True)
class AnomalyScorer:
    """The checkpoint's combined anomaly score: a logistic regression over the features,
    fitted at the end of training on held-out digits against near-OOD characters and shapes,
    turned into a percentile of held-out digits, so the 95th / 99th thresholds keep their
    meaning. A table written before the inner distance and the detector existed has three
    features."""

    reference_codes: np.ndarray  # (n, k) training codes
    feature_quantiles: np.ndarray  # (F, Q) each feature on held-out digits
    feature_mean: np.ndarray  # (F,)
    feature_std: np.ndarray  # (F,)
    weight: np.ndarray  # (F,)
    bias: float
    score_quantiles: np.ndarray  # (Q,) the combined score on held-out digits
    verdict_quantiles: np.ndarray  # (Q,) the verdict statistic on held-out digits (see ``verdict_statistics``)
    detector: CodeDetector | None = None  # None in a three-feature table
    inner_distance: InnerDistance | None = None  # None in a three-feature table
    reconstruction_opinion: bool = True  # whether the verdict also asks the reconstruction error (see ``verdict_statistics``)
    reference_norms: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference_norms", np.einsum("nk,nk->n", self.reference_codes, self.reference_codes))

    @classmethod
    def from_table(cls, table: dict) -> AnomalyScorer:
        """From the checkpoint's validated ``anomaly`` table (tensors or arrays)."""
        as_array = lambda name: np.asarray(table[name], dtype=np.float64)  # noqa: E731
        return cls(
            reference_codes=np.asarray(table["reference_codes"], dtype=np.float32),
            feature_quantiles=as_array("feature_quantiles"),
            feature_mean=as_array("feature_mean"),
            feature_std=as_array("feature_std"),
            weight=as_array("weight"),
            bias=float(as_array("bias").reshape(-1)[0]),
            score_quantiles=as_array("score_quantiles"),
            verdict_quantiles=as_array("verdict_quantiles"),
            detector=CodeDetector.from_table(table) if "detector_weight_1" in table else None,
            inner_distance=InnerDistance.from_table(table) if "inner_whitening" in table else None,
            reconstruction_opinion=bool(as_array("reconstruction_opinion").reshape(-1)[0]) if "reconstruction_opinion" in table else True,
        )

    @property
    def needs_inner(self) -> bool:
        """Whether ``score_batch`` and ``assess`` need the encoder's last hidden layer."""
        return self.inner_distance is not None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return ANOMALY_FEATURES[: len(self.weight)]

    def features(self, errors: np.ndarray, codes: np.ndarray, probabilities: np.ndarray, inner: np.ndarray | None = None) -> np.ndarray:
        return anomaly_features(errors, codes, probabilities, self.reference_codes, self.reference_norms, inner, self.inner_distance, self.detector)

    def score_batch(self, errors: np.ndarray, codes: np.ndarray, probabilities: np.ndarray, inner: np.ndarray | None = None) -> np.ndarray:
        """The verdict statistic of each image (rank it with ``verdict_quantiles``)."""
        return self.verdict_statistics(self.features(errors, codes, probabilities, inner))

    def verdict_statistics(self, features: np.ndarray) -> np.ndarray:
        """The combined score, or with ``reconstruction_opinion`` the larger of two percentiles
        among held-out digits, the combined score's and the reconstruction error's: a
        combiner can miss what the decoder cannot rebuild at all (a scribble), and ranking the
        maximum again among held-out digits keeps 1 % of them above the 99th. Training chooses
        whichever flags more of the calibration characters (three-feature tables always take
        the maximum). Without the opinion, a sketch rebuilt worse than every held-out digit
        still ranks above them all (``beyond_every_digit``)."""
        reconstruction = np.atleast_2d(features)[:, 0]
        return verdict_values(self.scores(features), reconstruction, self.score_quantiles, self.feature_quantiles[0], self.verdict_quantiles, self.reconstruction_opinion)

    def scores(self, features: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(np.asarray(features, dtype=np.float64)) - self.feature_mean) / self.feature_std) @ self.weight + self.bias

    def features_of_one(self, error: float, code: np.ndarray, probabilities: np.ndarray, inner: np.ndarray | None = None) -> np.ndarray:
        """``features`` of one image, as a pen event asks: the same measures with a third of the
        numpy calls (each costs a pen event a few microseconds when the caches are cold; the
        five-part score was 0.17-0.20 ms of the worker's 1.0 ms in the app)."""
        code = np.asarray(code, dtype=np.float32)
        distance = nearest_code_distance(code, self.reference_codes, self.reference_norms)
        features = [math.log(error + 1e-8), math.log(distance + 1e-6), -math.log(float(probabilities.max()) + 1e-9)]
        if self.inner_distance is not None and self.detector is not None:
            if inner is None:
                raise ValueError("the inner distance needs the encoder's last hidden layer")
            features += [math.log(self.inner_distance.distance(np.asarray(inner, dtype=np.float32)) + 1e-6), self.detector.logit(code)]
        return np.array(features)

    def assess(self, error: float, code: np.ndarray, probabilities: np.ndarray, inner: np.ndarray | None = None) -> AnomalyAssessment:
        features = self.features_of_one(error, code, probabilities, inner)
        percentile = error_percentile(float(self.verdict_statistics(features)[0]), self.verdict_quantiles)
        parts = {name: error_percentile(float(value), quantiles) for name, value, quantiles in zip(self.feature_names, features, self.feature_quantiles)}
        outcome = verdict(percentile)
        return AnomalyAssessment(percentile, outcome, parts, explain(outcome, parts))


def explain(outcome: str, parts: dict[str, float]) -> str:
    """Which part makes a sketch unusual, in words: the one furthest out among digits."""
    if outcome == VERDICTS[0]:
        # typical, yet a part alone is beyond the 99th percentile (a k = 2 model's letter: inner
        # 100, distance 99): said, or the line beneath reads as contradicting the verdict
        name = max(parts, key=parts.get) if len(parts) > 1 else None
        return f"overall, though {REASONS[name]}" if name is not None and parts[name] > NOT_A_DIGIT_ABOVE else ""
    name = max(parts, key=parts.get)
    if parts[name] <= TYPICAL_BELOW:
        return "each part is ordinary, together they are not"
    if name != "reconstruction" and parts.get("reconstruction", 100.0) <= TYPICAL_BELOW:
        return f"rebuilt well, but {REASONS[name]}"
    return REASONS[name]
