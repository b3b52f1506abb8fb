"""Every persisted setting in one table: its key, its type and its default.

Values come back from ``QSettings`` as whatever the file holds (an INI file stores strings, a
damaged one anything); ``read`` turns a missing, damaged or unknown value into the default,
so a bad settings file can never stop the app from starting.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from aegui.core.projection import PROJECTION_METHODS
from aegui.core.training_plan import QUICK_PRESET, TrainingPlan, apply_preset

MAX_RECENT_FILES = 8


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type  # str, bytes, list (of str)
    default: Any
    choices: tuple[str, ...] | None = None


PROJECTION = Setting("map/projection", str, "pca", PROJECTION_METHODS)
DECODED_MAP = Setting("map/decoded_digits", str, "false", ("true", "false"))  # the map's decoded digits shown
RECENT_FILES = Setting("files/recent", list, [])
LAST_MODEL_DIR = Setting("files/last_dir", str, "")  # empty until a model is opened from a file
EXPORT_DIR = Setting("files/export_dir", str, str(Path.home()))
TRAINING_PLAN = Setting("training/plan", str, "")  # the Train dialog's last choices, as JSON
RUNS_DIR = Setting("training/runs_dir", str, str(Path.home() / "aegui-runs"))
WINDOW_GEOMETRY = Setting("window/geometry", bytes, None)
WINDOW_STATE = Setting("window/state", bytes, None)


class Settings:
    """Typed access to a ``QSettings`` store through the table above."""

    def __init__(self, store: QSettings):
        self.store = store

    def read(self, setting: Setting) -> Any:
        value = self.store.value(setting.key, None)
        if value is None:
            return setting.default
        if setting.kind is bytes:
            return value if isinstance(value, (QByteArray, bytes)) and len(value) else setting.default
        if setting.kind is list:
            items = [value] if isinstance(value, str) else value
            return [item for item in items if isinstance(item, str)] if isinstance(items, list) else setting.default
        if not isinstance(value, str) or (setting.choices is not None and value not in setting.choices):
            return setting.default
        return value

    def write(self, setting: Setting, value: Any) -> None:
        self.store.setValue(setting.key, value)

    def recent_files(self) -> list[str]:
        """Recent model files that still exist, newest first."""
        return [item for item in self.read(RECENT_FILES) if Path(item).is_file()][:MAX_RECENT_FILES]

    def remember_recent(self, path: Path) -> None:
        path_text = str(Path(path).resolve())
        recent = [item for item in self.recent_files() if item != path_text]
        self.write(RECENT_FILES, [path_text, *recent][:MAX_RECENT_FILES])

    def remember_run(self, plan: TrainingPlan) -> None:
        """The Train dialog's choices and where the run went, on disk at once: the next dialog
        offers them (a run folder beside this one); a crash or a kill soon after the run
        started lost them, QSettings writing only when it gets round to it."""
        self.write(TRAINING_PLAN, json.dumps(plan.to_dict()))
        self.write(RUNS_DIR, str(plan.run_dir.parent))
        self.store.sync()

    def runs_folder(self, run_on_show: Path | None) -> str | None:
        """Where File ▸ Watch opens: beside the run on show, else where the app's runs go once
        a run has gone there (None: nowhere yet)."""
        if run_on_show is not None:
            return str(Path(run_on_show).parent)
        runs = Path(self.read(RUNS_DIR))
        return str(runs) if runs.is_dir() else None

    def plan_for_new_run(self) -> TrainingPlan:
        """The Train dialog's last choices (a quick look at MNIST the first time), in a new
        run folder beside the last one."""
        try:
            values = json.loads(self.read(TRAINING_PLAN) or "null")
        except (ValueError, RecursionError):
            values = None
        if isinstance(values, dict):
            remembered = TrainingPlan.from_dict(values)
        else:  # a first run: a quick look at MNIST, downloaded once
            remembered = apply_preset(TrainingPlan(output_dir="", data_source="download"), QUICK_PRESET)
        return replace(remembered, output_dir=str(Path(self.read(RUNS_DIR)) / time.strftime("run-%Y%m%d-%H%M%S")))
