"""``aegui-train export CKPT OUTPUT_STEM``: a slim checkpoint and a safetensors + JSON pair.

The slim ``.ckpt`` keeps weights, hyperparameters and statistics but drops optimiser and loop
state (a third of the size); the ``.safetensors`` file holds tensors only and its ``.json``
sidecar the rest, so it can be opened without unpickling anything.
"""

from __future__ import annotations

from pathlib import Path

import torch

from aegui.core.model_files import export_safetensors, slim_checkpoint
from training.arguments import UsageError, load_named_model
from training.atomic_save import save_atomically
from training.command_parsers import export_parser


def main(argv: list[str]) -> int:
    parser = export_parser()
    args = parser.parse_args(argv)
    model = load_named_model(args.checkpoint)  # a refused file: the CLI prints the loader's message and exits 2
    try:
        args.output_stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a folder the checks could not foresee (a read-only or virtual file system)
        raise UsageError(f"output_stem {args.output_stem}: cannot make its folder {args.output_stem.parent}: {error.strerror or error}") from None
    ckpt_path = args.output_stem.with_suffix(".ckpt")
    save_atomically(slim_checkpoint(model, torch.float16 if args.half else torch.float32), ckpt_path)
    print(f"wrote {ckpt_path.resolve()}")
    if not args.no_safetensors:
        for path in export_safetensors(model, args.output_stem):
            print(f"wrote {Path(path).resolve()}")
    return 0
