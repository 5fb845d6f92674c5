"""``tpe`` and ``multivariate-tpe``: optuna's TPESampler, rebuilt from the history on every call.

``tpe`` stands in for Katib's hyperopt TPE with what an Optuna 5 user gets by default: one joint Parzen
estimator over all parameters (``multivariate=True``) for a single objective, independent per-parameter
ones for several (Optuna 5's ``TPESampler()`` rule). Its setting ``multivariate`` ("true" or "false")
chooses either way; "false" is hyperopt's independent estimator, what Katib's ``tpe`` service runs. On
``bench/quality.py``'s functions the joint one finds better values (BENCHMARKS.md). Its Katib settings map
as follows: ``gamma`` (hyperopt's fraction) becomes
optuna's split function ``n -> min(ceil(gamma * sqrt(n)), 25)``, which is hyperopt's own formula;
``prior_weight`` and ``n_EI_candidates`` pass through; ``random_state`` replaces the seed. It also accepts
optuna's ``n_startup_trials`` (random trials before TPE starts, default 10 as in optuna, where Katib's
hyperopt service starts TPE after the first batch) and ``n_ei_candidates`` (an alias of
``n_EI_candidates``). ``multivariate-tpe`` is Katib's optuna flavour: one joint estimator
(``multivariate=True``) with settings ``n_startup_trials``, ``n_ei_candidates`` and ``random_state``, so
``tpe`` without settings searches as it does.

Both run with ``constant_liar=True`` so that Created and Running trials of the history push new points
away from the ones being evaluated (with no such trial, as in a sequential run, it changes nothing). The
sampler's seed is derived from (seed, len(history)): the rebuilt study holds what a live optuna study
would, trial for trial, so a live study whose sampler is reseeded the same way before each ``ask``
suggests exactly our sequence (``tests/suggestion/test_tpe_vs_optuna.py``); a live study with one seeded
sampler draws other random numbers, and its results are the same only in distribution (the same test,
over many seeds). On a finite
space a point some trial already holds is replaced by an unused one, and a used-up space ends (``_fresh``).
Through a ``SuggestionCache`` (a long-lived process) the study is kept between calls instead of rebuilt
(``_warm``), with the same decisions.

With more than one objective (``Problem.additional_objectives``) both are MOTPE: optuna's TPESampler splits
the history into good and bad trials by non-dominated rank and hypervolume contribution instead of by value
(``_motpe`` gives the same sampler its own name).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from optuna import Study
from optuna.distributions import BaseDistribution
from optuna.samplers import TPESampler
from optuna.trial import FrozenTrial, TrialState

from katib_flows_suggestion._algorithm import Algorithm, SuggestionCache
from katib_flows_suggestion._base import Decision, Problem, Trial
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._optuna import ask, distribution, known_space
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._seed import derive
from katib_flows_suggestion._settings import Parsed
from katib_flows_suggestion._warm import WarmStudy


def hyperopt_gamma(gamma: float) -> Callable[[int], int]:
    """hyperopt's split: the best ``ceil(gamma * sqrt(n))`` of n finished trials (at most 25) are "good"."""

    def split(n: int) -> int:
        return min(math.ceil(gamma * math.sqrt(n)), 25)

    return split


class _OneSpaceTPE(TPESampler):
    """TPESampler whose joint search space is the problem's (``_optuna.known_space``), not recomputed per ask."""

    def __init__(self, space: dict[str, BaseDistribution], *, multivariate: bool, **options: Any) -> None:
        super().__init__(multivariate=multivariate, **options)
        self._joint, self._space = multivariate, space

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return known_space(study, self._space, (TrialState.COMPLETE, TrialState.PRUNED)) if self._joint else {}


class TPE(Algorithm):
    """Independent TPE; see the module docstring for the settings."""

    name = "tpe"
    #: The joint estimator (True), independent ones (False), or Optuna 5's rule (None: joint for one objective).
    multivariate: bool | None = None

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        point = ask(problem, history, self.sampler(problem, values, derive(seed, len(history))))
        return fresh(problem.parameters, history, seed, point)

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision from a study kept in ``cache`` and brought up to date (``_warm``)."""
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        sampler = self.sampler(problem, values, derive(seed, len(history)))
        warm = cache.kept(self.name, WarmStudy, WarmStudy)
        return warm.suggest(problem, history, sampler, lambda point: fresh(problem.parameters, history, seed, point))

    def sampler(self, problem: Problem, values: dict[str, Parsed], seed: int) -> _OneSpaceTPE:
        """The sampler for ``problem``, its typed settings ``values`` and this call's seed."""
        multivariate = self.multivariate if self.multivariate is not None else not problem.multi_objective
        if values.get("multivariate") is not None:
            multivariate = values["multivariate"] == "true"
        options: dict[str, Any] = {"seed": seed, "constant_liar": True}
        for name in ("n_startup_trials", "n_ei_candidates"):
            if values.get(name) is not None:
                options[name] = values[name]
        if values.get("n_EI_candidates") is not None:
            options["n_ei_candidates"] = values["n_EI_candidates"]
        deprecated: dict[str, Any] = {}
        gamma = values.get("gamma")
        if isinstance(gamma, float):
            deprecated["gamma"] = hyperopt_gamma(gamma)
        if values.get("prior_weight") is not None:
            deprecated["prior_weight"] = values["prior_weight"]
        space = {p.name: distribution(p) for p in problem.parameters}
        if not deprecated:
            return _OneSpaceTPE(space, multivariate=multivariate, **options)
        # optuna 4.9 deprecated ``gamma`` and ``prior_weight`` (FutureWarning, removal planned for 6.0). They are
        # Katib settings, so we keep honouring them and keep the warning out of users' logs and strict test runs.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return _OneSpaceTPE(space, multivariate=multivariate, **options, **deprecated)


class MultivariateTPE(TPE):
    """Multivariate TPE with constant liar, as Katib's optuna service runs it."""

    name = "multivariate-tpe"
    multivariate = True
