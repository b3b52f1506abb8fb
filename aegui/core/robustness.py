"""How well a model ignores noise: reconstruction error to the clean digit and probe accuracy
at several noise strengths, per kind.

The same seed gives every model the very same noisy digits (each kind's noise comes from a
generator seeded by (seed, kind), drawn batch after batch in the same order), so two models'
figures compare like with like. ``aegui-train evaluate`` runs it on the MNIST test set and the
Compare view on the bundled reference digits. Torch is imported when a measurement runs, so
the window that composes a ``RobustnessComparison`` starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from aegui.core.events import Signal
from aegui.core.model_names import distinguishing_names
from aegui.core.noise import NOISE_KINDS, ROBUSTNESS_STRENGTHS, add_noise, kind_generator

if TYPE_CHECKING:
    import torch

BATCH_SIZE = 500


@dataclass(frozen=True)
class Robustness:
    """Per kind, figures at ``strengths`` (the first, 0, is the clean digits, shared by all kinds)."""

    strengths: tuple[float, ...]
    mse_to_clean: dict[str, list[float]]  # per-pixel MSE of the reconstruction of the noisy digit to the clean digit
    probe_accuracy: dict[str, list[float]] | None  # the stored probe reading the noisy digit's code; None without a probe
    n_digits: int

    def to_dict(self) -> dict:
        """Plain JSON-ready figures, as ``evaluate --json`` prints them."""
        return {
            "strengths": list(self.strengths),
            "n_digits": self.n_digits,
            "mse_to_clean": self.mse_to_clean,
            "probe_accuracy": self.probe_accuracy,
        }

    def mean_over_kinds(self, figure: str) -> list[float] | None:
        table = self.mse_to_clean if figure == "mse_to_clean" else self.probe_accuracy
        if table is None:
            return None
        return [float(np.mean([table[kind][i] for kind in table])) for i in range(len(self.strengths))]


def _figures(autoencoder, noisy: torch.Tensor, clean: torch.Tensor, labels: torch.Tensor, probe) -> tuple[float, int]:
    codes = autoencoder.encode(noisy)
    reconstructions = autoencoder.decode(codes)
    squared_error = float(((reconstructions - clean) ** 2).flatten(1).mean(1).sum())
    correct = 0
    if probe is not None:
        weight, bias = probe
        correct = int(((codes @ weight.T + bias).argmax(1) == labels).sum())
    return squared_error, correct


def measure_robustness(
    autoencoder,
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    probe: tuple[torch.Tensor, torch.Tensor] | None,
    strengths: tuple[float, ...] = ROBUSTNESS_STRENGTHS,
    kinds: tuple[str, ...] = NOISE_KINDS,
    seed: int = 0,
) -> Robustness:
    """``images``: N x 28 x 28 (or N x 1 x 28 x 28) ink in 0..1; ``probe``: (weight, bias) of the
    linear probe on the code, or None."""
    import torch

    clean = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    labels = torch.as_tensor(np.asarray(labels)).long()
    if probe is not None:
        probe = (probe[0].float(), probe[1].float())
    n = len(clean)
    with torch.inference_mode():
        clean_error, clean_correct = 0.0, 0
        for start in range(0, n, BATCH_SIZE):
            error, correct = _figures(autoencoder, clean[start : start + BATCH_SIZE], clean[start : start + BATCH_SIZE], labels[start : start + BATCH_SIZE], probe)
            clean_error, clean_correct = clean_error + error, clean_correct + correct
        mse = {kind: [clean_error / n] for kind in kinds}
        accuracy = {kind: [clean_correct / n] for kind in kinds}
        for kind in kinds:
            for strength in strengths:
                generator = kind_generator(seed, kind)
                total_error, total_correct = 0.0, 0
                for start in range(0, n, BATCH_SIZE):
                    batch = clean[start : start + BATCH_SIZE]
                    noisy = add_noise(batch, {kind: strength}, generator)
                    error, correct = _figures(autoencoder, noisy, batch, labels[start : start + BATCH_SIZE], probe)
                    total_error, total_correct = total_error + error, total_correct + correct
                mse[kind].append(total_error / n)
                accuracy[kind].append(total_correct / n)
    return Robustness((0.0, *strengths), mse, accuracy if probe is not None else None, n)


def model_robustness(model, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> Robustness:
    """``measure_robustness`` of a loaded model with the probe its statistics store."""
    statistics = model.statistics
    probe = (statistics.probe_weight, statistics.probe_bias) if statistics is not None and statistics.probe_weight is not None else None
    return measure_robustness(model.autoencoder, images, labels, probe, seed=seed)


ROBUSTNESS = "robustness"  # the executor channel
COMPARISON_DIGITS = 500  # reference digits the Compare view measures each model on
MAX_MEASURED = 64  # models whose figures are kept for the session

# Figures already measured, for the whole session (every window of the process): keyed by the
# model's weights, the digits measured on and the seed, never by file name, so a checkpoint
# trained again into the same file is measured again. Written on the requester's thread only;
# a measurement reads a copy.
_measured: dict[tuple[str, str, int], Robustness] = {}


def fingerprint(*arrays) -> str:
    """A digest of arrays' shapes and bytes: the same weights or digits, the same key."""
    import hashlib

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def weights_fingerprint(autoencoder) -> str:
    import torch

    with torch.no_grad():
        return fingerprint(*(tensor.detach().cpu().numpy() for tensor in autoencoder.state_dict().values()))


class RobustnessComparison:
    """The robustness of the models being compared, measured in the background on the
    reference digits each time the comparison changes (latest wins); results are kept per
    model (by its weights) for the session, so a model added later costs only its own
    measurement."""

    def __init__(self, explorer, digits: int = COMPARISON_DIGITS, seed: int = 0):
        self.explorer = explorer
        self.digits = digits
        self.seed = seed
        self.results: list[tuple[str, Robustness]] = []  # (model name, figures), smallest k first
        self.robustness_changed = Signal()  # (list of (name, Robustness))
        explorer.comparison_changed.connect(self._on_explorer_comparison_changed)

    def _on_explorer_comparison_changed(self, models, problems) -> None:
        models = sorted(models, key=lambda model: model.latent_dim)
        if not models:
            self.results = []
            self.robustness_changed.emit(self.results)
            return
        reference, digits, seed, known = self.explorer.reference, self.digits, self.seed, dict(_measured)
        description = f"Measuring the noise robustness of {len(models)} models"

        names = distinguishing_names([model.path for model in models])  # two runs' best.ckpt: "run-a/best", "run-b/best"

        def measure() -> list[tuple[str, tuple, Robustness]]:
            rows = []
            images, labels = reference.images[:digits], reference.labels[:digits]
            measured_on = fingerprint(images, labels)
            for name, model in zip(names, models):
                key = (weights_fingerprint(model.autoencoder), measured_on, seed)
                figures = known.get(key) or model_robustness(model, images, labels, seed)
                rows.append((name, key, figures))
            return rows

        def done(rows) -> None:
            for _, key, figures in rows:
                _measured[key] = figures
            while len(_measured) > MAX_MEASURED:
                del _measured[next(iter(_measured))]
            self.results = [(name, figures) for name, _, figures in rows]
            self.robustness_changed.emit(self.results)

        self.explorer.tasks.run(ROBUSTNESS, description, measure, done)  # a failure shows in the status bar
