"""An experiment's history as the report reads it: the stored record, its trials and their metric logs.

``load_history`` reads everything in three queries (experiment, trials, the bulk observation log); the
figures, the HTML page, the exports and the DSL's ``Result`` all work from the ``History`` it returns, so
none of them touches the store. ``rows`` flattens the trials into one dict per trial (parameters and the
latest value of every metric as columns; a NAS trial's architecture in words, ``_nas.summary_text``), the
shape of the CSV export and of ``Result.trials``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import katib_flows_suggestion as sg

from katib_flows import engine
from katib_flows.spec import Experiment, to_search_problem
from katib_flows.spec._architecture import read_architecture, summary_text
from katib_flows.store import ExperimentRecord, MetricLog, Store, TrialRecord, TrialStatus


@dataclass(frozen=True)
class Objective:
    """One objective: a metric and its direction (several when the spec is multi-objective)."""

    metric: str
    maximize: bool

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize else "minimize"


@dataclass(frozen=True)
class History:
    """Everything a report shows about one experiment, read once (the parsed spec is cached too)."""

    experiment: ExperimentRecord
    trials: list[TrialRecord]
    logs: dict[str, list[MetricLog]]

    @cached_property
    def spec(self) -> Experiment:
        return Experiment.model_validate(self.experiment.spec)

    @cached_property
    def objective(self) -> Objective:
        objective = self.spec.spec.objective
        metric = (objective.objective_metric_name if objective else None) or ""
        return Objective(metric, not (objective is not None and objective.type == "minimize"))

    @cached_property
    def objectives(self) -> list[Objective]:
        """The objectives in order: Katib's, then ``objective.additionalObjectives`` (multi-objective)."""
        if self.spec.spec.objective is None:
            return [self.objective]
        return [Objective(metric, up) for metric, up in engine.objectives(self.spec)] or [self.objective]

    @property
    def goal(self) -> float | None:
        """The goal, None when there is none or the experiment has several objectives (it is then ignored)."""
        objective = self.spec.spec.objective
        return None if objective is None or objective.multi_objective else objective.goal

    def values(self, trial: TrialRecord) -> tuple[float, ...] | None:
        """The trial's value for every objective (by their metric strategies), None if it lacks one."""
        if self.spec.spec.objective is None:
            return None
        return engine.trial_values(self.spec, trial)

    def pareto_front(self) -> list[tuple[TrialRecord, tuple[float, ...]]]:
        """The non-dominated Succeeded trials with their values, best on the first objective first."""
        if self.spec.spec.objective is None:
            return []
        return engine.pareto_front(self.spec, self.trials)

    @cached_property
    def parameters(self) -> tuple[sg.Parameter, ...]:
        return to_search_problem(self.spec.spec).parameters

    @property
    def metric_names(self) -> list[str]:
        """The objective metric first, then every other metric any trial reported, in first-seen order."""
        names = [self.objective.metric]
        for trial in self.trials:
            names += [m for m in trial.observation if m not in names]
        for logs in self.logs.values():
            names += [log.metric for log in logs if log.metric not in names]
        return [n for n in names if n]

    def completed(self) -> list[TrialRecord]:
        """Succeeded trials with an objective value, in the order they were created."""
        return [t for t in self.trials if t.status is TrialStatus.SUCCEEDED and t.objective_value is not None]

    def best_so_far(self) -> list[float]:
        """For each completed trial in order, the best objective value up to and including it."""
        best: list[float] = []
        maximize = self.objective.maximize
        for trial in self.completed():
            value = trial.objective_value
            assert value is not None
            if best and (best[-1] >= value if maximize else best[-1] <= value):
                best.append(best[-1])
            else:
                best.append(value)
        return best

    def best_trial(self) -> TrialRecord | None:
        """The stored optimal trial (Katib's currentOptimalTrial), else the best completed trial."""
        by_name = {t.name: t for t in self.trials}
        if self.experiment.optimal_trial in by_name:
            return by_name[self.experiment.optimal_trial]
        completed = self.completed()
        if not completed:
            return None
        pick = max if self.objective.maximize else min
        return pick(completed, key=lambda t: t.objective_value or 0.0)

    def curve(self, trial: str, metric: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one metric of one trial; reports without a step are numbered in order."""
        steps: list[int] = []
        values: list[float] = []
        for log in self.logs.get(trial, []):
            number = log.number
            if log.metric != metric or number is None:
                continue
            steps.append(log.step if log.step is not None else len(steps))
            values.append(number)
        return steps, values

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per trial: name, status, objective, each parameter, each metric's latest value, times."""
        metrics = self.metric_names
        rows = []
        for trial in self.trials:
            row: dict[str, Any] = {
                "trial": trial.name,
                "number": trial.seq,
                "status": trial.status.value,
                "reason": trial.reason,
                "objective": trial.objective_value,
            }
            row.update({p.name: trial.assignments.get(p.name) for p in self.parameters})
            if self.spec.spec.nas_config is not None:  # no parameters: the architecture, in words
                layers = read_architecture(trial.assignments)
                row["architecture"] = summary_text(layers) if layers else None
            for metric in metrics:
                latest = trial.observation.get(metric, {}).get("latest")
                row[f"metric:{metric}"] = _number(latest)
            row["start"] = _time(trial.started_at)
            row["completion"] = _time(trial.completed_at)
            row["seconds"] = _seconds(trial.started_at, trial.completed_at)
            rows.append(row)
        return rows


def load_history(store: Store, namespace: str, name: str) -> History:
    """Read one experiment with its trials and observation logs; ``NotFoundError`` if there is none."""
    record = store.get_experiment(namespace, name)
    trials = sorted(store.list_trials(namespace, name), key=lambda t: t.seq)
    return History(record, trials, store.observation_logs(namespace, name))


def _number(text: str | None) -> float | str | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None
