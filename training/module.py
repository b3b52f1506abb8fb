"""The LightningModule that trains an autoencoder, and the callback that annotates checkpoints."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.nn import functional as F
from tqdm.auto import tqdm

from aegui.core.hyperparameters import DEFAULTS, HYPERPARAMETERS, check_model_arguments
from aegui.core.model_files import load_model, read_weights_only_file
from aegui.core.model_format import FORMAT_KEY, FORMAT_VERSION, N_CLASSES, STATE_PREFIX, STATISTICS_KEY, format_metric, network_hparams
from aegui.core.networks import build_autoencoder
from aegui.core.noise import parse_noise_spec, random_noise
from aegui.core.resources import load_near_ood
from training.atomic_save import save_atomically
from training.non_digits import non_digits_from, restyle_share, varied_drawings
from training.progress import kept_last_checkpoint
from training.statistics import compute_statistics
from training.stroke_properties import measure

OUTLIER_DRAWINGS = 3000  # varied drawings beside the near-OOD calibration glyphs (``outlier_drawings``)


class AutoencoderModule(pl.LightningModule):
    """Reconstruct MNIST-style digits through a k-dimensional bottleneck.

    All init arguments are primitives and saved with ``save_hyperparameters`` so that a
    checkpoint alone rebuilds the network (see ``aegui.core.networks.build_autoencoder``); their
    defaults and allowed values are the one table in ``aegui.core.hyperparameters``.
    ``beta`` weighs the KL term in variational mode; ``augmentation`` scales a small random
    affine jitter of each training digit (at 1.0: rotation up to ±8°, scale ±8 %, shift ±1.4
    px); it keeps the decoder from memorising the 9,000 training digits.
    ``reconstruction_loss`` is per-pixel binary cross-entropy (sharper digits) or mean
    squared error (the measure ``evaluate`` reports as test MSE). ``outlier_weight`` adds
    outlier exposure: non-digits (``_outlier_batch``) should leave the code's classifier
    undecided, which moves their codes away from the digits' and sharpens the "not a digit"
    verdict on letters and symbols it never saw. ``input_noise`` makes a denoising
    autoencoder: each training batch gets fresh noise of the named kinds, each digit's strength
    uniform up to the given one (``aegui.core.noise``), and the loss compares the reconstruction
    with the clean digit; validation and test stay clean. ``input_restyle`` shows the encoder
    that share of each training batch written otherwise (thick, blurred, low resolution, an
    even pen: ``restyle_share``), the clean digit still the target, and restyles the outlier
    batch alike, so a digit in another hand gets a digit's code while style alone makes no
    digit (``outlier_drawings`` adds drawings of many kinds, ``varied_drawings``, to the outliers;
    ``restyle_target`` "restyled": the digit as restyled is the target instead, so the
    decoder learns to rebuild other hands as written).
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
        outlier_weight: float = DEFAULTS["outlier_weight"],
        reconstruction_loss: str = DEFAULTS["reconstruction_loss"],
        input_noise: str = DEFAULTS["input_noise"],
        input_restyle: float = DEFAULTS["input_restyle"],
        restyle_target: str = DEFAULTS["restyle_target"],
        outlier_drawings: bool = DEFAULTS["outlier_drawings"],
    ):
        arguments = {name: value for name, value in locals().items() if name in HYPERPARAMETERS}
        super().__init__()
        check_model_arguments(arguments)  # HyperparameterError: the option, the value, what is allowed
        self.save_hyperparameters()
        self.autoencoder = build_autoencoder(self.hparams)
        self._total_steps: float = float("inf")  # set when training starts
        self._glyphs: torch.Tensor | None = None  # the benchmark's calibration glyphs, loaded on first use
        self.classifier = torch.nn.Linear(latent_dim, N_CLASSES) if classifier_weight > 0 else None
        self._input_noise = parse_noise_spec(input_noise)

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

    def _outlier_batch(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """As many non-digits as digits: half made from the batch (``non_digits_from``), half drawn from
        the calibration part of the near-OOD benchmark (letters, symbols and shapes; the report
        part, which measures the score, is never trained on), jittered like training digits."""
        if self._glyphs is None:
            self._glyphs = torch.from_numpy(load_near_ood("calibration").images).unsqueeze(1)
            if self.hparams.outlier_drawings:  # as many drawings as glyphs in each batch
                self._glyphs = torch.cat([self._glyphs.repeat(OUTLIER_DRAWINGS // len(self._glyphs) + 1, 1, 1, 1)[:OUTLIER_DRAWINGS], varied_drawings(OUTLIER_DRAWINGS, seed=0)])
        picked = torch.randint(0, len(self._glyphs), (len(images) // 2,))
        glyphs = self._augment(self._glyphs[picked].to(images.device, images.dtype))
        return torch.cat([non_digits_from(images, labels)[: len(images) - len(picked)], glyphs])

    def _common_step(self, batch, stage: str) -> torch.Tensor:
        images, labels = batch
        inputs = images
        if stage == "train":
            images = self._augment(images)
            styled = restyle_share(images, self.hparams.input_restyle)
            if self.hparams.restyle_target == "restyled":
                images = styled  # the digit as written is the target: only noise is to be ignored
            inputs = random_noise(styled, self._input_noise)  # per batch, after the jitter: the target is the same digit, clean
        mean, log_variance = self.autoencoder.encode_distribution(inputs)
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
            if self.hparams.outlier_weight > 0 and stage == "train":
                # Outlier exposure: the classifier should not know which digit a non-digit is,
                # so such codes land where no digit's do (cross-entropy to the uniform guess).
                outlier_code, _ = self.autoencoder.encode_distribution(restyle_share(self._outlier_batch(images, labels), self.hparams.input_restyle))
                outlier_loss = -F.log_softmax(self.classifier(outlier_code), 1).mean()
                loss = loss + self.hparams.outlier_weight * outlier_loss
                self.log(f"{stage}/outlier_loss", outlier_loss, on_step=False, on_epoch=True, sync_dist=True)
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
        # A plain dict, so the file loads weights-only (aegui.core.model_files.reader).
        checkpoint["hyper_parameters"] = dict(checkpoint.get("hyper_parameters", {}))
        checkpoint[FORMAT_KEY] = FORMAT_VERSION


def start_from_checkpoint(module: AutoencoderModule, path: str | Path) -> str:
    """Fine-tuning: copy the network of an aegui checkpoint into ``module`` before training, so
    the run continues from it instead of from random weights; the code's classifier, which a
    checkpoint does not keep, starts as the checkpoint's linear probe (fitted on those very
    codes). The file goes through the app's own loader (weights only, validated).
    Raises ``CheckpointError`` for a file the app would refuse and ``ValueError`` when its
    network differs from the run's. Returns what was copied, for the log."""
    model = load_model(path)
    ours, theirs = network_hparams(module.hparams), network_hparams(model.hparams)
    different = [f"{name} {theirs[name]!r} (this run: {ours[name]!r})" for name in ours if ours[name] != theirs[name]]
    if different:
        raise ValueError(f"it holds a different network: {', '.join(different)}; start from a checkpoint of the same network")
    module.autoencoder.load_state_dict({name: value.float() for name, value in model.autoencoder.state_dict().items()})
    copied = "network"
    statistics = model.statistics
    if module.classifier is not None and statistics is not None and statistics.probe_weight is not None:
        with torch.no_grad():
            module.classifier.weight.copy_(statistics.probe_weight.float())
            module.classifier.bias.copy_(statistics.probe_bias.float())
        copied += " and linear probe (as the code's classifier)"
    return f"Starting from {path}: {copied} copied"


def _network_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    return {k[len(STATE_PREFIX) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(STATE_PREFIX)}


def _same_weights(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)


def annotate_checkpoints(paths: list[Path], datamodule, progress_bar=None) -> dict[Path, dict]:
    """Add the app's statistics, computed with each file's own weights, to every file in ``paths``.

    Statistics are computed once per distinct set of weights (the best and the last checkpoint
    of a run are often the same epoch) and the data's stroke properties once in all.
    ``progress_bar(total_digits)`` may return a context manager with ``update(n)`` (a tqdm bar).
    Returns each path's statistics.
    """
    train_images, train_labels = datamodule.train_set.tensors
    val_images, _ = datamodule.val_set.tensors
    test_images, test_labels = datamodule.test_set.tensors
    groups: list[tuple[dict, list[tuple[Path, dict]]]] = []  # weights, [(path, checkpoint)]
    for path in paths:
        checkpoint = read_weights_only_file(path)  # the app's guarded reader: refused with a one-line message
        weights = _network_weights(checkpoint)
        group = next((members for known, members in groups if _same_weights(known, weights)), None)
        if group is None:
            groups.append((weights, [(Path(path), checkpoint)]))
        else:
            group.append((Path(path), checkpoint))
    total = len(groups) * (len(train_images) + len(val_images) + len(test_images))
    result = {}
    with progress_bar(total) if progress_bar else contextlib.nullcontext() as progress:
        train_properties = measure(train_images.numpy()) if groups else None
        for weights, members in groups:
            autoencoder = build_autoencoder(members[0][1]["hyper_parameters"])
            autoencoder.load_state_dict(weights)
            statistics = compute_statistics(
                autoencoder, train_images, train_labels, val_images, test_images, test_labels, datamodule.provenance, train_properties=train_properties, progress=progress
            )
            for path, checkpoint in members:
                checkpoint[STATISTICS_KEY] = statistics
                checkpoint[FORMAT_KEY] = FORMAT_VERSION
                save_atomically(checkpoint, path)
                result[path] = statistics
    return result


def annotate_checkpoint(path: Path, datamodule) -> dict:
    """Add the app's statistics, computed with the weights in ``path`` itself, to that file."""
    return annotate_checkpoints([Path(path)], datamodule)[Path(path)]


def format_test_metrics(metrics: dict) -> str:
    """One line of test figures, rounded as everywhere in aegui (``aegui.core.model_format.format_metric``)."""
    return (
        f"test MSE/pixel {format_metric('test_mse', metrics['test_mse'])}, BCE {format_metric('test_bce', metrics['test_bce'])}, "
        f"linear probe {format_metric('probe_accuracy', metrics['probe_accuracy'])}, 5-NN {format_metric('knn_accuracy', metrics['knn_accuracy'])} "
        f"on {metrics['n_test']:,} test digits"
    )


def interrupted_note(trainer: pl.Trainer) -> str:
    """What Ctrl+C left, on the terminal: where the last epoch is and how to go on."""
    last = kept_last_checkpoint(trainer)
    if last is None:
        return "Interrupted before the first epoch ended: nothing was kept to resume from."
    return (
        f"Interrupted. The last finished epoch is kept in {last}: the same command with --ckpt_path last resumes the run; "
        f"aegui-train annotate {last} adds what the app needs to open it now."
    )


class CheckpointStatistics(pl.Callback):
    """At the end of fitting, store latent statistics, error percentiles, the linear probe,
    dataset provenance and test metrics in the best and last checkpoints.

    ``summary`` keeps what was written (one line per file), printed by the CLI once the
    trainer and its progress bar are done, so it is the last thing a user sees.
    """

    def __init__(self) -> None:
        self.summary: list[str] = []
        self.interrupted = False  # Ctrl+C ended the fit
        self.annotated: dict[Path, dict] = {}  # each annotated checkpoint's statistics (read by the progress stream)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """Ctrl+C: say what is kept and how to go on (Lightning alone says it shuts down)."""
        if isinstance(exception, KeyboardInterrupt):
            self.interrupted = True  # the command then exits 130 (Lightning's own exit is 1)
            if trainer.is_global_zero:
                print(interrupted_note(trainer), file=sys.stderr, flush=True)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero or trainer.datamodule is None:
            return
        datamodule = trainer.datamodule
        if not hasattr(datamodule, "test_set"):
            datamodule.setup("fit")
        roles: dict[Path, list[str]] = {}
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint):
                for role, path in (("best", callback.best_model_path), ("last", callback.last_model_path)):
                    if path and Path(path).is_file():
                        roles.setdefault(Path(path), []).append(role)
        if not roles:
            return
        def progress_bar(total: int):
            return tqdm(total=total, unit=" digits", desc="Statistics for the app", disable=not trainer.progress_bar_callback, file=sys.stderr, dynamic_ncols=True)

        started = time.perf_counter()
        annotated = annotate_checkpoints(sorted(roles), datamodule, progress_bar=progress_bar)
        self.annotated = annotated
        seconds = time.perf_counter() - started
        distinct = len({id(statistics) for statistics in annotated.values()})
        shared = " (the same weights: computed once)" if distinct < len(annotated) else ""
        self.summary = [f"Statistics for the app computed in {seconds:.1f} s{shared}:"]
        for path, statistics in annotated.items():
            self.summary.append(f"  {' and '.join(roles[path])}: {path}")
            self.summary.append(f"    {format_test_metrics(statistics['test_metrics'])}")
