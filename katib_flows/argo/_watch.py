"""Following an experiment that runs on a cluster: ``katib-flows watch``, ``submit --wait`` and the DSL.

The store is the truth: ``follow`` reads the experiment and its trials every ``interval`` seconds and
turns what changed into the calls a local run makes on its reporter (trial started, trial finished,
tick, finished), so the same displays (``katib_flows.local``'s line and live reporters, the DSL's
progress bar) show a cluster run. It returns the experiment's record once its condition is terminal.

A store alone cannot tell a slow start from a dead Workflow, so when an ``ArgoServer`` is given the
Workflows labelled with the experiment's name are read too, before the store on every round: when the
newest generation has ended (Succeeded, Failed or Error) and the store, read after it, still has the
experiment unfinished or unregistered, nothing will finish it (the exit step records the final status
before its Workflow ends), and ``WorkflowEndedError`` says so with Argo's message instead of waiting forever.
The trials that Workflow left Running (``argo terminate`` and deletions skip the exit step) are interrupted
first, so they do not count and the next submission runs them again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from katib_flows.argo import _names as n
from katib_flows.errors import KatibFlowsError, NotFoundError, TemporaryClusterError

if TYPE_CHECKING:
    from katib_flows.argo._server import ArgoServer
    from katib_flows.store import ExperimentRecord, Store, TrialRecord, TrialStatus

ENDED_PHASES = ("Succeeded", "Failed", "Error")


class Progress(Protocol):
    """What ``follow`` calls: the ``Reporter`` interface of ``katib_flows.local`` (which this layer may not import)."""

    def started(self, experiment: ExperimentRecord, lanes: int) -> None: ...

    def trial_started(self, trial: TrialRecord, lane: int) -> None: ...

    def trial_finished(self, trial: TrialRecord) -> None: ...

    def tick(self) -> None: ...

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None: ...


class WorkflowEndedError(KatibFlowsError):
    """The experiment's Workflow ended while the experiment did not: nothing will finish it."""

    def __init__(self, message: str, workflow: WorkflowState) -> None:
        super().__init__(message)
        self.workflow = workflow


@dataclass(frozen=True)
class WorkflowState:
    """The newest generation of an experiment's Workflows, as Argo Server reports it."""

    name: str
    generation: int
    phase: str
    message: str

    @property
    def ended(self) -> bool:
        return self.phase in ENDED_PHASES

    def describe(self) -> str:
        phase = self.phase or "Pending"
        text = f"Workflow {self.name} (generation {self.generation}): {phase}"
        return f"{text}: {self.message}" if self.message else text


def workflow_state(server: ArgoServer, namespace: str, experiment: str) -> WorkflowState | None:
    """The newest Workflow labelled with ``experiment`` (highest generation, then newest); None if none is."""
    items = server.list_workflows(namespace, {n.L_EXPERIMENT: experiment})
    if not items:
        return None

    def order(item: dict[str, Any]) -> tuple[int, str, bool]:
        """Highest generation, then newest; within the same second, one still running (waiting is the safe side)."""
        metadata = item.get("metadata") or {}
        running = (item.get("status") or {}).get("phase") not in ENDED_PHASES
        return _generation(metadata.get("labels") or {}), str(metadata.get("creationTimestamp") or ""), running

    newest = max(items, key=order)
    status = newest.get("status") or {}
    return WorkflowState(
        name=str((newest.get("metadata") or {}).get("name", "")),
        generation=order(newest)[0],
        phase=str(status.get("phase") or ""),
        message=str(status.get("message") or ""),
    )


def _generation(labels: dict[str, str]) -> int:
    try:
        return int(labels.get(n.L_GENERATION, "0"))
    except ValueError:
        return 0


