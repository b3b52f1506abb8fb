"""A pen event's encode, clamp and decode, eager (layer by layer from Python) and traced (one
TorchScript call, ``aegui.core.live_pass``), alone and while a second thread keeps the
interpreter busy as the GUI thread does while it paints, at the app's GIL switch interval.

    python tests/benchmarks/bench_live_pass.py [--calls 300] [--variants]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from aegui.__main__ import configure_process_for_live_drawing  # noqa: E402
from aegui.core.live_pass import _EncodeClampDecode, build_live_pass  # noqa: E402
from aegui.core.model_files import load_model  # noqa: E402
from aegui.core.resources import CHECKPOINTS_DIR, load_reference_digits  # noqa: E402
from aegui.core.session import CODE_STD_LIMIT  # noqa: E402


def median_ms(call, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--variants", action="store_true", help="also torch.jit.freeze and optimize_for_inference of the traced pass")
    args = parser.parse_args()
    torch.set_num_threads(1)
    configure_process_for_live_drawing()
    model = load_model(CHECKPOINTS_DIR / "mnist-conv-k32.ckpt")
    mean, std = model.statistics.latent_mean.numpy(), model.statistics.latent_std.numpy()
    limit = CODE_STD_LIMIT * std
    traced, is_traced = build_live_pass(model.autoencoder, mean, mean - limit, mean + limit)
    eager = _EncodeClampDecode(model.autoencoder, mean, mean - limit, mean + limit).eval()
    image = torch.from_numpy(load_reference_digits(limit=1).images[0]).reshape(1, 1, 28, 28)
    print(f"torch {torch.__version__}, 1 thread, switch interval {sys.getswitchinterval() * 1e3:.1f} ms, traced: {is_traced}")
    busy = threading.Event()

    def keep_the_interpreter_busy() -> None:
        while busy.is_set():
            sum(value * value for value in range(200))

    passes = [("eager", eager), ("traced", traced)]
    if args.variants:  # what else was tried for the traced graph (neither kept: docs/benchmarks.md)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            frozen = torch.jit.freeze(torch.jit.trace(eager, image.float(), check_trace=False).eval())
            optimised = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(eager, image.float(), check_trace=False).eval()))
        passes += [("frozen", frozen), ("optimize_for_inference", optimised)]
    with torch.inference_mode():
        for name, live_pass in passes:
            for _ in range(30):
                live_pass(image)
            alone = median_ms(lambda: live_pass(image), args.calls)
            busy.set()
            thread = threading.Thread(target=keep_the_interpreter_busy)
            thread.start()
            try:
                contended = median_ms(lambda: live_pass(image), max(args.calls // 3, 10))
            finally:
                busy.clear()
                thread.join()
            print(f"{name:<22} alone p50 {alone:6.2f} ms   with a busy Python thread p50 {contended:6.2f} ms")
    assert np.isfinite(alone)


if __name__ == "__main__":
    main()
