"""The training run as core state (no display): requests stored at once, reading and mapping
through the executor, events to subscribers, the run folder as a boundary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aegui.core.model_files.snapshot import read_snapshot
from aegui.core.errors import CheckpointError
from aegui.core.events import Signal
from aegui.core.executor import ImmediateExecutor
from aegui.core.networks import build_autoencoder
from aegui.core.training_plan import TrainingPlan
from aegui.core.training_run import TrainingRun, status_text
from tests.hostile_corpus import OpenedFiles, build_run_folders

HPARAMS = {"architecture": "dense", "latent_dim": 3, "hidden_dim": 16}


def write_snapshot(folder: Path, epoch: int, network: bool = True) -> str:
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(epoch)
    table = {"codes": torch.randn(200, 3) * (epoch + 1), "labels": torch.arange(200) % 10}
    if network:
        table.update(state_dict=build_autoencoder(HPARAMS).state_dict(), hyper_parameters=dict(HPARAMS))
    torch.save(table, folder / "snapshots" / f"epoch-{epoch:04d}.pt")
    return f"snapshots/epoch-{epoch:04d}.pt"


def append(folder: Path, *records: dict) -> None:
    with open(folder / "progress.jsonl", "a") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in records))


def epoch_lines(folder: Path, epoch: int) -> list[dict]:
    return [{"event": "epoch", "epoch": epoch, "val_mse": 0.1 / (epoch + 1), "elapsed": 10.0 * (epoch + 1), "eta": 5.0}, {"event": "snapshot", "epoch": epoch, "path": write_snapshot(folder, epoch)}]


class HeldJobs:
    """An executor that holds jobs until ``flush`` (latest per channel wins, like the app's):
    shows what is stored at once and what only arrives with the results."""

    def __init__(self) -> None:
        self.pending: dict = {}

    def submit(self, channel, job, on_done, on_error) -> None:
        self.pending[channel] = (job, on_done, on_error)

    def flush(self) -> None:
        while self.pending:
            channel = next(iter(self.pending))
            ImmediateExecutor().submit(channel, *self.pending.pop(channel))


class Recorder:
    """Every event a run publishes, in order."""

    def __init__(self, run: TrainingRun):
        self.events: list[tuple] = []
        for name in ("opened", "state_changed", "maps_changed", "epoch_shown", "reconstruction_changed", "ended", "comparison_opened"):
            getattr(run, name).connect(lambda *args, name=name: self.events.append((name, *args)))

    def names(self) -> list[str]:
        return [event[0] for event in self.events]


def test_a_watch_is_stored_at_once_and_read_in_the_executor_newest_folder_winning(tmp_path):
    first, second = tmp_path / "a" / "progress", tmp_path / "b" / "progress"
    for folder, epochs in ((first, 1), (second, 2)):
        folder.mkdir(parents=True)
        append(folder, {"event": "start", "max_epochs": 5}, *[line for epoch in range(epochs) for line in epoch_lines(folder, epoch)])
    executor = HeldJobs()
    run = TrainingRun(executor)
    events = Recorder(run)
    run.watch(first)
    run.watch(second)  # before anything of the first was read
    assert run.folder == second and run.state.epochs == [] and events.names() == ["opened", "opened"]  # stored, nothing read
    assert status_text(run) == f"Watching {second} …"
    executor.flush()
    assert run.state.max_epochs == 5 and [epoch for epoch, _ in run.state.epochs] == [0, 1]  # the second folder's run
    assert sorted(run.maps) == [0, 1] and run.selected_epoch == 1 and run.labels.shape == (200,)
    assert events.names()[2:] == ["state_changed", "maps_changed", "epoch_shown"] and events.events[-1] == ("epoch_shown", 1)
    assert status_text(run) == "Epoch 2 of 5 done, 20 s so far, about 5 s to go"


def test_a_folder_without_a_run_says_so_at_once_and_shows_the_run_when_one_starts(tmp_path):
    """Watching a folder no run has written to said "Watching …" for as long as one waited,
    which read as a hang."""
    folder = tmp_path / "empty" / "progress"
    folder.mkdir(parents=True)
    run = TrainingRun(ImmediateExecutor())
    events = Recorder(run)
    run.watch(folder)
    assert "no run has written its progress (progress.jsonl) there yet" in status_text(run)
    assert events.names() == ["opened", "state_changed"]
    run.poll()
    assert events.names() == ["opened", "state_changed"]  # said once, not on every poll
    append(folder, {"event": "start", "max_epochs": 5})
    run.poll()
    assert status_text(run) == "Started; waiting for the first epoch…"


def test_a_run_folder_watched_before_its_first_line_is_read_as_the_run_folder(tmp_path):
    """``aegui-train fit --progress-dir RUN/progress`` makes that folder as it starts, and
    ``aegui --watch RUN`` given a second later must follow RUN/progress: the empty RUN was taken
    for the progress folder itself, and the run's lines were never found."""
    run_dir = tmp_path / "live"
    (run_dir / "progress").mkdir(parents=True)
    run = TrainingRun(ImmediateExecutor())
    run.watch(run_dir)
    assert run.boundary.progress_dir == run_dir / "progress"
    append(run_dir / "progress", {"event": "start", "max_epochs": 5}, epoch_lines(run_dir / "progress", 0)[0])
    run.poll()
    assert run.state.epoch == 0 and status_text(run).startswith("Epoch 1 of 5 done")


def test_after_the_last_epoch_the_status_says_the_apps_statistics_are_being_computed(tmp_path):
    """On small data the statistics at the end of fit take as long as training: "about 0 s to
    go" for all that time read as a hang."""
    folder = tmp_path / "progress"
    folder.mkdir()
    append(folder, {"event": "start", "max_epochs": 2}, *epoch_lines(folder, 0), *epoch_lines(folder, 1))
    run = TrainingRun(ImmediateExecutor())
    run.watch(folder)
    assert status_text(run).startswith("Epoch 2 of 2 done")
    append(folder, {"event": "statistics", "elapsed": 21.0})
    run.poll()
    assert status_text(run) == "Training done after 21 s; computing what the app needs (the reference digits' codes, the anomaly score)…"
    append(folder, {"event": "end", "elapsed": 40.0, "checkpoints": {}, "test_metrics": {}})
    run.poll()
    assert status_text(run).startswith("Finished after 40 s")
    append(folder, {"event": "start", "max_epochs": 4})  # resumed: training again
    run.poll()
    assert not run.state.statistics and "computing" not in status_text(run)


def test_the_map_shown_follows_the_newest_epoch_until_one_is_picked(tmp_path):
    folder = tmp_path / "progress"
    folder.mkdir()
    append(folder, {"event": "start", "max_epochs": 5}, *epoch_lines(folder, 0), *epoch_lines(folder, 1))
    run = TrainingRun(ImmediateExecutor())
    run.watch(folder)
    assert run.selected_epoch == 1 and run.following
    append(folder, *epoch_lines(folder, 2))
    run.poll()
    assert run.selected_epoch == 2  # followed
    run.show_epoch(0)
    assert run.selected_epoch == 0 and not run.following
    append(folder, *epoch_lines(folder, 3))
    run.poll()
    assert sorted(run.maps) == [0, 1, 2, 3] and run.selected_epoch == 0  # the user's choice stays
    run.show_epoch(3)
    assert run.following


def test_the_sketch_is_rebuilt_by_the_network_of_the_epoch_shown(tmp_path):
    folder = tmp_path / "progress"
    folder.mkdir()
    append(folder, {"event": "start"}, *epoch_lines(folder, 0), *epoch_lines(folder, 1))
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    explorer = SimpleNamespace(analysis=SimpleNamespace(input_image=image, reconstruction=np.zeros((28, 28), np.float32)), session=None, analysis_changed=Signal(), drawing=False)
    run = TrainingRun(ImmediateExecutor(), explorer)
    events = Recorder(run)
    run.watch(folder)
    run.show_epoch(0)
    rebuilt = [event for event in events.events if event[0] == "reconstruction_changed"]
    network = read_snapshot(folder / "snapshots" / "epoch-0000.pt").network
    with torch.no_grad():
        expected = network(torch.from_numpy(image).reshape(1, 1, 28, 28))[0, 0].numpy()
    assert rebuilt[-1][1] == 0 and np.allclose(rebuilt[-1][3], expected, atol=1e-6)
    assert rebuilt[-2][1] == 1  # the newest epoch's, when its map was first shown

    # mid-stroke the row waits (a second network per pen event slowed the pen); after it, or
    # for the same sketch analysed by another loaded model, it follows
    count = len(events.events)
    explorer.drawing = True
    explorer.analysis_changed.emit(SimpleNamespace(input_image=image, reconstruction=image))
    assert len(events.events) == count
    explorer.drawing = False
    drawn = np.rot90(image).copy()
    explorer.analysis = SimpleNamespace(input_image=drawn, reconstruction=np.ones((28, 28), np.float32))
    explorer.analysis_changed.emit(explorer.analysis)
    latest = [event for event in events.events if event[0] == "reconstruction_changed"][-1]
    with torch.no_grad():
        expected = network(torch.from_numpy(drawn).reshape(1, 1, 28, 28))[0, 0].numpy()
    assert latest[1] == 0 and np.array_equal(latest[2], explorer.analysis.reconstruction) and np.allclose(latest[3], expected, atol=1e-6)


def test_the_apps_run_is_read_to_its_end_before_it_says_how_it_ended_and_opens_the_best(tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tmp_path), latent_dim=3)
    (plan.run_dir / "checkpoints").mkdir(parents=True)
    (plan.run_dir / "plan.json").write_text(json.dumps(plan.to_dict()))
    plan.progress_dir.mkdir()
    best = plan.run_dir / "checkpoints" / "best.ckpt"
    best.write_bytes(b"read by the explorer's own loader")
    opened, compared = [], []
    explorer = SimpleNamespace(analysis=None, session=SimpleNamespace(model=SimpleNamespace(path=Path("before.ckpt"))), open_model=opened.append, open_comparison=compared.append, analysis_changed=Signal(), drawing=False)
    run = TrainingRun(ImmediateExecutor(), explorer)
    events = Recorder(run)
    run.process_started(plan)
    assert run.running_here and run.live and run.plan == plan
    append(plan.progress_dir, {"event": "start", "max_epochs": 1}, *epoch_lines(plan.progress_dir, 0))
    append(plan.progress_dir, {"event": "end", "elapsed": 61.0, "checkpoints": {"best": "../checkpoints/best.ckpt"}, "test_metrics": {"test_mse": 0.0123}})
    run.process_ended(plan, 0, False)  # the end line was not read before: it is read now, then the run speaks
    assert run.state.finished and not run.running_here and not run.live
    assert opened == [best] and run.previous_model == Path("before.ckpt")
    assert events.events[-1] == ("ended", f"Finished after 1 min 01 s: test MSE 0.01230. Best checkpoint: {best}")
    run.compare_with_previous()
    assert compared == [[Path("before.ckpt"), best]] and events.names()[-1] == "comparison_opened"


