"""Stroke properties measured on shapes whose answer is known."""

from __future__ import annotations

import numpy as np

from training.stroke_properties import loops, thickness


def ring(image: np.ndarray, centre: tuple[int, int], outer: int, inner: int) -> None:
    rows, cols = np.mgrid[0:28, 0:28]
    distance = np.hypot(rows - centre[0], cols - centre[1])
    image[(distance <= outer) & (distance > inner)] = 1.0


def test_loops_count_closed_holes_like_0_8_and_1():
    images = np.zeros((5, 28, 28))
    ring(images[0], (14, 14), 9, 5)  # a 0
    ring(images[1], (8, 14), 6, 3)  # an 8: two rings touching
    ring(images[1], (20, 14), 6, 3)
    images[2, 4:24, 13:15] = 1.0  # a 1
    images[3, 10:13, 10:13] = 1.0  # a blob with a one-pixel hole: too small to be a loop
    images[3, 11, 11] = 0.0
    ring(images[4], (14, 14), 13, 9)  # a loop touching the border is still closed inside
    assert loops(images).tolist() == [1, 2, 0, 0, 1]


def test_loops_agree_with_a_per_image_flood_fill_on_random_ink():
    rng = np.random.default_rng(0)
    images = (rng.random((200, 28, 28)) > 0.45).astype(float)
    expected = [count_holes_one_by_one(image < 0.3) for image in images]
    assert loops(images).tolist() == expected


def count_holes_one_by_one(paper: np.ndarray, min_size: int = 2) -> int:
    """Reference: breadth-first search per paper region; a region that reaches the border is no hole."""
    seen = np.zeros_like(paper)
    holes = 0
    for start in zip(*np.nonzero(paper)):
        if seen[start]:
            continue
        seen[start] = True
        queue, size, touches_border = [start], 0, False
        while queue:
            row, col = queue.pop()
            size += 1
            touches_border |= row in (0, 27) or col in (0, 27)
            for r, c in ((row + 1, col), (row - 1, col), (row, col + 1), (row, col - 1)):
                if 0 <= r < 28 and 0 <= c < 28 and paper[r, c] and not seen[r, c]:
                    seen[r, c] = True
                    queue.append((r, c))
        holes += not touches_border and size >= min_size
    return holes


def test_thickness_of_a_bar_is_its_width():
    images = np.zeros((2, 28, 28))
    images[0, 4:24, 12:14] = 1.0
    images[1, 4:24, 11:15] = 1.0
    widths = thickness(images)
    assert widths[1] > 1.6 * widths[0]
