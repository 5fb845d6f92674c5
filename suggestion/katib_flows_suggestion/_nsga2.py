"""``nsga2``: NSGA-II (Deb et al. 2002), optuna's NSGAIISampler rebuilt from the history on every call.

An extension for experiments with several objectives (it also runs with one). NSGA-II is generational:
each trial belongs to a generation, and the children of generation g are bred from the elite of
generations before it (non-dominated sorting, then crowding distance). Optuna keeps a trial's generation
in a system attribute that a live study remembers; our stateless rebuild would lose it, every trial would
look like generation 0 and NSGA-II would never leave its random first population. So, as ``cmaes`` does,
each suggestion carries its generation as a label (``LABEL_GENERATION``) and the rebuild hands the labels
back to optuna as that system attribute (``_optuna.ask(..., attrs=...)``).

The generation of a new trial follows optuna's rule (``BaseGASampler.get_trial_generation``): the
highest generation among trials that finished with every objective's value, or the next one once that
generation holds ``population_size`` such trials. We compute it from the labels and optuna computes it
from the attributes, so the two agree (a test says so). Parent populations, which a live study caches in
study attributes, are selected again on every call, from the first generation up (``_RebuiltNSGAII``);
the selection is deterministic, so the parents are the ones a live study would hold. What differs from a
live optuna study is the random stream only: each call seeds the sampler from (seed, len(history)), so
any process suggests the same point. Through a ``SuggestionCache`` the study is kept between calls
(``_warm``) with its selected parent populations, as a live study keeps them, and the decisions are the
same: a trial that completes in a generation whose children's parents are already selected is a doubt
(the cold path would select them again with it), and the study is rebuilt. The kept study also keeps, trial
by trial, what the cold path finds by passing over the whole history (``_WarmNSGA2``): the next generation
from the labels, optuna's generation rule over the study's complete trials and each generation's population,
so a warm call costs what optuna's own warm ask costs plus one comparison of the history with what it holds.

Lanes never wait: while a generation is incomplete, further trials join it (as in optuna). Failed and
value-less trials carry their label but do not count towards their generation.

Settings mirror NSGAIISampler's arguments: ``population_size`` (default 50, at least 2), ``mutation_prob``
(default 1 / number of parameters), ``crossover_prob`` (0.9), ``swapping_prob`` (0.5, uniform crossover)
and ``random_state`` (replaces the seed).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from optuna import Study
from optuna.distributions import BaseDistribution
from optuna.samplers import NSGAIISampler
from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState

from katib_flows_suggestion._algorithm import Algorithm, SuggestionCache
from katib_flows_suggestion._base import FINISHED_WITH_VALUE, Decision, Problem, Suggestion, Trial, Value
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._optuna import ask, distribution, known_space, searched_space
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._seed import derive
from katib_flows_suggestion._warm import WarmStudy

LABEL_GENERATION = "nsga2.suggestion.katib.kubeflow.org/generation"
DEFAULT_POPULATION_SIZE = 50


def generation_of(trial: Trial) -> int | None:
    """The generation a trial was suggested in, from its label; None for a trial without one."""
    text = trial.labels.get(LABEL_GENERATION)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _counts(trial: Trial, problem: Problem) -> bool:
    """Whether the trial counts towards its generation: finished with a finite value for every objective."""
    values = trial.objective_values(problem)
    return trial.status in FINISHED_WITH_VALUE and values is not None and all(math.isfinite(v) for v in values)


class _Generations:
    """optuna's rule for a new trial's generation, kept trial by trial: the highest generation among the
    complete trials seen, and how many of them it holds (the order they are seen in does not matter)."""

    __slots__ = ("count", "top")

    def __init__(self) -> None:
        self.top, self.count = 0, 0

    def clear(self) -> None:
        self.top, self.count = 0, 0

    def add(self, generation: int | None) -> None:
        """Count a complete trial of ``generation`` (None: a trial without one, which optuna leaves out)."""
        if generation is None or generation < self.top:
            return
        if generation > self.top:
            self.top, self.count = generation, 0
        self.count += 1

    def next(self, population_size: int) -> int:
        """The generation of a new trial: the top one, or the next once it holds ``population_size`` trials."""
        return self.top if self.count < population_size else self.top + 1


def next_generation(problem: Problem, history: Sequence[Trial], population_size: int) -> int:
    """The generation of the next trial: optuna's rule over the labelled, complete trials of ``history``."""
    generations = _Generations()
    for trial in history:
        generation = generation_of(trial)
        if generation is not None and generation >= generations.top and _counts(trial, problem):
            generations.add(generation)
    return generations.next(population_size)


