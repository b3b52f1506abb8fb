"""Reading a run folder while it is written, and the map aligned epoch to epoch."""

from __future__ import annotations

import json

import numpy as np
import torch

from aegui.core.model_files.snapshot import read_snapshot
from aegui.core.training_run import RunWatcher, snapshot_map


def test_the_watcher_reads_lines_as_they_are_completed_and_skips_damage(tmp_path):
    log = tmp_path / "progress.jsonl"
    watcher = RunWatcher(tmp_path)
    assert watcher.poll() and watcher.state.no_stream  # no stream yet: said once (the status says so)
    assert not watcher.poll()  # and not again while nothing changes
    with open(log, "w") as handle:
        handle.write(json.dumps({"event": "start", "max_epochs": 3, "config": {"model": {"latent_dim": 2}}}) + "\n")
        handle.write(json.dumps({"event": "step", "step": 10, "train_loss": 0.5, "elapsed": 1.0, "eta": 9.0}) + "\n")
        handle.write("not json at all\n")
        handle.write('{"event": "epoch", "epoch": 0, "val_mse": 0.04')  # still being written
    assert watcher.poll()
    state = watcher.state
    assert state.max_epochs == 3 and state.steps == [(10, 0.5)] and state.epochs == [] and state.eta == 9.0
    with open(log, "a") as handle:
        handle.write(', "elapsed": 2.0, "eta": 4.0}\n')
        handle.write(json.dumps({"event": "snapshot", "epoch": 0, "path": "snapshots/epoch-0000.pt"}) + "\n")
        handle.write(json.dumps({"event": "error", "message": "train loss became nan"}) + "\n")
    assert watcher.poll()
    assert state.epochs == [(0, 0.04)] and state.epoch == 0 and state.snapshots[0] == tmp_path / "snapshots" / "epoch-0000.pt"
    assert state.error == "train loss became nan" and not watcher.poll()
    assert state.skipped_lines == 1  # the line that was not JSON, counted


def test_a_resumed_run_replaces_the_steps_it_repeats_and_clears_how_it_ended(tmp_path):
    lines = [
        {"event": "start", "max_epochs": 4},
        *({"event": "step", "step": step, "train_loss": 1.0} for step in (10, 20, 30, 40)),
        {"event": "epoch", "epoch": 0, "val_mse": 0.05},
        {"event": "epoch", "epoch": 1, "val_mse": 0.04},
        {"event": "stopping", "epoch": 1, "step": 40},
        {"event": "end", "checkpoints": {"last": "checkpoints/last.ckpt"}, "stopped": True},
    ]
    (tmp_path / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    watcher = RunWatcher(tmp_path)
    watcher.poll()
    state = watcher.state
    assert state.finished and state.stopped and state.stopping and state.starts == 1
    resumed = [
        {"event": "start", "max_epochs": 4},
        {"event": "step", "step": 30, "train_loss": 0.5},  # the last checkpoint was at step 25
        {"event": "epoch", "epoch": 1, "val_mse": 0.03},
    ]
    with open(tmp_path / "progress.jsonl", "a") as handle:
        handle.write("".join(json.dumps(line) + "\n" for line in resumed))
    watcher.poll()
    assert not state.finished and not state.stopped and not state.stopping and state.starts == 2
    assert state.steps == [(10, 1.0), (20, 1.0), (30, 0.5)] and state.epochs == [(0, 0.05), (1, 0.03)]


def test_a_resumed_runs_time_counts_from_its_first_start(tmp_path):
    """The resumed process counts its seconds from zero; the run's "so far" and "Finished
    after" did too ("Finished after 20 s" for a run of 45 s)."""
    first = [{"event": "start", "max_epochs": 4}, {"event": "epoch", "epoch": 0, "val_mse": 0.05, "elapsed": 10.0, "eta": 30.0}, {"event": "end", "elapsed": 12.0, "stopped": True}]
    resumed = [{"event": "start", "max_epochs": 4}, {"event": "step", "step": 30, "train_loss": 0.5, "elapsed": 3.0, "eta": 20.0}]
    (tmp_path / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in first + resumed))
    watcher = RunWatcher(tmp_path)
    watcher.poll()
    assert watcher.state.elapsed == 15.0 and watcher.state.eta == 20.0
    with open(tmp_path / "progress.jsonl", "a") as handle:
        handle.write(json.dumps({"event": "end", "elapsed": 33.0}) + "\n")
    watcher.poll()
    assert watcher.state.elapsed == 45.0 and watcher.state.finished
    fresh = RunWatcher(tmp_path)  # read afresh, the same
    fresh.poll()
    assert fresh.state.elapsed == 45.0