def test_an_apps_run_refused_before_it_began_shows_the_line_it_gave_with_advice_in_the_dialogs_terms(tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_source="download", latent_dim=3)
    plan.run_dir.mkdir(parents=True)
    (plan.run_dir / "plan.json").write_text(json.dumps(plan.to_dict()))
    refusal = "aegui-train fit: the mnist IDX files are not in the cache, and they cannot be downloaded (ossci-datasets.s3.amazonaws.com: Name or service not known); put them there"
    (plan.run_dir / "output.log").write_text("$ aegui-train fit ...\n" + "x" * 9000 + "\n" + refusal + "\n\n")  # a long log: only its end is read
    run = TrainingRun(ImmediateExecutor())
    events = Recorder(run)
    run.process_started(plan)  # no progress folder: the process refused before it wrote one
    run.process_ended(plan, 2, False)
    said = events.events[-1][1]
    assert said.startswith(f"The run did not start (exit status 2). It said: {refusal}. (output.log in {plan.run_dir} has its whole output.)")
    assert "set Digits to “an MNIST-format folder" in said and status_text(run) == said


def test_a_killed_run_says_so_and_can_be_resumed_from_its_last_checkpoint(tmp_path):
    plan = TrainingPlan(output_dir=str(tmp_path / "run"), data_dir=str(tmp_path), latent_dim=3)
    (plan.run_dir / "checkpoints").mkdir(parents=True)
    (plan.run_dir / "plan.json").write_text(json.dumps(plan.to_dict()))
    plan.progress_dir.mkdir()
    append(plan.progress_dir, {"event": "start", "max_epochs": 9}, *epoch_lines(plan.progress_dir, 0))
    run = TrainingRun(ImmediateExecutor())
    run.process_started(plan)
    assert not run.resumable  # running
    plan.last_checkpoint.write_bytes(b"stands for last.ckpt")
    run.process_ended(plan, -9, True)
    assert run.resumable and status_text(run).startswith("The run was killed before it finished") and "Resume continues" in status_text(run)


