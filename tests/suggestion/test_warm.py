"""The warm path (a ``SuggestionCache`` kept between calls) gives the cold path's decisions, and rebuilds on doubt.

Every test asks both paths the same question (problem, history, seed) and compares the decisions; the
long runs also check that the warm path really stayed warm (one build), so agreement is not just two
rebuilds, and the invalidation cases check that a doubtful history was noticed (a second build).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import katib_flows_suggestion as sg
import pytest
from katib_flows_suggestion._cmaes import _Warm as WarmReplay
from katib_flows_suggestion._nsga2 import _OPTUNA_GENERATION, _Generations, _WarmNSGA2
from katib_flows_suggestion._warm import WarmStudy
from optuna.trial import TrialState

P = sg.Parameter
#: Steps, log scales and lists, so answers are snapped and the asked trial's params must be rewritten.
MIXED = (
    P("layers", "int", 1, 5),
    P("units", "int", 16, 128, 16),
    P("dropout", "double", 0.0, 0.5, 0.1),
    P("lr", "double", 0.001, 0.1, 0.001, distribution="logUniform"),
    P("decay", "double", 1e-6, 1e-2, distribution="logUniform"),
    P("optimizer", "categorical", values=("sgd", "adam", "rmsprop")),
    P("batch", "discrete", values=("16", "32", "64")),
)
WARM = ["tpe", "multivariate-tpe", "motpe", "cmaes"]
SETTINGS = {"n_startup_trials": "4"}  # model-based from the fifth finished trial, so most calls are TPE's
FINISHED = ["Succeeded"] * 5 + ["EarlyStopped", "Failed", "MetricsUnavailable", "Killed"]


def _value(a: dict[str, sg.Value]) -> float:
    return float(a["dropout"]) + 0.1 * int(a["layers"]) + (a["optimizer"] != "adam") + abs(int(a["units"]) - 64) / 64


def _builds(cache: sg.SuggestionCache, name: str) -> int:
    if name == "cmaes":
        return cache.kept(name, WarmReplay, WarmReplay).rebuilds
    return cache.kept(name, WarmStudy, WarmStudy).rebuilds


def _both(
    name: str, problem: sg.Problem, history: list[sg.Trial], cache: sg.SuggestionCache, seed: int = 7
) -> sg.Decision:
    algorithm = sg.get_algorithm(name)
    warm = cache.suggest(algorithm, problem, history, seed)
    assert warm == algorithm.suggest(problem, history, seed), len(history)
    return warm


def _finish_some(history: list[sg.Trial], rng: random.Random, value: Callable[[sg.Trial], float | None]) -> None:
    """Finish a random choice of the running trials, in no particular order, some of them failed."""
    for i, trial in enumerate(history):
        if trial.status in sg.ACTIVE and rng.random() < 0.35:
            status = rng.choice(FINISHED)
            done = value(trial) if status in sg.FINISHED_WITH_VALUE else None
            history[i] = sg.Trial(trial.name, trial.assignments, status, done, labels=trial.labels)


@pytest.mark.parametrize("name", WARM)
def test_sixty_suggestions_agree_with_trials_finishing_out_of_order(name: str) -> None:
    settings = {"restart_strategy": "bipop"} if name == "cmaes" else SETTINGS
    problem = sg.Problem(MIXED, "loss", "minimize", settings=settings)
    cache, rng, history = sg.SuggestionCache(), random.Random(name), []
    for i in range(60):
        decision = _both(name, problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        status = rng.choice(["Created", "Running"])
        history.append(sg.Trial(f"t{i}", decision.assignments, status, labels=decision.labels))
        _finish_some(history, rng, lambda t: _value(dict(t.assignments)))
    if name == "cmaes":  # a late finisher placed before the told trials of a told generation forces a replay
        assert 1 < _builds(cache, name) <= 6
    else:
        assert _builds(cache, name) == 1
    assert sum(t.status == "Succeeded" for t in history) > 20


@pytest.mark.parametrize("settings", [{}, {"restart_strategy": "ipop", "sigma": "0.05"}])
def test_cmaes_told_generation_by_generation_stays_warm(settings: dict[str, str]) -> None:
    problem = sg.Problem(MIXED[:5], "loss", "maximize", settings=settings)
    cache, history = sg.SuggestionCache(), []
    for i in range(80):
        decision = _both("cmaes", problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        value = _value({"optimizer": "adam", **decision.assignments})
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value, labels=decision.labels))
    assert int(history[-1].labels["cmaes.suggestion.katib.kubeflow.org/generation"]) >= 9
    assert _builds(cache, "cmaes") == 1


def test_trials_of_other_processes_after_ours_are_added_without_a_rebuild() -> None:
    problem = sg.Problem(MIXED, "loss", "maximize", settings=SETTINGS)
    cache, rng, history = sg.SuggestionCache(), random.Random(3), []
    other = sg.get_algorithm("random")
    for i in range(30):
        decision = _both("tpe", problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Running"))
        if i % 3 == 0:  # another process claimed a trial right after ours, and one outside the space
            extra = other.suggest(sg.Problem(MIXED, "loss", "maximize"), history, i)
            assert isinstance(extra, sg.Suggestion)
            history.append(sg.Trial(f"o{i}", extra.assignments, "Succeeded", rng.random()))
            history.append(sg.Trial(f"x{i}", {**extra.assignments, "layers": 99}, "Succeeded", -1.0))
        _finish_some(history, rng, lambda t: rng.random())
    assert _builds(cache, "tpe") == 1


def test_multi_objective_histories_agree() -> None:
    problem = sg.Problem(MIXED, "loss", "minimize", settings=SETTINGS, additional_objectives=(("cost", "maximize"),))
    cache, rng, history = sg.SuggestionCache(), random.Random(5), []
    for i in range(30):
        decision = _both("motpe", problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Running"))
        for j, trial in enumerate(history):
            if trial.status == "Running" and rng.random() < 0.4:
                values = (_value(dict(trial.assignments)), rng.random())
                history[j] = sg.Trial(trial.name, trial.assignments, "Succeeded", values[0], values=values)
    assert _builds(cache, "motpe") == 1


def test_a_used_up_finite_space_ends_alike() -> None:
    """Repeats are replaced by unused points (the asked trial is bound to the replacement), then Exhausted."""
    space = (P("a", "int", 1, 4), P("b", "categorical", values=("x", "y", "z")))
    problem = sg.Problem(space, "loss", "minimize", settings={"n_startup_trials": "2"})
    cache, history = sg.SuggestionCache(), []
    for i in range(12):
        decision = _both("multivariate-tpe", problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", float(i % 5)))
    assert len({(t.assignments["a"], t.assignments["b"]) for t in history}) == 12
    assert isinstance(_both("multivariate-tpe", problem, history, cache), sg.Exhausted)
    assert isinstance(_both("multivariate-tpe", problem, history, cache), sg.Exhausted)


def _warmed(name: str = "tpe") -> tuple[sg.Problem, list[sg.Trial], sg.SuggestionCache]:
    """A cache that has seen 12 trials (3 running) and answered a 13th, appended Running as the engine would."""
    problem = sg.Problem(MIXED, "loss", "minimize", settings=SETTINGS)
    cache, history = sg.SuggestionCache(), []
    for i in range(13):
        decision = _both(name, problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        done = i < 10
        value = _value(decision.assignments) if done else None
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded" if done else "Running", value))
    assert _builds(cache, name) == 1
    return problem, history, cache


def _replace(history: list[sg.Trial], index: int, **changes: object) -> list[sg.Trial]:
    old = history[index]
    fields = {"name": old.name, "assignments": old.assignments, "status": old.status, "value": old.value, **changes}
    return [*history[:index], sg.Trial(**fields), *history[index + 1 :]]  # type: ignore[arg-type]


BATCH = P("batch", "discrete", values=("16", "32"))
DOUBTS: dict[str, Callable[[sg.Problem, list[sg.Trial]], tuple[sg.Problem, list[sg.Trial]]]] = {
    "shorter": lambda p, h: (p, h[:-2]),
    "same length (the suggestion never became a trial)": lambda p, h: (p, h[:-1]),
    "reordered": lambda p, h: (p, [h[1], h[0], *h[2:]]),
    "renamed": lambda p, h: (p, _replace(h, 4, name="other")),
    "params changed": lambda p, h: (p, _replace(h, 4, assignments={**h[4].assignments, "layers": 5})),
    "finished value changed": lambda p, h: (p, _replace(h, 2, value=123.0)),
    "finished trial running again": lambda p, h: (p, _replace(h, 2, status="Running", value=None)),
    "another process's trial before ours": lambda p, h: (p, [*h[:-1], _replace(h, 0, name="o")[0], h[-1]]),
    "our trial with other params": lambda p, h: (p, _replace(h, 12, assignments=h[0].assignments)),
    "space changed": lambda p, h: (sg.Problem((*MIXED[:-1], BATCH), "loss", "minimize", settings=SETTINGS), h),
    "settings changed": lambda p, h: (sg.Problem(MIXED, "loss", "minimize", settings={"n_ei_candidates": "8"}), h),
    "direction changed": lambda p, h: (sg.Problem(MIXED, "loss", "maximize", settings=SETTINGS), h),
}


@pytest.mark.parametrize("doubt", list(DOUBTS))
def test_any_doubt_rebuilds_and_still_agrees(doubt: str) -> None:
    problem, history, cache = _warmed()
    problem, history = DOUBTS[doubt](problem, history)
    decision = _both("tpe", problem, history, cache)
    assert _builds(cache, "tpe") == 2
    assert isinstance(decision, sg.Suggestion)
    _both("tpe", problem, [*history, sg.Trial("next", decision.assignments, "Running")], cache)
    assert _builds(cache, "tpe") == 2  # warm again from there


def test_running_trials_finishing_are_applied_without_a_rebuild() -> None:
    problem, history, cache = _warmed()
    history = _replace(history, 10, status="Succeeded", value=0.01)  # RUNNING -> COMPLETE
    history = _replace(history, 11, status="Failed")  # RUNNING -> FAIL
    history = _replace(history, 12, status="Created")  # still RUNNING for optuna
    history = [*history, sg.Trial("late", history[0].assignments, "Succeeded", float("nan"))]  # FAIL: not finite
    _both("tpe", problem, history, cache)
    assert _builds(cache, "tpe") == 1


def test_the_cache_is_kept_per_algorithm_and_can_be_cleared() -> None:
    problem, history, cache = _warmed("tpe")
    _both("multivariate-tpe", problem, history, cache)
    assert _builds(cache, "multivariate-tpe") == 1
    cache.clear()
    _both("tpe", problem, history, cache)
    assert _builds(cache, "tpe") == 1  # a new study, built once


@pytest.mark.parametrize("name", ["random", "cmaes", "sobol", "bayesianoptimization"])
def test_algorithms_without_warm_state_ignore_the_cache(name: str) -> None:
    problem = sg.Problem(MIXED, "loss", "minimize")
    cache, history = sg.SuggestionCache(), []
    for i in range(12):
        decision = _both(name, problem, history, cache)
        assert isinstance(decision, sg.Suggestion)
        value = _value(decision.assignments)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value, labels=decision.labels))


NSGA2 = sg.Problem(
    MIXED, "loss", "minimize", settings={"population_size": "4"}, additional_objectives=(("cost", "minimize"),)
)


def _two(a: dict[str, sg.Value]) -> tuple[float, float]:
    return _value(a), float(a["layers"]) + float(a["dropout"])


def test_nsga2_generation_by_generation_stays_warm() -> None:
    """Parent populations stay selected in the kept study, as in a live one: one build over 15 generations."""
    cache, history = sg.SuggestionCache(), []
    for i in range(60):
        decision = _both("nsga2", NSGA2, history, cache)
        assert isinstance(decision, sg.Suggestion)
        values = _two(decision.assignments)
        history.append(
            sg.Trial(f"t{i}", decision.assignments, "Succeeded", values[0], labels=decision.labels, values=values)
        )
    assert int(history[-1].labels["nsga2.suggestion.katib.kubeflow.org/generation"]) >= 12
    assert _builds(cache, "nsga2") == 1


def test_nsga2_late_trials_of_a_selected_generation_rebuild_and_agree() -> None:
    cache, rng, history = sg.SuggestionCache(), random.Random(8), []
    for i in range(60):
        decision = _both("nsga2", NSGA2, history, cache)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Running", labels=decision.labels))
        for j, trial in enumerate(history):
            if trial.status == "Running" and rng.random() < 0.4:
                values = _two(dict(trial.assignments))
                history[j] = sg.Trial(
                    trial.name, trial.assignments, "Succeeded", values[0], labels=trial.labels, values=values
                )
    assert 1 < _builds(cache, "nsga2") < 40


def test_nsga2_suggestion_stored_without_its_generation_label_rebuilds() -> None:
    cache, history = sg.SuggestionCache(), []
    for i in range(10):
        decision = _both("nsga2", NSGA2, history, cache)
        assert isinstance(decision, sg.Suggestion)
        values = _two(decision.assignments)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", values[0], values=values))
    assert _builds(cache, "nsga2") == 10  # the kept study held a generation the history does not say


def _warm_nsga2(cache: sg.SuggestionCache) -> _WarmNSGA2:
    return cache.kept("nsga2", _WarmNSGA2, _WarmNSGA2)


def _finish_two(history: list[sg.Trial], rng: random.Random, share: float) -> None:
    """Finish a random choice of the running trials in no particular order: most with both values, some
    failed or without values (they keep their label but do not count towards their generation)."""
    for j, trial in enumerate(history):
        if trial.status in sg.ACTIVE and rng.random() < share:
            status = rng.choice(FINISHED)
            values = _two(dict(trial.assignments)) if status in sg.FINISHED_WITH_VALUE else None
            value = values[0] if values is not None else None
            history[j] = sg.Trial(trial.name, trial.assignments, status, value, labels=trial.labels, values=values)


def _assert_held_matches_the_study(warm: _WarmNSGA2) -> None:
    """The kept index holds what a pass over the kept study finds: each generation's complete trials in
    trial order (optuna's get_population), and optuna's generation rule over them."""
    populations: dict[int, list[int]] = {}
    rule = _Generations()
    for trial in warm._storage.get_all_trials(warm._study_id, deepcopy=False, states=(TrialState.COMPLETE,)):
        generation = trial.system_attrs.get(_OPTUNA_GENERATION)
        populations.setdefault(-1 if generation is None else generation, []).append(trial._trial_id)
        rule.add(generation)
    assert warm.held.populations == populations
    assert (warm.held.generations.top, warm.held.generations.count) == (rule.top, rule.count)


@pytest.mark.parametrize(("population", "share"), [(2, 0.5), (4, 0.3), (6, 0.15)])
def test_nsga2_growing_histories_finishing_out_of_order_agree_and_stay_warm(population: int, share: float) -> None:
    """The indexes the warm path keeps (next generation from the labels, optuna's generation, populations)
    give the cold path's suggestion at every length, while trials finish late, fail, or run for a while."""
    problem = sg.Problem(
        MIXED,
        "loss",
        "minimize",
        settings={"population_size": str(population)},
        additional_objectives=(("cost", "minimize"),),
    )
    cache, rng, history = sg.SuggestionCache(), random.Random(population), []
    for i in range(90):
        decision = _both("nsga2", problem, history, cache, seed=population)
        assert isinstance(decision, sg.Suggestion)
        status = rng.choice(["Created", "Running"])
        history.append(sg.Trial(f"t{i}", decision.assignments, status, labels=decision.labels))
        _finish_two(history, rng, share)
        _assert_held_matches_the_study(_warm_nsga2(cache))
    warm = _warm_nsga2(cache)
    assert warm.labelled.top >= 5  # the run left its first generations
    assert 1 <= warm.rebuilds < 45  # warm for most calls, though a late trial of a selected generation rebuilds


def test_nsga2_trials_of_other_processes_outside_the_space_agree() -> None:
    """A labelled trial outside the space counts for our labels (every history trial) but is not in the study
    (optuna's generation): the warm path keeps both counts apart as the cold path computes them."""
    cache, rng, history = sg.SuggestionCache(), random.Random(11), []
    for i in range(40):
        decision = _both("nsga2", NSGA2, history, cache)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Running", labels=decision.labels))
        if i % 4 == 1:  # finished at once, in the generation of the suggestion before it, outside the space
            outside = {**decision.assignments, "layers": 99}
            values = (rng.random(), rng.random())
            history.append(sg.Trial(f"x{i}", outside, "Succeeded", values[0], labels=decision.labels, values=values))
        _finish_two(history, rng, 0.5)
    assert _builds(cache, "nsga2") < 20


def test_nsga2_a_counted_trial_outside_the_space_that_stops_counting_rebuilds() -> None:
    cache, history = sg.SuggestionCache(), []
    for i in range(6):
        decision = _both("nsga2", NSGA2, history, cache)
        assert isinstance(decision, sg.Suggestion)
        values = _two(decision.assignments)
        history.append(
            sg.Trial(f"t{i}", decision.assignments, "Succeeded", values[0], labels=decision.labels, values=values)
        )
        if i == 1:
            outside = {**decision.assignments, "layers": 99}
            history.append(sg.Trial("x", outside, "Succeeded", 0.0, labels=decision.labels, values=(0.0, 0.0)))
    assert _builds(cache, "nsga2") == 1
    history = [sg.Trial("x", t.assignments, "Failed", labels=t.labels) if t.name == "x" else t for t in history]
    decision = _both("nsga2", NSGA2, history, cache)
    assert _builds(cache, "nsga2") == 2
    assert isinstance(decision, sg.Suggestion)
