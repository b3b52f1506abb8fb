"""``aegui-train evaluate CKPT``: test metrics of a checkpoint on MNIST (and Fashion-MNIST).

The checkpoint is read with the app's own safe loader, so what is evaluated is exactly what
the app would show. The anomaly score is the checkpoint's combined score (reconstruction error
||x - x_hat||^2 alone for a checkpoint without one), ranked as the app ranks it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from aegui.core.anomaly import NOT_A_DIGIT_ABOVE, AnomalyScorer, percentiles
from aegui.core.errors import CheckpointError
from aegui.core.model_files import read_weights_only_file
from aegui.core.model_format import TEST_METRICS, format_metric
from aegui.core.noise import NOISE_KINDS
from aegui.core.resources import load_near_ood
from aegui.core.robustness import measure_robustness
from training.arguments import load_named_model
from training.command_parsers import ROBUSTNESS_DIGITS, evaluate_parser
from training.datasets import load_split, locate_dataset
from training.digit_tensors import images_to_tensor, split_indices
from training.disentanglement import dci
from training.errors import DatasetNotFoundError
from training.fairness import fairness_figures
from training.metrics import auroc, encode_dataset, encode_inner, fit_linear_probe, held_out_quantiles, metrics_on_test_split
from training.stroke_properties import PROPERTIES, measure


def reference_split(images, labels, dataset: dict | None):
    """The digits the checkpoint was trained on (its seeded training split, as ``fit`` made it),
    so 5-NN and the probe use the same reference as the figures ``fit`` stored; all training
    digits when the checkpoint does not say how it was split or the file holds fewer digits."""
    dataset = dataset or {}
    n_train, n_val, seed = dataset.get("n_train"), dataset.get("n_val"), dataset.get("split_seed")
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (n_train, n_val, seed)):
        return images, labels, "all training digits"
    if n_train + n_val > len(images) or n_train <= 0:
        return images, labels, "all training digits"
    train_index, _ = split_indices(n_train + n_val, n_val, seed)
    return images[train_index], labels[train_index], "the checkpoint's training split"


def recorded_data_dir(checkpoint: Path) -> str | None:
    """The folder the checkpoint's run read its digits from (a run's checkpoint records it;
    an exported one does not), when it still holds them: evaluate then needs no --data-dir,
    as annotate does not."""
    try:
        stored = read_weights_only_file(checkpoint)
    except CheckpointError:
        return None
    hparams = stored.get("datamodule_hyper_parameters") if type(stored) is dict else None
    folder = hparams.get("data_dir") if type(hparams) is dict else None
    if type(folder) is not str or not folder:
        return None
    try:
        locate_dataset("mnist", folder)
    except (DatasetNotFoundError, OSError, ValueError):
        return None
    return folder


def evaluate(checkpoint: Path, data_dir: Path | None = None, fashion_dir: Path | None = None, robustness_digits: int = ROBUSTNESS_DIGITS) -> dict:
    model = load_named_model(checkpoint)
    folder = locate_dataset("mnist", data_dir if data_dir is not None else recorded_data_dir(checkpoint))
    train_images, train_labels, _ = load_split(folder, "train")
    test_images, test_labels, _ = load_split(folder, "test")
    statistics = model.statistics
    train_images, train_labels, reference = reference_split(train_images, train_labels, statistics.dataset if statistics is not None else None)
    train_labels, test_labels = torch.from_numpy(train_labels), torch.from_numpy(test_labels)
    autoencoder = model.autoencoder
    train_codes, _, _ = encode_dataset(autoencoder, images_to_tensor(train_images), reconstruct=False)
    test_codes, test_errors, test_bce = encode_dataset(autoencoder, images_to_tensor(test_images))
    if statistics is not None and statistics.probe_weight is not None:
        weight, bias = statistics.probe_weight, statistics.probe_bias
    else:
        weight, bias = fit_linear_probe(train_codes, train_labels)
    figures = metrics_on_test_split(test_codes, test_errors, test_bce, test_labels, (weight, bias), train_codes, train_labels)  # as fit stores them
    result = {
        **{name: figures[name] for name in ("test_mse", "test_bce", "probe_accuracy", "knn_accuracy")},
        "ood_auroc_fashion": None,
        "latent_dim": model.latent_dim,
        "n_test": figures["n_test"],
        "n_reference": len(train_images),
        "reference": reference,
    }
    if robustness_digits > 0:  # the same noisy digits for every model (seeded per kind)
        count = min(robustness_digits, len(test_images))
        result["robustness"] = measure_robustness(autoencoder, test_images[:count].astype(np.float32) / 255.0, test_labels[:count], (weight, bias)).to_dict()
    properties = measure(test_images.astype(np.float32) / 255.0)
    interpretability = dci(test_codes.numpy(), np.stack([properties[name] for name in PROPERTIES], axis=1))
    result.update(dci_disentanglement=interpretability["disentanglement"], dci_completeness=interpretability["completeness"], dci_informativeness=interpretability["informativeness"])
    scorer = AnomalyScorer.from_table(statistics.anomaly) if statistics is not None and statistics.anomaly is not None else None
    reconstruction_quantiles = (statistics.error_quantiles if statistics is not None else held_out_quantiles(test_errors)).double().numpy()

    def scored(images: torch.Tensor, codes: torch.Tensor, errors: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(combined or reconstruction score, its percentile among held-out digits) per image."""
        if scorer is None:
            values = errors.double().numpy()
            return values, percentiles(values, reconstruction_quantiles)
        inner = encode_inner(autoencoder, images)[1].numpy() if scorer.needs_inner else None
        values = scorer.score_batch(errors.numpy(), codes.numpy(), torch.softmax(codes @ weight.T + bias, 1).numpy(), inner)
        return values, percentiles(values, scorer.verdict_quantiles)

    test_scores, test_percentiles = scored(images_to_tensor(test_images), test_codes, test_errors)
    near = load_near_ood("report")
    near_images = torch.from_numpy(near.images).unsqueeze(1)
    near_codes, near_errors, _ = encode_dataset(autoencoder, near_images)
    near_scores, near_percentiles = scored(near_images, near_codes, near_errors)
    result.update(
        anomaly_score="combined" if scorer is not None else "reconstruction",
        ood_auroc_near=auroc(torch.from_numpy(test_scores), torch.from_numpy(near_scores)),
        ood_auroc_near_reconstruction=auroc(test_errors, near_errors),
        near_flagged_share=float((near_percentiles > NOT_A_DIGIT_ABOVE).mean()),
        false_alarm_rate=float((test_percentiles > NOT_A_DIGIT_ABOVE).mean()),
        n_near=len(near_scores),
        ood_auroc_fashion_reconstruction=None,
    )

    def verdict_percentiles(images: torch.Tensor) -> np.ndarray:
        codes, errors, _ = encode_dataset(autoencoder, images)
        return scored(images, codes, errors)[1]

    def probe_reads(images: torch.Tensor) -> np.ndarray:
        return (encode_dataset(autoencoder, images, reconstruct=False)[0] @ weight.T + bias).argmax(1).numpy()

    result.update(fairness_figures(verdict_percentiles, probe_reads))
    try:
        fashion_folder = locate_dataset("fashion-mnist", fashion_dir)
    except DatasetNotFoundError as missing:
        if fashion_dir is not None:
            raise DatasetNotFoundError(str(missing), flag="--fashion-dir DIR") from None
        return result
    fashion_images, _, _ = load_split(fashion_folder, "test")
    fashion_tensor = images_to_tensor(fashion_images)
    fashion_codes, fashion_errors, _ = encode_dataset(autoencoder, fashion_tensor)
    fashion_scores, _ = scored(fashion_tensor, fashion_codes, fashion_errors)
    result["ood_auroc_fashion"] = auroc(torch.from_numpy(test_scores), torch.from_numpy(fashion_scores))
    result["ood_auroc_fashion_reconstruction"] = auroc(test_errors, fashion_errors)
    return result


