"""``hyperband``: every bracket of Hyperband (Li et al. 2018), rebuilt from trial labels on each call.

Katib's service stalls after the first bracket (``katib-v1beta1.md`` 3.9); this one runs them all and
then answers ``Exhausted``. With ``s_max = floor(log_eta r_l)``, bracket s (s_max down to 0) starts
``n = ceil((s_max + 1) / (s + 1) * eta^s)`` random configurations with budget ``r = r_l * eta^-s``; rung i
holds ``floor(n * eta^-i)`` trials with budget ``r * eta^i``, the best of rung i - 1 (by ``Trial.value``;
failed and value-less trials are never promoted). A rung is promoted only once every trial of the rung
below has finished (synchronous successive halving, as the paper and Katib do).

Brackets are independent, so when the next rung of a bracket must wait, the call moves on to the next
bracket and starts its trials instead of leaving a lane idle; ``Wait`` comes back only when every bracket
that is not finished waits for a running trial (so a trial is running and the wait ends). Each trial is
labelled with its bracket, rung and, for a promotion, the parent trial's name (``LABEL_*``); a trial
without these labels is ignored. A trial lost from the history (interrupted) is simply created again.
Settings (Katib's): ``r_l`` (maximum budget), ``resource_name``, ``eta`` (default 3). When a finite
configuration space runs out, base rungs shrink to what they hold and promotions go on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Exhausted, Problem, Suggestion, Trial, Wait
from katib_flows_suggestion._budget import Budgets, eta_of, int_label, is_active, ranked
from katib_flows_suggestion._rules import hyperband_s_max as s_max

_PREFIX = "hyperband.suggestion.katib.kubeflow.org/"
LABEL_BRACKET = _PREFIX + "bracket"
LABEL_RUNG = _PREFIX + "rung"
LABEL_PARENT = _PREFIX + "parent"


@dataclass(frozen=True)
class Bracket:
    """One bracket: its index s, the trials per rung and the budget per rung."""

    s: int
    sizes: tuple[int, ...]
    budgets: tuple[float, ...]


def brackets(r_l: float, eta: int) -> list[Bracket]:
    """Hyperband's brackets for maximum budget ``r_l``, in the order they run (most aggressive first)."""
    top = s_max(r_l, eta)
    result = []
    for s in range(top, -1, -1):
        n = math.ceil((top + 1) / (s + 1) * eta**s)
        r = r_l * eta ** (-s)
        result.append(Bracket(s, tuple(n // eta**i for i in range(s + 1)), tuple(r * eta**i for i in range(s + 1))))
    return result


def total_trials(r_l: float, eta: int) -> int:
    """How many trials a complete run of every bracket creates (when no trial fails)."""
    return sum(sum(b.sizes) for b in brackets(r_l, eta))


class Hyperband(Algorithm):
    """Hyperband over all brackets; see the module docstring."""

    name = "hyperband"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        r_l, eta = float(values["r_l"] or 0), eta_of(values)
        budgets = Budgets(problem, str(values["resource_name"]))
        cells: dict[tuple[int, int], list[Trial]] = {}
        for trial in history:
            s, i = int_label(trial, LABEL_BRACKET), int_label(trial, LABEL_RUNG)
            if s is not None and i is not None:
                cells.setdefault((s, i), []).append(trial)
        configs_left = True
        waiting = False
        for bracket in brackets(r_l, eta):
            decision, configs_left, blocked = self._step(bracket, cells, budgets, problem, history, seed, configs_left)
            if decision is not None:
                return decision
            waiting = waiting or blocked
        if waiting or any(is_active(t) for t in history):
            return Wait("every unfinished Hyperband bracket waits for a running trial to finish its rung")
        return Exhausted(f"all {len(brackets(r_l, eta))} Hyperband brackets are complete")

    def _step(
        self,
        bracket: Bracket,
        cells: dict[tuple[int, int], list[Trial]],
        budgets: Budgets,
        problem: Problem,
        history: Sequence[Trial],
        seed: int,
        configs_left: bool,
    ) -> tuple[Decision | None, bool, bool]:
        """The next trial of ``bracket`` if one can start now; else (None, configs_left, waits_for_a_trial)."""
        target = bracket.sizes[0]
        for i, budget in enumerate(bracket.budgets):
            members = cells.get((bracket.s, i), [])
            labels = {LABEL_BRACKET: str(bracket.s), LABEL_RUNG: str(i)}
            if i > 0:
                below = cells.get((bracket.s, i - 1), [])
                if any(is_active(t) for t in below):
                    return None, configs_left, True
                target = min(bracket.sizes[i], len(ranked(below, problem.direction)))
                if len(members) < target:
                    promoted = {t.labels.get(LABEL_PARENT) for t in members}
                    for parent in ranked(below, problem.direction):
                        if parent.name not in promoted:
                            suggestion = budgets.promote(parent, budget, {**labels, LABEL_PARENT: parent.name})
                            if suggestion is not None:
                                return suggestion, configs_left, False
                    target = len(members)  # parents that no longer fit the space are not promoted
            elif len(members) < target:
                if configs_left:
                    decision = budgets.new_config(history, seed, budget, labels)
                    if isinstance(decision, Suggestion):
                        return decision, configs_left, False
                    configs_left = False
                target = len(members)
            if target == 0:
                return None, configs_left, False
        return None, configs_left, False
