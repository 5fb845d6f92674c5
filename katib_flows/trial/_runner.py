"""The trial runner interface: what runs one claimed trial to its end, wherever its workload runs.

Two runners implement it, as sibling adapters that never import each other: ``katib_flows.local.LocalTrial``
(a process on this machine) and ``katib_flows.kube.KubeTrial`` (a Job, training job or other object in the
cluster). Their callers, the lanes of a local run and ``katib-flows step trial``, pick one, drive it in the
order below and never look inside it.
"""

from __future__ import annotations

import abc
import threading

from katib_flows.store import MetricLog, TrialRecord
from katib_flows.trial._collect import Collection
from katib_flows.trial._context import TrialContext
from katib_flows.trial._early import REASON_EARLY_STOPPED
from katib_flows.trial._outcome import Outcome, record, stopped


class TrialRunner(abc.ABC):
    """Runs one claimed trial: its workload, its metrics (``collection``), early stopping, its outcome.

    Call order:

    1. ``start()`` once, from the thread that will wait. It launches the workload; a trial that cannot
       start (its command is missing, the API server rejects its object) is not an exception: ``wait``
       returns it ``Failed``. Errors the caller must see (bad input, an unreachable cluster) raise.
    2. ``stop(reason)`` any number of times, from any thread or a signal handler, before, during or after
       ``start``; the first reason wins. ``INTERRUPTED`` leaves the trial to run again (Ctrl-C, SIGTERM),
       ``REASON_EARLY_STOPPED`` is early stopping's own (the runner stops itself), any other reason
       (``ExperimentCompleted``, a deadline) ends it ``Killed`` with that reason.
    3. ``wait()`` once, after ``start``: blocks until the workload ended or was stopped, collects the
       last metrics and returns the ``Outcome``, recording nothing.
    4. ``record(context, outcome, ...)`` stores it, then ``release()`` frees what the trial held (the
       Kubernetes runner deletes its object) only once the outcome is safe in the store, so a step
       retried after a store failure still finds the object. ``wait_and_record`` does 3 and 4.
    """

    def __init__(self, context: TrialContext, collection: Collection) -> None:
        self.context = context
        self.collection = collection
        # Reentrant: ``stop`` runs in signal handlers, which may interrupt this very thread inside ``stop``.
        self._lock = threading.RLock()
        self._stop_reason: str | None = None
        self._early_reason: str | None = None
        if context.early is not None:
            collection.on_report = self._check_early

    @property
    def trial(self) -> TrialRecord:
        return self.context.trial

    @abc.abstractmethod
    def start(self) -> None: ...

    def stop(self, reason: str) -> None:
        """Stop the trial; the first reason given wins. Safe from any thread and from a signal handler."""
        with self._lock:
            self._stop_reason = self._stop_reason or reason
            self._halt(self._stop_reason)

    @abc.abstractmethod
    def _halt(self, reason: str) -> None:
        """Make the workload stop (``wait`` then returns); called on every ``stop`` with the first reason,
        under the runner's lock, so a ``start`` that holds it sees the reason or is seen by it."""

    @abc.abstractmethod
    def wait(self) -> Outcome: ...

    def release(self) -> None:  # noqa: B027 - optional: a local process holds nothing once it has ended
        """Free what the trial held once its outcome is recorded; nothing by default."""

    @property
    def stop_reason(self) -> str | None:
        with self._lock:
            return self._stop_reason

    def _stopped(self, reason: str, logs: list[MetricLog], interrupted: str) -> Outcome:
        return stopped(reason, self._early_reason, interrupted, logs)

    def _check_early(self, curve: dict[int, float]) -> None:
        early = self.context.early
        assert early is not None
        reason = early.check(self.trial.name, curve)
        if reason is not None and self._early_reason is None:
            self._early_reason = reason
            self.stop(REASON_EARLY_STOPPED)


def wait_and_record(runner: TrialRunner) -> TrialRecord:
    """Wait for a started trial, record its outcome, release it; the trial as recorded."""
    outcome = runner.wait()
    finished = record(runner.context, outcome, runner.collection.curve)
    runner.release()
    return finished
