"""MNIST and Fashion-MNIST as a ``LightningDataModule``: IDX files from a folder or a download."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from training.datasets import DATASETS, download_dataset, load_split, locate_dataset, locate_without_download
from training.digit_tensors import images_to_tensor, split_indices
from training.errors import DatasetNotFoundError, DownloadError


class MNISTDataModule(pl.LightningDataModule):
    """MNIST-style digits: seeded train/validation split of the training file, t10k as test set.

    ``data_dir`` names a folder with the four IDX files; without it, Debian's dataset folder
    (Fashion-MNIST) and then the download cache are used. Downloads happen only in
    ``prepare_data`` and only when ``download`` is true.
    """

    def __init__(
        self,
        dataset: str = "mnist",
        data_dir: str | None = None,
        download: bool = True,
        batch_size: int = 128,
        val_fraction: float = 0.1,
        limit_train: int | None = None,
        split_seed: int = 1234,
        num_workers: int = 0,
    ):
        super().__init__()
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
        self.save_hyperparameters()
        self.provenance: dict = {}

    def prepare_data(self) -> None:
        if not self.hparams.download:
            locate_without_download(self.hparams.dataset, self.hparams.data_dir)
            return
        try:
            locate_dataset(self.hparams.dataset, self.hparams.data_dir)
        except DatasetNotFoundError as missing:
            target = Path(self.hparams.data_dir).expanduser() if self.hparams.data_dir else None
            new_folder = target is not None and not target.exists()
            try:
                download_dataset(self.hparams.dataset, target)
            except DownloadError as failed:
                if new_folder:  # most likely a misspelt folder: say so, and leave no empty folder behind
                    with contextlib.suppress(OSError):
                        target.rmdir()
                note = f" (there was no folder {target}: is its name right?)" if new_folder else ""
                raise DownloadError(f"{missing}{note}, and downloading them failed: {failed}") from failed

    def setup(self, stage: str | None = None) -> None:
        folder = locate_dataset(self.hparams.dataset, self.hparams.data_dir)
        images, labels, train_checksums = load_split(folder, "train")
        if self.hparams.limit_train:
            images, labels = images[: self.hparams.limit_train], labels[: self.hparams.limit_train]
        test_images, test_labels, test_checksums = load_split(folder, "test")
        n_val = max(1, int(round(len(images) * self.hparams.val_fraction)))
        train_index, val_index = split_indices(len(images), n_val, self.hparams.split_seed)
        self.train_set = TensorDataset(images_to_tensor(images[train_index]), torch.from_numpy(labels[train_index]))
        self.val_set = TensorDataset(images_to_tensor(images[val_index]), torch.from_numpy(labels[val_index]))
        self.test_set = TensorDataset(images_to_tensor(test_images), torch.from_numpy(test_labels))
        self.provenance = {
            "name": self.hparams.dataset,
            "n_train": len(train_index),
            "n_val": n_val,
            "n_test": len(test_images),
            "split_seed": self.hparams.split_seed,
            "files": {**train_checksums, **test_checksums},
        }

    def _loader(self, dataset: TensorDataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.hparams.batch_size, shuffle=shuffle, num_workers=self.hparams.num_workers, persistent_workers=self.hparams.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
