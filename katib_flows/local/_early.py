"""Early stopping in a local run: the experiment's rule checked at every report of a running trial.

``LocalRun`` makes one ``EarlyStopping`` per run when ``spec.earlyStopping`` is set, and each trial's
``Collection`` calls ``check`` after every new report of the objective. The rule itself (medianstop, or the
successive-halving extensions) is a pure function of the suggestion package; this module keeps the
curves it compares against: the objective of every Succeeded trial by step, read from the store once
and then added to as trials succeed. Steps are counted from 1, as Katib counts reports.
"""

from __future__ import annotations

import threading

from katib_flows_suggestion.early_stopping import should_stop

from katib_flows.spec import Experiment
from katib_flows.store import Store, TrialStatus

REASON_EARLY_STOPPED = "TrialEarlyStopped"


class EarlyStopping:
    """The rule and the completed curves of one experiment, shared by its lanes."""

    def __init__(self, experiment: Experiment, store: Store, namespace: str, name: str) -> None:
        early = experiment.spec.early_stopping
        objective = experiment.spec.objective
        assert early is not None and early.algorithm_name and objective is not None
        self.rule, self.settings = early.algorithm_name, early.settings()
        self.metric = objective.objective_metric_name or ""
        self.direction: str = objective.type or "maximize"
        succeeded = {t.name for t in store.list_trials(namespace, name) if t.status is TrialStatus.SUCCEEDED}
        logs = store.observation_logs(namespace, name, metric=self.metric) if succeeded else {}
        self._completed: dict[str, dict[int, float]] = {}
        for trial, rows in logs.items():
            if trial in succeeded:
                self._completed[trial] = {
                    (row.step if row.step is not None else i) + 1: number
                    for i, row in enumerate(rows)
                    if (number := row.number) is not None
                }
        self._lock = threading.Lock()

    def check(self, trial: str, curve: dict[int, float]) -> str | None:
        """The reason to stop ``trial`` now, or None to let it run."""
        with self._lock:
            completed = dict(self._completed)
        verdict = should_stop(self.rule, self.settings, self.direction, completed, trial, curve)  # type: ignore[arg-type]
        return verdict.reason if verdict.stop else None

    def succeeded(self, trial: str, curve: dict[int, float]) -> None:
        with self._lock:
            self._completed[trial] = dict(curve)
