"""This machine's speed right now, printed beside every benchmark figure.

Speed differs between machines and drifts from run to run on the same one, so a figure means
most as a ratio to a reference measured in the same run: a batch-1 forward pass of the
default network (fixed random weights) and a fixed pure-Python loop.
"""

from __future__ import annotations

import statistics
import time


def machine_reference(repeats: int = 200) -> dict[str, float]:
    import torch

    from aegui.core.model_format import DEFAULTS, IMAGE_SIZE
    from aegui.core.networks import build_autoencoder

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    network = build_autoencoder(DEFAULTS).eval()
    image = torch.rand(1, 1, IMAGE_SIZE, IMAGE_SIZE)
    forward = []
    with torch.inference_mode():
        for _ in range(20):
            network(image)
        for _ in range(repeats):
            start = time.perf_counter()
            network(image)
            forward.append((time.perf_counter() - start) * 1000)
    torch.set_num_threads(threads)
    loop = []
    for _ in range(15):
        start = time.perf_counter()
        total = 0
        for i in range(200_000):
            total += i * i
        loop.append((time.perf_counter() - start) * 1000)
    return {"forward_ms": statistics.median(forward), "python_loop_ms": statistics.median(loop)}


if __name__ == "__main__":
    figures = machine_reference()
    print(f"batch-1 forward of the default network {figures['forward_ms']:.3f} ms, pure-Python loop {figures['python_loop_ms']:.1f} ms (medians)")
