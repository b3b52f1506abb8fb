"""The "not a digit" meter on the near-OOD report set, as the app analyses a sketch.

1. For each glyph or shape of ``near-ood-report`` (scripts/make_near_ood.py): how many of its
   images the verdict flags "not a digit", which digit the probe reads most, and how many each
   part alone puts above the 99th percentile of held-out digits.
2. Which part the meter names for the flagged ones.
3. ``ModelSession.analyse_image`` in-process (median of 2,000 calls on 50 bundled digits), beside
   this machine's reference speed: the model work of one pen event.

    python tests/benchmarks/bench_anomaly.py [--checkpoint FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine_reference import machine_reference  # noqa: E402

GLYPHS = "FLNRVXfnruvx=>{}~^€"  # 20 fonts each, then the shapes (40 drawings each)
SHAPES = ("cross", "arrow", "hash", "lightning", "house")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="default: the bundled default model")
    args = parser.parse_args()
    import torch

    from aegui.core.model_files import load_model
    from aegui.core.resources import DEFAULT_CHECKPOINT, load_near_ood, load_reference_digits
    from aegui.core.session import ModelSession

    reference = machine_reference()
    print(f"machine reference: batch-1 forward of the default network {reference['forward_ms']:.3f} ms")
    torch.set_num_threads(1)
    session = ModelSession(load_model(args.checkpoint or DEFAULT_CHECKPOINT), load_reference_digits())
    print(f"anomaly score: {session.anomaly_source}")
    report = load_near_ood("report").images
    groups = [(glyph, range(i * 20, (i + 1) * 20)) for i, glyph in enumerate(GLYPHS)]
    groups += [(shape, range(len(GLYPHS) * 20 + j * 40, len(GLYPHS) * 20 + (j + 1) * 40)) for j, shape in enumerate(SHAPES)]
    reasons, flagged_total = Counter(), 0
    for name, indices in groups:
        analyses = [session.analyse_image(report[i]) for i in indices]
        flagged = [a for a in analyses if a.verdict == "not a digit"]
        flagged_total += len(flagged)
        reasons.update(a.anomaly_reason for a in flagged)
        read = Counter(int(np.argmax(a.digit_probabilities)) for a in analyses).most_common(1)[0][0]
        parts = {part: sum(a.anomaly_parts[part] > 99 for a in analyses) for part in analyses[0].anomaly_parts}
        print(f"{name:>9}: flagged {len(flagged):2d} of {len(analyses)}, probe reads {read}; each part alone above the 99th: {parts}")
    print(f"flagged {flagged_total} of {len(report)} ({flagged_total / len(report):.1%})")
    for reason, count in reasons.most_common():
        print(f"  {count:4d}  {reason}")
    digits = load_reference_digits().images[:50]
    times = []
    for _ in range(40):
        for image in digits:
            start = time.perf_counter()
            session.analyse_image(image)
            times.append(time.perf_counter() - start)
    median = float(np.median(times[200:])) * 1000
    print(f"analyse_image: median {median:.3f} ms ({median / reference['forward_ms']:.2f}x the reference forward)")


if __name__ == "__main__":
    main()