class _Held:
    """What the complete trials of a kept study (``_WarmNSGA2``) say, kept trial by trial as they complete:
    optuna's generation rule over their generation attributes, and each generation's trial ids in order."""

    def __init__(self) -> None:
        self.generations = _Generations()
        self.populations: dict[int, list[int]] = {}  # -1 for trials without a generation, as optuna's default
        self.complete = 0

    def clear(self) -> None:
        self.generations.clear()
        self.populations.clear()
        self.complete = 0

    def add(self, generation: int | None, trial_id: int) -> None:
        self.generations.add(generation)
        bisect.insort(self.populations.setdefault(-1 if generation is None else generation, []), trial_id)
        self.complete += 1


class _RebuiltNSGAII(NSGAIISampler):
    """NSGAIISampler for a study rebuilt from scratch, whose parent-population cache is empty.

    optuna selects generation g's parents from generation g-1 and g-1's parents, recursively, caching each
    answer in the study; a live study has them all cached, a rebuilt one recurses once per generation and
    a long run with a small population passes Python's recursion limit. Filling the cache from generation 1
    up keeps every selection one level deep; the parents are the same. Populations are indexed by generation
    once per call instead of scanned per generation. Parents are always handed out in trial order (see
    ``get_parent_population``).

    With ``held`` (a kept study's index, ``_WarmNSGA2``) the sampler reads what it needs from it instead of
    passing over the study's trials: the new trial's generation (optuna's ``_sync_generation_cache``), the
    populations, the cached parents and whether a trial is complete yet (``infer_relative_search_space``).
    The index holds what those passes would find, so the answers are the same.
    """

    _filling = False
    _populations: dict[int, list[FrozenTrial]] | None = None

    def __init__(self, space: dict[str, BaseDistribution], held: _Held | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._space = space
        self._held = held

    def reseed(self, seed: int) -> None:
        """Be what ``_RebuiltNSGAII(..., seed=seed)`` would be: its two random states (its own, the random
        sampler's) seeded afresh; nothing else in it outlives an ask with ``held``. Seeding a random state
        takes microseconds where making one (seeded from the system's entropy first) takes a quarter of a
        millisecond, which was a fifth of a warm call."""
        self._rng.rng.seed(seed)
        self._random_sampler._rng.rng.seed(seed)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self._held is not None:
            return searched_space(self._space) if self._held.complete else {}
        return known_space(study, self._space, (TrialState.COMPLETE,))  # optuna's intersection, without a scan

    def get_trial_generation(self, study: Study, trial: FrozenTrial) -> int:
        if self._held is None or _OPTUNA_GENERATION in trial.system_attrs:
            return super().get_trial_generation(study, trial)
        assert self._population_size is not None
        generation = self._held.generations.next(self._population_size)
        study._storage.set_trial_system_attr(trial._trial_id, _OPTUNA_GENERATION, generation)
        return generation

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        if self._held is not None:
            return [study._storage.get_trial(i) for i in self._held.populations.get(generation, [])]
        # optuna scans every trial for each generation asked; this sampler lives for one ask over a study that
        # gains no complete trial meanwhile, so one pass indexes them all.
        if self._populations is None:
            self._populations = {}
            key = self._get_generation_key()
            for trial in study._get_trials(deepcopy=False, states=[TrialState.COMPLETE], use_cache=True):
                self._populations.setdefault(trial.system_attrs.get(key, -1), []).append(trial)
        return list(self._populations.get(generation, []))

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        cached = study._storage.get_study_system_attrs(study._study_id)  # a kept study (_warm) has most
        if not self._filling:  # the outer call fills the cache; the selections it triggers find it filled
            self._filling = True
            try:
                for earlier in range(1, generation):
                    if _PARENTS + str(earlier) not in cached:
                        super().get_parent_population(study, earlier)
            finally:
                self._filling = False
        ids = cached.get(_PARENTS + str(generation))
        if self._held is not None and ids is not None:  # optuna's answer without a pass over every trial
            parents = [study._storage.get_trial(i) for i in ids]
        else:
            parents = super().get_parent_population(study, generation)
        # In trial order, as optuna hands back a cached selection: the first ask of a generation would see them
        # in selection order and the rest in trial order, and a kept study (``_warm``) sees only cached ones.
        return sorted(parents, key=lambda trial: trial.number)


#: The system attribute in which the sampler looks for a trial's generation (optuna names it after the class).
_OPTUNA_GENERATION = _RebuiltNSGAII._get_generation_key()
#: The study attribute prefix under which optuna caches a generation's parent population.
_PARENTS = _RebuiltNSGAII._get_parent_cache_key_prefix()


def _attrs(trial: Trial) -> dict[str, Any]:
    generation = generation_of(trial)
    return {} if generation is None else {_OPTUNA_GENERATION: generation}


def _stale(storage: InMemoryStorage, study_id: int, trial: Trial) -> bool:
    """Whether ``trial``, complete now, joins a generation whose children's parents are already selected:
    the cold path would select them again with it, so a kept study must be rebuilt."""
    generation = generation_of(trial)
    return generation is not None and _PARENTS + str(generation + 1) in storage.get_study_system_attrs(study_id)


class _WarmNSGA2(WarmStudy):
    """A kept study (``_warm``) that also keeps, trial by trial, what the cold path finds by passing over the
    whole history on each call: the generation of the next suggestion from the labels (``next_generation``,
    every history trial) and what the sampler reads from the study's complete trials (``_Held``)."""

    def __init__(self) -> None:
        super().__init__(attrs=_attrs, stale=_stale)
        self.labelled = _Generations()
        self.held = _Held()
        self._counted: list[bool] = []  # per history trial: whether it counts towards its generation
        self._sampler: _RebuiltNSGAII | None = None
        self._sampler_made_with: tuple[dict[str, BaseDistribution], dict[str, Any]] | None = None

    def sampler(self, space: dict[str, BaseDistribution], options: dict[str, Any]) -> _RebuiltNSGAII:
        """``_RebuiltNSGAII(space, self.held, **options)``: the one kept from the last call, reseeded, when it
        was made with the same space and options but the seed."""
        made_with = (space, {name: value for name, value in options.items() if name != "seed"})
        if self._sampler is None or self._sampler_made_with != made_with:
            self._sampler, self._sampler_made_with = _RebuiltNSGAII(space, self.held, **options), made_with
        else:
            self._sampler.reseed(options["seed"])
        return self._sampler

    def _rebuild(self, problem: Problem, trials: list[Trial]) -> None:
        self.labelled.clear()
        self.held.clear()
        self._counted = []
        super()._rebuild(problem, trials)

    def _keep(self, trial: Trial, trial_id: int | None, state: tuple[TrialState, list[float] | None] | None) -> None:
        super()._keep(trial, trial_id, state)
        assert self._problem is not None
        counted = _counts(trial, self._problem)
        self._counted.append(counted)
        if counted:
            self._count(trial, trial_id)

    def _count(self, trial: Trial, trial_id: int | None) -> None:
        generation = generation_of(trial)
        self.labelled.add(generation)
        if trial_id is not None:  # in the study, complete (the same test as ``state_of``), with its label's attribute
            self.held.add(generation, trial_id)

    def _finish(self, index: int, trial: Trial) -> bool:
        before = self._counted[index]
        if not super()._finish(index, trial):
            return False
        assert self._problem is not None
        counted = _counts(trial, self._problem)
        if counted == before:
            return True
        if before:  # a trial outside the study no longer counts: a count never goes back, so rebuild
            return False
        self._counted[index] = True
        self._count(trial, self._ids[index])
        return True


class NSGA2(Algorithm):
    """NSGA-II over optuna's NSGAIISampler; see the module docstring for the settings."""

    name = "nsga2"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        sampler, decide = self._prepare(problem, history, seed, None)
        return decide(ask(problem, history, sampler, attrs=_attrs))

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision from a study kept in ``cache`` (``_warm``), whose parent populations stay
        selected between calls as in a live optuna study, until a late trial joins a selected generation; the
        indexes the cold path builds by passing over the history are kept there too, updated with new trials."""
        warm = cache.kept(self.name, _WarmNSGA2, _WarmNSGA2)
        sampler, decide = self._prepare(problem, history, seed, warm)
        return warm.suggest(problem, history, sampler, decide)

    def _prepare(
        self, problem: Problem, history: Sequence[Trial], seed: int, warm: _WarmNSGA2 | None
    ) -> tuple[_RebuiltNSGAII, Callable[[dict[str, Value]], Decision]]:
        """This call's sampler, and what turns the sampler's point into the decision. With ``warm``, both read
        its indexes, which are up to date with ``history`` by the time the sampler asks and ``decide`` runs."""
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        population = values.get("population_size")
        population_size = population if isinstance(population, int) else DEFAULT_POPULATION_SIZE
        options: dict[str, Any] = {"population_size": population_size, "seed": derive(seed, len(history))}
        for name in ("mutation_prob", "crossover_prob", "swapping_prob"):
            if values.get(name) is not None:
                options[name] = values[name]

        def decide(point: dict[str, Value]) -> Decision:
            generation = (
                warm.labelled.next(population_size)
                if warm is not None
                else next_generation(problem, history, population_size)
            )
            labels = {LABEL_GENERATION: str(generation)}
            return fresh(problem.parameters, history, seed, point, wrap=lambda a: Suggestion(a, labels=labels))

        space = {p.name: distribution(p) for p in problem.parameters}
        return (warm.sampler(space, options) if warm is not None else _RebuiltNSGAII(space, **options)), decide
