"""Digits as tensors, and the seeded train/validation split ``fit``, ``annotate`` and ``evaluate`` share."""

from __future__ import annotations

import numpy as np
import torch


def split_indices(n_images: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of a seeded split: the same seed and sizes give the same split
    in ``fit``, ``annotate`` and ``evaluate``."""
    order = torch.randperm(n_images, generator=torch.Generator().manual_seed(seed)).numpy()
    return order[n_val:], order[:n_val]


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
