"""``random``: independent draws from each parameter's distribution (Katib's hyperopt ``rand.suggest``).

The reference algorithm: the smallest complete implementation of the interface. It ignores the history
except for its length, which is mixed into the seed so successive calls draw different points. Every
distribution is honoured (see ``_space.from_unit``), and values land on the step lattice when a step is set.
On a finite space a repeated point is replaced by an unused one, and a used-up space ends (``_fresh``).
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Problem, Trial
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._space import from_unit


class RandomSearch(Algorithm):
    """Settings: ``random_state`` (int >= 0) replaces the engine's seed."""

    name = "random"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        rng = generator(base_seed(values, seed), len(history))
        draws = rng.random(len(problem.parameters))
        point = {p.name: from_unit(p, float(u)) for p, u in zip(problem.parameters, draws, strict=True)}
        return fresh(problem.parameters, history, base_seed(values, seed), point)
