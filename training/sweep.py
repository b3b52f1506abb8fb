"""``aegui-train sweep``: a family of autoencoders over the bottleneck size k, and a report.

Trains one model per k with the same recipe, evaluates each on the test set, and compares
with PCA at the same k (the best linear code of that size): test MSE per pixel and linear
probe accuracy against k, and how well each model tells near-OOD characters from digits (the
combined anomaly score, and reconstruction error alone), written as ``sweep.csv`` and
``sweep.png``. ``family.json`` lists
the checkpoints, which the app's Compare view loads in one action.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import torch

from training.command_parsers import SWEEP_CONFIG, sweep_parser
from training.datasets import load_split, locate_dataset
from training.digit_tensors import images_to_tensor
from training.metrics import fit_linear_probe, probe_accuracy


def pca_baseline(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor, k: int) -> tuple[float, float]:
    """Test MSE per pixel and linear-probe accuracy of a k-component PCA code."""
    train = train_images.reshape(len(train_images), -1).double()
    test = test_images.reshape(len(test_images), -1).double()
    mean = train.mean(0)
    _, _, v = torch.linalg.svd(train - mean, full_matrices=False)
    components = v[:k]
    train_codes = (train - mean) @ components.T
    test_codes = (test - mean) @ components.T
    reconstruction = (test_codes @ components + mean).clamp(0, 1)
    mse = float(((reconstruction - test) ** 2).mean())
    weight, bias = fit_linear_probe(train_codes.float(), train_labels)
    return mse, probe_accuracy(weight, bias, test_codes.float(), test_labels)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [row["latent_dim"] for row in rows]
    figure, (left, right, third) = plt.subplots(1, 3, figsize=(15, 4))
    left.plot(ks, [row["ae_test_mse"] for row in rows], "o-", label="autoencoder")
    left.plot(ks, [row["pca_test_mse"] for row in rows], "s--", label="PCA")
    left.set(xscale="log", yscale="log", xlabel="bottleneck size k", ylabel="test MSE per pixel", title="reconstruction")
    right.plot(ks, [row["ae_probe_accuracy"] for row in rows], "o-", label="autoencoder")
    right.plot(ks, [row["pca_probe_accuracy"] for row in rows], "s--", label="PCA")
    right.set(xscale="log", xlabel="bottleneck size k", ylabel="linear probe accuracy", title="digit from the code")
    third.plot(ks, [row["ae_ood_auroc_near"] for row in rows], "o-", label="combined score")
    third.plot(ks, [row["ae_ood_auroc_near_reconstruction"] for row in rows], "^:", label="reconstruction error alone")
    third.set(xscale="log", xlabel="bottleneck size k", ylabel="AUROC, digits vs near-OOD", title="is it a digit?")
    for axis in (left, right, third):
        axis.set_xticks(ks, [str(k) for k in ks])
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_sweep(latent_dims, data_dir: Path | None, output_dir: Path, max_epochs: int | None, extra_args: list[str]) -> list[dict]:
    from training.evaluate import evaluate
    from training.lightning_cli import run_lightning_cli

    output_dir.mkdir(parents=True, exist_ok=True)
    folder = locate_dataset("mnist", data_dir)
    train_images, train_labels, _ = load_split(folder, "train")
    test_images, test_labels, _ = load_split(folder, "test")
    train_tensor, test_tensor = images_to_tensor(train_images), images_to_tensor(test_images)
    train_label_tensor, test_label_tensor = torch.from_numpy(train_labels), torch.from_numpy(test_labels)
    rows = []
    for k in latent_dims:
        run_dir = output_dir / f"k{k}"
        args = ["fit", "--config", str(SWEEP_CONFIG), "--model.latent_dim", str(k), "--trainer.default_root_dir", str(run_dir), "--checkpoint.dirpath", str(run_dir / "checkpoints")]
        if data_dir is not None:
            args += ["--data.data_dir", str(data_dir), "--data.download", "false"]
        if max_epochs is not None:
            args += ["--trainer.max_epochs", str(max_epochs)]
        run_lightning_cli(args + extra_args)
        checkpoint = run_dir / "checkpoints" / "best.ckpt"
        metrics = evaluate(checkpoint, data_dir, robustness_digits=0)  # the sweep reports no robustness figures
        pca_mse, pca_probe = pca_baseline(train_tensor, train_label_tensor, test_tensor, test_label_tensor, k)
        row = {
            "latent_dim": k,
            "ae_test_mse": metrics["test_mse"],
            "ae_probe_accuracy": metrics["probe_accuracy"],
            "ae_knn_accuracy": metrics["knn_accuracy"],
            "ae_ood_auroc_fashion": metrics["ood_auroc_fashion"],
            "ae_ood_auroc_near": metrics["ood_auroc_near"],
            "ae_ood_auroc_near_reconstruction": metrics["ood_auroc_near_reconstruction"],
            "ae_near_flagged_share": metrics["near_flagged_share"],
            "ae_dci_disentanglement": metrics["dci_disentanglement"],
            "ae_dci_completeness": metrics["dci_completeness"],
            "pca_test_mse": pca_mse,
            "pca_probe_accuracy": pca_probe,
            "checkpoint": str(checkpoint.relative_to(output_dir)),
        }
        rows.append(row)
        print(
            f"k={k}: autoencoder MSE {row['ae_test_mse']:.5f} probe {row['ae_probe_accuracy']:.3f} near-OOD AUROC {row['ae_ood_auroc_near']:.3f} "
            f"(reconstruction alone {row['ae_ood_auroc_near_reconstruction']:.3f}) | PCA MSE {pca_mse:.5f} probe {pca_probe:.3f}",
            flush=True,
        )
    with open(output_dir / "sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (output_dir / "family.json").write_text(json.dumps({"checkpoints": [row["checkpoint"] for row in rows]}, indent=2) + "\n")
    plot(rows, output_dir / "sweep.png")
    return rows


def main(argv: list[str]) -> int:
    parser = sweep_parser()
    args, extra = parser.parse_known_args(argv)
    rows = run_sweep(args.latent_dims, args.data_dir, args.output_dir, args.max_epochs, extra)
    output = args.output_dir.resolve()
    print(f"wrote {output / 'sweep.csv'}, {output / 'sweep.png'} and {output / 'family.json'} ({len(rows)} models)")
    return 0
