"""What ``katib-flows step trial`` does around a runner: pick it, watch the experiment, honour SIGTERM.

Called by ``_step.trial`` once it knows the trial is still to run. The CLI is the one place that knows
both trial runners (``katib_flows.trial.TrialRunner``): ``LocalTrial`` runs the primary container's
command beside the step, ``KubeTrial`` creates the trial's object in the cluster. Around either, the
trial package stops the trial when the experiment completes (another lane reached the goal, say), and
SIGTERM (Argo stopping the Workflow) stops it as interrupted: it does not count and runs again.
"""

from __future__ import annotations

import os
from typing import Any

import click

#: Seconds between two reads of the trial's object (the Kubernetes runner); tests make it short.
POLL_ENV = "KATIB_FLOWS_TRIAL_POLL_SECONDS"


def run_trial(
    runner: str, store: Any, namespace: str, experiment_name: str, record: Any, *, workflow: str, workflow_uid: str
) -> Any:
    """Run the claimed trial ``record`` with ``runner`` (kubernetes | local) and return the recorded trial."""
    from katib_flows.engine import experiment_of
    from katib_flows.trial import (
        INTERRUPTED,
        EarlyStopping,
        TrialContext,
        TrialRunner,
        on_sigterm,
        stop_when_experiment_ends,
        wait_and_record,
    )

    experiment = experiment_of(store.get_experiment(namespace, experiment_name))
    early = EarlyStopping(experiment, store, namespace, experiment_name) if experiment.spec.early_stopping else None
    context = TrialContext(store, namespace, experiment_name, experiment, record, early=early, on_line=click.echo)
    trial: TrialRunner
    poll = _poll_seconds()
    if runner == "kubernetes":
        from katib_flows.argo._names import CHECKPOINTS_CLAIM_ENV, IMAGE_ENV
        from katib_flows.kube import KubeTrial, Owner, PodExtras, Timing

        extras = PodExtras(image=os.environ.get(IMAGE_ENV), checkpoint_claim=os.environ.get(CHECKPOINTS_CLAIM_ENV))
        trial = KubeTrial(context, owner=Owner(workflow, workflow_uid),
                          timing=Timing(poll_seconds=poll) if poll else Timing(), extras=extras)  # fmt: skip
    else:
        from katib_flows.local import LocalTrial

        trial = LocalTrial(context)
    trial.start()
    with stop_when_experiment_ends(trial, poll or 1.0), on_sigterm(lambda: trial.stop(INTERRUPTED)):
        return wait_and_record(trial)


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
