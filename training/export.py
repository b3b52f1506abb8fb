"""``aegui-train export CKPT OUTPUT_STEM``: a slim checkpoint and a safetensors + JSON pair.

The slim ``.ckpt`` keeps weights, hyperparameters and statistics but drops optimiser and loop
state (a third of the size); the ``.safetensors`` file holds tensors only and its ``.json``
sidecar the rest, so it can be opened without unpickling anything.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aegui.core.model_files import export_safetensors, load_model, slim_checkpoint
from training.arguments import command_parser
from training.atomic_save import save_atomically


def main(argv: list[str]) -> int:
    parser = command_parser(
        "export",
        "Write a slim checkpoint (weights, hyperparameters and the app's statistics; no optimiser state) "
        "and a .safetensors + .json pair that opens without unpickling anything.",
        "aegui-train export runs/mnist-conv-k32/checkpoints/best.ckpt shared/my-model",
    )
    parser.add_argument("checkpoint", type=Path, help="the .ckpt (or .safetensors) to export")
    parser.add_argument("output_stem", type=Path, help="output path without suffix: writes STEM.ckpt, STEM.safetensors and STEM.json (folders are created)")
    parser.add_argument("--no-safetensors", action="store_true", help="write only the slim .ckpt")
    parser.add_argument("--half", action="store_true", help="store the slim .ckpt's weights as float16 (half the size)")
    args = parser.parse_args(argv)
    model = load_model(args.checkpoint)  # a refused file: the CLI prints the loader's message and exits 1
    args.output_stem.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = args.output_stem.with_suffix(".ckpt")
    save_atomically(slim_checkpoint(model, torch.float16 if args.half else torch.float32), ckpt_path)
    print(f"wrote {ckpt_path.resolve()}")
    if not args.no_safetensors:
        for path in export_safetensors(model, args.output_stem):
            print(f"wrote {Path(path).resolve()}")
    return 0
