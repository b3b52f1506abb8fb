"""What the loaded model is: architecture, k, dataset and the metrics training measured."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import ModelSession

METRIC_NAMES = {
    "test_mse": ("test MSE / pixel", "{:.5f}"),
    "test_bce": ("test BCE / pixel", "{:.4f}"),
    "probe_accuracy": ("linear probe accuracy", "{:.3f}"),
    "knn_accuracy": ("5-NN accuracy", "{:.3f}"),
    "ood_auroc_fashion": ("AUROC vs Fashion-MNIST", "{:.4f}"),
}


def describe_session(session: ModelSession) -> str:
    """An HTML summary of a model, for the panel and its tooltip."""
    model = session.model
    hp = model.hparams
    rows = [
        ("file", html.escape(model.path.name)),
        ("format", model.file_format),
        ("architecture", f"{hp['architecture']}{' VAE (β = ' + str(hp.get('beta', 1.0)) + ')' if hp['variational'] else ' autoencoder'}"),
        ("latent size k", str(model.latent_dim)),
        ("hidden width", str(hp["hidden_dim"]) + (f" × {hp['hidden_layers']} layers" if hp.get("hidden_layers", 1) > 1 else "") + (f", {hp['channels']} channels" if hp["architecture"] == "conv" else "")),
    ]
    statistics = model.statistics
    if statistics is not None:
        dataset = statistics.dataset
        if dataset:
            rows.append(("trained on", html.escape(f"{dataset.get('name', '?')}: {dataset.get('n_train', '?')} train / {dataset.get('n_val', '?')} validation digits")))
        for key, (name, fmt) in METRIC_NAMES.items():
            value = statistics.test_metrics.get(key)
            if isinstance(value, (int, float)):
                rows.append((name, fmt.format(value)))
    rows.append(("statistics from", session.statistics_source))
    return "<table>" + "".join(f"<tr><td style='color:#555;padding-right:8px'>{name}</td><td>{value}</td></tr>" for name, value in rows) + "</table>"


class ModelPanel(QLabel):
    def __init__(self, explorer: Explorer, parent=None):
        super().__init__("No model loaded.", parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setMargin(6)
        explorer.model_changed.connect(self.set_session)

    def set_session(self, session: ModelSession) -> None:
        self.setText(describe_session(session))
