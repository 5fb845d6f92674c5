"""The early-stopping rules: Katib's ``medianstop`` and optuna-style ``successivehalving`` and ``hyperband``.

Each rule is a pure function of (settings, direction, the other trials' curves, the running trial's name
and curve) that returns a ``Verdict``; ``should_stop`` in the package looks the rule up and parses its
settings. Callers ask once per report of a running trial (the local runner after each flushed batch of
metrics, the Kubernetes trial step as it tails the metrics): the answer depends only on the arguments.

``medianstop`` (DESIGN.md section 8, where we differ from Katib's mean of means computed once): from step
``start_step`` on, at every report, the running trial's best value so far is compared with the median of
the completed trials' values at the same step (a completed trial's value at a step is its latest report at
or before that step, and it counts only if it reached that step); the trial stops when it is strictly
worse and at least ``min_trials_required`` completed trials reached the step.

``successivehalving`` (optuna's SuccessiveHalvingPruner): rungs at steps ``min_resource *
reduction_factor^(min_early_stopping_rate + k)``; at the highest rung the running trial has reached, it
must rank in the top ``floor(n / reduction_factor)`` (at least the best one) of the n trials, itself
included, that reached that rung, else it stops. Pass running trials among ``others`` too for optuna's
behaviour (it compares against every trial that reached the rung). ``hyperband`` (optuna's
HyperbandPruner): trials are spread over ``floor(log_rf(max_resource / min_resource)) + 1`` brackets by a
stable hash of their name, weighted by bracket budget as optuna does; bracket b runs successive halving
with ``min_early_stopping_rate = b`` against the trials of its own bracket.
"""

from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from katib_flows_suggestion._base import Direction
from katib_flows_suggestion._settings import Parsed, Setting
from katib_flows_suggestion.early_stopping._curves import Curve, best_until, value_at, worse

SCHEMAS: dict[str, tuple[Setting, ...]] = {
    "medianstop": (Setting("min_trials_required", "int", low=1), Setting("start_step", "int", low=1)),
    "successivehalving": (
        Setting("min_resource", "int", low=1),
        Setting("reduction_factor", "int", low=2),
        Setting("min_early_stopping_rate", "int", low=0),
    ),
    "hyperband": (
        Setting("min_resource", "int", low=1),
        Setting("max_resource", "int", low=1, required=True),
        Setting("reduction_factor", "int", low=2),
    ),
}
DEFAULTS: dict[str, dict[str, int]] = {
    "medianstop": {"min_trials_required": 3, "start_step": 4},
    "successivehalving": {"min_resource": 1, "reduction_factor": 4, "min_early_stopping_rate": 0},
    "hyperband": {"min_resource": 1, "reduction_factor": 3},
}


@dataclass(frozen=True)
class Verdict:
    """Whether to stop the running trial now, and why (the reason is worth showing even when it goes on)."""

    stop: bool
    reason: str


def _int(settings: Mapping[str, Parsed], name: str) -> int:
    value = settings[name]
    assert isinstance(value, int), f"{name} was not parsed as an int"
    return value


def medianstop(
    settings: Mapping[str, Parsed], direction: Direction, others: Mapping[str, Curve], name: str, running: Curve
) -> Verdict:
    start, needed = _int(settings, "start_step"), _int(settings, "min_trials_required")
    if not running:
        return Verdict(False, "no report yet")
    step = max(running)
    if step < start:
        return Verdict(False, f"step {step} is before start_step {start}")
    best = best_until(running, step, direction)
    at_step = [v for v in (value_at(c, step) for c in others.values()) if v is not None]
    if len(at_step) < needed:
        return Verdict(False, f"{len(at_step)} completed trials reached step {step}, min_trials_required is {needed}")
    median = statistics.median(at_step)
    assert best is not None
    if worse(best, median, direction):
        return Verdict(
            True,
            f"best value {best:g} by step {step} is worse than the median {median:g} of {len(at_step)} "
            f"completed trials at step {step}",
        )
    return Verdict(False, f"best value {best:g} by step {step} is not worse than the median {median:g}")


def _halving_verdict(
    direction: Direction, others: Mapping[str, Curve], running: Curve, min_resource: int, factor: int, rate: int
) -> Verdict:
    if not running:
        return Verdict(False, "no report yet")
    step = max(running)
    rung, rung_step = -1, 0
    while min_resource * factor ** (rate + rung + 1) <= step:
        rung += 1
        rung_step = min_resource * factor ** (rate + rung)
    if rung < 0:
        return Verdict(False, f"step {step} is before the first rung at step {min_resource * factor**rate}")
    own = value_at(running, rung_step)
    assert own is not None
    values = sorted([own] + [v for v in (value_at(c, rung_step) for c in others.values()) if v is not None])
    if direction == "maximize":
        values.reverse()
    keep = max(len(values) // factor, 1)
    cutoff = values[keep - 1]
    if worse(own, cutoff, direction):
        return Verdict(
            True, f"value {own:g} at rung {rung} (step {rung_step}) is not in the top {keep} of {len(values)} trials"
        )
    return Verdict(
        False, f"value {own:g} is in the top {keep} of {len(values)} trials at rung {rung} (step {rung_step})"
    )


def successivehalving(
    settings: Mapping[str, Parsed], direction: Direction, others: Mapping[str, Curve], name: str, running: Curve
) -> Verdict:
    return _halving_verdict(
        direction,
        others,
        running,
        _int(settings, "min_resource"),
        _int(settings, "reduction_factor"),
        _int(settings, "min_early_stopping_rate"),
    )


def bracket_of(trial: str, n_brackets: int, factor: int) -> int:
    """The bracket a trial belongs to: a stable hash of its name over optuna's bracket budgets."""
    n = factor ** (n_brackets - 1)
    budgets = [n + n / 2 * (n_brackets - 1 - b) for b in range(n_brackets)]
    point = zlib.crc32(trial.encode()) % math.ceil(sum(budgets))
    for bracket, budget in enumerate(budgets):
        point -= math.ceil(budget)
        if point < 0:
            return bracket
    return n_brackets - 1


def hyperband(
    settings: Mapping[str, Parsed], direction: Direction, others: Mapping[str, Curve], name: str, running: Curve
) -> Verdict:
    low, high, factor = (_int(settings, k) for k in ("min_resource", "max_resource", "reduction_factor"))
    n_brackets = math.floor(math.log(max(high, low) / low) / math.log(factor) + 1e-9) + 1
    bracket = bracket_of(name, n_brackets, factor)
    peers = {k: c for k, c in others.items() if bracket_of(k, n_brackets, factor) == bracket}
    verdict = _halving_verdict(direction, peers, running, low, factor, bracket)
    return Verdict(verdict.stop, f"bracket {bracket}: {verdict.reason}")
