"""Dimensions named after the stroke property each tracks: plain Python and numpy, so views
can explain a name without importing torch."""

from __future__ import annotations

import numpy as np

LABEL_MIN_CORRELATION = 0.3


def label_dimensions(correlations: dict[str, np.ndarray], latent_dim: int, threshold: float = LABEL_MIN_CORRELATION) -> list[str]:
    """Name dimensions after the stroke property each correlates with most.

    Strongest |correlation| first; each property names one dimension and each dimension gets
    one name, so "slant" sits on the single dimension that tracks slant best. A sign says
    which way the property grows ("slant-" when the value falls as slant rises).
    """
    labels = [""] * latent_dim
    pairs = sorted(
        ((abs(float(values[d])), name, d, float(values[d])) for name, values in correlations.items() for d in range(latent_dim)),
        reverse=True,
    )
    used_names: set[str] = set()
    for strength, name, dimension, value in pairs:
        if strength < threshold:
            break
        if name in used_names or labels[dimension]:
            continue
        labels[dimension] = name + ("" if value > 0 else "-")
        used_names.add(name)
    return labels


# each stroke property's two directions: as its value falls, as it rises (Edit by meaning's
# slider ends, and the latent sliders' names)
DIRECTION_WORDS = {
    "thickness": ("thinner", "thicker"),
    "slant": ("leans left", "leans right"),
    "width": ("narrower", "wider"),
    "height": ("shorter", "taller"),
    "loops": ("fewer loops", "more loops"),
}


def label_shown(label: str) -> str:
    """A dimension's name in words, for where its slider goes up: "loops-" (loops grow as the
    value falls) is "fewer loops"; a trailing sign read as a cut-off name."""
    name = label.rstrip("-")
    words = DIRECTION_WORDS.get(name)
    if words is None:
        return label
    return words[0] if label.endswith("-") else words[1]


def label_meaning(label: str) -> str:
    """What a dimension's name says ("loops-": the stroke's loops grow as its value falls)."""
    return f"tracks the stroke's {label.rstrip('-')} most: it grows as this value {'falls' if label.endswith('-') else 'rises'}"