def main(argv: list[str]) -> int:
    parser = evaluate_parser()
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.checkpoint, args.data_dir, args.fashion_dir, args.robustness_digits)
    except ValueError as error:  # a damaged dataset file; a refused model or missing data: the CLI's message
        parser.exit(1, f"aegui-train evaluate: {error}\n")
    if args.json:
        # strict JSON: a figure that is not a finite number (a diverged model) is null, never NaN
        print(json.dumps(_finite(result), allow_nan=False))
        return 0
    auroc_text = "n/a (Fashion-MNIST not found)" if result["ood_auroc_fashion"] is None else format_metric("ood_auroc_fashion", result["ood_auroc_fashion"])
    print(f"checkpoint            {args.checkpoint}")
    print(f"latent size k         {result['latent_dim']}")
    print(f"test digits           {result['n_test']}")
    for key in ("test_mse", "test_bce", "probe_accuracy", "knn_accuracy"):
        print(f"{TEST_METRICS[key][0]:<22}{format_metric(key, result[key])}")
    print(f"5-NN reference        {result['n_reference']:,} digits ({result['reference']})")
    print(f"DCI vs stroke properties: disentanglement {result['dci_disentanglement']:.3f}, completeness {result['dci_completeness']:.3f}, informativeness {result['dci_informativeness']:.3f}")
    print(f"anomaly score         {result['anomaly_score']}")
    print(f"anomaly AUROC MNIST vs near-OOD characters and shapes {format_metric('ood_auroc_fashion', result['ood_auroc_near'])} (reconstruction alone {format_metric('ood_auroc_fashion', result['ood_auroc_near_reconstruction'])})")
    print(f"near-OOD flagged 'not a digit' {result['near_flagged_share']:.1%} of {result['n_near']}; MNIST test digits flagged {result['false_alarm_rate']:.2%}")
    print(f"anomaly AUROC MNIST vs Fashion-MNIST {auroc_text}")
    groups = ", ".join(f"{group} {share:.1%}" for group, share in result["other_hands_flagged_by_group"].items())
    print(f"other hands flagged 'not a digit' {result['other_hands_flagged_share']:.1%} of {result['n_other_hands']} ({groups}); probe reads {result['other_hands_probe_accuracy']:.1%} right")
    print(f"drawn shapes flagged {result['drawn_shapes_flagged_share']:.1%} of {result['n_drawn_shapes']} (kinds never calibrated on {result['drawn_shapes_flagged_unseen_kinds']:.1%})")
    if "robustness" in result:
        print(robustness_table(result["robustness"]))
    return 0


def _finite(value):
    """Strict JSON: a figure that is not a finite number (a diverged model) is null, never NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def robustness_table(robustness: dict) -> str:
    """Reconstruction error to the clean digit and probe accuracy per noise kind and strength."""
    strengths = robustness["strengths"]
    lines = [f"noise robustness on {robustness['n_digits']:,} test digits (MSE of the reconstruction to the clean digit / probe accuracy)"]
    lines.append(f"  {'strength':<16}" + "".join(f"{strength:>9g}{'':8}" for strength in strengths))
    for kind in NOISE_KINDS:
        if kind not in robustness["mse_to_clean"]:
            continue
        accuracy = robustness["probe_accuracy"][kind] if robustness["probe_accuracy"] else [None] * len(strengths)
        cells = "".join(f"{mse:>9.4f} / {'-' if acc is None else f'{acc:.3f}':<5}" for mse, acc in zip(robustness["mse_to_clean"][kind], accuracy))
        lines.append(f"  {kind:<16}{cells}")
    return "\n".join(lines)
