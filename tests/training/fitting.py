"""Fitting through the real CLI on 600 real digits with a tiny network: the shared arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = ["--model.latent_dim", "4", "--model.hidden_dim", "32", "--model.channels", "4", "--model.learning_rate", "0.01"]


def fit_args(data_dir: Path, root: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--data.data_dir", str(data_dir), "--data.download", "false", "--data.batch_size", "64",
        "--trainer.default_root_dir", str(root), "--checkpoint.dirpath", str(root / "checkpoints"),
        "--trainer.enable_model_summary", "false",  # no progress bar either: the output is not a terminal
        *TINY_MODEL, *extra,
    ]  # fmt: skip


def refusal(capsys, args: list[str]) -> tuple[int, str]:
    """(exit status, the one line on stderr) of a command that stops with a message."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    return exit_info.value.code, lines[-1] if lines else ""
