"""``aegui-train sweep`` end to end on tiny data."""

from __future__ import annotations

import csv
import json


def test_sweep_runs_end_to_end_on_tiny_data(tiny_mnist_dir, tmp_path):
    from training.sweep import run_sweep

    extra = ["--model.hidden_dim", "32", "--model.channels", "4", "--data.batch_size", "64"]
    rows = run_sweep([2, 4], tiny_mnist_dir, tmp_path, max_epochs=2, extra_args=extra)
    assert [row["latent_dim"] for row in rows] == [2, 4]
    for row in rows:
        assert 0 < row["ae_test_mse"] < 0.2 and 0 < row["pca_test_mse"] < 0.2
        assert 0 <= row["ae_ood_auroc_near"] <= 1 and 0 <= row["ae_ood_auroc_near_reconstruction"] <= 1
        assert 0 <= row["ae_dci_disentanglement"] <= 1 and 0 <= row["ae_dci_completeness"] <= 1
        assert (tmp_path / row["checkpoint"]).is_file()
    assert rows[1]["pca_test_mse"] < rows[0]["pca_test_mse"]  # more components, less error
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    with open(tmp_path / "sweep.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert json.loads((tmp_path / "family.json").read_text())["checkpoints"] == [row["checkpoint"] for row in rows]
