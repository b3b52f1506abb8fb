"""How often a random code decodes to a digit: the app's sampler against independent normals.

For each bundled model, draws N codes three ways: **Random sample** as the app draws it
(``ModelSession.random_code``: a digit class, then that class's Gaussian), independent normals
per dimension with the training codes' mean and spread (the sampler before), and codes of real
reference digits. Each code is decoded, and the decoded image is analysed as a sketch would be:
the share the model's own anomaly score calls a typical digit, and the share its probe reads
with more than 90 % confidence.

    python scripts/random_samples.py [--samples 300]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from aegui.core.resources import bundled_checkpoints, load_reference_digits
from aegui.core.session import ModelSession


def judged(session: ModelSession, codes: np.ndarray) -> tuple[float, float]:
    """(share called a typical digit, share the probe reads above 0.9) of the decoded codes."""
    analyses = [session.analyse_image(image) for image in session.decode_many(codes)]
    typical = np.mean([analysis.verdict == "typical digit" for analysis in analyses])
    confident = np.mean([analysis.digit_probabilities is not None and analysis.digit_probabilities.max() > 0.9 for analysis in analyses])
    return float(typical), float(confident)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300)
    count = parser.parse_args().samples
    torch.set_num_threads(1)
    reference = load_reference_digits()
    for path in bundled_checkpoints():
        session = ModelSession.from_file(path, reference)
        rng = np.random.default_rng(0)
        samplers = {
            "Random sample (class Gaussians)": np.stack([session.random_code(rng) for _ in range(count)]),
            "independent normals per dimension": (session.latent_mean + session.latent_std * rng.standard_normal((count, session.latent_dim))).astype(np.float32),
            "codes of real reference digits": session.reference_codes[rng.choice(len(session.reference_codes), count, replace=False)],
        }
        for name, codes in samplers.items():
            typical, confident = judged(session, codes)
            print(f"{path.name:30} {name:36} typical digit {typical:6.1%}   probe above 0.9 {confident:6.1%}")


if __name__ == "__main__":
    main()
