"""How interpretable is the code? DCI (Eastwood & Williams, ICLR 2018) against stroke properties.

A linear (ridge) regressor predicts each standardised stroke property from the standardised
code; the absolute weights form the importance matrix R (k dimensions x P properties):

- **disentanglement**: does each dimension capture at most one property? 1 - entropy of each
  dimension's row of R (base P), weighted by the dimension's share of all importance;
- **completeness**: is each property captured by a single dimension? 1 - entropy of each
  property's column of R (base k), averaged over properties;
- **informativeness**: how well the code predicts the properties at all: mean R^2 on a held-out
  fifth of the digits.

The paper uses lasso or random forests for R; a linear regressor keeps the figure cheap and
exact to reproduce, and matches the linear named directions the app offers.
"""

from __future__ import annotations

import numpy as np


def _entropy(probabilities: np.ndarray, base: int, axis: int) -> np.ndarray:
    p = np.clip(probabilities, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=axis) / np.log(base)


def dci(codes: np.ndarray, factors: np.ndarray, ridge: float = 1e-2, seed: int = 0) -> dict[str, float]:
    """DCI disentanglement, completeness and informativeness of ``codes`` (n, k) against
    ``factors`` (n, P)."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors, dtype=np.float64)
    n, k = codes.shape
    count = factors.shape[1]
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[: int(0.8 * n)], order[int(0.8 * n) :]
    x_mean, x_std = codes[train].mean(0), codes[train].std(0) + 1e-12
    y_mean, y_std = factors[train].mean(0), factors[train].std(0) + 1e-12
    x = (codes - x_mean) / x_std
    y = (factors - y_mean) / y_std
    weights = np.linalg.solve(x[train].T @ x[train] + ridge * len(train) * np.eye(k), x[train].T @ y[train])  # (k, P)
    importance = np.abs(weights)
    residual = ((y[test] - x[test] @ weights) ** 2).sum(0)
    total = ((y[test] - y[test].mean(0)) ** 2).sum(0) + 1e-12
    informativeness = float(np.mean(1.0 - residual / total))
    if count > 1:
        rows = importance / (importance.sum(axis=1, keepdims=True) + 1e-12)
        share = importance.sum(axis=1) / (importance.sum() + 1e-12)
        disentanglement = float((share * (1.0 - _entropy(rows, count, axis=1))).sum())
    else:
        disentanglement = 1.0
    columns = importance / (importance.sum(axis=0, keepdims=True) + 1e-12)
    completeness = float(np.mean(1.0 - _entropy(columns, k, axis=0))) if k > 1 else 1.0
    return {"disentanglement": disentanglement, "completeness": completeness, "informativeness": informativeness}
