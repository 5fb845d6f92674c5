"""The local trial runner: one claimed trial run as a process on this machine (a ``TrialRunner``).

Used by the lanes of a local run (``LocalRun``) and by ``katib-flows step trial`` when trials run beside
the step. ``start`` renders the command (``_command``; a PBT trial first gets its checkpoint directory
under ``checkpoint_root``, default ``paths.checkpoints_dir()``) and launches it; a trial that cannot start
is ``Failed``. ``stop`` sends SIGTERM, then SIGKILL after the grace period, to the process group. ``wait``
streams the output to the trial's ``Collection`` and display until the process ends, and returns the
outcome: Succeeded (``record`` makes it MetricsUnavailable without the objective), Failed with the last
output lines, Failed ``DeadlineExceeded`` past ``activeDeadlineSeconds``, or as stopped.
"""

from __future__ import annotations

from pathlib import Path

from katib_flows.errors import KatibFlowsError
from katib_flows.local._command import trial_command
from katib_flows.local._process import DEADLINE_EXCEEDED, DEFAULT_GRACE_SECONDS, TrialProcess
from katib_flows.store import TrialStatus
from katib_flows.trial import Collection, Outcome, TrialContext, TrialRunner, prepare_checkpoint


class LocalTrial(TrialRunner):
    def __init__(
        self,
        context: TrialContext,
        *,
        log_path: Path | None = None,
        grace: float = DEFAULT_GRACE_SECONDS,
        checkpoint_root: Path | None = None,
    ) -> None:
        """``log_path``: where the trial's output is kept, if anywhere."""
        collection = Collection(context.experiment, context.store, context.namespace, context.trial.name, log_path)
        super().__init__(context, collection)
        self.grace, self.checkpoint_root = grace, checkpoint_root
        self.process: TrialProcess | None = None
        self._failed_to_start: str | None = None

    def start(self) -> None:
        experiment, namespace, trial = self.context.experiment, self.context.namespace, self.trial
        try:
            checkpoint = prepare_checkpoint(experiment, self.checkpoint_root, namespace, trial)
            command = trial_command(experiment, trial.assignments, trial_name=trial.name, namespace=namespace,
                                    checkpoint_dir=checkpoint)  # fmt: skip
            process = TrialProcess(command, extra_env=self.collection.env())
        except KatibFlowsError as exc:
            self._failed_to_start = str(exc)
            return
        with self._lock:
            self.process = process
            pending = self._stop_reason
        if pending is not None:  # stopped before the process existed
            process.stop(pending, self.grace)

    def _halt(self, reason: str) -> None:
        if self.process is not None:  # else ``start`` sees the reason once the process exists
            self.process.stop(reason, self.grace)

    def wait(self) -> Outcome:
        """Stream the output until the process ends; its outcome."""
        process = self.process
        if process is None:
            self.collection.close()
            return Outcome.failed(self._failed_to_start or "not started")
        for line in process.lines():
            self.collection.line(line)
            self.context.say(line)
        code = process.wait()
        rows = self.collection.finish()
        if process.stop_reason == DEADLINE_EXCEEDED:
            return Outcome.failed("the trial exceeded activeDeadlineSeconds", rows, reason=DEADLINE_EXCEEDED)
        if process.stop_reason is not None:
            return self._stopped(process.stop_reason, rows, "the run was interrupted; it runs again")
        if code != 0:
            tail = "\n".join(process.tail)
            return Outcome.failed(f"exit code {code}; last output:\n{tail}", rows)
        return Outcome(TrialStatus.SUCCEEDED, logs=rows)
