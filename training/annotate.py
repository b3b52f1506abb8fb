"""``aegui-train annotate CKPT --data-dir DIR``: recompute the statistics a checkpoint carries.

Fitting does this automatically; this command refreshes a checkpoint written by an older
version (for example to add dimension labels) using the same seeded split it was trained on.
"""

from __future__ import annotations

from aegui.core.model_files import read_weights_only_file
from aegui.core.model_format import STATISTICS_KEY
from training.anomaly_fitting import use_style_aware_tables
from training.arguments import load_named_model
from training.command_parsers import annotate_parser
from training.module import annotate_checkpoint, format_test_metrics


def main(argv: list[str]) -> int:
    from training.data import MNISTDataModule

    parser = annotate_parser()
    args = parser.parse_args(argv)
    load_named_model(args.checkpoint)  # refuse what the app refuses, with its message, before touching the file
    checkpoint = read_weights_only_file(args.checkpoint)
    dataset = (checkpoint.get(STATISTICS_KEY) or {}).get("dataset") or {}
    data_hparams = checkpoint.get("datamodule_hyper_parameters") or {}
    datamodule = MNISTDataModule(
        dataset=dataset.get("name", data_hparams.get("dataset", "mnist")),
        data_dir=str(args.data_dir) if args.data_dir else data_hparams.get("data_dir"),
        download=False,
        val_fraction=float(data_hparams.get("val_fraction", 0.1)),
        limit_train=data_hparams.get("limit_train"),
        split_seed=int(dataset.get("split_seed", data_hparams.get("split_seed", 1234))),
    )
    datamodule.setup("fit")
    use_style_aware_tables(args.style_aware)
    try:
        metrics = annotate_checkpoint(args.checkpoint, datamodule)["test_metrics"]
    finally:
        use_style_aware_tables("off")  # what fit makes, for anything run later in this process
    print(f"annotated {args.checkpoint.resolve()}: {format_test_metrics(metrics)}")
    return 0
