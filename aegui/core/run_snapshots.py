"""A training run's snapshots: read through the guarded reader, mapped, and decoded.

The functions here are the jobs ``aegui.core.training_run.TrainingRun`` hands to the executor:
they run off the GUI thread, open only files inside the run folder (checked again just before
reading, since a link may have been put in a file's place) and change nothing they were given.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from aegui.core.run_folder import RunFolder

MAPS_PER_JOB = 8  # snapshots read per job: maps appear as they are made, a long list never blocks
NETWORKS_KEPT = 3


def snapshot_map(codes: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """The codes' 2-D PCA map, turned (and flipped if need be) to match ``previous``, the map
    of the same digits at the epoch before, so clusters move instead of jumping: the
    orthogonal Procrustes solution, which only rotates and reflects."""
    centred = codes - codes.mean(axis=0)
    if centred.shape[1] <= 2:
        points = np.pad(centred, ((0, 0), (0, 2 - centred.shape[1])))
    else:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        points = centred @ vt[:2].T
    if previous is not None and previous.shape == points.shape:
        u, _, vt = np.linalg.svd(points.T @ previous)
        points = points @ (u @ vt)
    return points


def file_signature(path: Path) -> tuple:
    """A file's size and modification time (None if absent): it changed if these did."""
    try:
        status = os.stat(path)
    except OSError:
        return (None, None)
    return (status.st_size, status.st_mtime_ns)


def map_snapshots(boundary: RunFolder, paths: list[tuple[int, Path]], previous: np.ndarray | None, failures: dict[int, tuple]) -> tuple:
    """Each snapshot's aligned map (at most ``MAPS_PER_JOB`` read, and whether more are left);
    those that cannot be read with why and the file's size and time then (read again once the
    file changes: one synced or copied in pieces becomes whole). A snapshot whose file has not
    changed since it failed is not read again. Runs in the executor."""
    from aegui.core.model_files.snapshot import read_snapshot
    from aegui.core.errors import CheckpointError

    maps, labels, failed, tried = {}, None, {}, 0
    for epoch, path in paths:
        signature = file_signature(path)
        if failures.get(epoch) == signature:
            continue
        if tried == MAPS_PER_JOB:  # the rest in the next job: maps appear as they are made
            return maps, labels, failed, True
        tried += 1
        real = boundary.inside(path)  # again: a link may have been put in its place since
        try:
            if real is None:
                raise CheckpointError(f"{path.name} leads outside the run folder; not opened")
            snapshot = read_snapshot(real)
            previous = maps[epoch] = snapshot_map(snapshot.codes, previous)
        except (CheckpointError, ValueError, np.linalg.LinAlgError) as error:
            failed[epoch] = (signature, str(error)[:160] or type(error).__name__)
            continue
        labels = snapshot.labels
    return maps, labels, failed, False


class SnapshotNetworks:
    """The last few snapshot networks, keyed by file and its signature; used by one channel's
    thread only, replaced (never cleared) when another run is watched."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple, object] = OrderedDict()

    def network(self, boundary: RunFolder, path: Path):
        from aegui.core.model_files.snapshot import read_snapshot
        from aegui.core.errors import CheckpointError

        key = (path, file_signature(path))
        if key not in self._kept:
            real = boundary.inside(path)
            if real is None:
                raise CheckpointError(f"{path.name} leads outside the run folder; not opened")
            self._kept[key] = read_snapshot(real).network
            while len(self._kept) > NETWORKS_KEPT:
                self._kept.popitem(last=False)
        self._kept.move_to_end(key)
        return self._kept[key]


def rebuild_sketch(networks: SnapshotNetworks, boundary: RunFolder, path: Path, image: np.ndarray):
    import torch

    from aegui.core.model_format import IMAGE_SIZE

    network = networks.network(boundary, path)
    if network is None:
        return None
    with torch.no_grad():
        return network(torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, IMAGE_SIZE, IMAGE_SIZE))[0, 0].numpy()
