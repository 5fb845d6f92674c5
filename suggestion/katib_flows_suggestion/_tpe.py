"""``tpe`` and ``multivariate-tpe``: optuna's TPESampler, rebuilt from the history on every call.

``tpe`` stands in for Katib's hyperopt TPE: independent per-parameter Parzen estimators
(``multivariate=False``). Its Katib settings map as follows: ``gamma`` (hyperopt's fraction) becomes
optuna's split function ``n -> min(ceil(gamma * sqrt(n)), 25)``, which is hyperopt's own formula;
``prior_weight`` and ``n_EI_candidates`` pass through; ``random_state`` replaces the seed. It also accepts
optuna's ``n_startup_trials`` (random trials before TPE starts, default 10 as in optuna, where Katib's
hyperopt service starts TPE after the first batch) and ``n_ei_candidates`` (an alias of
``n_EI_candidates``). ``multivariate-tpe`` is Katib's optuna flavour: one joint estimator
(``multivariate=True``) with settings ``n_startup_trials``, ``n_ei_candidates`` and ``random_state``.

Both run with ``constant_liar=True`` so that Created and Running trials of the history push new points
away from the ones being evaluated. The sampler's seed is derived from (seed, len(history)). On a finite
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

from optuna.samplers import TPESampler

from katib_flows_suggestion._algorithm import Algorithm, SuggestionCache
from katib_flows_suggestion._base import Decision, Problem, Trial
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._optuna import ask
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._seed import derive
from katib_flows_suggestion._settings import Parsed
from katib_flows_suggestion._warm import WarmStudy


def hyperopt_gamma(gamma: float) -> Callable[[int], int]:
    """hyperopt's split: the best ``ceil(gamma * sqrt(n))`` of n finished trials (at most 25) are "good"."""

    def split(n: int) -> int:
        return min(math.ceil(gamma * math.sqrt(n)), 25)

    return split


class TPE(Algorithm):
    """Independent TPE; see the module docstring for the settings."""

    name = "tpe"
    multivariate = False

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        point = ask(problem, history, self.sampler(values, derive(seed, len(history))))
        return fresh(problem.parameters, history, seed, point)

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision from a study kept in ``cache`` and brought up to date (``_warm``)."""
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        sampler = self.sampler(values, derive(seed, len(history)))
        warm = cache.kept(self.name, WarmStudy, WarmStudy)
        return warm.suggest(problem, history, sampler, lambda point: fresh(problem.parameters, history, seed, point))

    def sampler(self, values: dict[str, Parsed], seed: int) -> TPESampler:
        """The sampler for typed settings ``values`` and this call's seed."""
        options: dict[str, Any] = {"seed": seed, "multivariate": self.multivariate, "constant_liar": True}
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
        if not deprecated:
            return TPESampler(**options)
        # optuna 4.9 deprecated ``gamma`` and ``prior_weight`` (FutureWarning, removal planned for 6.0). They are
        # Katib settings, so we keep honouring them and keep the warning out of users' logs and strict test runs.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return TPESampler(**options, **deprecated)


class MultivariateTPE(TPE):
    """Multivariate TPE with constant liar, as Katib's optuna service runs it."""

    name = "multivariate-tpe"
    multivariate = True
