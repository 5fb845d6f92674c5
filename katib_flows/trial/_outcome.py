"""How a trial ended, and the one function that records it.

A runner's ``wait`` returns an ``Outcome``; ``record`` is the only place an outcome reaches the store, so
every runner ends a trial the same way: the last metric rows and the status in one transaction through the
engine (``finish_trial``, which turns a success without the objective into ``MetricsUnavailable``), or, for
an interrupted trial, ``interrupt_trial`` (it does not count and runs again; its rows are not kept as the
outcome's). ``stopped`` maps the reason a trial was stopped to its outcome for every runner alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from katib_flows.engine import REASON_INTERRUPTED, finish_trial, interrupt_trial
from katib_flows.store import MetricLog, TrialRecord, TrialStatus
from katib_flows.trial._context import TrialContext
from katib_flows.trial._early import REASON_EARLY_STOPPED

#: The stop reason that marks a trial interrupted (Ctrl-C, SIGTERM of a step) rather than killed.
INTERRUPTED = "interrupted"
#: The reason of a trial whose workload failed.
REASON_FAILED = "TrialFailed"


@dataclass(frozen=True)
class Outcome:
    """The end of one trial as its runner saw it: ``status`` with Katib's ``reason`` and a ``message``, the
    metric rows not stored yet (``logs``), or ``interrupted``: the runner went away, not the trial's code."""

    status: TrialStatus
    reason: str = ""
    message: str = ""
    interrupted: bool = False
    logs: Sequence[MetricLog] = ()

    @classmethod
    def interrupt(cls, message: str) -> Outcome:
        """A trial that does not count and runs again; ``message`` says why."""
        return cls(TrialStatus.KILLED, REASON_INTERRUPTED, message, interrupted=True)

    @classmethod
    def failed(cls, message: str, logs: Sequence[MetricLog] = (), reason: str = REASON_FAILED) -> Outcome:
        return cls(TrialStatus.FAILED, reason, message, logs=logs)


def stopped(reason: str, early_reason: str | None, interrupted: str, logs: Sequence[MetricLog]) -> Outcome:
    """The outcome of a trial stopped for ``reason``: EarlyStopped (``early_reason`` says why), interrupted
    (``interrupted`` says why; it runs again) or Killed because the experiment ended."""
    if reason == REASON_EARLY_STOPPED and early_reason:
        return Outcome(TrialStatus.EARLY_STOPPED, REASON_EARLY_STOPPED, early_reason, logs=logs)
    if reason == INTERRUPTED:
        return Outcome.interrupt(interrupted)
    return Outcome(TrialStatus.KILLED, reason, "stopped because the experiment ended", logs=logs)


def record(context: TrialContext, outcome: Outcome, curve: Mapping[int, float] | None = None) -> TrialRecord:
    """Store ``outcome`` for ``context.trial`` and return the trial as recorded.

    A trial that ends Succeeded hands its learning curve (``curve``) to early stopping, which compares the
    trials still running against it.
    """
    store, namespace, name = context.store, context.namespace, context.trial.name
    if outcome.interrupted:
        interrupt_trial(store, namespace, name, outcome.message)
        return store.get_trial(namespace, name)
    finished = finish_trial(store, namespace, name, outcome.status, reason=outcome.reason, message=outcome.message,
                            experiment=context.experiment_name, logs=outcome.logs)  # fmt: skip
    if context.early is not None and curve is not None and finished.status is TrialStatus.SUCCEEDED:
        context.early.succeeded(name, dict(curve))
    return finished
