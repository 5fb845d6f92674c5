"""One claimed trial run as a local process to its end: output, metrics, early stopping, outcome.

Used by the lanes of a local run (``LocalRun``) and by the Argo ``step trial`` verb when trials run beside
the step. ``start`` launches the process (a trial that cannot start is finished ``Failed`` at once),
``stop`` may be called from any thread with the reason the trial is being stopped, and ``wait`` streams the
output to ``on_line`` until the process ends, then records the outcome in one transaction with the last
metric rows: Succeeded (or MetricsUnavailable), Failed with the last output lines, EarlyStopped, Killed,
or interrupted (it will run again). A PBT trial first gets its checkpoint directory (``_checkpoint``) under
``checkpoint_root`` (default ``paths.checkpoints_dir()``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from katib_flows.engine import finish_trial, interrupt_trial
from katib_flows.errors import KatibFlowsError
from katib_flows.local._checkpoint import prepare_checkpoint
from katib_flows.local._collect import Collection
from katib_flows.local._command import trial_command
from katib_flows.local._early import REASON_EARLY_STOPPED, EarlyStopping
from katib_flows.local._process import DEADLINE_EXCEEDED, DEFAULT_GRACE_SECONDS, TrialProcess
from katib_flows.spec import Experiment
from katib_flows.store import MetricLog, Store, TrialRecord, TrialStatus

#: The stop reason that marks a trial interrupted (Ctrl-C, SIGTERM of a step) rather than killed.
INTERRUPTED = "interrupted"


class TrialRecording:
    """What the local and the Kubernetes trial runners share: record an outcome through the engine, and stop
    a trial the early-stopping rule gives up on (the first reason wins)."""

    store: Store
    namespace: str
    experiment_name: str
    trial: TrialRecord
    early: EarlyStopping | None
    _early_reason: str | None

    def stop(self, reason: str) -> None:
        raise NotImplementedError

    def _check_early(self, curve: dict[int, float]) -> None:
        assert self.early is not None
        reason = self.early.check(self.trial.name, curve)
        if reason is not None and self._early_reason is None:
            self._early_reason = reason
            self.stop(REASON_EARLY_STOPPED)

    def _stopped(self, reason: str, rows: list[MetricLog], interrupted: str) -> TrialRecord:
        """The outcome of a trial stopped for ``reason``: EarlyStopped, interrupted (it runs again, ``interrupted``
        says why) or Killed because the experiment ended."""
        if reason == REASON_EARLY_STOPPED and self._early_reason:
            return self._finish(TrialStatus.EARLY_STOPPED, REASON_EARLY_STOPPED, self._early_reason, rows)
        if reason == INTERRUPTED:
            interrupt_trial(self.store, self.namespace, self.trial.name, interrupted)
            return self.store.get_trial(self.namespace, self.trial.name)
        return self._finish(TrialStatus.KILLED, reason, "stopped because the experiment ended", rows)

    def _finish(
        self, status: TrialStatus, reason: str = "", message: str = "", logs: list[MetricLog] | None = None
    ) -> TrialRecord:
        return finish_trial(self.store, self.namespace, self.trial.name, status, reason=reason, message=message,
                            experiment=self.experiment_name, logs=logs or ())  # fmt: skip


class LocalTrial(TrialRecording):
    def __init__(
        self,
        store: Store,
        namespace: str,
        experiment_name: str,
        experiment: Experiment,
        trial: TrialRecord,
        *,
        log_path: Path | None = None,
        early: EarlyStopping | None = None,
        grace: float = DEFAULT_GRACE_SECONDS,
        on_line: Callable[[str], None] | None = None,
        checkpoint_root: Path | None = None,
    ) -> None:
        self.store, self.namespace, self.experiment_name = store, namespace, experiment_name
        self.experiment, self.trial, self.early, self.grace = experiment, trial, early, grace
        self.on_line = on_line
        self.checkpoint_root = checkpoint_root
        self.collection = Collection(experiment, store, namespace, trial.name, log_path)
        self.process: TrialProcess | None = None
        self._failed_to_start: str | None = None
        self._early_reason: str | None = None
        self._pending_stop: str | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        try:
            checkpoint = prepare_checkpoint(self.experiment, self.checkpoint_root, self.namespace, self.trial)
            command = trial_command(self.experiment, self.trial.assignments, trial_name=self.trial.name,
                                    namespace=self.namespace, checkpoint_dir=checkpoint)  # fmt: skip
            process = TrialProcess(command, extra_env=self.collection.env())
        except KatibFlowsError as exc:
            self._failed_to_start = str(exc)
            return
        if self.early is not None:
            self.collection.on_report = self._check_early
        with self._lock:
            self.process = process
            pending = self._pending_stop
        if pending is not None:
            process.stop(pending, self.grace)

    def stop(self, reason: str) -> None:
        """Stop the trial (SIGTERM, then SIGKILL after the grace period); the first reason given wins."""
        with self._lock:
            process = self.process
            if process is None:
                self._pending_stop = self._pending_stop or reason
                return
        process.stop(reason, self.grace)

    def wait(self) -> TrialRecord:
        """Stream the output until the process ends; record and return the trial's outcome."""
        process = self.process
        if process is None:
            self.collection.close()
            return self._finish(TrialStatus.FAILED, "TrialFailed", self._failed_to_start or "not started")
        for line in process.lines():
            self.collection.line(line)
            if self.on_line is not None:
                self.on_line(line)
        code = process.wait()
        rows = self.collection.finish()
        if process.stop_reason == DEADLINE_EXCEEDED:
            message = "the trial exceeded activeDeadlineSeconds"
            return self._finish(TrialStatus.FAILED, DEADLINE_EXCEEDED, message, rows)
        if process.stop_reason is not None:
            return self._stopped(process.stop_reason, rows, "the run was interrupted; it runs again")
        if code != 0:
            tail = "\n".join(process.tail)
            return self._finish(TrialStatus.FAILED, "TrialFailed", f"exit code {code}; last output:\n{tail}", rows)
        finished = self._finish(TrialStatus.SUCCEEDED, logs=rows)
        if self.early is not None and finished.status is TrialStatus.SUCCEEDED:
            self.early.succeeded(self.trial.name, self.collection.curve)
        return finished
