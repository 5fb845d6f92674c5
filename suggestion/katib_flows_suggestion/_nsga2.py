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
(the cold path would select them again with it), and the study is rebuilt.

Lanes never wait: while a generation is incomplete, further trials join it (as in optuna). Failed and
value-less trials carry their label but do not count towards their generation.

Settings mirror NSGAIISampler's arguments: ``population_size`` (default 50, at least 2), ``mutation_prob``
(default 1 / number of parameters), ``crossover_prob`` (0.9), ``swapping_prob`` (0.5, uniform crossover)
and ``random_state`` (replaces the seed).
"""

from __future__ import annotations

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
from katib_flows_suggestion._optuna import ask, distribution, known_space
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


def next_generation(problem: Problem, history: Sequence[Trial], population_size: int) -> int:
    """The generation of the next trial: optuna's rule over the labelled, complete trials of ``history``."""
    top, count = 0, 0
    for trial in history:
        generation = generation_of(trial)
        if generation is None or generation < top or not _counts(trial, problem):
            continue
        if generation > top:
            top, count = generation, 0
        count += 1
    return top if count < population_size else top + 1


class _RebuiltNSGAII(NSGAIISampler):
    """NSGAIISampler for a study rebuilt from scratch, whose parent-population cache is empty.

    optuna selects generation g's parents from generation g-1 and g-1's parents, recursively, caching each
    answer in the study; a live study has them all cached, a rebuilt one recurses once per generation and
    a long run with a small population passes Python's recursion limit. Filling the cache from generation 1
    up keeps every selection one level deep; the parents are the same. Populations are indexed by generation
    once per call instead of scanned per generation. Parents are always handed out in trial order (see
    ``get_parent_population``).
    """

    _filling = False
    _populations: dict[int, list[FrozenTrial]] | None = None

    def __init__(self, space: dict[str, BaseDistribution], **options: Any) -> None:
        super().__init__(**options)
        self._space = space

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return known_space(study, self._space, (TrialState.COMPLETE,))  # optuna's intersection, without a scan

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        # optuna scans every trial for each generation asked; this sampler lives for one ask over a study that
        # gains no complete trial meanwhile, so one pass indexes them all.
        if self._populations is None:
            self._populations = {}
            key = self._get_generation_key()
            for trial in study._get_trials(deepcopy=False, states=[TrialState.COMPLETE], use_cache=True):
                self._populations.setdefault(trial.system_attrs.get(key, -1), []).append(trial)
        return list(self._populations.get(generation, []))

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        if not self._filling:  # the outer call fills the cache; the selections it triggers find it filled
            self._filling = True
            try:
                cached = study._storage.get_study_system_attrs(study._study_id)  # a kept study (_warm) has most
                for earlier in range(1, generation):
                    if _PARENTS + str(earlier) not in cached:
                        super().get_parent_population(study, earlier)
            finally:
                self._filling = False
        # In trial order, as optuna hands back a cached selection: the first ask of a generation would see them
        # in selection order and the rest in trial order, and a kept study (``_warm``) sees only cached ones.
        return sorted(super().get_parent_population(study, generation), key=lambda trial: trial.number)


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


def _warm_study() -> WarmStudy:
    return WarmStudy(attrs=_attrs, stale=_stale)


class NSGA2(Algorithm):
    """NSGA-II over optuna's NSGAIISampler; see the module docstring for the settings."""

    name = "nsga2"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        sampler, seed, decide = self._prepare(problem, history, seed)
        return decide(ask(problem, history, sampler, attrs=_attrs))

    def suggest_cached(self, problem: Problem, history: Sequence[Trial], seed: int, cache: SuggestionCache) -> Decision:
        """``suggest``'s decision from a study kept in ``cache`` (``_warm``), whose parent populations stay
        selected between calls as in a live optuna study, until a late trial joins a selected generation."""
        sampler, seed, decide = self._prepare(problem, history, seed)
        return cache.kept(self.name, _warm_study, WarmStudy).suggest(problem, history, sampler, decide)

    def _prepare(
        self, problem: Problem, history: Sequence[Trial], seed: int
    ) -> tuple[_RebuiltNSGAII, int, Callable[[dict[str, Value]], Decision]]:
        """This call's sampler, the experiment's seed, and what turns the sampler's point into the decision."""
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        population = values.get("population_size")
        population_size = population if isinstance(population, int) else DEFAULT_POPULATION_SIZE
        options: dict[str, Any] = {"population_size": population_size, "seed": derive(seed, len(history))}
        for name in ("mutation_prob", "crossover_prob", "swapping_prob"):
            if values.get(name) is not None:
                options[name] = values[name]
        labels = {LABEL_GENERATION: str(next_generation(problem, history, population_size))}

        def decide(point: dict[str, Value]) -> Decision:
            return fresh(problem.parameters, history, seed, point, wrap=lambda a: Suggestion(a, labels=labels))

        space = {p.name: distribution(p) for p in problem.parameters}
        return _RebuiltNSGAII(space, **options), seed, decide
