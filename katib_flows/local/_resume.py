"""Taking over an experiment for ``katib-flows resume``: after Ctrl-C, a crash or ``kill -9`` of a run.

Trials left ``Created`` or ``Running`` by a runner that is gone are marked interrupted (they do not count
against the budget, so their slots are run again). A runner is gone when its process on this host is, or
when the lease it held on the trial has expired. A runner still alive (on this host, or holding a live
lease) stops the take-over with ``ExperimentBusyError`` unless ``join``: then this runner runs beside it.
A trial without a lease from another host, which nobody here can check, needs ``--force``. A finished
experiment can be continued by raising its ``maxTrialCount``, as Katib's resume does. A stop request
(``katib-flows stop``, the UI) was meant for the run that is gone, so taking over clears it.
"""

from __future__ import annotations

import datetime as dt

from katib_flows.engine import Counts, clear_stop_request, interrupt_trial
from katib_flows.errors import ExperimentBusyError, NotRunningError
from katib_flows.local._lanes import runner_alive, runner_id
from katib_flows.spec import prepare
from katib_flows.store import ExperimentCondition, Store


def take_over(
    store: Store,
    namespace: str,
    name: str,
    *,
    max_trials: int | None = None,
    parallel: int | None = None,
    force: bool = False,
    join: bool = False,
) -> None:
    record = store.get_experiment(namespace, name)
    if max_trials is not None or parallel is not None:
        overrides = {"maxTrialCount": max_trials, "parallelTrialCount": parallel}
        changed = prepare(record.spec, source=f"{namespace}/{name}", overrides=overrides)
        store.update_experiment_spec(namespace, name, changed.dump())
    me = runner_id()
    trials = store.list_trials(namespace, name)
    now = dt.datetime.now(dt.timezone.utc)
    for trial in trials:
        if trial.status.terminal:
            continue
        alive = runner_alive(trial.runner)
        if alive is None and trial.lease_expires_at is not None:
            alive = trial.lease_expires_at > now  # another host: its lease says whether it still runs
        if alive and trial.runner != me:
            if join:
                continue
            raise ExperimentBusyError(
                f"experiment {namespace}/{name} is being run by {trial.runner} (trial {trial.name}); "
                "add this runner to it with --join, or stop that run first"
            )
        if alive is None and not force:
            if join:
                continue
            raise ExperimentBusyError(
                f"trial {trial.name} was started by {trial.runner} on another host; if that run is gone, "
                "resume with --force (or run beside it with --join)"
            )
        interrupt_trial(store, namespace, trial.name, f"its runner {trial.runner or '(none)'} is gone; run again")
    clear_stop_request(store, namespace, name)  # a stop asked of the previous run is not asked of this one
    record = store.get_experiment(namespace, name)
    if not record.condition.terminal:
        return
    counted = Counts.of(store.list_trials(namespace, name)).total
    most = record.spec.get("spec", {}).get("maxTrialCount")
    if most is None or counted < most:
        store.set_experiment_condition(
            namespace, name, ExperimentCondition.RESTARTING, "ExperimentRestarting", "Experiment is restarted"
        )
        return
    raise NotRunningError(  # a user situation, never exit code 1
        f"experiment {namespace}/{name} is {record.condition.value} ({record.reason}) after {counted} trials; "
        f"to run more, resume with --max-trials larger than {counted}"
    )
