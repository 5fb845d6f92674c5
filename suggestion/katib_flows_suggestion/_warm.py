"""Keep an optuna study between suggestions for one experiment, with the answers a rebuilt study gives.

``_optuna.ask`` rebuilds a study from the whole history on every call: about 20 ms at 1,000 trials and
200 ms at 10,000, where asking a study that already holds them costs about 10 and 100. A long-lived process
(a local run's lanes, a suggestion service) keeps a ``WarmStudy`` in its ``SuggestionCache`` and brings it
up to date with what changed since the last call:

- the trials the call saw before must come first, in the same order, with the same names and assignments;
- a trial that was Created/Running may have finished: its optuna trial goes RUNNING -> COMPLETE or FAIL
  through optuna's public storage API (``set_trial_state_values``), as the rebuilt study would have it;
- the point asked last time stays in the study as a RUNNING trial and must be the first new trial of the
  history (the engine inserts the suggestion it got); it is bound to that trial, its params rewritten to
  the trial's assignments (the answer may have been snapped, or replaced by ``_fresh``). ``suggest`` asks
  and records the caller's decision in one call, found again by trial number through the storage API;
- trials added after it (by another process) are appended as the rebuild would add them.

``nsga2`` also hands each trial's generation to the study (``attrs``) and says when a parent population the
study selected earlier no longer holds (``stale``). Anything else is a doubt, and a doubt rebuilds: a
shorter history, a renamed, reordered or reassigned trial, a finished trial whose outcome changed, a changed
problem (space, settings, objectives), an asked point that no trial took (the engine did not insert it, or
the algorithm answered ``Exhausted``). So the study holds, trial for trial and number for number, what
``_optuna.ask`` would build from the same history, and the caller passes a sampler seeded as on the cold
path: the same seed and history give the same suggestion (``tests/suggestion/test_warm.py`` runs both side
by side).

Comparing the kept trials with the history is one list comprehension over it (name, assignments, status,
values of each trial), compared in C; only the trials that differ are looked at one by one. This pass stays:
the history is read afresh for each suggestion, and it is how a changed trial is noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState

from katib_flows_suggestion._base import Decision, Problem, Suggestion, Trial, Value
from katib_flows_suggestion._optuna import back, distribution, frozen_trial, new_study, optuna_params, state_of

#: What the study compares of a kept trial: its name and assignments (which may not change), then its status
#: and objective value(s) (which may, as it finishes).
_Key = tuple[str, Mapping[str, Value], str, float | None, tuple[float, ...] | None]


def _key(trial: Trial) -> _Key:
    return trial.name, dict(trial.assignments), trial.status, trial.value, trial.values


class WarmStudy:
    """One experiment's optuna study, kept up to date with its history; see the module docstring."""

    def __init__(
        self,
        attrs: Callable[[Trial], dict[str, Any]] | None = None,
        stale: Callable[[InMemoryStorage, int, Trial], bool] | None = None,
    ) -> None:
        """``attrs`` gives each history trial's optuna system attributes (``_optuna.ask``'s); ``stale(storage,
        study_id, trial)`` says that what the study caches (NSGA-II's parent populations) no longer holds once
        ``trial`` counts as complete: a doubt, so the study is rebuilt."""
        self._attrs, self._stale = attrs, stale
        self.rebuilds = 0
        """How many times the study was built from the whole history (the first call included)."""
        self._study: optuna.Study | None = None
        self._storage = InMemoryStorage()
        self._study_id = 0
        self._problem: Problem | None = None
        self._distributions: dict[str, BaseDistribution] = {}
        # One entry per history trial, in history order.
        self._keys: list[_Key] = []
        self._ids: list[int | None] = []  # the optuna trial id; None for a trial left out (outside the space)
        self._states: list[tuple[TrialState, list[float] | None] | None] = []
        self._asked: int | None = None  # the trial id of the point asked last, until bound
        self._answer: dict[str, Value] | None = None  # what the caller answered with it
        self._answer_attrs: dict[str, Any] = {}  # the system attributes its labels give (``attrs``)

    def suggest(
        self,
        problem: Problem,
        history: Sequence[Trial],
        sampler: BaseSampler,
        decide: Callable[[dict[str, Value]], Decision],
    ) -> Decision:
        """``decide(point)``, where ``point`` is what ``_optuna.ask(problem, history, sampler)`` returns.

        ``decide`` turns the asked point into the caller's decision (snapped, replaced by ``_fresh``, or not a
        suggestion at all); that decision is recorded here, so the next call can bind it to the history trial
        the engine inserted for it. Asking and recording are one call so that neither can be forgotten.
        """
        trials = list(history[0 : len(history)])
        if not self._update(problem, trials):
            self._rebuild(problem, trials)
        assert self._study is not None
        self._study.sampler = sampler
        asked = self._study.ask(self._distributions)
        decision = decide(back(problem.parameters, asked.params))
        if isinstance(decision, Suggestion):
            self._asked = self._storage.get_trial_id_from_study_id_trial_number(self._study_id, asked.number)
            self._answer = dict(decision.assignments)
            if self._attrs is not None:
                self._answer_attrs = self._attrs(Trial("", decision.assignments, "Created", labels=decision.labels))
        else:  # nothing will take the asked point: the study now holds a trial the history never will
            self._forget()
        return decision

    def _forget(self) -> None:
        self._study, self._problem = None, None

    def _rebuild(self, problem: Problem, trials: list[Trial]) -> None:
        self.rebuilds += 1
        self._study, self._storage, self._study_id = new_study(problem, optuna.samplers.RandomSampler())
        self._problem = problem
        self._distributions = {p.name: distribution(p) for p in problem.parameters}
        self._keys, self._ids, self._states = [], [], []
        self._asked = self._answer = None
        appended = self._append(trials, datetime.now())
        assert appended, "a new study caches nothing that could be stale"

    def _counts_stale(self, trial: Trial, state: TrialState) -> bool:
        return (
            self._stale is not None
            and state is TrialState.COMPLETE
            and self._stale(self._storage, self._study_id, trial)
        )

    def _append(self, trials: Sequence[Trial], now: datetime) -> bool:
        """Add ``trials`` to the study; False (stop) at one that makes a cached answer stale."""
        assert self._problem is not None
        for trial in trials:
            params = optuna_params(self._problem.parameters, self._distributions, trial.assignments)
            trial_id = state = None
            if params is not None:
                frozen = frozen_trial(trial, params, self._distributions, self._problem, self._attrs, now)
                if self._counts_stale(trial, frozen.state):
                    return False
                trial_id = self._storage.create_new_trial(self._study_id, template_trial=frozen)
                state = (frozen.state, frozen.values)
            self._keep(trial, trial_id, state)
        return True

    def _keep(self, trial: Trial, trial_id: int | None, state: tuple[TrialState, list[float] | None] | None) -> None:
        self._keys.append(_key(trial))
        self._ids.append(trial_id)
        self._states.append(state)

    def _update(self, problem: Problem, trials: list[Trial]) -> bool:
        """Bring the kept study up to date with ``trials``; False on any doubt (then it must be rebuilt)."""
        if self._study is None or problem != self._problem or self._asked is None or self._answer is None:
            return False
        kept = len(self._keys)
        if len(trials) <= kept:  # shorter, or the asked point never became a trial
            return False
        keys = [(t.name, t.assignments, t.status, t.value, t.values) for t in trials[:kept]]  # one pass, as _key
        if keys != self._keys:
            for i, (now, before) in enumerate(zip(keys, self._keys, strict=True)):
                if now == before:
                    continue
                if now[:2] != before[:2] or not self._finish(i, trials[i]):  # renamed or reassigned: a doubt
                    return False
        if not self._bind(trials[kept]):
            return False
        return self._append(trials[kept + 1 :], datetime.now())

    def _finish(self, index: int, trial: Trial) -> bool:
        """Apply a kept trial's new outcome: RUNNING -> COMPLETE/FAIL, or nothing optuna can see."""
        assert self._problem is not None
        self._keys[index] = _key(trial)
        trial_id, before = self._ids[index], self._states[index]
        if trial_id is None or before is None:
            return True
        state, values = state_of(trial, self._problem)
        if (state, values) == before:
            return True
        if before[0] is not TrialState.RUNNING or not state.is_finished() or self._counts_stale(trial, state):
            return False
        self._storage.set_trial_state_values(trial_id, state, values)
        self._states[index] = (state, values)
        return True

    def _bind(self, trial: Trial) -> bool:
        """Make the asked trial the optuna trial of history ``trial``, the suggestion the engine inserted."""
        assert self._problem is not None and self._asked is not None and self._answer is not None
        parameters, distributions = self._problem.parameters, self._distributions
        params = optuna_params(parameters, distributions, trial.assignments)
        if params is None or params != optuna_params(parameters, distributions, self._answer):
            return False
        if self._attrs is not None and self._attrs(trial) != self._answer_attrs:  # stored without our labels
            return False
        asked, self._asked, self._answer = self._asked, None, None
        held = self._storage.get_trial(asked)
        for name, value in params.items():
            if held.params[name] != value:
                dist = distributions[name]
                self._storage.set_trial_param(asked, name, dist.to_internal_repr(value), dist)
        for key, attr in self._answer_attrs.items():  # what the rebuild would hold: the attributes of our labels
            if held.system_attrs.get(key) != attr:
                self._storage.set_trial_system_attr(asked, key, attr)
        state, values = state_of(trial, self._problem)
        if self._counts_stale(trial, state):
            return False
        if state.is_finished():
            self._storage.set_trial_state_values(asked, state, values)
        self._keep(trial, asked, (state, values))
        return True
