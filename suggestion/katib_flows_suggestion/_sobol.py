"""``sobol``: the scrambled Sobol' low-discrepancy sequence, point number ``len(history)`` on each call.

Katib serves this with goptuna's Sobol sampler. We use scipy's ``qmc.Sobol`` directly instead of optuna's
``QMCSampler``: that sampler counts its position in a study attribute and samples the very first trial at
random, neither of which survives rebuilding the study from the history; indexing the sequence by the
history length does. The sequence is scrambled with the experiment's seed (the unscrambled sequence
starts at the all-zeros corner). Each coordinate goes through the parameter's inverse CDF
(``_space.from_unit``), so declared distributions and steps are honoured. On a finite space a repeated
point is replaced by an unused one, and a used-up space ends (``_fresh``). No settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import qmc  # type: ignore[import-untyped]  # no scipy-stubs in the dev environment

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Problem, Suggestion, Trial
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._space import from_unit


def _engine(dimensions: int, rng: np.random.Generator) -> qmc.Sobol:
    try:
        return qmc.Sobol(dimensions, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 calls the keyword ``seed``
        return qmc.Sobol(dimensions, scramble=True, seed=rng)


class Sobol(Algorithm):
    """Quasi-random search; takes no settings."""

    name = "sobol"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        self.read_settings(problem)
        if not problem.parameters:
            return Suggestion({})
        engine = _engine(len(problem.parameters), generator(seed))
        if history:
            engine.fast_forward(len(history))
        point = engine.random(1)[0]
        values = {p.name: from_unit(p, float(u)) for p, u in zip(problem.parameters, point, strict=True)}
        return fresh(problem.parameters, history, seed, values)
