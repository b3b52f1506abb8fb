"""Image import on photographed MNIST test digits: how many the probe reads right after import.

Each test digit is written in a pen colour on tinted paper, turned up to ±15 degrees, lit by a
light gradient, given paper texture, blurred and saved as a JPEG (``training.photographed``),
then goes through the app's import (``aegui.core.image_import``) and the canvas's preparation.
Prints the probe's accuracy on the imported digits beside its accuracy on the same digits
clean, the share the verdict calls "not a digit", and the import's time per photo.

    python tests/benchmarks/bench_image_import.py --data-dir /work/shared/data/mnist [--count 2000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="MNIST IDX folder (default: the bundled 3,000-digit sample)")
    parser.add_argument("--count", type=int, default=2000, help="test digits to photograph (the last ones of the test set)")
    parser.add_argument("--checkpoint", type=Path, help="default: the bundled default model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    from aegui.core.model_files import load_model
    from aegui.core.image_import import prepare_photo
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
    from aegui.core.session import ModelSession
    from training.photographed import photographed_set

    torch.set_num_threads(1)
    reference = load_reference_digits()
    if args.data_dir is not None:
        from training.datasets import load_split

        images, labels, _ = load_split(args.data_dir, "test")
        images, labels = images[-args.count :].astype(np.float32) / 255.0, labels[-args.count :]
        source = f"the last {len(labels)} MNIST test digits"
    else:
        images, labels = reference.images[: args.count], reference.labels[: args.count]
        source = f"the first {len(labels)} bundled sample digits"
    session = ModelSession(load_model(args.checkpoint or DEFAULT_CHECKPOINT), reference)
    photos = photographed_set(images, seed=args.seed)
    start = time.perf_counter()
    imported = [prepare_photo(photo.astype(np.float32) / 255.0) for photo in photos]
    per_photo = (time.perf_counter() - start) / len(photos) * 1000
    read_imported = read_clean = flagged = 0
    for result, clean, label in zip(imported, images, labels):
        analysis = session.analyse_image(result.digit, origin="import")
        read_imported += int(np.argmax(analysis.digit_probabilities) == label)
        flagged += analysis.verdict == "not a digit"
        read_clean += int(np.argmax(session.digit_probabilities(session.encode(clean))) == label)
    n = len(labels)
    print(f"photographed {source} (seed {args.seed}), mean photo side {np.mean([p.shape[0] for p in photos]):.0f} px")
    print(f"probe reads right after import: {read_imported / n:.4f} ({read_imported} of {n}); the same digits clean: {read_clean / n:.4f}")
    print(f"verdict 'not a digit' on imported digits: {flagged / n:.2%}")
    print(f"import: {per_photo:.1f} ms per photo (machine shared; a loaded machine is slower)")


if __name__ == "__main__":
    main()
