"""Time the end of ``fit``: the app's statistics stored in the best and the last checkpoint.

Runs what ``fit`` runs once training is over, on the bundled default model saved as both
``best.ckpt`` and ``last.ckpt`` (a run whose best epoch is its last; when they differ the
encoding part is done once per file), with 9,000 training, 1,000 validation and 10,000 test
digits: real MNIST from ``--data-dir`` (the first 10,000 training digits, as the bundled
models were trained), or else the bundled sample digits repeated to those sizes.

    python tests/benchmarks/bench_statistics.py [--data-dir DIR] [--repeats 3]

Works against an older checkout too (``PYTHONPATH=OLD_TREE python ...``), which then runs its
own one-file-at-a-time ``annotate_checkpoint``, for a ratio measured in one session.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("PYTORCH_LIGHTNING_DISABLE_VERSION_CHECK", "1")

import numpy as np  # noqa: E402
from machine_reference import machine_reference  # noqa: E402

from aegui.core.idx import write_idx  # noqa: E402
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits  # noqa: E402


def sample_folder(folder: Path) -> Path:
    """Standard IDX files made of the bundled sample digits, repeated to 10,000 train and test."""
    digits = load_reference_digits()
    images = (digits.images * 255).round().astype(np.uint8)
    repeats = -(-10_000 // len(images))
    tiled, labels = np.tile(images, (repeats, 1, 1))[:10_000], np.tile(digits.labels, repeats)[:10_000].astype(np.uint8)
    for split in ("train", "t10k"):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", tiled)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="folder with the MNIST IDX files (default: the bundled sample, repeated)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import training.module as module
    from training.data import MNISTDataModule

    reference = machine_reference()
    print(f"machine reference: batch-1 forward {reference['forward_ms']:.3f} ms, Python loop {reference['python_loop_ms']:.1f} ms")
    with tempfile.TemporaryDirectory() as temporary:
        temporary = Path(temporary)
        data_dir = args.data_dir or sample_folder(temporary)
        datamodule = MNISTDataModule(data_dir=str(data_dir), download=False, limit_train=10_000)
        datamodule.setup("fit")
        sizes = f"{len(datamodule.train_set):,} train / {len(datamodule.val_set):,} validation / {len(datamodule.test_set):,} test digits"
        print(f"data: {'MNIST from ' + str(data_dir) if args.data_dir else 'bundled sample, repeated'}; {sizes}")
        together = hasattr(module, "annotate_checkpoints")
        seconds = []
        for _ in range(args.repeats):
            paths = [temporary / "best.ckpt", temporary / "last.ckpt"]
            for path in paths:
                shutil.copyfile(DEFAULT_CHECKPOINT, path)
            start = time.perf_counter()
            if together:
                module.annotate_checkpoints(paths, datamodule)
            else:
                for path in paths:
                    module.annotate_checkpoint(path, datamodule)
            seconds.append(time.perf_counter() - start)
    how = "annotate_checkpoints (once per distinct weights)" if together else "annotate_checkpoint per file"
    print(f"statistics for best + last, {how}: median {statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
