"""Samples per second: the Lightning training loop vs a plain PyTorch loop, side by side.

Same network, same data (real MNIST digits from the bundled sample, repeated to the size
asked), same batch size and optimiser, same number of threads; each loop runs the same
number of epochs after one warm-up epoch. Prints both figures and their ratio.

    python tests/benchmarks/bench_training_throughput.py [--epochs 3] [--samples 9000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("PYTORCH_LIGHTNING_DISABLE_VERSION_CHECK", "1")

import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from aegui.core.resources import load_reference_digits  # noqa: E402
from training.module import AutoencoderModule  # noqa: E402

HPARAMS = dict(architecture="conv", latent_dim=32, hidden_dim=256, channels=16, learning_rate=3e-3, weight_decay=1e-4)


def dataset(samples: int) -> TensorDataset:
    digits = load_reference_digits()
    images = torch.from_numpy(digits.images).unsqueeze(1)
    labels = torch.from_numpy(digits.labels)
    repeats = -(-samples // len(images))
    return TensorDataset(images.repeat(repeats, 1, 1, 1)[:samples], labels.repeat(repeats)[:samples])


def plain_loop(data: TensorDataset, batch_size: int, epochs: int) -> float:
    torch.manual_seed(0)
    module = AutoencoderModule(**HPARAMS)
    network = module.autoencoder
    optimizer = torch.optim.AdamW(network.parameters(), lr=3e-3, weight_decay=1e-4)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)

    def epoch() -> None:
        network.train()
        for images, _ in loader:
            logits = network.decode_logits(network.encode(images))
            loss = F.binary_cross_entropy_with_logits(logits, images)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    epoch()  # warm-up
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return epochs * len(data) / (time.perf_counter() - start)


class _Timer(pl.Callback):
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == 1:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.elapsed = time.perf_counter() - self.start


def lightning_loop(data: TensorDataset, batch_size: int, epochs: int) -> float:
    torch.manual_seed(0)
    module = AutoencoderModule(**HPARAMS)
    timer = _Timer()
    trainer = pl.Trainer(
        max_epochs=epochs + 1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0, callbacks=[timer],
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(module, DataLoader(data, batch_size=batch_size, shuffle=True))
    return epochs * len(data) / timer.elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=9000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    data = dataset(args.samples)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.samples} samples, batch {args.batch_size}, {args.epochs} timed epochs each")
    plain = plain_loop(data, args.batch_size, args.epochs)
    lightning = lightning_loop(data, args.batch_size, args.epochs)
    print(f"plain PyTorch loop  {plain:8.0f} samples/s")
    print(f"Lightning loop      {lightning:8.0f} samples/s")
    print(f"ratio Lightning / plain: {lightning / plain:.3f}")


if __name__ == "__main__":
    main()
