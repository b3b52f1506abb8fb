"""What the loaded model is: architecture, k, dataset and the metrics training measured."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from aegui.core.model_format import TEST_METRICS, format_metric
from aegui.core.model_names import other_dataset, shown_name
from aegui.core.noise import KIND_LABELS, parse_noise_spec
from aegui.qt.painting.colours import LABEL, toward_text

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import ModelSession



def describe_input_noise(spec_text: str) -> str:
    """The training's input noise in words: "no", or each kind with its strongest setting."""
    try:
        spec = parse_noise_spec(spec_text)
    except ValueError:
        return "?"
    if not spec:
        return "no (trained on clean digits)"
    return "yes, trained to ignore " + ", ".join(f"{KIND_LABELS[kind]} up to {strength:g}" for kind, strength in spec.items())


def describe_input_restyle(share: float, target: str = "clean") -> str:
    """The training's restyled inputs in words: "no", or the share of digits written otherwise
    and what they were rebuilt into."""
    if not share:
        return "no: only MNIST's own pen, no thick, blurred or low-resolution digits"
    rebuilt = "rebuilt as written" if target == "restyled" else "rebuilt as clean digits"
    return f"yes, {share:.0%} of training digits thick, blurred, low resolution or an even pen, {rebuilt}"


def describe_session(session: ModelSession) -> str:
    """An HTML summary of a model, for the panel and its tooltip."""
    model = session.model
    hp = model.hparams
    rows = [
        ("format", model.file_format),
        ("architecture", f"{hp['architecture']}{' VAE (β = ' + str(hp.get('beta', 1.0)) + ')' if hp['variational'] else ' autoencoder'}"),
        ("latent size k", str(model.latent_dim)),
        ("hidden width", str(hp["hidden_dim"]) + (f" × {hp['hidden_layers']} layers" if hp.get("hidden_layers", 1) > 1 else "") + (f", {hp['channels']} channels" if hp["architecture"] == "conv" else "")),
    ]
    rows.append(("denoising", describe_input_noise(hp.get("input_noise", ""))))
    rows.append(("other hands", describe_input_restyle(hp.get("input_restyle", 0.0), hp.get("restyle_target", "clean"))))
    statistics = model.statistics
    if statistics is not None:
        dataset = statistics.dataset
        if dataset:
            things = "images" if other_dataset(model) else "digits"  # Fashion-MNIST's are clothes
            rows.append(("trained on", html.escape(f"{dataset.get('name', '?')}: {dataset.get('n_train', '?')} train / {dataset.get('n_val', '?')} validation {things}")))
        for key, (label, _) in TEST_METRICS.items():
            value = statistics.test_metrics.get(key)
            if isinstance(value, (int, float)):
                rows.append((label, format_metric(key, value)))
    rows.append(("statistics from", session.statistics_source))
    # the file's name heads the table across both columns: in the value column of a laptop's
    # dock it broke at a hyphen ("mnist-conv-" / "k32.ckpt"); two runs' best.ckpt are told
    # apart by their run's folder
    label_colour = toward_text(LABEL).name()  # the desktop's palette: read on a dark theme too
    name = f"<tr><td colspan='2' style='padding-bottom:3px'><b>{html.escape(shown_name(model.path))}</b></td></tr>"
    return "<table>" + name + "".join(f"<tr><td style='color:{label_colour};padding-right:8px'>{label}</td><td>{value}</td></tr>" for label, value in rows) + "</table>"


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
