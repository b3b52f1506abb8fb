"""``aegui-train``: LightningCLI for fit/validate/test, plus evaluate, sweep and export.

    aegui-train fit --config training/configs/mnist-conv-k32.yaml
    aegui-train fit --config ... --ckpt_path last          # resume
    aegui-train evaluate CKPT [--data-dir DIR] [--json]
    aegui-train sweep [--latent-dims 2 4 8 ...] --output-dir DIR
    aegui-train export CKPT OUTPUT_STEM
    aegui-train annotate CKPT --data-dir DIR             # recompute the app's statistics
"""

from __future__ import annotations

import sys

from training.lightning_cli import run_lightning_cli

EXTRA_COMMANDS = ("evaluate", "sweep", "export", "annotate")
HELP = """usage: aegui-train COMMAND [options]

Train and inspect aegui's autoencoders. `aegui-train COMMAND --help` describes each command.

Lightning commands (configured with --config FILE.yaml and --model.*, --data.*, --trainer.*):
  fit        train a model; --ckpt_path last resumes an interrupted run
  validate   validation metrics of a checkpoint (--ckpt_path)
  test       test metrics of a checkpoint (--ckpt_path)
  predict    run a checkpoint over the test set

aegui commands:
  evaluate   test MSE, probe and 5-NN accuracy, anomaly AUROC of any checkpoint
  sweep      one model per bottleneck size k, compared with PCA (report and family.json)
  export     a slim .ckpt and a .safetensors + .json pair for sharing
  annotate   recompute the statistics the app reads from a checkpoint
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(HELP, end="")
        raise SystemExit(0 if args else 2)
    if args[0] in EXTRA_COMMANDS:
        command, rest = args[0], args[1:]
        if command == "evaluate":
            from training.evaluate import main as evaluate_main

            raise SystemExit(evaluate_main(rest))
        if command == "sweep":
            from training.sweep import main as sweep_main

            raise SystemExit(sweep_main(rest))
        if command == "annotate":
            from training.annotate import main as annotate_main

            raise SystemExit(annotate_main(rest))
        from training.export import main as export_main

        raise SystemExit(export_main(rest))
    run_lightning_cli(args)


if __name__ == "__main__":
    main()
