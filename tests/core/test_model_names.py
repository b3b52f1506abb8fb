"""The names the title, status bar and Compare give models: two runs' best.ckpt told apart."""

from __future__ import annotations

from pathlib import Path

from aegui.core.model_names import distinguishing_names, shown_name
from aegui.core.resources import DEFAULT_CHECKPOINT


def test_a_command_line_runs_checkpoint_is_named_by_its_run_not_lightnings_version_folder():
    """`aegui-train fit --trainer.default_root_dir runs/k16` keeps its checkpoints in
    runs/k16/logs/version_0/checkpoints: the title said "version_0/best.ckpt", as every such
    run's would."""
    first, second = Path("runs/k16/logs/version_0/checkpoints/best.ckpt"), Path("runs/k32/logs/version_0/checkpoints/best.ckpt")
    assert shown_name(first) == "k16/version_0/best.ckpt"
    assert distinguishing_names([first, second]) == ["k16/version_0/best", "k32/version_0/best"]
    assert shown_name(Path("runs/run-b/checkpoints/best.ckpt")) == "run-b/best.ckpt"  # a run the window started
    assert shown_name(DEFAULT_CHECKPOINT) == DEFAULT_CHECKPOINT.name  # a bundled model by its name alone
    assert shown_name(Path("/tmp/version_3/best.ckpt")) == "best.ckpt"  # not in a checkpoints folder: the file's name
