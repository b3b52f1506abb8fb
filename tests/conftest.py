"""Shared fixtures. Qt runs offscreen; every file a test writes goes to tmp_path."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTORCH_LIGHTNING_DISABLE_VERSION_CHECK", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One worker per core: each computes on one thread (as the app does), and so do the
    # commands its tests start. Two threads per worker on a busy core only spin waiting for
    # each other (a 1-epoch fit: 22 s of CPU on 2 threads, 5 s on 1, with the other core busy).
    # Numba too: UMAP's first fit starts numba's OpenMP pool, which otherwise sets the calling
    # thread's OpenMP threads to the core count, torch's with them (an in-process 3-epoch fit
    # after it: 20 s of CPU instead of 3).
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aegui.core.idx import read_images_and_labels, write_idx  # noqa: E402
from aegui.core.resources import DEFAULT_CHECKPOINT, REFERENCE_IMAGES, REFERENCE_LABELS, load_reference_digits  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def reference():
    """1,000 real MNIST test digits from the bundled sample (enough for the map, quick to encode)."""
    return load_reference_digits(limit=1000)


@pytest.fixture(scope="session")
def default_checkpoint() -> Path:
    assert DEFAULT_CHECKPOINT.is_file(), "the bundled default checkpoint is missing"
    return DEFAULT_CHECKPOINT


@pytest.fixture(scope="session")
def k2_checkpoint() -> Path:
    path = DEFAULT_CHECKPOINT.parent / "mnist-conv-k2.ckpt"
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def tiny_mnist_dir(tmp_path_factory) -> Path:
    """A folder of standard MNIST IDX files holding 800 real digits: 600 'train', 200 'test'."""
    folder = tmp_path_factory.mktemp("tiny-mnist")
    images, labels = read_images_and_labels(REFERENCE_IMAGES, REFERENCE_LABELS)
    write_idx(folder / "train-images-idx3-ubyte.gz", images[:600])
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels[:600].astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images[2000:2200])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels[2000:2200].astype(np.uint8))
    return folder


# The costliest test files first (CPU seconds, measured with the profile in docs/benchmarks.md),
# so that with one file per worker (--dist loadfile, --no-loadscope-reorder) the cheap files
# fill the end of the run on both workers instead of one long file running alone.
COSTLIEST_FILES = (
    "tests/training/test_fit.py",
    "tests/training/test_fit_resume.py",
    "tests/qt/test_training.py",
    "tests/training/test_fit_options.py",
    "tests/training/test_sweep.py",
    "tests/training/test_outlier_exposure.py",
    "tests/test_package.py",
    "tests/qt/test_layout.py",
    "tests/core/test_session.py",
    "tests/qt/test_window.py",
    "tests/core/test_anomaly_score.py",
    "tests/qt/test_hostile_runs.py",
    "tests/core/test_projection.py",
    "tests/training/test_command_line.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(COSTLIEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order


def pytest_collection_finish(session):
    """Set aside what importing and collecting made (torch, Qt, Lightning, the test items) from
    the cyclic collector, as aegui's main does after start-up: a full collection then walks the
    objects the tests make, not 240,000 that live as long as the process (a Qt test file: 49 s
    of CPU, 39 s with this and the Qt tests' own freeze)."""
    gc.collect()
    gc.freeze()
