"""Rules for ``spec.objective``: its type and metric, the metric strategies, and the additional objectives.

Called by ``check`` in ``__init__.py``; ``additionalObjectives`` is our multi-objective extension.
"""

from __future__ import annotations

import math

from katib_flows.spec._models import ExperimentSpec, ObjectiveSpec
from katib_flows.spec._problems import Problem, one_of
from katib_flows.spec._rules._choices import bad_choice

OBJECTIVE_TYPES = ("minimize", "maximize")
METRIC_STRATEGIES = ("min", "max", "latest")


def check_objective(spec: ExperimentSpec) -> list[Problem]:
    objective = spec.objective
    if objective is None:
        return [
            Problem(
                "spec.objective",
                "is required",
                "add objective: {type: maximize, objectiveMetricName: accuracy}",
                rule="required",
            )
        ]
    problems = []
    if objective.type not in OBJECTIVE_TYPES:
        problems.append(bad_choice("spec.objective.type", objective.type, OBJECTIVE_TYPES, "objective-type"))
    metric = objective.objective_metric_name
    if not metric:
        problems.append(
            Problem(
                "spec.objective.objectiveMetricName",
                "is required",
                "name the metric your training prints, e.g. accuracy",
                rule="required",
            )
        )
    additional = objective.additional_metric_names or []
    if metric and metric in additional:
        index = additional.index(metric)
        problems.append(
            Problem(
                f"spec.objective.additionalMetricNames[{index}]",
                "must not repeat spec.objective.objectiveMetricName",
                "remove it from the list",
                value=metric,
                rule="objective-not-additional",
            )
        )
    if objective.goal is not None and not math.isfinite(objective.goal):
        problems.append(
            Problem(
                "spec.objective.goal",
                "must be a finite number",
                "write a number, or leave it out",
                value=objective.goal,
                rule="finite",
            )
        )
    problems += _check_additional_objectives(objective)
    known = set(objective.collected_metrics())
    for i, strategy in enumerate(objective.metric_strategies or []):
        path = f"spec.objective.metricStrategies[{i}]"
        if strategy.value not in METRIC_STRATEGIES:
            problems.append(bad_choice(f"{path}.value", strategy.value, METRIC_STRATEGIES, "metric-strategy"))
        if strategy.name not in known:
            problems.append(
                Problem(
                    f"{path}.name",
                    "names no objective or additional metric",
                    f"use one of: {one_of(sorted(known))}",
                    value=strategy.name,
                    rule="metric-strategy-name",
                    severity="warning",
                )
            )
    return problems


def _check_additional_objectives(objective: ObjectiveSpec) -> list[Problem]:
    """Our multi-objective extension: each entry needs a type and a metric not already an objective; a goal
    cannot be reached by several objectives at once, so it is ignored (a warning)."""
    entries = objective.additional_objectives or []
    problems: list[Problem] = []
    seen = {objective.objective_metric_name} if objective.objective_metric_name else set()
    extra_metrics = objective.additional_metric_names or []
    for i, entry in enumerate(entries):
        path = f"spec.objective.additionalObjectives[{i}]"
        if entry.type is None:
            problems.append(
                Problem(f"{path}.type", "is required", "add type: minimize or type: maximize", rule="required")
            )
        elif entry.type not in OBJECTIVE_TYPES:
            problems.append(bad_choice(f"{path}.type", entry.type, OBJECTIVE_TYPES, "objective-type"))
        metric = entry.objective_metric_name
        if not metric:
            problems.append(
                Problem(f"{path}.objectiveMetricName", "is required", "name the metric to optimise", rule="required")
            )
        elif metric in seen:
            problems.append(
                Problem(
                    f"{path}.objectiveMetricName",
                    "is already an objective of this experiment",
                    "optimise each metric once: remove this entry or name another metric",
                    value=metric,
                    rule="unique-objective",
                )
            )
        elif metric in extra_metrics:
            problems.append(
                Problem(
                    f"spec.objective.additionalMetricNames[{extra_metrics.index(metric)}]",
                    f"repeats spec.objective.additionalObjectives[{i}].objectiveMetricName; objectives are collected "
                    "anyway",
                    "remove it from additionalMetricNames",
                    value=metric,
                    rule="objective-not-additional",
                    severity="warning",
                )
            )
        seen.add(metric or "")
    if entries and objective.goal is not None:
        problems.append(
            Problem(
                "spec.objective.goal",
                "is ignored: the goal is disabled when there is more than one objective",
                "remove objective.goal or the additional objectives",
                value=objective.goal,
                rule="multi-objective-goal",
                severity="warning",
            )
        )
    return problems
