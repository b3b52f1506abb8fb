"""``aegui-train evaluate CKPT``: test metrics of a checkpoint on MNIST (and Fashion-MNIST).

The checkpoint is read with the app's own safe loader, so what is evaluated is exactly what
the app would show. The anomaly score is the per-image reconstruction error ||x - x_hat||^2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from aegui.core.checkpoint import CheckpointError, load_model
from training.data import DatasetNotFoundError, images_to_tensor, load_split, locate_dataset
from training.statistics import auroc, encode_dataset, fit_linear_probe, knn_accuracy, probe_accuracy


def evaluate(checkpoint: Path, data_dir: Path | None = None, fashion_dir: Path | None = None) -> dict:
    model = load_model(checkpoint)
    folder = locate_dataset("mnist", data_dir)
    train_images, train_labels, _ = load_split(folder, "train")
    test_images, test_labels, _ = load_split(folder, "test")
    train_labels, test_labels = torch.from_numpy(train_labels), torch.from_numpy(test_labels)
    autoencoder = model.autoencoder
    train_codes, _, _ = encode_dataset(autoencoder, images_to_tensor(train_images))
    test_codes, test_errors, test_bce = encode_dataset(autoencoder, images_to_tensor(test_images))
    statistics = model.statistics
    if statistics is not None and statistics.probe_weight is not None:
        weight, bias = statistics.probe_weight, statistics.probe_bias
    else:
        weight, bias = fit_linear_probe(train_codes, train_labels)
    result = {
        "test_mse": float(test_errors.mean()),
        "test_bce": float(test_bce.mean()),
        "probe_accuracy": probe_accuracy(weight, bias, test_codes, test_labels),
        "knn_accuracy": knn_accuracy(train_codes, train_labels, test_codes, test_labels),
        "ood_auroc_fashion": None,
        "latent_dim": model.latent_dim,
        "n_test": len(test_images),
    }
    try:
        fashion_folder = locate_dataset("fashion-mnist", fashion_dir)
    except DatasetNotFoundError:
        if fashion_dir is not None:
            raise
        return result
    fashion_images, _, _ = load_split(fashion_folder, "test")
    _, fashion_errors, _ = encode_dataset(autoencoder, images_to_tensor(fashion_images))
    result["ood_auroc_fashion"] = auroc(test_errors, fashion_errors)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aegui-train evaluate", description="Test metrics of a checkpoint.")
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data-dir", type=Path, help="folder with the MNIST IDX files (default: the download cache)")
    parser.add_argument("--fashion-dir", type=Path, help="folder with Fashion-MNIST (default: /usr/share/datasets/fashion-mnist or the cache)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.checkpoint, args.data_dir, args.fashion_dir)
    except (CheckpointError, DatasetNotFoundError, ValueError) as error:
        parser.exit(2, f"aegui-train evaluate: {error}\n")
    if args.json:
        print(json.dumps(result))
        return 0
    auroc_text = "n/a (Fashion-MNIST not found)" if result["ood_auroc_fashion"] is None else f"{result['ood_auroc_fashion']:.4f}"
    print(f"checkpoint            {args.checkpoint}")
    print(f"latent size k         {result['latent_dim']}")
    print(f"test digits           {result['n_test']}")
    print(f"test MSE per pixel    {result['test_mse']:.5f}")
    print(f"test BCE per pixel    {result['test_bce']:.5f}")
    print(f"linear probe accuracy {result['probe_accuracy']:.4f}")
    print(f"5-NN accuracy         {result['knn_accuracy']:.4f}")
    print(f"anomaly AUROC MNIST vs Fashion-MNIST {auroc_text}")
    return 0
