"""Several objectives: each trial's value per objective, and the Pareto front of an experiment.

A multi-objective experiment (``objective.additionalObjectives``) has no single best trial. Katib's status
keeps ``currentOptimalTrial`` (the best on the first objective, so Katib-shaped readers still work) and the
CLI's ``best``, the DSL's ``Result.pareto_front`` and the report show the front computed here. Values come
from the trial's stored observation (min/max/latest per metric) through each metric's strategy
(``_decide.trial_values``), exactly as ``finish_trial`` computes the first objective's value, so nothing
more is stored per trial. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from katib_flows.engine._decide import objectives, trial_values
from katib_flows.spec import Experiment
from katib_flows.store import TrialRecord, TrialStatus


def non_dominated(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Indices (ascending) of the points no other point dominates: at least as good on every objective and
    better on one. Equal points do not dominate each other.

    Sorted best-first lexicographically, a point can only be dominated by one before it, and if anything
    dominates it a point of the front does; so each point is compared with the front found so far:
    O(n log n + n * front) rather than O(n^2).
    """
    signed = [tuple(-v if up else v for v, up in zip(point, maximize, strict=True)) for point in points]
    order = sorted(range(len(signed)), key=lambda i: signed[i])
    front: list[int] = []
    for i in order:
        a = signed[i]
        if not any(_dominates(signed[j], a) for j in front):
            front.append(i)
    return sorted(front)


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether a dominates b, both in minimise-everything form."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def pareto_front(experiment: Experiment, trials: Iterable[TrialRecord]) -> list[tuple[TrialRecord, tuple[float, ...]]]:
    """The Succeeded trials no other Succeeded trial dominates, with their values, best on the first
    objective first (creation order breaks ties).

    Early-stopped trials are left out: their values come from a shortened run, and a cheap objective (time,
    size) would let them dominate trials that ran to the end. With one objective this is the best trial(s).
    """
    scored = []
    for trial in trials:
        if trial.status is not TrialStatus.SUCCEEDED:
            continue
        values = trial_values(experiment, trial)
        if values is not None:
            scored.append((trial, values))
    maximize = [up for _, up in objectives(experiment)]
    front = [scored[i] for i in non_dominated([v for _, v in scored], maximize)]
    first = -1.0 if maximize[0] else 1.0
    return sorted(front, key=lambda pair: (first * pair[1][0], pair[0].seq))