def test_a_stop_request_is_written_inside_the_folder_never_through_a_link(tmp_path):
    folder = tmp_path / "progress"
    folder.mkdir()
    append(folder, {"event": "start", "max_epochs": 3})
    run = TrainingRun(ImmediateExecutor())
    run.watch(folder)
    run.request_stop()
    assert (folder / "stop-requested").read_text() == "stop\n" and run.stop_requested
    assert status_text(run) == "Stopping after this step: validating and keeping last.ckpt…"
    (folder / "stop-requested").unlink()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (folder / "stop-requested").symlink_to(victim)  # a hostile folder's trap
    run.watch(folder)
    run.request_stop()
    assert victim.read_text() == "keep me" and not run.stop_requested


def test_read_snapshot_refuses_what_a_checkpoint_would_be_refused_for_in_one_line(tmp_path):
    def refusal(table_or_bytes) -> str:
        path = tmp_path / "epoch-0001.pt"
        if isinstance(table_or_bytes, bytes):
            path.write_bytes(table_or_bytes)
        else:
            torch.save(table_or_bytes, path)
        with pytest.raises(CheckpointError) as refused:
            read_snapshot(path)
        message = str(refused.value)
        assert message.startswith("epoch-0001.pt") and "\n" not in message and len(message) < 300
        return message

    good = {"codes": torch.randn(10, 3), "labels": torch.arange(10)}
    assert "shape (10,)" in refusal({**good, "codes": torch.randn(10)})
    assert "labels have shape (9,)" in refusal({**good, "labels": torch.arange(9)})
    assert "labels are not a dense tensor of integers" in refusal({**good, "labels": torch.zeros(10)})
    assert "NaN or infinite" in refusal({**good, "codes": torch.full((10, 3), float("nan"))})
    assert "no codes and labels tensors" in refusal({"codes": [[1.0] * 3] * 10, "labels": list(range(10))})
    assert "latent_dim" in refusal({**good, "hyper_parameters": {**HPARAMS, "latent_dim": 4}, "state_dict": {}})
    partial = dict(list(build_autoencoder(HPARAMS).state_dict().items())[1:])
    assert "missing 1 weight(s)" in refusal({**good, "hyper_parameters": dict(HPARAMS), "state_dict": partial})
    assert "refers to posix.system" in refusal({**good, "payload": _Payload()})
    assert "legacy pickle" in refusal(b"\x80\x02}q\x00.")
    os.mkfifo(tmp_path / "fifo.pt")
    with pytest.raises(CheckpointError, match="not a regular file"):
        read_snapshot(tmp_path / "fifo.pt")  # refused after a stat: never opened, never blocks


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo a snapshot ran code > /dev/null",))