class _Follower:
    """One ``follow`` call's memory: what the reporter has been told so far."""

    def __init__(self, store: Store, namespace: str, name: str, progress: Progress, note: Callable[[str], None]):
        self.store, self.namespace, self.name, self.progress, self.note = store, namespace, name, progress, note
        self.told: dict[str, TrialStatus] = {}
        self.started = False
        self.workflow_said = ""
        self.argo_down = False

    def workflow(self, server: ArgoServer | None) -> WorkflowState | None:
        if server is None:
            return None
        try:
            state = workflow_state(server, self.namespace, self.name)
        except TemporaryClusterError as exc:
            if not self.argo_down:
                self.note(f"cannot read the Workflow ({exc}); following the store alone until Argo Server answers")
            self.argo_down = True
            return None
        self.argo_down = False
        said = state.describe() if state is not None else ""
        if said and said != self.workflow_said:
            self.note(said)
            self.workflow_said = said
        return state

    def experiment(self, workflow: WorkflowState | None, watching_argo: bool) -> ExperimentRecord | None:
        try:
            return self.store.get_experiment(self.namespace, self.name)
        except NotFoundError:
            where = f"{self.namespace}/{self.name} in {self.store!r}"
            if not watching_argo:
                raise NotFoundError(
                    f"no experiment {where}. Is --db the store the cluster writes to (the URL in the Workflow's "
                    "Secret)? If its Workflow was just submitted, give --argo-server to wait for it to start"
                ) from None
            if workflow is None and not self.argo_down:
                raise NotFoundError(
                    f"no experiment {where}, and no Workflow labelled {n.L_EXPERIMENT}={self.name} in namespace "
                    f"{self.namespace} on Argo Server"
                ) from None
            if workflow is not None and workflow.ended:
                raise WorkflowEndedError(
                    f"{workflow.describe()}, and experiment {where} was never registered: the Workflow failed "
                    "before its init step ran, or --db is not the store the cluster writes to",
                    workflow,
                ) from None
            return None

    def report(self, record: ExperimentRecord) -> None:
        if not self.started:
            self.progress.started(record, int(record.spec.get("spec", {}).get("parallelTrialCount") or 1))
            self.started = True
        for trial in sorted(self.store.list_trials(self.namespace, self.name), key=lambda t: t.seq):
            before = self.told.get(trial.name)
            if before is None:
                self.progress.trial_started(trial, trial.lane or 0)
            if trial.status.terminal and (before is None or not before.terminal):
                self.progress.trial_finished(trial)
            self.told[trial.name] = trial.status
        self.progress.tick()


def _interrupt_left(store: Store, namespace: str, name: str, workflow: WorkflowState) -> str:
    """Interrupt the trials an ended Workflow left Running (``argo terminate`` or a deletion skips its exit
    step, which would have): they run again in the next submission. Says how many, for the message."""
    from katib_flows.engine import interrupt_trial

    left = [t for t in store.active_trials(namespace, name) if n.workflow_of_runner(t.runner) == workflow.name]
    for trial in left:
        interrupt_trial(store, namespace, trial.name, f"Workflow {workflow.name} ended without its exit handler")
    return f" ({len(left)} trial(s) it left running are now interrupted)" if left else ""


def follow(
    store: Store,
    namespace: str,
    name: str,
    progress: Progress,
    *,
    server: ArgoServer | None = None,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    note: Callable[[str], None] = lambda text: None,
) -> ExperimentRecord:
    """Report ``namespace/name`` from the store until its condition is terminal; returns the final record.

    ``note`` receives the Workflow's phase when it changes. Raises ``NotFoundError`` when there is no such
    experiment (and, with ``server``, no Workflow that will register it) and ``WorkflowEndedError`` when
    the Workflow ended first. Whatever ends the watching (Ctrl-C included, whose ``KeyboardInterrupt``
    goes on to the caller), the reporter is closed with the state seen last; the experiment runs on.
    """
    follower = _Follower(store, namespace, name, progress, note)
    record: ExperimentRecord | None = None
    try:
        while True:
            workflow = follower.workflow(server)  # Argo first: a Workflow seen ended has written its last word
            record = follower.experiment(workflow, server is not None)
            if record is not None:
                follower.report(record)
                if record.condition.terminal:
                    return record
                if workflow is not None and workflow.ended:
                    left = _interrupt_left(store, namespace, name, workflow)
                    raise WorkflowEndedError(
                        f"{workflow.describe()}, but experiment {namespace}/{name} is still "
                        f"{record.condition.value} and no later generation follows{left}; submit it again to "
                        "continue from the store, or see `argo logs` for why it ended",
                        workflow,
                    )
            sleep(interval)
    finally:
        if record is not None and follower.started:
            progress.finished(record, interrupted=False)
