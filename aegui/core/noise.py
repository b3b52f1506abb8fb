"""Noise on a model's input: Gaussian, salt-and-pepper, erased blocks and a stroke across.

One implementation serves the app and the trainer. Every kind takes a strength from 0 (the
image unchanged) to 1 (heavy), and works on a batch, each image with its own strength:

- ``gaussian``: pixel noise with standard deviation ``strength`` (ink runs 0..1);
- ``salt_and_pepper``: a share ``strength`` of the pixels set to ink or paper, half each;
- ``erased_blocks``: that share of the 16 blocks of 7 x 7 pixels erased to paper;
- ``stroke_across``: a straight pen stroke ``4 * strength`` pixels wide across the digit.

Random fields are drawn first and thresholded by the strength afterwards, so with one seed a
stronger setting adds to the weaker one's noise instead of drawing new noise. The app draws
each kind from a generator seeded by (seed, kind): the same sketch gets the same noise on
every pen event, and what changes between strokes is the sketch, never the noise field.

Training draws new noise for every batch (``random_noise``): each image gets one of the named
kinds or none, its strength uniform between 0 and the maximum the run names, so a denoising
model sees every level up to it and clean digits too.
The result is clipped to 0..1, the range of every MNIST pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

NOISE_KINDS = ("gaussian", "salt_and_pepper", "erased_blocks", "stroke_across")
KIND_LABELS = {"gaussian": "Gaussian", "salt_and_pepper": "salt and pepper", "erased_blocks": "erased blocks", "stroke_across": "stroke across"}
BLOCK_SIZE = 7  # 28 / 7 = 4 blocks a side, 16 in all
STROKE_MAX_WIDTH = 4.0  # pixels, at strength 1
STROKE_MAX_OFFSET = 5.0  # pixels from the centre
DEFAULT_SEED = 0
# What ``evaluate`` and the Compare view measure: each kind at these strengths, and the clean digits.
ROBUSTNESS_STRENGTHS = (0.1, 0.25, 0.5)


@dataclass(frozen=True)
class NoiseSettings:
    """What the app adds to the model's input: a strength per kind, the seed of its noise, and
    whether it is on (switching it off keeps the strengths for the next time)."""

    strengths: tuple[tuple[str, float], ...] = ()
    seed: int = DEFAULT_SEED
    enabled: bool = True

    def __post_init__(self) -> None:
        for kind, strength in self.strengths:
            if kind not in NOISE_KINDS:
                raise ValueError(f"unknown noise kind {kind!r}; choose from {', '.join(NOISE_KINDS)}")
            if not 0.0 <= strength <= 1.0:
                raise ValueError(f"noise strength must be from 0 to 1, got {strength!r} for {kind}")

    @property
    def active(self) -> dict[str, float]:
        """The kinds that change the input, with their strengths (none while switched off)."""
        if not self.enabled:
            return {}
        return {kind: float(strength) for kind, strength in self.strengths if strength > 0}

    def is_off(self) -> bool:
        return not self.active

    def strength(self, kind: str) -> float:
        return dict(self.strengths).get(kind, 0.0)

    def with_strength(self, kind: str, strength: float) -> NoiseSettings:
        values = dict(self.strengths)
        values[kind] = min(max(float(strength), 0.0), 1.0)
        return NoiseSettings(tuple((name, values[name]) for name in NOISE_KINDS if name in values), self.seed, self.enabled)

    def with_seed(self, seed: int) -> NoiseSettings:
        return NoiseSettings(self.strengths, int(seed), self.enabled)

    def switched(self, enabled: bool) -> NoiseSettings:
        return NoiseSettings(self.strengths, self.seed, bool(enabled))

    def describe(self) -> str:
        return ", ".join(f"{KIND_LABELS[kind]} {strength:.2f}" for kind, strength in self.active.items()) or "off"


NO_NOISE = NoiseSettings(enabled=False)


# --- the training option: a text hyperparameter ---------------------------------------------
def parse_noise_spec(text: str) -> dict[str, float]:
    """``"gaussian=0.3,erased_blocks=0.25"`` -> {kind: maximum strength}; "" is no noise.
    Raises ValueError with a one-line reason."""
    if not isinstance(text, str):
        raise ValueError(f"input_noise must be text like 'gaussian=0.3,salt_and_pepper=0.1', got a {type(text).__name__}")
    spec: dict[str, float] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        kind, equals, value = part.partition("=")
        kind = kind.strip()
        if kind not in NOISE_KINDS:
            raise ValueError(f"input_noise: unknown kind {kind[:40]!r}; choose from {', '.join(NOISE_KINDS)}")
        try:
            strength = float(value) if equals else float("nan")
        except ValueError:
            strength = float("nan")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"input_noise: {kind} needs a strength from 0 to 1 (like {kind}=0.3), got {value[:40]!r}")
        if kind in spec:
            raise ValueError(f"input_noise names {kind} twice")
        spec[kind] = strength
    return spec


def format_noise_spec(spec: dict[str, float]) -> str:
    return ",".join(f"{kind}={spec[kind]:g}" for kind in NOISE_KINDS if spec.get(kind, 0) > 0)


def input_noise_problem(text: object) -> str | None:
    """Why ``text`` is not an ``input_noise`` value, or None (the checkpoint schema's check)."""
    try:
        parse_noise_spec(text)  # type: ignore[arg-type]
    except ValueError as error:
        return str(error)
    return None


# --- the noise itself --------------------------------------------------------------------------
def _per_image(strength, n: int, like: torch.Tensor) -> torch.Tensor:
    import torch

    values = torch.as_tensor(strength, dtype=like.dtype, device=like.device).reshape(-1)
    return (values.expand(n) if values.numel() == 1 else values).reshape(n, 1, 1, 1)


def add_noise(images: torch.Tensor, strengths: dict[str, object], generators: dict[str, torch.Generator] | torch.Generator | None = None) -> torch.Tensor:
    """``images`` (N, 1, 28, 28, ink 0..1) with noise added; ``strengths`` maps a kind to one
    strength or one per image. ``generators`` is one generator for all kinds or one per kind
    (None: torch's global one). The input is not changed."""
    import torch

    unknown = set(strengths) - set(NOISE_KINDS)
    if unknown:
        raise ValueError(f"unknown noise kind {sorted(unknown)[0]!r}; choose from {', '.join(NOISE_KINDS)}")
    n, _, height, width = images.shape
    result = images.clone()
    options = {"device": images.device, "dtype": images.dtype}

    def generator(kind: str):
        return generators.get(kind) if isinstance(generators, dict) else generators

    for kind in NOISE_KINDS:  # a fixed order: erase, then draw, then speckle
        if kind not in strengths:
            continue
        strength = _per_image(strengths[kind], n, images)
        if not bool((strength > 0).any()):
            continue
        random = generator(kind)
        if kind == "erased_blocks":
            blocks = (height // BLOCK_SIZE) * (width // BLOCK_SIZE)
            order = torch.rand(n, blocks, generator=random, **options).argsort(1).argsort(1).to(images.dtype)  # each block's rank
            erased = (order < torch.round(strength.reshape(n, 1) * blocks)).reshape(n, 1, height // BLOCK_SIZE, width // BLOCK_SIZE)
            erased = erased.repeat_interleave(BLOCK_SIZE, 2).repeat_interleave(BLOCK_SIZE, 3)
            result = torch.where(erased, torch.zeros_like(result), result)
        elif kind == "stroke_across":
            angle = torch.rand(n, generator=random, **options) * torch.pi
            offset = (torch.rand(n, generator=random, **options) * 2 - 1) * STROKE_MAX_OFFSET
            ys, xs = torch.meshgrid(torch.arange(height, **options), torch.arange(width, **options), indexing="ij")
            xs, ys = xs - (width - 1) / 2, ys - (height - 1) / 2
            distance = (xs * torch.cos(angle).reshape(n, 1, 1) + ys * torch.sin(angle).reshape(n, 1, 1) - offset.reshape(n, 1, 1)).abs().unsqueeze(1)
            stroke_width = STROKE_MAX_WIDTH * strength
            ink = (stroke_width / 2 + 0.5 - distance).clamp(0, 1) * stroke_width.clamp(0, 1)  # anti-aliased edges; fades in from width 0
            result = torch.maximum(result, ink)
        elif kind == "salt_and_pepper":
            draw = torch.rand(result.shape, generator=random, **options)
            result = torch.where(draw < strength / 2, torch.ones_like(result), result)
            result = torch.where(draw > 1 - strength / 2, torch.zeros_like(result), result)
        else:  # gaussian
            result = result + strength * torch.randn(result.shape, generator=random, **options)
    return result.clamp(0.0, 1.0)


def kind_generator(seed: int, kind: str):
    """The generator of ``kind``'s noise for ``seed``: the same pair always gives the same field."""
    import torch

    return torch.Generator().manual_seed(int(seed) * len(NOISE_KINDS) + NOISE_KINDS.index(kind))


def apply_noise(image: np.ndarray, settings: NoiseSettings) -> np.ndarray:
    """One 28 x 28 image (ink 0..1) with the app's noise: deterministic for a seed and image."""
    import torch

    active = settings.active
    image = np.asarray(image, dtype=np.float32)
    if not active:
        return image
    tensor = torch.from_numpy(np.ascontiguousarray(image)).reshape(1, 1, *image.shape)
    generators = {kind: kind_generator(settings.seed, kind) for kind in active}
    return add_noise(tensor, active, generators)[0, 0].numpy()


def random_noise(images: torch.Tensor, spec: dict[str, float], generator: torch.Generator | None = None) -> torch.Tensor:
    """A training batch with fresh noise: each image gets one of the kinds in ``spec`` or stays
    clean (each with the same chance), at a strength uniform in [0, spec[kind]]; the clean
    share keeps the model as good on clean digits as it was."""
    import torch

    kinds = [kind for kind, maximum in spec.items() if maximum > 0]
    if not kinds:
        return images
    n = len(images)
    options = {"device": images.device, "dtype": images.dtype}
    chosen = torch.randint(0, len(kinds) + 1, (n,), generator=generator, device=images.device)  # len(kinds): clean
    strengths = {kind: torch.rand(n, generator=generator, **options) * spec[kind] * (chosen == index) for index, kind in enumerate(kinds)}
    return add_noise(images, strengths, generator)


# --- how far the code moved --------------------------------------------------------------------
def code_drift(clean_code: np.ndarray, noisy_code: np.ndarray, latent_std: np.ndarray) -> float:
    """||h_noisy - h_clean|| in units of the digits' typical spread: the root of the summed
    variances of the training codes, sqrt(sum_i std_i^2), which is the typical distance of a
    digit's code from the mean code. 0 means the noise left the code alone; about 1.4 is as
    far apart as two random digits' codes."""
    spread = float(np.sqrt(np.sum(np.square(np.asarray(latent_std, dtype=np.float64)))))
    distance = float(np.linalg.norm(np.asarray(noisy_code, np.float64) - np.asarray(clean_code, np.float64)))
    return distance / spread if spread > 0 else float("inf")