def test_hostile_run_folders_open_nothing_outside_and_are_reported(tmp_path):
    folders = {item.name: item for item in build_run_folders(tmp_path, million_lines=0.02, random_megabytes=2)}
    opened = OpenedFiles(tmp_path / "outside")
    try:
        for item in folders.values():
            run = TrainingRun(ImmediateExecutor())
            run.watch(item.folder)
            while run.state.lines and run._watcher.more:  # the bounded slices of a long stream
                run.poll()
            state, text = run.state, status_text(run)
            if item.name in ("absolute", "dot_dot"):
                assert state.outside_names == 1 and state.skipped_lines == 0 and sorted(run.maps) == [0] and 1 not in state.snapshots, item.name
                assert "(1 file named outside the watched folder not opened" in text
            elif item.name == "symlink":  # a link inside that leads out is an escape too
                assert state.outside_names == 1 and sorted(run.maps) == [0], item.name
            elif item.name == "checkpoint_outside":
                assert state.finished and state.checkpoints == {} and state.outside_names == 2 and run.best_checkpoint is None
                assert f"(2 files named outside the watched folder not opened, e.g. {item.outside} (from the progress folder): watch a folder that holds them too)" in text
            elif item.name == "stream_link":
                assert state.starts == 0 and text == f"Nothing to show from {item.folder}: progress.jsonl is not read: it leads outside the run folder."
            elif item.name == "fifo_stream":
                assert state.starts == 0 and text.endswith("progress.jsonl is not read: it is not a regular file.")
            elif item.name == "fifo_snapshot":
                assert sorted(run.maps) == [0] and "not a regular file" in run.unreadable[1]
            elif item.name == "memo_bomb_snapshot":
                assert sorted(run.maps) == [0] and "no codes and labels tensors" in run.unreadable[1]
            elif item.name == "absurd_shape_snapshot":
                assert sorted(run.maps) == [0] and "codes have shape (1099511627776, 3)" in run.unreadable[1]
                assert "overruns its data" in run.unreadable[2]
            elif item.name == "millions_of_lines":
                assert state.lines == 20_003 and state.skipped_lines == 0 and len(state.steps) <= 4_000 and state.steps[-1][0] > 19_000
            elif item.name == "random_bytes":
                assert state.skipped_lines > 1000 and sorted(run.maps) == [0] and state.epochs == [(0, 0.1)]
            assert "\n" not in text
        assert opened.names() == set()  # the kernel saw nothing opened outside
    finally:
        opened.close()


