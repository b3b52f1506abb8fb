"""Do the named directions do what their names say? Measured on real test digits.

For each stroke property of a checkpoint, each of N MNIST test digits from the bundled sample
is encoded, moved along the property's direction by -2, -1, ..., +2 spreads, decoded, and the
property is measured on the *decoded* images (``training.stroke_properties``). Prints, per
property: the share of digits whose decoded property rises monotonically with the step, the
median Spearman correlation between step and property, and the share whose probe digit stays
the same for steps of +-1 spread.

    python tests/benchmarks/bench_directions.py [CHECKPOINT] [--digits 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from aegui.core.model_files import load_model
from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits
from aegui.core.session import ModelSession
from training.stroke_properties import PROPERTIES

STEPS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rank = lambda values: np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(np.float64)  # noqa: E731
    rx, ry = rank(x), rank(y)
    if ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", nargs="?", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--digits", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(2)
    digits = load_reference_digits()
    session = ModelSession(load_model(args.checkpoint), load_reference_digits(limit=100))
    images = digits.images[-args.digits :]
    codes = np.stack([session.encode(image) for image in images])
    print(f"{args.checkpoint.name}: {len(images)} MNIST test digits, steps {STEPS.tolist()} spreads")
    print(f"{'property':10} {'R^2':>5} {'monotonic':>10} {'Spearman':>9} {'same digit +-1':>15}")
    for name, (direction, spread, r2) in session.property_directions.items():
        moved = codes[:, None, :] + STEPS[None, :, None] * spread * direction[None, None, :]
        decoded = session.decode_many(moved.reshape(-1, codes.shape[1]).astype(np.float32)).reshape(len(images), len(STEPS), 28, 28)
        measured = PROPERTIES[name](decoded.reshape(-1, 28, 28).astype(np.float64)).reshape(len(images), len(STEPS))
        monotonic = np.mean(np.all(np.diff(measured, axis=1) >= 0, axis=1))
        rho = np.median([spearman(STEPS, row) for row in measured])
        probe = lambda c: np.argmax(c @ session._probe[0].T + session._probe[1], axis=1)  # noqa: E731
        same = np.mean((probe(moved[:, 1]) == probe(codes)) & (probe(moved[:, 3]) == probe(codes)))
        print(f"{name:10} {r2:5.2f} {monotonic:10.1%} {rho:9.2f} {same:15.1%}")


if __name__ == "__main__":
    main()
