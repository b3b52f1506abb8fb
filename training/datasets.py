"""Where the MNIST and Fashion-MNIST IDX files are, fetching them, and reading them as arrays.

Without torch and without Lightning: ``aegui-train`` can refuse a missing dataset before its heavy
imports, and ``evaluate`` and ``sweep`` read digits without importing Lightning at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aegui.core.idx import read_images_and_labels, sha256_of
from aegui.core.paths import cache_dir
from aegui.core.training_plan import FASHION_MNIST_SYSTEM_DIRS, IDX_STEMS
from training.download import download_file
from training.errors import DatasetNotFoundError

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


def locate_without_download(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """``locate_dataset`` when downloading is off: the refusal says so, and which flag fixes it."""
    try:
        return locate_dataset(dataset, data_dir)
    except DatasetNotFoundError as missing:
        raise DatasetNotFoundError(f"{missing}, and downloading is off (--data.download false)") from None


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