def test_a_long_stream_is_read_in_bounded_slices_into_a_bounded_summary(tmp_path, monkeypatch):
    import aegui.core.run_folder as run_folder

    monkeypatch.setattr(run_folder, "MAX_POLL_LINES", 1000)
    monkeypatch.setattr(run_folder, "MAX_STEP_POINTS", 100)
    folder = tmp_path / "progress"
    folder.mkdir()
    append(folder, {"event": "start"}, *({"event": "step", "step": step, "train_loss": 1.0 / step} for step in range(1, 10_001)))
    watcher = run_folder.RunWatcher(folder)
    polls = 0
    while watcher.poll():
        polls += 1
        assert len(watcher.state.steps) <= 100 and watcher.state.lines == min(1000 * polls, 10_001)
    steps = [step for step, _ in watcher.state.steps]
    assert polls == 11 and steps[0] == 1 and steps[-1] > 9_800 and len(set(np.diff(steps))) <= 2  # evenly thinned
    append(folder, {"event": "step", "step": 5_000, "train_loss": 0.5})  # resumed from a checkpoint at step 4,999
    watcher.poll()
    assert watcher.state.steps[-1] == (5_000, 0.5) and all(step < 5_000 for step, _ in watcher.state.steps[:-1])


def test_snapshots_that_cannot_be_read_never_hold_up_the_ones_after_them(tmp_path):
    folder = tmp_path / "progress"
    folder.mkdir()
    lines = [{"event": "start", "max_epochs": 12}]
    for epoch in range(12):
        lines += epoch_lines(folder, epoch)
        if epoch < 10:  # still being copied: truncated
            path = folder / "snapshots" / f"epoch-{epoch:04d}.pt"
            path.write_bytes(path.read_bytes()[:3000])
    append(folder, *lines)
    run = TrainingRun(ImmediateExecutor())
    run.watch(folder)
    run.poll()
    assert sorted(run.maps) == [10, 11] and sorted(run.unreadable) == list(range(10)) and run.selected_epoch == 11
    write_snapshot(folder, 3)  # the copy of one completes
    run.poll()
    assert sorted(run.maps) == [3, 10, 11] and 3 not in run.unreadable


def test_a_folder_given_relative_to_the_working_folder_is_read_like_its_absolute_path(tmp_path, monkeypatch):
    progress = tmp_path / "runs" / "k16" / "progress"
    progress.mkdir(parents=True)
    (tmp_path / "runs" / "k16" / "checkpoints").mkdir()
    (tmp_path / "runs" / "k16" / "checkpoints" / "best.ckpt").write_bytes(b"")
    append(progress, {"event": "start", "max_epochs": 1}, *epoch_lines(progress, 0), {"event": "end", "checkpoints": {"best": "../checkpoints/best.ckpt"}})
    monkeypatch.chdir(tmp_path)
    for folder in ("runs/k16", "runs/k16/progress", "./runs/k16/../k16"):
        run = TrainingRun(ImmediateExecutor())
        run.watch(folder)
        assert run.state.finished and sorted(run.maps) == [0], folder
        assert run.state.checkpoints["best"] == (tmp_path / "runs" / "k16" / "checkpoints" / "best.ckpt").resolve(), folder
        assert run.state.outside_names == 0 and run.state.skipped_lines == 0, folder


def test_a_file_named_outside_is_quoted_bounded_and_cleaned_in_the_status(tmp_path):
    progress = tmp_path / "progress"
    progress.mkdir()
    append(progress, {"event": "start", "max_epochs": 1}, {"event": "snapshot", "epoch": 0, "path": "/\x1b[31m" + "x" * 500_000 + ".pt"})
    run = TrainingRun(ImmediateExecutor())
    run.watch(progress)
    text = status_text(run)
    assert run.state.outside_names == 1 and "1 file named outside the watched folder not opened, e.g. /x" in text
    assert len(text) < 400 and "\x1b" not in text
