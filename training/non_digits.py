"""Non-digits made from digits: what outlier exposure trains against and the code detector
learns to recognise. Plain torch, so the statistics can use it without Lightning."""

from __future__ import annotations

import torch


def non_digits_from(images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One non-digit per digit, of a kind chosen at random: mirrored (not 0, 1 or 8, which stay
    digits), turned a quarter, the top half of one digit over the bottom half of another, or
    two different digits drawn over each other. ``images`` is (n, 1, 28, 28)."""
    n = len(images)
    device = images.device
    order = torch.randperm(n, generator=generator).to(device)
    other, other_labels = images[order], labels[order]
    kind = torch.randint(0, 4, (n,), generator=generator).to(device)
    symmetric = (labels == 0) | (labels == 1) | (labels == 8)
    kind = torch.where((kind == 0) & symmetric, torch.ones_like(kind), kind)
    kind = torch.where((kind >= 2) & (labels == other_labels), torch.ones_like(kind), kind)
    choice = kind.view(-1, 1, 1, 1)
    mirrored = images.flip(-1)
    turned = images.rot90(1, (-2, -1))
    halves = torch.cat([images[..., :14, :], other[..., 14:, :]], dim=-2)
    overlaid = torch.maximum(images, other)
    return torch.where(choice == 0, mirrored, torch.where(choice == 1, turned, torch.where(choice == 2, halves, overlaid)))


STROKE_CANVAS = 112  # px: drawn at four times MNIST's size, then prepared as a sketch is


def random_strokes(count: int, seed: int = 0) -> torch.Tensor:
    """``count`` random pen drawings of straight segments (one or two polylines of 3 to 6
    points, a third of them closed, pen 5 to 11 px on a 112 px canvas), each prepared by
    the app's own ``to_mnist`` as a drawn sketch is. Random strokes rarely make a digit, and
    they show the detector corners and straight runs that handwritten digits lack.
    Returns (count, 1, 28, 28) floats in [0, 1]."""
    import random

    import numpy as np
    from PIL import Image, ImageDraw

    from aegui.core.preprocess import to_mnist

    rng = random.Random(seed)
    images = np.zeros((count, 1, 28, 28), dtype=np.float32)
    for index in range(count):
        canvas = Image.new("L", (STROKE_CANVAS, STROKE_CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        width = rng.randint(5, 11)
        for _ in range(rng.choice((1, 1, 2))):
            points = [(rng.uniform(8, STROKE_CANVAS - 8), rng.uniform(8, STROKE_CANVAS - 8)) for _ in range(rng.randint(3, 6))]
            if rng.random() < 0.3:
                points.append(points[0])
            draw.line(points, fill=255, width=width, joint="curve")
        images[index, 0] = to_mnist(np.asarray(canvas, dtype=np.uint8))
    return torch.from_numpy(images)


STYLES = ("thick", "blurred", "low resolution", "even pen")


def restyled(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Each image ((n, 1, 28, 28) in [0, 1]) written in another style, one chosen at random
    per image: a thicker pen (a 3 to 7 px max filter at twice the size), out of focus (a
    Gaussian blur of 0.7-1.8 px, contrast stretched half the time), a low-resolution scan
    (shrunk to 9-14 px, half of them with a heavier pen, and enlarged) or an even pen (the
    ink cut at half strength, as a font or a felt-tip draws it, at one of two weights), then
    prepared as a sketch is (``to_mnist``). What the detector learns from digits restyled
    this way is that style alone does not make a non-digit; non-digits are restyled too, so
    it cannot learn that style makes a digit. Training with ``input_restyle`` shows the
    autoencoder digits restyled this way (``restyle_share``)."""
    import numpy as np

    from aegui.core.preprocess import to_mnist

    rng = np.random.default_rng(seed)
    functional = torch.nn.functional
    images = images.detach().float().cpu()
    large = functional.interpolate(images, scale_factor=2, mode="bilinear", align_corners=False)
    styled = torch.empty_like(large)
    style = rng.integers(len(STYLES), size=len(images))
    setting = rng.integers(4, size=len(images))  # four strengths of each style, applied a batch at a time
    for chosen in range(len(STYLES)):
        for strength in range(4):
            index = torch.from_numpy(np.flatnonzero((style == chosen) & (setting == strength)))
            if len(index) == 0:
                continue
            batch = large[index]
            if chosen == 0:
                size = (3, 5, 5, 7)[strength]
                batch = functional.max_pool2d(batch, size, stride=1, padding=size // 2)
            elif chosen == 1:
                sigma = (1.4, 2.1, 2.8, 3.6)[strength]
                radius = int(3 * sigma)
                kernel = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
                kernel = kernel / kernel.sum()
                batch = functional.conv2d(functional.pad(batch, (radius,) * 4), kernel.view(1, 1, 1, -1))
                batch = functional.conv2d(batch, kernel.view(1, 1, -1, 1))
                if strength % 2:
                    batch = batch / batch.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
            elif chosen == 2:
                side = (9, 11, 12, 14)[strength]
                small = functional.interpolate(images[index], size=(side, side), mode="area")
                if strength % 2:
                    small = functional.max_pool2d(small, 2, stride=1, padding=1)[..., :side, :side]
                batch = functional.interpolate(small, size=(56, 56), mode="bilinear", align_corners=False)
            else:
                batch = (batch > 0.5).float()
                if strength >= 2:
                    batch = functional.max_pool2d(batch, 3, stride=1, padding=1)
            styled[index] = batch
    prepared = [to_mnist(image) for image in styled[:, 0].clamp(0, 1).numpy()]
    return torch.from_numpy(np.stack(prepared)).unsqueeze(1) if prepared else torch.zeros_like(images)


def restyle_share(images: torch.Tensor, share: float) -> torch.Tensor:
    """A training batch with about ``share`` of its images ``restyled``, chosen afresh each
    call from torch's random state (so ``seed_everything`` makes a run repeatable); the rest
    are returned as they are."""
    if share <= 0 or len(images) == 0:
        return images
    chosen = torch.nonzero(torch.rand(len(images)) < share).squeeze(1)
    if len(chosen) == 0:
        return images
    seed = int(torch.randint(0, 2**31 - 1, (1,)))
    result = images.clone()
    result[chosen.to(images.device)] = restyled(images[chosen.to(images.device)], seed).to(images.device, images.dtype)
    return result


def random_drawings(count: int, seed: int = 0) -> torch.Tensor:
    """``count`` drawings that are not digits, of what people draw instead: closed curves
    with three to seven lobes or points (stars, flowers, clouds, hearts), and pictograms of two
    to four separate parts (a curve with dots or marks beside it), pen 5 to 11 px on a 112 px
    canvas, each prepared by ``to_mnist``. Returns (count, 1, 28, 28) floats in [0, 1]."""
    import math
    import random

    import numpy as np
    from PIL import Image, ImageDraw

    from aegui.core.preprocess import to_mnist

    rng = random.Random(seed)
    images = np.zeros((count, 1, 28, 28), dtype=np.float32)

    def lobed(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
        lobes, depth, phase = rng.randint(3, 7), rng.uniform(0.3, 0.5), rng.uniform(0, 2 * math.pi)
        second = rng.uniform(0, 0.2)
        points = []
        for t in np.linspace(0, 2 * math.pi, 64):
            r = radius * (1 + depth * math.cos(lobes * t + phase) + second * math.cos(2 * t + phase))
            points.append((cx + r * math.cos(t), cy + r * math.sin(t)))
        return points

    for index in range(count):
        canvas = Image.new("L", (STROKE_CANVAS, STROKE_CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        width = rng.randint(5, 11)
        draw.line(lobed(56, 56, rng.uniform(22, 38)), fill=255, width=width, joint="curve")
        for _ in range(rng.choice((0, 1, 2, 3))):  # marks inside or beside it
            x, y, size = rng.uniform(30, 82), rng.uniform(30, 82), rng.uniform(2, 10)
            if rng.random() < 0.5:
                draw.ellipse((x - size, y - size, x + size, y + size), outline=255, width=width)
            else:
                draw.line([(x - size, y), (x + size, y + rng.uniform(-size, size))], fill=255, width=width)
        images[index, 0] = to_mnist(np.asarray(canvas, dtype=np.uint8))
    return torch.from_numpy(images)


DRAWING_FAMILIES = ("closed curve", "filled shape", "open curve", "composition", "nested", "rays", "hatching")


def varied_drawings(count: int, seed: int = 0) -> torch.Tensor:
    """``count`` drawings that are not digits, in seven families so no one kind stands for
    "a drawing": random closed curves with wobbles and corners, filled shapes (a blob, a
    polygon or a disc, some with a hole or marks), open curves ending in a head, a hook or a
    dot, compositions of two to five small parts (circles, boxes, triangles, dots, bars),
    nested shapes, a shape with rays, and hatched or gridded boxes. Pen 4 to 12 px on a
    112 px canvas, each prepared by ``to_mnist``; the same seed gives the same drawings.
    None of them is drawn from the evaluation sets. Returns (count, 1, 28, 28) in [0, 1]."""
    import math
    import random

    import numpy as np
    from PIL import Image, ImageDraw

    from aegui.core.preprocess import to_mnist

    rng = random.Random(seed)
    images = np.zeros((count, 1, 28, 28), dtype=np.float32)

    def closed(cx: float, cy: float, radius: float, harmonics: int) -> list[tuple[float, float]]:
        terms = [(k, rng.uniform(0.12, 0.35) / k**0.5, rng.uniform(0, 2 * math.pi)) for k in rng.sample(range(2, 9), harmonics)]
        stretch, turn = rng.uniform(0.6, 1.0), rng.uniform(0, math.pi)
        points = []
        for t in np.linspace(0, 2 * math.pi, 72):
            r = radius * (1 + sum(a * math.cos(k * t + p) for k, a, p in terms))
            x, y = r * math.cos(t), r * math.sin(t) * stretch
            points.append((cx + x * math.cos(turn) - y * math.sin(turn), cy + x * math.sin(turn) + y * math.cos(turn)))
        return points

    def polygon(cx: float, cy: float, radius: float, corners: int, star: bool) -> list[tuple[float, float]]:
        phase = rng.uniform(0, 2 * math.pi)
        steps = corners * (2 if star else 1)
        return [(cx + radius * (0.45 if star and i % 2 else 1) * math.cos(phase + 2 * math.pi * i / steps), cy + radius * (0.45 if star and i % 2 else 1) * math.sin(phase + 2 * math.pi * i / steps)) for i in range(steps)]

    def part(draw: ImageDraw.ImageDraw, x: float, y: float, size: float, width: int) -> None:
        kind = rng.randrange(5)
        box = (x - size, y - size, x + size, y + size)
        if kind == 0:
            draw.ellipse(box, outline=255, width=width)
        elif kind == 1:
            draw.rectangle(box, outline=255, width=width)
        elif kind == 2:
            draw.polygon(polygon(x, y, size, 3, False), outline=255, width=width)
        elif kind == 3:
            draw.ellipse((x - width, y - width, x + width, y + width), fill=255)
        else:
            draw.line([(x - size, y + rng.uniform(-size, size)), (x + size, y + rng.uniform(-size, size))], fill=255, width=width)

    for index in range(count):
        canvas = Image.new("L", (STROKE_CANVAS, STROKE_CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        width = rng.randint(4, 12)
        family = rng.randrange(len(DRAWING_FAMILIES))
        cx, cy, radius = rng.uniform(48, 64), rng.uniform(48, 64), rng.uniform(24, 40)
        if family == 0:
            shape = closed(cx, cy, radius, rng.randint(3, 5)) if rng.random() < 0.6 else polygon(cx, cy, radius, rng.randint(3, 8), rng.random() < 0.5)
            draw.line(shape + shape[:1], fill=255, width=width, joint="curve")
        elif family == 1:
            shape = closed(cx, cy, radius, rng.randint(1, 3)) if rng.random() < 0.5 else polygon(cx, cy, radius, rng.randint(3, 8), rng.random() < 0.4)
            draw.polygon(shape, fill=255)
            if rng.random() < 0.5:  # a hole or marks cut out of it
                part(draw, cx + rng.uniform(-8, 8), cy + rng.uniform(-8, 8), radius * rng.uniform(0.2, 0.4), width)
                draw.ellipse((cx - radius * 0.25, cy - radius * 0.25, cx + radius * 0.25, cy + radius * 0.25), fill=0) if rng.random() < 0.5 else None
        elif family == 2:
            turns, points = rng.uniform(0.5, 1.8), []
            for t in np.linspace(0, 1, 40):
                angle = 2 * math.pi * turns * t
                points.append((20 + 72 * t + 18 * math.sin(angle) * rng.uniform(0.9, 1.1), 56 + 30 * math.sin(angle * 0.7 + 1) * (1 - 0.5 * t)))
            draw.line(points, fill=255, width=width, joint="curve")
            (ex, ey), (px, py) = points[-1], points[-4]
            heading = math.atan2(ey - py, ex - px)
            end = rng.randrange(3)
            if end == 0:  # a head
                for side in (-1, 1):
                    draw.line([(ex, ey), (ex - 18 * math.cos(heading + side * 0.5), ey - 18 * math.sin(heading + side * 0.5))], fill=255, width=width)
            elif end == 1:
                draw.ellipse((ex - 10, ey - 10, ex + 10, ey + 10), fill=255)
            else:
                part(draw, points[0][0], points[0][1], 10, width)
        elif family == 3:
            for _ in range(rng.randint(2, 5)):
                part(draw, rng.uniform(20, 92), rng.uniform(20, 92), rng.uniform(6, 18), width)
        elif family == 4:
            for scale in (1.0, rng.uniform(0.35, 0.6)):
                shape = polygon(cx, cy, radius * scale, rng.randint(3, 6), False) if rng.random() < 0.5 else closed(cx, cy, radius * scale, 2)
                draw.line(shape + shape[:1], fill=255, width=width, joint="curve")
        elif family == 5:
            inner = radius * rng.uniform(0.35, 0.55)
            draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), outline=255, width=width) if rng.random() < 0.6 else draw.polygon(polygon(cx, cy, inner, 4, False), outline=255, width=width)
            rays = rng.randint(4, 12)
            for i in range(rays):
                angle = 2 * math.pi * i / rays + rng.uniform(-0.1, 0.1)
                draw.line([(cx + (inner + 6) * math.cos(angle), cy + (inner + 6) * math.sin(angle)), (cx + radius * math.cos(angle), cy + radius * math.sin(angle))], fill=255, width=width)
        else:
            left, top, right, bottom = cx - radius, cy - radius * rng.uniform(0.6, 1), cx + radius, cy + radius * rng.uniform(0.6, 1)
            draw.rectangle((left, top, right, bottom), outline=255, width=width)
            lines = rng.randint(2, 5)
            for i in range(1, lines + 1):
                x = left + (right - left) * i / (lines + 1)
                y = top + (bottom - top) * i / (lines + 1)
                draw.line([(x, top), (x + rng.uniform(-10, 10), bottom)], fill=255, width=max(3, width - 2))
                if rng.random() < 0.5:
                    draw.line([(left, y), (right, y)], fill=255, width=max(3, width - 2))
        images[index, 0] = to_mnist(np.asarray(canvas, dtype=np.uint8))
    return torch.from_numpy(images)
