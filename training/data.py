"""MNIST and Fashion-MNIST as a ``LightningDataModule``: IDX files from a folder or a download."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from aegui.core.idx import read_images_and_labels, sha256_of
from aegui.core.paths import cache_dir
from aegui.core.training_plan import FASHION_MNIST_SYSTEM_DIRS, IDX_STEMS
from training.download import download_file
from training.errors import DatasetNotFoundError, DownloadError

SPLITS = {"train": IDX_STEMS[:2], "test": IDX_STEMS[2:]}


@dataclass(frozen=True)
class DatasetSource:
    name: str
    mirrors: tuple[str, ...]
    md5: dict[str, str]
    system_dirs: tuple[str, ...] = field(default=())


DATASETS = {
    "mnist": DatasetSource(
        name="mnist",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion-mnist": DatasetSource(
        name="fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        system_dirs=FASHION_MNIST_SYSTEM_DIRS,
    ),
}


def default_cache_dir(dataset: str) -> Path:
    return cache_dir("datasets", dataset)


def find_split_files(folder: Path, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) files of ``split`` in ``folder``, gzip preferred; None if absent."""
    found = []
    for stem in SPLITS[split]:
        candidates = [folder / f"{stem}.gz", folder / stem]
        existing = next((path for path in candidates if path.is_file()), None)
        if existing is None:
            return None
        found.append(existing)
    return found[0], found[1]


def candidate_dirs(dataset: str, data_dir: str | os.PathLike | None) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    return [Path(d) for d in DATASETS[dataset].system_dirs] + [default_cache_dir(dataset)]


def locate_dataset(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding both splits of ``dataset``; raise DatasetNotFoundError otherwise."""
    dirs = candidate_dirs(dataset, data_dir)
    for folder in dirs:
        if all(find_split_files(folder, split) for split in SPLITS):
            return folder
    looked = ", ".join(str(d) for d in dirs)
    raise DatasetNotFoundError(f"the {dataset} IDX files (train-images-idx3-ubyte[.gz] and the other three) are not in {looked}")


def download_dataset(dataset: str, target_dir: Path | None = None) -> Path:
    source = DATASETS[dataset]
    target_dir = Path(target_dir) if target_dir is not None else default_cache_dir(dataset)
    for file_name, md5 in source.md5.items():
        download_file(file_name, md5, source.mirrors, target_dir)
    return target_dir


def load_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Images (uint8, N x 28 x 28), labels and the sha256 of each file read."""
    paths = find_split_files(folder, split)
    if paths is None:
        raise DatasetNotFoundError(f"{folder} has no {split} files")
    try:
        images, labels = read_images_and_labels(*paths)
    except (ValueError, OSError) as error:
        checksums = ", ".join(f"{p.name} sha256 {sha256_of(p)}" for p in paths if p.is_file())
        raise ValueError(f"refusing damaged dataset file: {error} ({checksums})") from None
    return images, labels, {p.name: sha256_of(p) for p in paths}


def split_indices(n_images: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of a seeded split: the same seed and sizes give the same split
    in ``fit``, ``annotate`` and ``evaluate``."""
    order = torch.randperm(n_images, generator=torch.Generator().manual_seed(seed)).numpy()
    return order[n_val:], order[:n_val]


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)


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
        try:
            locate_dataset(self.hparams.dataset, self.hparams.data_dir)
        except DatasetNotFoundError as missing:
            if not self.hparams.download:
                raise DatasetNotFoundError(f"{missing}, and downloading is off (--data.download false)") from None
            target = Path(self.hparams.data_dir).expanduser() if self.hparams.data_dir else None
            try:
                download_dataset(self.hparams.dataset, target)
            except DownloadError as failed:
                raise DownloadError(f"{missing}, and downloading them failed: {failed}") from failed

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
