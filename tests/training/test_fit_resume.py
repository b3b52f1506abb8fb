"""Resuming and stopping a fit through the real CLI: from last, after a kill, on request, and under DDP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from aegui.core.model_format import STATISTICS_KEY
from training.cli import main as cli_main
from tests.training.fitting import REPO, fit_args


def without_checkpoint_folder(args: list[str]) -> list[str]:
    at = args.index("--checkpoint.dirpath")
    return args[:at] + args[at + 2 :]


def test_resume_from_last_continues_where_it_stopped(tiny_mnist_dir, tmp_path):
    """As the README's command runs: --trainer.default_root_dir alone. The checkpoints are in
    ROOT/checkpoints; in Lightning's default folder (ROOT/logs/version_N/checkpoints) the
    resumed run looked in version_1, found no last.ckpt and trained from scratch."""
    cli_main(without_checkpoint_folder(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "2")))
    first = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    cli_main(without_checkpoint_folder(fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "3", "--ckpt_path", "last")))
    resumed = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["epoch"] == 1 and resumed["epoch"] == 2
    assert resumed["global_step"] == first["global_step"] * 3 // 2
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


def test_resuming_a_run_from_before_checkpoints_had_their_folder_names_where_its_last_checkpoint_is(tmp_path, capsys):
    from training.arguments import check_something_to_resume
    from training.arguments import UsageError
    from types import SimpleNamespace

    older = tmp_path / "logs" / "version_0" / "checkpoints"
    older.mkdir(parents=True)
    (older / "last.ckpt").write_bytes(b"")
    with pytest.raises(UsageError, match=rf"the run's last.ckpt is in {older}: resume it with --checkpoint.dirpath {older}$"):
        check_something_to_resume([SimpleNamespace(dirpath=str(tmp_path / "checkpoints"))], str(tmp_path))


def test_ctrl_c_says_where_the_last_epoch_is_kept_and_how_to_go_on(tiny_mnist_dir, tmp_path, capsys):
    """Lightning alone says "Detected KeyboardInterrupt, attempting graceful shutdown" and exits."""
    import signal

    from aegui.core.executor import ImmediateExecutor
    from aegui.core.training_run import TrainingRun, status_text

    handler = signal.getsignal(signal.SIGINT)  # Lightning ignores further Ctrl+C while it shuts down
    progress = tmp_path / "progress"
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli_main([*fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "3"), "--progress-dir", str(progress), "--trainer.callbacks+=tests.training.kill_switch.InterruptMidEpoch"])
    finally:
        signal.signal(signal.SIGINT, handler)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert exit_info.value.code == 130 and last.is_file()  # 128 + SIGINT, as a shell reports an interrupted command
    assert (
        f"Interrupted. The last finished epoch is kept in {last}: the same command with --ckpt_path last resumes the run; "
        f"aegui-train annotate {last} adds what the app needs to open it now."
    ) in capsys.readouterr().err
    # and whoever watches the run reads the same, not "The run stopped: KeyboardInterrupt."
    run = TrainingRun(ImmediateExecutor())
    run.watch(tmp_path)
    assert status_text(run) == "The run stopped: Interrupted (Ctrl+C); its last.ckpt is kept, and the same command with --ckpt_path last resumes the run."


@pytest.mark.slow
def test_ddp_on_cpu_with_two_processes_streams_progress_once_and_stops_on_request(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    ddp = ["--trainer.max_epochs", "3", "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp", "--progress-dir", str(progress)]
    stop = ["--trainer.callbacks+=tests.training.kill_switch.RequestStop", "--trainer.callbacks.init_args.progress_dir", str(progress), "--trainer.callbacks.init_args.batch", "1"]
    command = [sys.executable, "-m", "training", *fit_args(tiny_mnist_dir, tmp_path, *ddp, *stop)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "world_size=2" in (result.stdout + result.stderr) or "GLOBAL_RANK: 1" in (result.stdout + result.stderr)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["epoch"] == 1 and STATISTICS_KEY in checkpoint  # stopped in epoch 1 of 0..2
    kinds = [json.loads(line)["event"] for line in (progress / "progress.jsonl").read_text().splitlines()]
    # rank 0 alone writes: one start, one line per epoch, one end (two ranks would double them)
    assert kinds.count("start") == 1 and kinds.count("epoch") == 2 and kinds.count("snapshot") == 2 and kinds.count("end") == 1 and "stopping" in kinds


def test_training_killed_mid_epoch_resumes_from_last_and_completes(tiny_mnist_dir, tmp_path):
    base = [sys.executable, "-m", "training", *fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "3")]
    killed = subprocess.run([*base, "--trainer.callbacks+=tests.training.kill_switch.KillMidEpoch", "--trainer.callbacks.init_args.epoch", "1"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert killed.returncode == -9, killed.stderr[-2000:]
    interrupted = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert interrupted["epoch"] == 0  # the last complete epoch before the kill
    progress = tmp_path / "resumed-progress"  # resumed in this process, where Lightning is imported already
    cli_main([*fit_args(tiny_mnist_dir, tmp_path, "--trainer.max_epochs", "3"), "--ckpt_path", "last", "--progress-dir", str(progress)])
    final = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["epoch"] == 2 and STATISTICS_KEY in final
    epochs = [event["epoch"] for event in map(json.loads, (progress / "progress.jsonl").read_text().splitlines()) if event["event"] == "epoch"]
    assert epochs == [1, 2]  # it went on from the epoch the kill interrupted: a fresh run would train epoch 0 again


def test_a_stop_request_ends_the_run_resumably_and_resume_finishes_it(tiny_mnist_dir, tmp_path):
    progress = tmp_path / "progress"
    args = fit_args(tiny_mnist_dir, tmp_path / "run", "--trainer.max_epochs", "4", "--trainer.log_every_n_steps", "2", "--progress-dir", str(progress))
    cli_main([*args, "--trainer.callbacks+=tests.training.kill_switch.RequestStop", "--trainer.callbacks.init_args.progress_dir", str(progress)])
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert "stopping" in kinds and events[-1]["event"] == "end" and events[-1]["stopped"] is True
    assert kinds.count("epoch") == 2  # epoch 0, then epoch 1 validated where it stopped
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 1 and STATISTICS_KEY in last and not (progress / "stop-requested").exists()
    cli_main([*args, "--ckpt_path", "last"])
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    assert [event["event"] for event in events].count("start") == 2 and events[-1]["event"] == "end" and events[-1]["stopped"] is False
    final = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["epoch"] == 3 and final["global_step"] > last["global_step"]


def test_a_stop_request_in_the_last_epoch_ends_the_run_finished(tiny_mnist_dir, tmp_path):
    """Stop pressed during the last epoch: Lightning ends that epoch where it is and the fit has
    reached max_epochs, so nothing is left to resume. The run is finished (its best checkpoint
    opens), not "stopped; Resume continues the run" with a Resume that only recomputed the
    statistics."""
    from aegui.core.executor import ImmediateExecutor
    from aegui.core.training_run import TrainingRun, status_text

    progress = tmp_path / "run"  # as the Train dialog lays a run out: progress and checkpoints in one folder
    args = fit_args(tiny_mnist_dir, progress, "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "2", "--progress-dir", str(progress))
    cli_main([*args, "--trainer.callbacks+=tests.training.kill_switch.RequestStop", "--trainer.callbacks.init_args.progress_dir", str(progress), "--trainer.callbacks.init_args.epoch", "1"])
    events = [json.loads(line) for line in (progress / "progress.jsonl").read_text().splitlines()]
    assert "stopping" in [event["event"] for event in events]  # the request was seen, in the last epoch
    assert events[-1]["event"] == "end" and events[-1]["stopped"] is False
    assert not (progress / "stop-requested").exists()
    run = TrainingRun(ImmediateExecutor())
    run.watch(progress)
    assert status_text(run).startswith("Finished after") and run.best_checkpoint is not None


def test_a_resumed_runs_time_to_go_counts_only_the_steps_it_trained(monkeypatch, tmp_path):
    """Resumed at step 60 of 150 and 30 steps on in 30 s: 60 steps to go take 60 s more. The
    run's earlier 60 steps were trained by another process; counting them made the remaining
    time look a third as long (the Training dock said "about 7 s to go" with 24 s left)."""
    from types import SimpleNamespace

    from training import progress

    clock = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    stream = progress.ProgressStream(str(tmp_path))
    stream._started = clock[0]  # as on_fit_start sets it
    trainer = SimpleNamespace(global_step=60, estimated_stepping_batches=150)
    clock[0] = 102.0  # set-up and the checkpoint restored
    stream.on_train_start(trainer, None)
    trainer.global_step, clock[0] = 90, 132.0
    assert stream._timing(trainer) == {"elapsed": 32.0, "eta": 60.0}