def test_malformed_lines_are_skipped_and_counted_never_a_crash(tmp_path):
    damaged = [
        b"[1, 2, 3]",  # JSON but not a record
        b'{"event": "step", "step": "ten", "train_loss": 0.1}',  # wrong types
        b'{"event": "epoch", "epoch": true}',
        b'{"event": "snapshot", "epoch": 3, "path": 7}',
        b'{"event": "who knows"}',
        b"\xff\xfe binary \x00",
        b"[" * 100_000,  # nested beyond the parser
        b'{"event": "step", "step": 1e400, "train_loss": 0.1}',
    ]
    (tmp_path / "progress.jsonl").write_bytes(b"\n".join(damaged) + b"\n" + json.dumps({"event": "epoch", "epoch": 0, "val_mse": 0.1}).encode() + b"\n")
    watcher = RunWatcher(tmp_path)
    assert watcher.poll()
    assert watcher.state.epochs == [(0, 0.1)] and watcher.state.steps == [] and watcher.state.snapshots == {}
    assert watcher.state.skipped_lines == len(damaged)
    with open(tmp_path / "progress.jsonl", "ab") as handle:  # a line that never ends is not waited for forever
        handle.write(b"x" * (2 << 20))
    assert watcher.poll() and watcher.state.skipped_lines == len(damaged) + 1


def test_the_map_of_an_epoch_is_turned_and_flipped_to_match_the_one_before():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])
    angle = 2.0
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1.0, -1.0])  # turned and mirrored
    previous = snapshot_map(codes) @ rotation  # how the same digits lay the epoch before
    unaligned = snapshot_map(codes)
    aligned = snapshot_map(codes, previous=previous)
    assert np.abs(aligned - previous).max() < 1e-9 and np.abs(unaligned - previous).max() > 1.0


def test_snapshot_codes_load_weights_only(tmp_path):
    torch.save({"codes": torch.ones(4, 3), "labels": torch.arange(4), "state_dict": {}}, tmp_path / "s.pt")
    snapshot = read_snapshot(tmp_path / "s.pt")
    assert snapshot.codes.shape == (4, 3) and list(snapshot.labels) == [0, 1, 2, 3] and snapshot.network is None


def test_the_time_shown_is_the_last_lines_and_a_line_is_one_json_object_or_skipped(tmp_path):
    log = tmp_path / "progress.jsonl"
    watcher = RunWatcher(tmp_path)
    steps = [json.dumps({"event": "step", "step": step, "train_loss": 1.0, "elapsed": float(step), "eta": 10.0 - step}) for step in range(1, 6)]
    log.write_text("\n".join([*steps, json.dumps({"event": "stopping"})]) + "\n")
    watcher.poll()
    assert (watcher.state.elapsed, watcher.state.eta) == (5.0, 5.0)  # the last step's: the line after it has neither
    with open(log, "a") as handle:
        handle.write(json.dumps({"event": "step", "step": 6, "train_loss": 1.0, "elapsed": 6.0, "eta": 4.0}) + "\n")
    watcher.poll()
    assert (watcher.state.elapsed, watcher.state.eta) == (6.0, 4.0)  # a slice that ends on a step
    with open(log, "a") as handle:
        handle.write(json.dumps({"event": "end", "elapsed": 7.0, "checkpoints": {}}) + "\n")
        handle.write(json.dumps({"event": "step", "step": 7, "train_loss": 1.0}) + "\n")
    watcher.poll()
    assert (watcher.state.elapsed, watcher.state.eta) == (7.0, None)  # a step without a remaining time clears it
    skipped = watcher.state.skipped_lines
    with open(log, "ab") as handle:
        for damaged in (b'{"event": "step", "step": 8, "train_loss": 1.0} trailing', b'{"event": "step", "step": 9, "train_loss": 1.0}{}', b'\xff{"event": "stopping"}', b'[{"event": "stopping"}]', "{\"event\": \"step\", \"step\": 10, \"train_loss\": 1.0}".encode("utf-16")):
            handle.write(damaged + b"\n")
        handle.write(b'  {"event": "step", "step": 11, "train_loss": 0.5}  \n')  # whitespace around an object is fine
    watcher.poll()
    assert watcher.state.skipped_lines == skipped + 5 and watcher.state.steps[-1] == (11, 0.5)
