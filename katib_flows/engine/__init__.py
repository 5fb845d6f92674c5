"""The engine: decisions shared by the local runner and the Argo steps, as functions over the store."""

from katib_flows.engine._claim import Clock, SystemClock, claim_waiting
from katib_flows.engine._decide import (
    REASON_EXPERIMENT_COMPLETED,
    REASON_INTERRUPTED,
    Counts,
    Verdict,
    objectives,
    shown_objective,
    trial_values,
)
from katib_flows.engine._engine import (
    Claimed,
    ClaimResult,
    Done,
    Wait,
    algorithm_for,
    claim_next_trial,
    evaluate_experiment,
    experiment_of,
    finish_trial,
    interrupt_trial,
    new_trial_name,
    record_observation,
    register_experiment,
)
from katib_flows.engine._lifecycle import (
    STOP_ANNOTATION,
    clear_stop_request,
    delete_experiment,
    request_stop,
    stop_requested,
)
from katib_flows.engine._pareto import non_dominated, pareto_front

__all__ = [
    "REASON_EXPERIMENT_COMPLETED",
    "REASON_INTERRUPTED",
    "STOP_ANNOTATION",
    "ClaimResult",
    "Claimed",
    "Clock",
    "Counts",
    "Done",
    "SystemClock",
    "Verdict",
    "Wait",
    "algorithm_for",
    "claim_next_trial",
    "claim_waiting",
    "clear_stop_request",
    "delete_experiment",
    "evaluate_experiment",
    "experiment_of",
    "finish_trial",
    "interrupt_trial",
    "new_trial_name",
    "non_dominated",
    "objectives",
    "pareto_front",
    "record_observation",
    "register_experiment",
    "request_stop",
    "shown_objective",
    "stop_requested",
    "trial_values",
]
