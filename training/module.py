"""The LightningModule that trains an autoencoder, and the callback that annotates checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.nn import functional as F

from aegui.core.model_format import DEFAULTS, FORMAT_KEY, FORMAT_VERSION, HYPERPARAMETERS, N_CLASSES, STATE_PREFIX, STATISTICS_KEY
from aegui.core.networks import build_autoencoder
from training.atomic_save import save_atomically
from training.statistics import compute_statistics


class AutoencoderModule(pl.LightningModule):
    """Reconstruct MNIST-style digits through a k-dimensional bottleneck.

    All init arguments are primitives and saved with ``save_hyperparameters`` so that a
    checkpoint alone rebuilds the network (see ``aegui.core.networks.build_autoencoder``); their
    defaults and ranges are the checkpoint schema in ``aegui.core.model_format``.
    ``beta`` weighs the KL term in variational mode; ``augmentation`` scales a small random
    affine jitter of each training digit (at 1.0: rotation up to ±8°, scale ±8 %, shift ±1.4
    px); it keeps the decoder from memorising the 9,000 training digits.
    ``reconstruction_loss`` is per-pixel binary cross-entropy (sharper digits) or mean
    squared error (the measure ``evaluate`` reports as test MSE).
    """

    def __init__(
        self,
        architecture: str = DEFAULTS["architecture"],
        latent_dim: int = DEFAULTS["latent_dim"],
        hidden_dim: int = DEFAULTS["hidden_dim"],
        channels: int = DEFAULTS["channels"],
        hidden_layers: int = DEFAULTS["hidden_layers"],
        variational: bool = DEFAULTS["variational"],
        beta: float = DEFAULTS["beta"],
        learning_rate: float = DEFAULTS["learning_rate"],
        weight_decay: float = DEFAULTS["weight_decay"],
        augmentation: float = DEFAULTS["augmentation"],
        classifier_weight: float = DEFAULTS["classifier_weight"],
        reconstruction_loss: str = DEFAULTS["reconstruction_loss"],
    ):
        arguments = dict(locals())
        super().__init__()
        for name, schema in HYPERPARAMETERS.items():
            problem = schema.problem(arguments[name])
            if problem:
                raise ValueError(problem)
        self.save_hyperparameters()
        self.autoencoder = build_autoencoder(self.hparams)
        self._total_steps: float = float("inf")  # set when training starts
        self.classifier = torch.nn.Linear(latent_dim, N_CLASSES) if classifier_weight > 0 else None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.autoencoder(images)

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        strength = self.hparams.augmentation
        if strength <= 0:
            return images
        n = len(images)
        uniform = lambda: (torch.rand(n, device=images.device) * 2 - 1) * strength  # noqa: E731
        angle, scale = uniform() * 0.14, 1 + uniform() * 0.08
        shift_x, shift_y = uniform() * 0.1, uniform() * 0.1
        cos, sin = scale * torch.cos(angle), scale * torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, align_corners=False)

    def _common_step(self, batch, stage: str) -> torch.Tensor:
        images, labels = batch
        if stage == "train":
            images = self._augment(images)
        mean, log_variance = self.autoencoder.encode_distribution(images)
        code = mean
        kl = images.new_zeros(())
        if log_variance is not None:
            if stage == "train":
                code = mean + torch.randn_like(mean) * (0.5 * log_variance).exp()
            kl = 0.5 * (mean**2 + log_variance.exp() - 1 - log_variance).sum(1).mean() / images[0].numel()
        logits = self.autoencoder.decode_logits(code)
        bce = F.binary_cross_entropy_with_logits(logits, images)
        if self.hparams.reconstruction_loss == "mse":
            mse = F.mse_loss(torch.sigmoid(logits), images)
            reconstruction = mse
        else:
            with torch.no_grad():  # logged only: no graph for it
                mse = F.mse_loss(torch.sigmoid(logits), images)
            reconstruction = bce
        loss = reconstruction + self.hparams.beta * kl
        if self.classifier is not None:
            class_logits = self.classifier(mean)
            loss = loss + self.hparams.classifier_weight * F.cross_entropy(class_logits, labels)
            self.log(f"{stage}/classifier_accuracy", (class_logits.argmax(1) == labels).float().mean(), on_step=False, on_epoch=True, sync_dist=True)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"{stage} loss became {loss.item()} at epoch {self.current_epoch}, step {self.global_step}; "
                "training stopped. Lower the learning rate or check the data."
            )
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=on_step, on_epoch=True, sync_dist=not on_step)
        self.log(f"{stage}/bce", bce, on_step=False, on_epoch=True, sync_dist=True)
        self.log(f"{stage}/mse", mse, prog_bar=stage != "train", on_step=False, on_epoch=True, sync_dist=True)
        if log_variance is not None:
            self.log(f"{stage}/kl", kl, on_step=False, on_epoch=True, sync_dist=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self._common_step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._common_step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._common_step(batch, "test")

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay)
        # The schedule reads the total step count live, so a run resumed with more epochs
        # stretches its schedule instead of failing on a stored step count.
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: self._learning_rate_factor(step))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_train_start(self) -> None:
        self._total_steps = self.trainer.estimated_stepping_batches

    def _learning_rate_factor(self, step: int) -> float:
        """Linear warm-up over the first 3% of steps, then cosine decay to 2% of the peak."""
        total = self._total_steps
        if not isinstance(total, (int, float)) or not math.isfinite(total) or total <= 0:
            return 1.0
        warmup = max(1, int(0.03 * total))
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # A plain dict, so the file loads with torch.load(weights_only=True).
        checkpoint["hyper_parameters"] = dict(checkpoint.get("hyper_parameters", {}))
        checkpoint[FORMAT_KEY] = FORMAT_VERSION


def annotate_checkpoint(path: Path, datamodule) -> dict:
    """Add the app's statistics, computed with the weights in ``path`` itself, to that file."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    autoencoder = build_autoencoder(checkpoint["hyper_parameters"])
    weights = {k[len(STATE_PREFIX) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(STATE_PREFIX)}
    autoencoder.load_state_dict(weights)
    train_images, train_labels = datamodule.train_set.tensors
    val_images, _ = datamodule.val_set.tensors
    test_images, test_labels = datamodule.test_set.tensors
    statistics = compute_statistics(autoencoder, train_images, train_labels, val_images, test_images, test_labels, datamodule.provenance)
    checkpoint[STATISTICS_KEY] = statistics
    checkpoint[FORMAT_KEY] = FORMAT_VERSION
    save_atomically(checkpoint, path)
    return statistics


class CheckpointStatistics(pl.Callback):
    """At the end of fitting, store latent statistics, error percentiles, the linear probe,
    dataset provenance and test metrics in the best and last checkpoints."""

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero or trainer.datamodule is None:
            return
        datamodule = trainer.datamodule
        if not hasattr(datamodule, "test_set"):
            datamodule.setup("fit")
        paths = set()
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint):
                paths.update(p for p in (callback.best_model_path, callback.last_model_path) if p)
        for path in sorted(paths):
            if Path(path).is_file():
                statistics = annotate_checkpoint(Path(path), datamodule)
                metrics = statistics["test_metrics"]
                pl_module.print(
                    f"{path}: test MSE/pixel {metrics['test_mse']:.5f}, BCE {metrics['test_bce']:.4f}, "
                    f"probe accuracy {metrics['probe_accuracy']:.4f}, kNN accuracy {metrics['knn_accuracy']:.4f}"
                )
