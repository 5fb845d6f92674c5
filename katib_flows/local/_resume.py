"""Taking over an experiment for ``katib-flows resume``: after Ctrl-C, a crash or ``kill -9`` of a run.

Trials left ``Created`` or ``Running`` by a runner that is gone are marked interrupted (they do not count
against the budget, so their slots are run again); a runner still alive on this host, or one on another
host that nobody here can check, stops the take-over unless ``--force``. A finished experiment can be
continued by raising its ``maxTrialCount``, as Katib's resume does. A stop request (``katib-flows stop``,
the UI) was meant for the run that is gone, so taking over clears it.
"""

from __future__ import annotations

from katib_flows.engine import Counts, clear_stop_request, interrupt_trial
from katib_flows.errors import KatibFlowsError
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
) -> None:
    record = store.get_experiment(namespace, name)
    if max_trials is not None or parallel is not None:
        overrides = {"maxTrialCount": max_trials, "parallelTrialCount": parallel}
        changed = prepare(record.spec, source=f"{namespace}/{name}", overrides=overrides)
        store.update_experiment_spec(namespace, name, changed.dump())
    me = runner_id()
    trials = store.list_trials(namespace, name)
    for trial in trials:
        if trial.status.terminal:
            continue
        alive = runner_alive(trial.runner)
        if alive and trial.runner != me:
            raise KatibFlowsError(
                f"experiment {namespace}/{name} is being run by {trial.runner} (trial {trial.name}); "
                "stop that run first, or wait for it"
            )
        if alive is None and not force:
            raise KatibFlowsError(
                f"trial {trial.name} was started by {trial.runner} on another host; if that run is gone, "
                "resume with --force"
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
    raise KatibFlowsError(
        f"experiment {namespace}/{name} is {record.condition.value} ({record.reason}) after {counted} trials; "
        f"to run more, resume with --max-trials larger than {counted}"
    )
