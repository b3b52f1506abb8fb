"""Which parts of the score flag digits in other hands, and would muting those parts for images
in a style MNIST rarely has make the verdict fair without letting drawings through?

    python scripts/try_muting_style_parts.py --data-dir /work/shared/data/mnist [--checkpoint CKPT]

An experiment, not part of the app: it measures on the *calibration* parts of the evaluation
sets only (the report parts stay held out). It prints, per set, the share above each part's
99th percentile among held-out MNIST digits; then the share flagged "not a digit" when, for
images unlike MNIST in style (``try_style_normalisation.unlike_mnist``), some parts are capped
at a percentile of MNIST's own (the other parts and the tables unchanged).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from aegui.core.anomaly import ANOMALY_FEATURES, FEATURE_LABELS, NOT_A_DIGIT_ABOVE, percentiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from try_style_normalisation import calibration_sets, parse_arguments, scoring, unlike_mnist  # noqa: E402

MUTED = [("code_detector",), ("inner_distance", "code_detector"), ("probe_doubt", "code_detector")]
CAPS = (0.5, 0.9, 0.99)  # the percentile of MNIST's own values a muted part is capped at


def main() -> None:
    args = parse_arguments(__doc__.split("\n")[0])
    scorer, parts_and_confidence = scoring(args.checkpoint)

    def features(images: torch.Tensor) -> np.ndarray:
        return parts_and_confidence(images)[0]

    def flagged(values: np.ndarray) -> np.ndarray:
        return percentiles(scorer.verdict_statistics(values), scorer.verdict_quantiles) > NOT_A_DIGIT_ABOVE

    sets = calibration_sets(args.data_dir)
    measured = {name: (features(images), unlike_mnist(images)) for name, images in sets.items()}
    names = scorer.feature_names
    above_99th = np.array([np.interp(0.99, np.linspace(0, 1, len(quantiles)), quantiles) for quantiles in scorer.feature_quantiles])
    print(f"{'calibration part':40}{'images':>7}{'unlike MNIST':>14}{'as is':>8}   above its 99th: " + " / ".join(FEATURE_LABELS[name] for name in names))
    for name, (values, unlike) in measured.items():
        print(f"{name:40}{len(values):>7}{unlike.mean():>14.1%}{flagged(values).mean():>8.1%}   " + " / ".join(f"{share:.0%}" for share in (values > above_99th).mean(axis=0)))
    mnist = measured["MNIST test digits"][0]
    print("\nflagged when, for images unlike MNIST, the parts named are capped at MNIST's own percentile:")
    print(f"{'muted parts, cap':28}" + "".join(f"{name.split(': ')[-1][:14]:>16}" for name in measured))
    for muted in MUTED:
        columns = [ANOMALY_FEATURES.index(part) for part in muted]
        for cap in CAPS:
            ceiling = np.quantile(mnist, cap, axis=0)
            row = []
            for values, unlike in measured.values():
                capped = values.copy()
                for column in columns:
                    capped[unlike, column] = np.minimum(capped[unlike, column], ceiling[column])
                row.append(flagged(capped).mean())
            print(f"{'+'.join(FEATURE_LABELS[part] for part in muted) + f', {cap:.0%}':28}" + "".join(f"{share:>16.1%}" for share in row))


if __name__ == "__main__":
    main()
