"""``asha`` (extension): asynchronous successive halving (Li et al. 2020), rebuilt from trial labels on each call.

Rungs k = 0..K have budgets ``r_min * eta^k`` (the top rung gets ``r_l``), with
``K = floor(log_eta(r_l / r_min))``. Each call promotes as soon as a rung allows and never waits for a
whole rung: from the highest rung down, a trial of rung k that finished with a value and ranks in the top
``floor(n_k / eta)`` of the n_k valued trials of rung k, and has no promotion yet, is copied to rung k + 1.
When no promotion is possible a new random configuration starts at rung 0. So every call that can start a
trial does; ``Wait`` comes back only when a finite configuration space is used up and a running trial
may still allow a promotion, ``Exhausted`` when nothing is running either.

Labels: ``LABEL_RUNG`` on every trial, ``LABEL_PARENT`` (the promoted trial's name) on promotions; trials
without a rung label are ignored. Settings: ``resource_name``, ``r_l`` (maximum budget) and ``eta``
(default 3) as in ``hyperband``, plus ``r_min`` (smallest budget; default ``r_l * eta^-s_max``, Hyperband's
smallest budget) and ``random_state``.
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Exhausted, Problem, Suggestion, Trial, Wait
from katib_flows_suggestion._budget import Budgets, eta_of, int_label, is_active, ranked
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._rules import hyperband_s_max as s_max

_PREFIX = "asha.suggestion.katib.kubeflow.org/"
LABEL_RUNG = _PREFIX + "rung"
LABEL_PARENT = _PREFIX + "parent"


def rung_budgets(r_l: float, eta: int, r_min: float | None) -> tuple[float, ...]:
    """The budget of each rung, smallest first; the last is ``r_l``."""
    smallest = r_min if r_min is not None else r_l * float(eta) ** (-s_max(r_l, eta))
    top = s_max(r_l / smallest, eta) if smallest < r_l else 0
    return tuple([smallest * eta**k for k in range(top)] + [r_l])


class Asha(Algorithm):
    """Asynchronous successive halving; see the module docstring."""

    name = "asha"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        eta = eta_of(values)
        r_min = values.get("r_min")
        budgets = rung_budgets(float(values["r_l"] or 0), eta, float(r_min) if isinstance(r_min, float) else None)
        resource = Budgets(problem, str(values["resource_name"]))
        rungs: list[list[Trial]] = [[] for _ in budgets]
        for trial in history:
            k = int_label(trial, LABEL_RUNG)
            if k is not None and 0 <= k < len(budgets):
                rungs[k].append(trial)
        for k in range(len(budgets) - 2, -1, -1):
            promoted = {t.labels.get(LABEL_PARENT) for t in rungs[k + 1]}
            valued = ranked(rungs[k], problem.direction)
            for parent in valued[: len(valued) // eta]:
                if parent.name in promoted:
                    continue
                labels = {LABEL_RUNG: str(k + 1), LABEL_PARENT: parent.name}
                suggestion = resource.promote(parent, budgets[k + 1], labels)
                if suggestion is not None:
                    return suggestion
        decision = resource.new_config(history, base_seed(values, seed), budgets[0], {LABEL_RUNG: "0"})
        if isinstance(decision, Suggestion):
            return decision
        if any(is_active(t) for t in history):
            return Wait("every configuration has been started; a running trial may still earn a promotion")
        return Exhausted(f"every configuration has been tried and no trial can be promoted ({decision})")
