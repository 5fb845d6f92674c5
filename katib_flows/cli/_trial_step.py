"""What ``katib-flows step trial`` does around a runner: pick it, watch the experiment, honour SIGTERM.

Called by ``_step.trial`` once it knows the trial is still to run. Both runners have the same interface
(``start``; ``stop(reason)`` from any thread; ``wait`` -> the recorded trial): ``LocalTrial`` runs the
primary container's command beside the step, ``KubeTrial`` creates the trial's object in the cluster.
Around either, a thread stops the trial when the experiment completes (another lane reached the goal,
say), and SIGTERM (Argo stopping the Workflow) stops it as interrupted: it does not count and runs again.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any, Protocol

import click

from katib_flows.errors import KatibFlowsError

#: Seconds between two reads of the trial's object (the Kubernetes runner); tests make it short.
POLL_ENV = "KATIB_FLOWS_TRIAL_POLL_SECONDS"


class TrialRunner(Protocol):
    def start(self) -> None: ...

    def stop(self, reason: str) -> None: ...

    def wait(self) -> Any: ...


def run_trial(
    runner: str, store: Any, namespace: str, experiment_name: str, record: Any, *, workflow: str, workflow_uid: str
) -> Any:
    """Run the claimed trial ``record`` with ``runner`` (kubernetes | local) and return the recorded trial."""
    from katib_flows.engine import experiment_of
    from katib_flows.local import EarlyStopping

    experiment = experiment_of(store.get_experiment(namespace, experiment_name))
    early = EarlyStopping(experiment, store, namespace, experiment_name) if experiment.spec.early_stopping else None
    trial: TrialRunner
    poll = _poll_seconds()
    if runner == "kubernetes":
        from katib_flows.argo._names import CHECKPOINTS_CLAIM_ENV, IMAGE_ENV
        from katib_flows.kube import KubeApi, KubeTrial, Owner, PodExtras, Timing

        extras = PodExtras(image=os.environ.get(IMAGE_ENV), checkpoint_claim=os.environ.get(CHECKPOINTS_CLAIM_ENV))
        trial = KubeTrial(
            store, namespace, experiment_name, experiment, record, api=KubeApi(), owner=Owner(workflow, workflow_uid),
            early=early, on_line=click.echo, timing=Timing(poll_seconds=poll) if poll else Timing(), extras=extras,
        )  # fmt: skip
    else:
        from katib_flows.local import LocalTrial

        trial = LocalTrial(store, namespace, experiment_name, experiment, record, early=early, on_line=click.echo)
    return _Watched(store, namespace, experiment_name, poll or 1.0).run(trial)


def _poll_seconds() -> float | None:
    text = os.environ.get(POLL_ENV)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        from katib_flows.errors import SpecError

        raise SpecError(f"{POLL_ENV} must be a positive number of seconds, got {text!r}")
    return value


class _Watched:
    """Runs a trial to its end, stopping it when the experiment completes or the step gets SIGTERM."""

    def __init__(self, store: Any, namespace: str, experiment: str, poll_seconds: float) -> None:
        self.store, self.namespace, self.experiment, self.poll_seconds = store, namespace, experiment, poll_seconds

    def run(self, trial: TrialRunner) -> Any:
        from katib_flows.local import INTERRUPTED

        trial.start()
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(trial, done), daemon=True)
        watcher.start()
        previous = _on_sigterm(lambda: trial.stop(INTERRUPTED))
        try:
            return trial.wait()
        finally:
            done.set()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def _watch(self, trial: TrialRunner, done: threading.Event) -> None:
        from katib_flows.engine import REASON_EXPERIMENT_COMPLETED

        while not done.wait(self.poll_seconds):
            try:
                record = self.store.get_experiment(self.namespace, self.experiment)
            except KatibFlowsError:
                continue  # the store blinked; the next poll tries again
            if record.condition.terminal:
                trial.stop(REASON_EXPERIMENT_COMPLETED)
                return


def _on_sigterm(stop: Any) -> Any:
    """Argo stops a step with SIGTERM: stop the trial too, and leave it to run again."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop()

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, handler)
    return previous
