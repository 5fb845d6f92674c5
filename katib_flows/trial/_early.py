"""Early stopping: the experiment's rule checked at every report of a running trial, for every runner.

The local lanes (``LocalRun``, one per run) and ``katib-flows step trial`` (one per trial) make an
``EarlyStopping`` when ``spec.earlyStopping`` is set; each trial's ``Collection`` calls ``check`` after
every new report of the objective, through its runner (``TrialRunner``), and ``record`` hands it the curve
of every trial of this process that succeeds. The rule itself (medianstop, or the successive-halving
extensions) is a pure function of the suggestion package; this module gives it the curves to compare
against: the objective of every Succeeded trial by step, as the store holds them at the moment of the
check. So a second runner, or an Argo step, decides as the local run would on the same history. The
curves are cached only for speed, as ``SuggestionCache`` caches an algorithm's state: each check reads the
trials added or finished since the last one (one query when nothing changed) and the curves of newly
succeeded trials. Steps are counted from 1, as Katib counts.

While the store is unreachable, a check decides on the curves read so far rather than wait for it.
"""

from __future__ import annotations

import threading

from katib_flows_suggestion.early_stopping import should_stop

from katib_flows.errors import StoreUnavailableError
from katib_flows.spec import Experiment
from katib_flows.store import Store, TrialStatus

REASON_EARLY_STOPPED = "TrialEarlyStopped"


class EarlyStopping:
    """The rule of one experiment and the completed curves read from its store, shared by its lanes."""

    def __init__(self, experiment: Experiment, store: Store, namespace: str, name: str) -> None:
        early = experiment.spec.early_stopping
        objective = experiment.spec.objective
        assert early is not None and early.algorithm_name and objective is not None
        self.rule, self.settings = early.algorithm_name, early.settings()
        self.metric = objective.objective_metric_name or ""
        self.direction: str = objective.type or "maximize"
        self.store, self.namespace, self.name = store, namespace, name
        self._completed: dict[str, dict[int, float]] = {}
        self._settled = 0  # every trial with a lower seq has finished and been read
        self._lock = threading.Lock()

    def check(self, trial: str, curve: dict[int, float]) -> str | None:
        """The reason to stop ``trial`` now, or None to let it run."""
        with self._lock:
            self._catch_up()
            completed = dict(self._completed)
        verdict = should_stop(self.rule, self.settings, self.direction, completed, trial, curve)  # type: ignore[arg-type]
        return verdict.reason if verdict.stop else None

    def succeeded(self, trial: str, curve: dict[int, float]) -> None:
        """A trial of this process succeeded with ``curve``: known at once, before the next read."""
        with self._lock:
            self._completed[trial] = dict(curve)

    def _catch_up(self) -> None:
        try:
            newer = self.store.trials_since(self.namespace, self.name, self._settled, wait=False)
            for trial in newer:
                if trial.status is TrialStatus.SUCCEEDED and trial.name not in self._completed:
                    rows = self.store.get_observation_log(self.namespace, trial.name, self.metric, wait=False)
                    self._completed[trial.name] = {
                        (row.step if row.step is not None else i) + 1: number
                        for i, row in enumerate(rows)
                        if (number := row.number) is not None
                    }
                if trial.seq == self._settled and trial.status.terminal:
                    self._settled += 1
        except StoreUnavailableError:
            return
