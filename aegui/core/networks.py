"""Plain ``nn.Module`` autoencoders: the kernel's networks, used by the app and the trainer.

``build_autoencoder`` is the one place that turns checkpoint hyperparameters into a network;
training and the app both call it, so a checkpoint always rebuilds the module it was
trained as.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from aegui.core.model_format import IMAGE_SIZE, network_hparams


def _through(layers, values: torch.Tensor) -> torch.Tensor:
    """``layers(values)``, calling each layer's ``forward`` directly: a pen event passes through
    about 25 layers, and skipping ``nn.Module``'s hook dispatch for each saves a tenth of a
    millisecond. No aegui network registers hooks on its layers."""
    one_image = values.shape[0] == 1 and not torch.is_grad_enabled()
    for layer in layers:
        if one_image and type(layer) is nn.ConvTranspose2d and layer.groups == 1:
            values = _transposed_convolution_of_one(layer, values)
        else:
            values = layer.forward(values)
    return values


def _transposed_convolution_of_one(layer: nn.ConvTranspose2d, values: torch.Tensor) -> torch.Tensor:
    """``layer.forward(values)`` for one image, by torch's own kernel. For a 4 x 4 kernel torch
    hands even a single image to oneDNN, which on one image takes about three times as long
    (0.14-0.18 ms against 0.05 ms per layer here); for batches oneDNN is the faster one, and
    ``forward`` is kept. The same sums in another order: results agree to within 1e-6."""
    return torch.ops.aten.slow_conv_transpose2d(values, layer.weight, layer.kernel_size, layer.bias, layer.stride, layer.padding, layer.output_padding, layer.dilation)


class Autoencoder(nn.Module):
    """Encoder f(x) -> h, decoder g(h) -> x_hat, optionally variational.

    The decoder returns logits; ``decode`` applies the sigmoid so callers get pixels in [0, 1].
    In variational mode the encoder predicts a mean and a log-variance; ``encode`` returns the
    mean, which is the code the app shows.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int, variational: bool):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.variational = variational

    def encode_distribution(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return (mean, log_variance); log_variance is None for a deterministic autoencoder."""
        features = _through(self.encoder, images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE))
        if self.variational:
            mean, log_variance = features.chunk(2, dim=1)
            return mean, log_variance.clamp(-12.0, 8.0)
        return features, None

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(images)[0]

    def encode_with_inner(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(code, the encoder's last hidden layer): the anomaly score reads the layer before
        the code too, at no extra cost (every encoder ends with its linear code layer)."""
        *hidden, code_layer = self.encoder
        inner = _through(hidden, images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE))
        features = code_layer.forward(inner)
        code = features.chunk(2, dim=1)[0] if self.variational else features
        return code, inner.flatten(1)

    def decode_logits(self, codes: torch.Tensor) -> torch.Tensor:
        return _through(self.decoder, codes).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(codes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))


def _dense_encoder(hidden_dim: int, out_features: int) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(IMAGE_SIZE * IMAGE_SIZE, hidden_dim),
        nn.GELU(),
        nn.Linear(hidden_dim, hidden_dim // 2),
        nn.GELU(),
        nn.Linear(hidden_dim // 2, out_features),
    )


def _dense_decoder(latent_dim: int, hidden_dim: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(latent_dim, hidden_dim // 2),
        nn.GELU(),
        nn.Linear(hidden_dim // 2, hidden_dim),
        nn.GELU(),
        nn.Linear(hidden_dim, IMAGE_SIZE * IMAGE_SIZE),
    )


def _hidden_stack(hidden_dim: int, extra_layers: int) -> list[nn.Module]:
    """``extra_layers`` more fully connected layers of width ``hidden_dim``, each with GELU."""
    layers: list[nn.Module] = []
    for _ in range(extra_layers):
        layers += [nn.Linear(hidden_dim, hidden_dim), nn.GELU()]
    return layers


def _conv_encoder(channels: int, hidden_dim: int, out_features: int, hidden_layers: int = 1) -> nn.Module:
    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1),
        nn.GELU(),
        nn.Conv2d(c, c, 3, stride=2, padding=1),  # 28 -> 14
        nn.GELU(),
        nn.Conv2d(c, 2 * c, 3, padding=1),
        nn.GELU(),
        nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1),  # 14 -> 7
        nn.GELU(),
        nn.Flatten(),
        nn.Linear(2 * c * 7 * 7, hidden_dim),
        nn.GELU(),
        *_hidden_stack(hidden_dim, hidden_layers - 1),
        nn.Linear(hidden_dim, out_features),
    )


def _conv_decoder(latent_dim: int, channels: int, hidden_dim: int, hidden_layers: int = 1) -> nn.Module:
    c = channels
    return nn.Sequential(
        nn.Linear(latent_dim, hidden_dim),
        nn.GELU(),
        *_hidden_stack(hidden_dim, hidden_layers - 1),
        nn.Linear(hidden_dim, 2 * c * 7 * 7),
        nn.GELU(),
        nn.Unflatten(1, (2 * c, 7, 7)),
        nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1),  # 7 -> 14
        nn.GELU(),
        nn.Conv2d(2 * c, c, 3, padding=1),
        nn.GELU(),
        nn.ConvTranspose2d(c, c, 4, stride=2, padding=1),  # 14 -> 28
        nn.GELU(),
        nn.Conv2d(c, 1, 3, padding=1),
    )


def build_autoencoder(hparams: Mapping[str, Any]) -> Autoencoder:
    """Rebuild the network a checkpoint was trained as, from its hyperparameters.

    Raises ValueError naming the first hyperparameter that is out of range, before any
    weights are allocated.
    """
    params = network_hparams(hparams)
    latent_dim, hidden_dim, channels = params["latent_dim"], params["hidden_dim"], params["channels"]
    variational, hidden_layers = params["variational"], params["hidden_layers"]
    encoder_out = 2 * latent_dim if variational else latent_dim
    if params["architecture"] == "dense":
        encoder = _dense_encoder(hidden_dim, encoder_out)
        decoder = _dense_decoder(latent_dim, hidden_dim)
    else:
        encoder = _conv_encoder(channels, hidden_dim, encoder_out, hidden_layers)
        decoder = _conv_decoder(latent_dim, channels, hidden_dim, hidden_layers)
    return Autoencoder(encoder, decoder, latent_dim, variational)
