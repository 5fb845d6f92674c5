"""The machine-readable shapes of DESIGN.md section 10, close to Katib's status objects.

Scripts, CI jobs and notebooks read these through ``--output json|yaml`` and the UI's ``/api/v1/``; keep
them stable. A trial of a NAS experiment (ENAS) has one key more, ``architecture`` (``spec._architecture``): its
``architecture`` and ``nn_config`` assignments read into layers and worded, for the CLI and the UI alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from katib_flows.engine import Counts
from katib_flows.spec._architecture import architecture_view
from katib_flows.store import ExperimentRecord, TrialRecord, TrialStatus


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def trial_view(trial: TrialRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": trial.name,
        "status": trial.status.value,
        "reason": trial.reason,
        "message": trial.message,
        "parameterAssignments": [{"name": k, "value": _text(v)} for k, v in trial.assignments.items()],
        "metrics": [{"name": name, **values} for name, values in trial.observation.items()],
        "objectiveValue": trial.objective_value,
        "startTime": _time(trial.started_at),
        "completionTime": _time(trial.completed_at),
    }
    architecture = architecture_view(trial.assignments)
    if architecture is not None:
        view["architecture"] = architecture
    return view


def _text(value: Any) -> str:
    from katib_flows.spec import format_value

    return format_value(value)


def experiment_view(record: ExperimentRecord, trials: Sequence[TrialRecord]) -> dict[str, Any]:
    counts = Counts.of(trials).by_status
    optimal = next((t for t in trials if t.name == record.optimal_trial), None)
    return {
        "name": record.name,
        "namespace": record.namespace,
        "status": {"condition": record.condition.value, "reason": record.reason, "message": record.message},
        "trials": {
            "total": len(trials),
            "succeeded": counts[TrialStatus.SUCCEEDED],
            "failed": counts[TrialStatus.FAILED],
            "killed": sum(1 for t in trials if t.status is TrialStatus.KILLED),
            "earlyStopped": counts[TrialStatus.EARLY_STOPPED],
            "metricsUnavailable": counts[TrialStatus.METRICS_UNAVAILABLE],
            "running": counts[TrialStatus.RUNNING],
            "pending": counts[TrialStatus.CREATED],
        },
        "currentOptimalTrial": optimal_view(optimal),
        "startTime": _time(record.started_at),
        "completionTime": _time(record.completed_at),
    }


def optimal_view(trial: TrialRecord | None) -> dict[str, Any] | None:
    if trial is None:
        return None
    view = trial_view(trial)
    optimal: dict[str, Any] = {
        "bestTrialName": trial.name,
        "parameterAssignments": view["parameterAssignments"],
        "observation": {"metrics": view["metrics"]},
        "objectiveValue": trial.objective_value,
    }
    if "architecture" in view:
        optimal["architecture"] = view["architecture"]
    return optimal


def front_view(front: Sequence[tuple[TrialRecord, tuple[float, ...]]], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """The Pareto front for ``best --output json``: each trial in ``optimal_view``'s shape, plus its value for
    every objective (``objectiveValues``, Katib's objective first)."""
    views = []
    for trial, values in front:
        view = optimal_view(trial)
        assert view is not None
        view["objectiveValues"] = [{"name": m, "value": v} for m, v in zip(metrics, values, strict=True)]
        views.append(view)
    return views
