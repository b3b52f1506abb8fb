"""One sketch through the network in one call, for the live path.

A pen event's model work runs on a worker thread while the GUI thread paints the previous
result. Called layer by layer from Python, every torch operation hands the interpreter lock
to the GUI thread and then waits for it back, up to a switch interval each time (0.5 ms,
``configure_process_for_live_drawing``): with a busy second thread, one encode, clamp and
decode took 21.8 ms instead of 1.9 ms alone. Traced into one TorchScript graph, the encoder,
the code's clamp and the decoder run without the lock and wait for it twice at most (2.3 ms
with the same busy thread, 1.2 ms alone; ``python tests/benchmarks/bench_live_pass.py``).

The graph computes exactly what the eager path does (the same operations, the same float32
bounds as ``ModelSession.clamp_code``): a test keeps them equal. Tracing is
deprecated in recent torch releases but still supported; when it fails or is gone, the eager
path is used and nothing else changes.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from aegui.core.model_format import IMAGE_SIZE
from aegui.core.networks import Autoencoder

logger = logging.getLogger("aegui")

# (code, the encoder's last hidden layer, reconstruction) of one 1 x 1 x 28 x 28 image
LivePass = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class _EncodeClampDecode(nn.Module):
    """The eager live pass: encode (keeping the last hidden layer), hold the code within its
    bounds (non-finite entries become the training mean), decode."""

    def __init__(self, autoencoder: Autoencoder, mean: np.ndarray, low: np.ndarray, high: np.ndarray):
        super().__init__()
        self.autoencoder = autoencoder
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("low", torch.from_numpy(np.asarray(low, dtype=np.float32)))
        self.register_buffer("high", torch.from_numpy(np.asarray(high, dtype=np.float32)))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        code, inner = self.autoencoder.encode_with_inner(image)
        code = torch.where(torch.isfinite(code), code, self.mean)
        code = torch.minimum(torch.maximum(code, self.low), self.high)
        return code, inner, self.autoencoder.decode(code)


def build_live_pass(autoencoder: Autoencoder, mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[LivePass, bool]:
    """(the live pass, whether it is the traced graph). ``low`` and ``high`` are the float32
    bounds ``ModelSession.clamp_code`` holds a code within; ``mean`` replaces non-finite entries."""
    eager = _EncodeClampDecode(autoencoder, mean, low, high).eval()
    example = torch.zeros(1, 1, IMAGE_SIZE, IMAGE_SIZE)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracing's deprecation note and its notes on Python branches (constant for one image)
            traced = torch.jit.trace(eager, example, check_trace=False)
            traced(example)  # the first call optimises the graph: here, off the pen's path
    except Exception as error:  # tracing unavailable or refused: the eager pass computes the same
        logger.info("the live pass runs eagerly (tracing failed: %s)", error)
        return eager, False
    return traced, True
