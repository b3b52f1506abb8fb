"""How far noise moves each bundled k = 32 model's code: the median drift (in digit spreads, see
docs/noise.md) of 200 bundled reference digits under each kind of noise at strength 0.25, each
digit with its own seed.

    python tests/benchmarks/bench_noise_drift.py
"""

from __future__ import annotations

import numpy as np

from aegui.core.noise import NOISE_KINDS, NoiseSettings
from aegui.core.noisy_sketch import analyse_with_noise
from aegui.core.resources import CHECKPOINTS_DIR, load_reference_digits
from aegui.core.session import ModelSession

STRENGTH = 0.25
DIGITS = 200


def main() -> None:
    reference = load_reference_digits(limit=1000)
    for name in ("mnist-conv-k32", "mnist-conv-k32-denoising"):
        session = ModelSession.from_file(CHECKPOINTS_DIR / f"{name}.ckpt", reference)
        for kind in NOISE_KINDS:
            drifts = [analyse_with_noise(session, digit, NoiseSettings(((kind, STRENGTH),), seed=index), "sketch").extras["noise"].drift for index, digit in enumerate(reference.images[:DIGITS])]
            print(f"{name:26s} {kind:16s} strength {STRENGTH}: median drift {np.median(drifts):.2f} digit spreads")


if __name__ == "__main__":
    main()
