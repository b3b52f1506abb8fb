
import numpy as np
import pytest

from aegui.core.idx import read_idx, read_images_and_labels, write_idx
from training.datasets import load_split


def MNISTDataModule(**options):
    """The data module, imported when a test needs it: it imports Lightning (about 4 s), which
    collecting the suite on each worker would otherwise pay."""
    from training.data import MNISTDataModule

    return MNISTDataModule(**options)


def test_round_trip_gzip_and_raw(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "a", array, compress=False)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    assert np.array_equal(read_idx(tmp_path / "a"), array)


def test_truncated_file_is_refused_with_the_file_name(tmp_path):
    write_idx(tmp_path / "images", np.zeros((10, 28, 28), np.uint8), compress=False)
    data = (tmp_path / "images").read_bytes()
    (tmp_path / "images").write_bytes(data[: len(data) - 100])
    with pytest.raises(ValueError, match="images.*truncated"):
        read_idx(tmp_path / "images")


def test_damaged_gzip_is_refused(tmp_path):
    write_idx(tmp_path / "images.gz", np.zeros((10, 28, 28), np.uint8))
    data = (tmp_path / "images.gz").read_bytes()
    (tmp_path / "images.gz").write_bytes(data[:-12])
    with pytest.raises(ValueError, match="images.gz"):
        read_idx(tmp_path / "images.gz")


def test_bad_magic_is_refused(tmp_path):
    (tmp_path / "x").write_bytes(b"<html>not idx</html>")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "x")


def test_image_and_label_counts_must_match(tmp_path):
    write_idx(tmp_path / "images", np.zeros((10, 28, 28), np.uint8))
    write_idx(tmp_path / "labels", np.zeros(9, np.uint8))
    with pytest.raises(ValueError, match="10 images but .* 9 labels"):
        read_images_and_labels(tmp_path / "images", tmp_path / "labels")


def test_labels_outside_0_to_9_are_refused(tmp_path):
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "labels", np.array([1, 2, 11], np.uint8))
    with pytest.raises(ValueError, match="labels must be 0-9"):
        read_images_and_labels(tmp_path / "images", tmp_path / "labels")


def test_swapped_image_and_label_files_are_refused(tmp_path):
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "labels", np.array([1, 2, 3], np.uint8))
    with pytest.raises(ValueError, match="expected 28x28 images"):
        read_images_and_labels(tmp_path / "labels", tmp_path / "images")


def test_corrupted_dataset_file_names_the_file_and_its_checksum(tiny_mnist_dir, tmp_path):
    for path in tiny_mnist_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    damaged = tmp_path / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz.*sha256 [0-9a-f]{64}"):
        load_split(tmp_path, "train")


def test_datamodule_split_is_seeded_and_disjoint(tiny_mnist_dir):
    first = MNISTDataModule(data_dir=str(tiny_mnist_dir), download=False, val_fraction=0.2)
    second = MNISTDataModule(data_dir=str(tiny_mnist_dir), download=False, val_fraction=0.2)
    first.setup("fit")
    second.setup("fit")
    assert len(first.train_set) == 480 and len(first.val_set) == 120 and len(first.test_set) == 200
    assert (first.val_set.tensors[0] == second.val_set.tensors[0]).all()
    train_rows = {row.numpy().tobytes() for row in first.train_set.tensors[0][:, 0].flatten(1)}
    overlap = sum(row.numpy().tobytes() in train_rows for row in first.val_set.tensors[0][:, 0].flatten(1))
    assert overlap <= 2  # MNIST has a few exact duplicate images; the indices themselves are disjoint
    assert first.provenance["name"] == "mnist" and len(first.provenance["files"]) == 4


def test_missing_dataset_says_where_it_looked_and_that_downloading_is_off(tmp_path):
    module = MNISTDataModule(data_dir=str(tmp_path / "nowhere"), download=False)
    with pytest.raises(FileNotFoundError, match=r"not in .*nowhere, and downloading is off \(--data.download false\)"):
        module.prepare_data()


def test_a_failed_download_into_a_folder_that_did_not_exist_asks_about_its_name_and_leaves_nothing(tmp_path, monkeypatch):
    from training.errors import DownloadError

    def refused(dataset, folder):
        folder.mkdir(parents=True, exist_ok=True)  # as the real download does before fetching
        raise DownloadError("no mirror answered")

    monkeypatch.setattr("training.data.download_dataset", refused)
    misspelt = tmp_path / "mnsit"
    with pytest.raises(DownloadError, match=r"\(there was no folder .*mnsit: is its name right\?\), and downloading them failed: no mirror answered"):
        MNISTDataModule(data_dir=str(misspelt), download=True).prepare_data()
    assert not misspelt.exists()  # no empty folder left behind
    existing = tmp_path / "empty"
    existing.mkdir()
    with pytest.raises(DownloadError) as failed:
        MNISTDataModule(data_dir=str(existing), download=True).prepare_data()
    assert "is its name right" not in str(failed.value) and existing.is_dir()  # a folder the user made stays
