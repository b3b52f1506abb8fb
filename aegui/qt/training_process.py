"""A training run as a separate process (``python -m training fit ...``), started with QProcess.

Lightning never enters the app's process: the run writes its progress folder, which the
Training run dock reads like any other run. The process runs at a lower priority (``nice``), its
terminal output goes to ``output.log`` in the run folder, and a stop is asked for through the
progress folder's stop file, so the run ends after its step with a resumable ``last.ckpt``.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from aegui.core.training_plan import OUTPUT_LOG, PLAN_FILE, TrainingPlan, clear_stop_request, request_stop


class TrainingProcess(QObject):
    run_started = Signal(object)  # the TrainingPlan now running
    run_finished = Signal(int, bool)  # exit code, and whether the process crashed or was killed
    start_failed = Signal(str)  # why the process could not be started

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.plan: TrainingPlan | None = None
        self.exit_code: int | None = None
        self.crashed = False
        self._process: QProcess | None = None

    def is_running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def start(self, plan: TrainingPlan, resume: bool = False) -> bool:
        """Start ``plan`` (or resume it from its ``last.ckpt``); False when it could not start."""
        if self.is_running():
            self.start_failed.emit("A training run is already going; stop it first.")
            return False
        try:
            plan.run_dir.mkdir(parents=True, exist_ok=True)
            (plan.run_dir / PLAN_FILE).write_text(json.dumps(plan.to_dict(), indent=1), encoding="utf-8")
            clear_stop_request(plan.progress_dir)
        except OSError as error:
            self.start_failed.emit(f"Cannot write to {plan.run_dir}: {error.strerror or error}")
            return False
        program, arguments = plan.process_command(resume)
        process = QProcess(self)
        process.setWorkingDirectory(str(plan.run_dir))
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.setStandardOutputFile(str(plan.run_dir / OUTPUT_LOG), QProcess.OpenModeFlag.Append)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(environment)
        process.finished.connect(self._on_process_finished)
        self.plan, self.exit_code, self.crashed = plan, None, False
        self._process = process
        process.start(program, arguments)
        if not process.waitForStarted(10_000):  # a failure to start is reported here, once
            self._process = None
            self.start_failed.emit(f"Could not start {program}: {process.errorString()}")
            return False
        self.run_started.emit(plan)
        return True

    def request_stop(self) -> None:
        """Ask the run to stop after its step; it validates and keeps a resumable last.ckpt."""
        if self.is_running() and self.plan is not None:
            request_stop(self.plan.progress_dir)

    def stop_and_wait(self, grace_ms: int = 30_000) -> None:
        """Stop for quitting: ask gracefully, then kill if the run has not ended within the grace
        time (its last.ckpt from the epoch before stays resumable either way)."""
        process = self._process
        if process is None or not self.is_running():
            return
        self.request_stop()
        if not process.waitForFinished(grace_ms):
            process.kill()
            process.waitForFinished(5_000)

    def kill(self) -> None:
        """End the run at once (its last.ckpt from the epoch before stays resumable)."""
        if self.is_running():
            self._process.kill()
            self._process.waitForFinished(5_000)

    def _on_process_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self.exit_code = exit_code
        self.crashed = exit_status == QProcess.ExitStatus.CrashExit
        self.run_finished.emit(exit_code, self.crashed)
