"""What the UI reads, shaped for pages that stay interactive at 10,000 trials.

The API routes (``_api``) call ``Reader``; it reads through the store's ordinary methods and answers in
the CLI's shapes (``katib_flows.report``'s views). Three things keep a large experiment cheap:

- one read of an experiment and its trials serves every request for ``SNAPSHOT_SECONDS`` after it ends
  (a page polls its summary, its table and its figures at once), and requests that come during a read
  wait for it;
- a read asks the store only for the trials from the first one that has not finished on (a finished trial
  never changes), so polling 10,000 finished trials reads none of them again;
- the table is a page of trials, filtered and sorted here (``trials_page``), never the whole list, on the
  text the table shows: a NAS trial's architecture in words (worded once per trial, ``_worded``);
- the figures are the report's own (``katib_flows.report``), drawn once per version of the experiment
  over at most ``FIGURE_TRIALS`` completed trials: every trial that improved the best value, the Pareto
  front, the best ones and an even sample of the rest (the best-so-far line stays exact); importance,
  which fits a model, is a request of its own that the page does not wait for, fitted on at most
  ``IMPORTANCE_TRIALS`` of them and refitted at most every ``IMPORTANCE_SECONDS`` while trials finish.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from katib_flows.engine import non_dominated, stop_requested
from katib_flows.errors import NotFoundError
from katib_flows.report import (
    History,
    experiment_view,
    metric_curves,
    optimization_history,
    parallel_coordinates,
    parameter_importance,
    pareto_front,
    pareto_points,
    trial_view,
)
from katib_flows.spec import format_value, read_architecture, summary_text
from katib_flows.spec._architecture import ARCHITECTURE, NN_CONFIG
from katib_flows.store import ExperimentRecord, MetricLog, Store, TrialRecord, TrialStatus

SNAPSHOT_SECONDS = 1.0
IMPORTANCE_SECONDS = 15.0
IMPORTANCE_TRIALS = 200
FIGURE_TRIALS = 1000
MAX_COMPARED = 12
WORDED_TRIALS = 20_000  # architectures worded and kept (a few hundred bytes each): the table's sorts and filters
SORTS = ("seq", "name", "status", "objective", "start", "completion")


@dataclass(frozen=True)
class Snapshot:
    """An experiment and its trials as read at one moment, with a version that changes when they do."""

    record: ExperimentRecord
    trials: list[TrialRecord]
    version: str

    @classmethod
    def of(cls, record: ExperimentRecord, trials: list[TrialRecord]) -> Snapshot:
        states = "".join(t.status.value[0] for t in trials)
        key = f"{record.condition.value}|{record.reason}|{record.optimal_trial}|{stop_requested(record)}|{states}"
        return cls(record, trials, hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16])


class Reader:
    """The UI's reads over one store; safe to share between the server's threads."""

    def __init__(self, store: Store, *, figure_trials: int = FIGURE_TRIALS) -> None:
        self.store = store
        self.figure_trials = figure_trials
        self._lock = threading.Lock()
        self._fitting = threading.Lock()  # one importance fit at a time: each takes seconds of CPU
        self._snapshots: dict[tuple[str, str], tuple[float, Snapshot]] = {}
        self._reading: dict[tuple[str, str], threading.Lock] = {}  # one read of an experiment at a time
        self._settled: dict[tuple[str, str], tuple[tuple[dt.datetime, int], list[TrialRecord]]] = {}
        self._figures: dict[tuple[str, str], tuple[str, str]] = {}
        self._importance: dict[tuple[str, str], tuple[float, int, str]] = {}  # (when, trials, figure)

    def experiments(self, namespaces: Sequence[str] | None) -> list[dict[str, Any]]:
        """Experiment views of the namespaces given (None: all), oldest first."""
        records = (
            self.store.list_experiments(None)
            if namespaces is None
            else [r for ns in namespaces for r in self.store.list_experiments(ns)]
        )
        return [self.experiment(r.namespace, r.name) for r in records]

    def snapshot(self, namespace: str, name: str) -> Snapshot:
        """The experiment and its trials, read at most once a ``SNAPSHOT_SECONDS``; ``NotFoundError``.

        The second counts from the end of the read (at 10,000 trials a read can take longer than that on a
        busy machine), and requests that arrive while a read is under way wait for it instead of reading too.
        """
        key = (namespace, name)
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            with self._lock:
                cached = self._snapshots.get(key)
            if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_SECONDS:
                return cached[1]
            record = self.store.get_experiment(namespace, name)
            snapshot = Snapshot.of(record, self._trials(key, record))
            with self._lock:
                self._snapshots[key] = (time.monotonic(), snapshot)
            return snapshot

    def _trials(self, key: tuple[str, str], record: ExperimentRecord) -> list[TrialRecord]:
        """Every trial of the experiment, read from the store from the first one that may still change.

        A finished trial never changes, so the longest run of finished trials from the first on (by ``seq``)
        is kept and only what follows is read again (``trials_since``, as early stopping reads): a poll of
        10,000 finished trials reads none of them. An experiment deleted and created again under the same
        name is told apart by its creation time and seed, and read whole.
        """
        identity = (record.created_at, record.seed)
        with self._lock:
            known = self._settled.get(key)
        settled = known[1] if known is not None and known[0] == identity else []
        fresh = self.store.trials_since(key[0], key[1], len(settled))
        kept = list(settled)
        for trial in fresh:
            if trial.seq != len(kept) or not trial.status.terminal:
                break
            kept.append(trial)
        with self._lock:
            self._settled[key] = (identity, kept)
        return settled + fresh

    def forget(self, namespace: str, name: str) -> None:
        """Drop what is cached of an experiment (after a stop or a delete through the UI)."""
        with self._lock:
            self._snapshots.pop((namespace, name), None)
            self._settled.pop((namespace, name), None)
            self._figures.pop((namespace, name), None)
            self._importance.pop((namespace, name), None)

    def experiment(self, namespace: str, name: str) -> dict[str, Any]:
        """``experiments -o json``'s item for one experiment."""
        snap = self.snapshot(namespace, name)
        return experiment_view(snap.record, snap.trials)

    def summary(self, namespace: str, name: str) -> dict[str, Any]:
        """What an experiment page polls: its view, its version, and whether a stop was asked."""
        snap = self.snapshot(namespace, name)
        view = experiment_view(snap.record, snap.trials)
        return {"experiment": view, "version": snap.version, "stopRequested": stop_requested(snap.record)}

    def trials_page(
        self,
        namespace: str,
        name: str,
        *,
        offset: int = 0,
        limit: int = 50,
        status: str | None = None,
        query: str | None = None,
        sort: str = "seq",
        descending: bool = False,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many trials match, one page of them in ``trials -o json``'s shape)."""
        trials: list[TrialRecord] = self.snapshot(namespace, name).trials
        if status:
            trials = [t for t in trials if t.status.value == status]
        if query:
            needle = query.lower()
            trials = [t for t in trials if needle in _searchable(t)]
        trials = sorted(trials, key=_sort_key(sort), reverse=descending)
        if sort == "objective":  # trials without a value go last whichever the direction
            trials = [t for t in trials if t.objective_value is not None] + [
                t for t in trials if t.objective_value is None
            ]
        return len(trials), [trial_view(t) for t in trials[offset : offset + limit]]

    def trial(self, namespace: str, name: str, trial: str) -> TrialRecord:
        """A trial of this experiment; ``NotFoundError`` for a trial of another experiment too."""
        record = self.store.get_trial(namespace, trial)
        if record.experiment != name:
            raise NotFoundError(f"trial {trial} does not belong to experiment {namespace}/{name}")
        return record

    def figures_json(self, namespace: str, name: str) -> tuple[str, str]:
        """(version, the report's figures other than importance, as one JSON object of plotly figures), drawn once per
        version. Importance, which fits a model, is its own request (``importance_json``): the page draws
        these first and does not wait for the fit."""
        snap = self.snapshot(namespace, name)
        key = (namespace, name)
        with self._lock:
            cached = self._figures.get(key)
        if cached is not None and cached[0] == snap.version:
            return cached
        history = self._drawn(snap)
        drawn = {"history": optimization_history(history), "parallel-coordinates": parallel_coordinates(history)}
        if len(history.objectives) > 1:
            drawn["pareto"] = pareto_front(pareto_points(history), history.objectives)
        completed = _completed(snap.trials)
        parts = ", ".join(f"{json.dumps(k)}: {fig.to_json()}" for k, fig in drawn.items())
        body = (
            f'{{"version": "{snap.version}", "completed": {completed}, "drawn": {len(history.completed())}, '
            f'"figures": {{{parts}}}}}'
        )
        with self._lock:
            self._figures[key] = (snap.version, body)
        return snap.version, body

    def importance_json(self, namespace: str, name: str) -> str:
        """The report's parameter importance as a plotly figure, fitted on at most ``IMPORTANCE_TRIALS`` of the
        drawn trials (a forest per fit: seconds at a few hundred trials, so one fit at a time). While trials
        keep finishing it is refitted at most every ``IMPORTANCE_SECONDS``; below 10 completed trials, always.
        """
        snap = self.snapshot(namespace, name)
        key, count = (namespace, name), _completed(snap.trials)
        with self._fitting:
            now = time.monotonic()
            with self._lock:
                fitted = self._importance.get(key)
            if fitted is None or (fitted[1] != count and now - fitted[0] >= IMPORTANCE_SECONDS) or count < 10:
                fitting = History(snap.record, sample(self._drawn(snap), IMPORTANCE_TRIALS), {})
                fitted = (now, count, parameter_importance(fitting).to_json())
                with self._lock:
                    self._importance[key] = fitted
        return f'{{"completed": {fitted[1]}, "figure": {fitted[2]}}}'

    def _drawn(self, snap: Snapshot) -> History:
        """The history the figures draw: at most ``figure_trials`` completed trials (``sample``)."""
        return History(snap.record, sample(History(snap.record, snap.trials, {}), self.figure_trials), {})

    def curves_json(self, namespace: str, name: str, trials: Sequence[str], metric: str | None) -> str:
        """The report's metric curves of the trials compared (at most ``MAX_COMPARED``), as a plotly figure."""
        snap = self.snapshot(namespace, name)
        chosen = [t for t in snap.trials if t.name in set(trials[:MAX_COMPARED])]
        logs: dict[str, list[MetricLog]] = {t.name: self.store.get_observation_log(namespace, t.name) for t in chosen}
        return str(metric_curves(History(snap.record, chosen, logs), metric).to_json())


def sample(history: History, limit: int) -> list[TrialRecord]:
    """At most ``limit`` completed trials to draw, in creation order, chosen so that the figures still tell
    the truth: every trial that improved the best value (the best-so-far line is exact), the Pareto front,
    the best trials, then an even sample of the rest. Trials that did not complete are left out."""
    completed = history.completed()
    if len(completed) <= limit:
        return completed
    keep: set[str] = set()
    best: float | None = None
    up = history.objective.maximize
    for trial in completed:
        value = trial.objective_value
        assert value is not None
        if best is None or (value > best if up else value < best):
            best = value
            keep.add(trial.name)
    if len(history.objectives) > 1:
        points = [(t, history.values(t)) for t in completed]
        valued = [(t, v) for t, v in points if v is not None]
        maximize = [o.maximize for o in history.objectives]
        keep |= {valued[i][0].name for i in non_dominated([v for _, v in valued], maximize)}
    ranked = sorted(completed, key=lambda t: t.objective_value or 0.0, reverse=up)
    for trial in ranked[: max(0, limit // 4)]:
        keep.add(trial.name)
    rest = [t for t in completed if t.name not in keep]
    room = max(0, limit - len(keep))
    if room and rest:
        step = len(rest) / room
        keep |= {rest[int(i * step)].name for i in range(min(room, len(rest)))}
    return [t for t in completed if t.name in keep]


def _completed(trials: Sequence[TrialRecord]) -> int:
    return sum(1 for t in trials if t.status is TrialStatus.SUCCEEDED and t.objective_value is not None)


def _searchable(trial: TrialRecord) -> str:
    """What the filter looks in: the row as the table shows it. A NAS trial's architecture is shown in words,
    so it is searched in words; its JSON assignments, not shown, are not (``32`` would match every trial's
    ``input_sizes``)."""
    parts = [trial.name, trial.status.value, trial.reason]
    worded = _architecture(trial)
    if worded is not None:
        parts.append(f"{ARCHITECTURE}={worded}")
    parts += [
        f"{k}={format_value(v)}"
        for k, v in trial.assignments.items()
        if worded is None or k not in (ARCHITECTURE, NN_CONFIG)
    ]
    return " ".join(parts).lower()


def _architecture(trial: TrialRecord) -> str | None:
    """A NAS trial's architecture as its row shows it (``summary_text``), or None for a trial without one."""
    assignments = trial.assignments
    if ARCHITECTURE not in assignments or NN_CONFIG not in assignments:
        return None
    return _worded(str(assignments[ARCHITECTURE]), str(assignments[NN_CONFIG]))


@functools.lru_cache(maxsize=WORDED_TRIALS)
def _worded(architecture: str, nn_config: str) -> str | None:
    """Reading and wording an architecture costs tens of microseconds, too much for every trial of every sort
    or filter at 10,000 trials; a trial's assignments never change, so their text is the key."""
    layers = read_architecture({ARCHITECTURE: architecture, NN_CONFIG: nn_config})
    return summary_text(layers) if layers else None


def _sort_key(sort: str) -> Any:
    if sort.startswith("param:"):
        name = sort[len("param:") :]
        if name == ARCHITECTURE:  # sorted as shown: in words, or as assigned when it is not one
            return lambda t: _comparable(_architecture(t) or t.assignments.get(name))
        return lambda t: _comparable(t.assignments.get(name))
    return {
        "seq": lambda t: t.seq,
        "name": lambda t: t.name,
        "status": lambda t: (t.status.value, t.seq),
        "objective": lambda t: (t.objective_value is None, t.objective_value or 0.0),
        "start": lambda t: (t.started_at is None, t.started_at.timestamp() if t.started_at else 0.0),
        "completion": lambda t: (t.completed_at is None, t.completed_at.timestamp() if t.completed_at else 0.0),
    }[sort]


def _comparable(value: Any) -> tuple[int, float, str]:
    """Numbers before text before missing values, so a column of mixed values still sorts."""
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))
