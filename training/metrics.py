"""The figures aegui measures on a model, computed one way for every caller: ``fit``'s
statistics (stored in the checkpoint) and ``aegui-train evaluate`` (reported) both encode with
these passes and score with these functions, so the same model gives the same figures.

Everything here is plain torch (no Lightning) and every value produced is a tensor or a
primitive, so a checkpoint carrying it still loads weights-only.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch.nn import functional as F

from aegui.core.model_format import ERROR_QUANTILE_COUNT, IMAGE_SIZE, N_CLASSES
from aegui.core.networks import Autoencoder

class Progress(Protocol):
    """What the statistics report their progress to: a tqdm bar fits, counted in digits."""

    def update(self, n: int) -> object: ...

class _NoProgress:
    def update(self, n: int) -> None:
        pass

# Batches of 256 digits keep a conv layer's activations in the CPU cache: encoding 20,000
# digits took a third of the time it took in batches of 1,000 (measured on a 2-core machine).
BATCH_SIZE = 256

@torch.inference_mode()
def encode_dataset(
    autoencoder: Autoencoder, images: torch.Tensor, batch_size: int = BATCH_SIZE, reconstruct: bool = True, progress: Progress | None = None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Codes, per-image reconstruction error (mean squared error per pixel) and per-image BCE.

    With ``reconstruct=False`` only the codes are computed (errors and BCE are None): the
    decoder costs more than the encoder.
    """
    autoencoder.eval()
    progress = progress or _NoProgress()
    codes, errors, bces = [], [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float()
        code = autoencoder.encode(batch)
        codes.append(code)
        if reconstruct:
            logits = autoencoder.decode_logits(code)
            errors.append(((torch.sigmoid(logits) - batch) ** 2).flatten(1).mean(1))
            bces.append(F.binary_cross_entropy_with_logits(logits, batch, reduction="none").flatten(1).mean(1))
        progress.update(len(batch))
    if not codes:
        empty = torch.zeros(0)
        return torch.zeros(0, autoencoder.latent_dim), empty, empty
    if not reconstruct:
        return torch.cat(codes), None, None
    return torch.cat(codes), torch.cat(errors), torch.cat(bces)

@torch.inference_mode()
def encode_inner(autoencoder: Autoencoder, images: torch.Tensor, batch_size: int = BATCH_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes, the encoder's last hidden layer) of each image: what the inner distance reads."""
    autoencoder.eval()
    codes, inner = [], []
    for start in range(0, len(images), batch_size):
        code, hidden = autoencoder.encode_with_inner(images[start : start + batch_size].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float())
        codes.append(code)
        inner.append(hidden)
    if not codes:
        return torch.zeros(0, autoencoder.latent_dim), torch.zeros(0, 0)
    return torch.cat(codes), torch.cat(inner)

def fit_linear_probe(codes: torch.Tensor, labels: torch.Tensor, l2: float = 1e-4, max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression from code to digit: returns (weight [10, k], bias [10]).

    Fitted on standardised codes for good conditioning; the standardisation is folded into
    the returned weights so that ``codes @ weight.T + bias`` are the logits.
    """
    codes = codes.double()
    mean, std = codes.mean(0), codes.std(0).clamp_min(1e-6)
    standard = (codes - mean) / std
    weight = torch.zeros(N_CLASSES, codes.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(N_CLASSES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(standard @ weight.T + bias, labels) + l2 * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    folded_weight = (weight / std).detach()
    folded_bias = (bias - (mean / std) @ weight.T).detach()
    return folded_weight.float(), folded_bias.float()

def probe_accuracy(weight: torch.Tensor, bias: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor) -> float:
    return ((codes @ weight.T + bias).argmax(1) == labels).float().mean().item()

def probe_probabilities(weight: torch.Tensor, bias: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    return torch.softmax(codes @ weight.T + bias, dim=1)

def knn_accuracy(reference_codes: torch.Tensor, reference_labels: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor, neighbours: int = 5) -> float:
    """Majority vote of the nearest reference codes (Euclidean), in chunks to bound memory.
    Distances in float64: float32's cdist (|a|^2 + |b|^2 - 2ab) loses the order of close codes,
    so the same model's figure changed with the thread count and between fit and evaluate
    (a barely trained 4-D model: 0.240 stored, 0.265 evaluated; both 0.280 in float64)."""
    correct = 0
    for start in range(0, len(codes), 1000):
        distances = torch.cdist(codes[start : start + 1000].double(), reference_codes.double())
        nearest = distances.topk(neighbours, largest=False).indices
        votes = F.one_hot(reference_labels[nearest], N_CLASSES).sum(1).float()
        votes += 1e-3 * F.one_hot(reference_labels[nearest[:, 0]], N_CLASSES)  # ties go to the nearest
        correct += (votes.argmax(1) == labels[start : start + 1000]).sum().item()
    return correct / len(codes)

def auroc(inlier_scores: torch.Tensor, outlier_scores: torch.Tensor) -> float:
    """Probability that a random outlier scores higher than a random inlier (ties count half)."""
    scores = torch.cat([inlier_scores, outlier_scores]).double()
    ranks = _average_ranks(scores)
    n_in, n_out = len(inlier_scores), len(outlier_scores)
    rank_sum_out = ranks[n_in:].sum().item()
    return (rank_sum_out - n_out * (n_out + 1) / 2) / (n_in * n_out)

def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    order = values.argsort()
    sorted_values = values[order]
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(1, len(values) + 1, dtype=values.dtype)
    unique, inverse, counts = torch.unique(sorted_values, return_inverse=True, return_counts=True)
    if len(unique) < len(values):  # average the ranks within each group of ties
        rank_sums = torch.zeros(len(unique), dtype=values.dtype).index_add_(0, inverse, torch.arange(1, len(values) + 1, dtype=values.dtype))
        ranks[order] = (rank_sums / counts)[inverse]
    return ranks

def held_out_quantiles(values: torch.Tensor, n: int = ERROR_QUANTILE_COUNT) -> torch.Tensor:
    """Quantiles 0..1 of a distribution on held-out digits (the reconstruction error, each
    anomaly feature, the combined score, the verdict statistic): enough to read any percentile."""
    return torch.quantile(values.double(), torch.linspace(0, 1, n, dtype=torch.float64)).float()


def metrics_on_test_split(
    test_codes: torch.Tensor,
    test_errors: torch.Tensor,
    test_bce: torch.Tensor,
    test_labels: torch.Tensor,
    probe: tuple[torch.Tensor, torch.Tensor],
    reference_codes: torch.Tensor,
    reference_labels: torch.Tensor,
) -> dict[str, float | int]:
    """The test figures a checkpoint stores (``TEST_METRICS``) and ``evaluate`` reports: mean
    reconstruction MSE and BCE per pixel, the linear probe's accuracy and 5-NN accuracy against
    the reference (training) codes, and how many test digits they were measured on."""
    weight, bias = probe
    return {
        "test_mse": float(test_errors.mean()),
        "test_bce": float(test_bce.mean()),
        "probe_accuracy": probe_accuracy(weight, bias, test_codes, test_labels),
        "knn_accuracy": knn_accuracy(reference_codes, reference_labels, test_codes, test_labels),
        "n_test": len(test_codes),
    }
