"""``pbt``: Population Based Training (Katib's ``katib-v1beta1.md`` 3.10, bugs fixed), rebuilt from labels.

The population has ``n_population`` members, each a line of trials that continue one another's training
from checkpoints. Every trial is labelled with Katib's ``LABEL_GENERATION`` and (from generation 1 on)
``LABEL_PARENT``, the name of the trial whose checkpoint it starts from, plus our ``LABEL_MEMBER`` (which
line it belongs to). Each call, rebuilt from the history:

1. a member with no trial yet starts at generation 0 with random values (steps honoured);
2. otherwise, among members whose latest trial has finished, the one with the lowest generation goes
   next: a failed or value-less latest trial is run again as it was (Katib re-queues it); else its next
   trial is built. Members are ranked by their latest value; a member in the worst
   ``floor(n * truncation_threshold)`` **exploits**: its next trial starts from the checkpoint of a donor
   drawn among the best ``floor(n * truncation_threshold)`` (Katib copied the under-performer's own
   checkpoint: fixed) with the donor's values, explored. Every other member explores its own values
   from its own checkpoint. Explore perturbs each value (x0.8 or x1.2 on the step lattice, one step at
   least; the neighbouring element of a list) or, with ``resample_probability`` (Katib's check of it
   crashed: fixed), draws it afresh.
3. ``Wait`` when every member's latest trial is still running (so one will finish). PBT re-runs values
   from new checkpoints by design and never runs out: the experiment ends by ``maxTrialCount`` or goal.

Checkpoint contract for runners (the runner side is not in this package; ``katib_flows.trial._checkpoint``
implements it): a trial's checkpoint directory is ``checkpoint_dirs(root, experiment, trial, labels).own``
= ``<root>/<experiment>/<trial>``, where the runner's ``root`` is one folder per namespace. Before the
trial starts the runner creates it and, when ``.parent`` is set, copies the parent's directory into it
(the parent has finished, so its directory is complete). On Kubernetes ``root`` is the PBT volume and the
directory is mounted at the ``suggestion_trial_dir`` path, as Katib does, so templates that pass that
path (``--checkpoint=/var/log/katib/checkpoints/``) work unchanged; a local runner, which cannot mount,
replaces that path in the trial's arguments and environment values by the directory and also exports it
as ``KATIB_TRIAL_CHECKPOINT_DIR``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Decision, Parameter, Problem, Suggestion, Trial, Value, Wait
from katib_flows_suggestion._budget import has_value, int_label, is_active
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._space import canonical, choices, from_unit, lattice, snap

_PREFIX = "pbt.suggestion.katib.kubeflow.org/"
LABEL_GENERATION = _PREFIX + "generation"
LABEL_PARENT = _PREFIX + "parent"
LABEL_MEMBER = _PREFIX + "member"
_FACTORS = (0.8, 1.2)


@dataclass(frozen=True)
class CheckpointDirs:
    """Where a PBT trial keeps its checkpoint, and the directory to copy into it first (None: start empty)."""

    own: PurePath
    parent: PurePath | None


def checkpoint_dirs(root: str | PurePath, experiment: str, trial: str, labels: Mapping[str, str]) -> CheckpointDirs:
    """The checkpoint directories of ``trial``, from its labels; see the module docstring for the contract."""
    base = PurePath(root) / experiment
    parent = labels.get(LABEL_PARENT)
    return CheckpointDirs(base / trial, base / parent if parent else None)


def _values(problem: Problem, trial: Trial) -> dict[str, Value] | None:
    result: dict[str, Value] = {}
    for p in problem.parameters:
        value = canonical(p, trial.assignments.get(p.name))
        if value is None:
            return None
        result[p.name] = value
    return result


def _perturb(p: Parameter, value: Value, rng: np.random.Generator) -> Value:
    up = bool(rng.integers(2))
    if p.type in ("categorical", "discrete"):
        values = choices(p)
        index = values.index(str(value)) + (1 if up else -1)
        return values[min(max(index, 0), len(values) - 1)]
    moved = snap(p, float(value) * _FACTORS[up])
    grid = lattice(p)
    if moved == value and grid is not None:  # too small to move by a factor: move one step
        moved = snap(p, float(value) + (1 if up else -1) * float(grid.step))
    return moved


def _explore(
    problem: Problem, values: dict[str, Value], resample: float | None, rng: np.random.Generator
) -> dict[str, Value]:
    result = {}
    for p in problem.parameters:
        if resample is not None and float(rng.random()) < resample:
            result[p.name] = from_unit(p, float(rng.random()))
        else:
            result[p.name] = _perturb(p, values[p.name], rng)
    return result


class PopulationBasedTraining(Algorithm):
    """PBT with exploit/explore per Katib's settings; see the module docstring."""

    name = "pbt"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        population = int(values["n_population"] or 0)
        threshold = float(values["truncation_threshold"] or 0.0)
        resample = values.get("resample_probability")
        rng = generator(seed, len(history))
        lines: dict[int, list[Trial]] = {}
        for trial in history:
            member = int_label(trial, LABEL_MEMBER)
            if member is not None and 0 <= member < population and _values(problem, trial) is not None:
                lines.setdefault(member, []).append(trial)
        for member in range(population):
            if member not in lines:
                draws = rng.random(len(problem.parameters))
                point = {p.name: from_unit(p, float(u)) for p, u in zip(problem.parameters, draws, strict=True)}
                return Suggestion(point, labels={LABEL_GENERATION: "0", LABEL_MEMBER: str(member)})
        ready = [m for m in range(population) if not is_active(lines[m][-1])]
        if not ready:
            return Wait(f"all {population} members of the population are training")
        member = min(ready, key=lambda m: (int_label(lines[m][-1], LABEL_GENERATION) or 0, m))
        latest = lines[member][-1]
        own = _values(problem, latest)
        assert own is not None
        if not has_value(latest):
            return Suggestion(own, labels=dict(latest.labels))
        scores = self._scores(problem, lines)
        cut = math.floor(len(scores) * threshold)
        order = sorted(scores, key=lambda m: (-scores[m][0], m))
        generation = str((int_label(latest, LABEL_GENERATION) or 0) + 1)
        parent, start = latest, own
        if cut > 0 and member in order[-cut:]:
            donors = [m for m in order[:cut] if m != member]
            if donors:
                parent = scores[donors[int(rng.integers(len(donors)))]][1]
                start = _values(problem, parent) or own
        labels = {LABEL_GENERATION: generation, LABEL_PARENT: parent.name, LABEL_MEMBER: str(member)}
        return Suggestion(
            _explore(problem, start, resample if isinstance(resample, float) else None, rng), labels=labels
        )

    @staticmethod
    def _scores(problem: Problem, lines: Mapping[int, list[Trial]]) -> dict[int, tuple[float, Trial]]:
        """Each member's latest value, scaled so that larger is better, with the trial that reached it."""
        sign = -1.0 if problem.direction == "minimize" else 1.0
        scores = {}
        for member, trials in lines.items():
            valued = [t for t in trials if has_value(t)]
            if valued:
                scores[member] = (sign * (valued[-1].value or 0.0), valued[-1])
        return scores
