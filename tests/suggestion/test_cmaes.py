"""CMA-ES rebuilt by replay: generations advance only on full generations, restarts, sigma, and it searches."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import katib_flows_suggestion as sg
import numpy as np
import pytest
from katib_flows_suggestion._cmaes import LABEL_GENERATION, _replay
from katib_flows_suggestion._scale import UnitScale

P = sg.Parameter
SPACE = (P("x", "double", -5.0, 5.0), P("y", "double", -5.0, 5.0), P("n", "int", 0, 20))
POPSIZE = 7  # 4 + floor(3 ln 3)


def _quadratic(a: dict[str, sg.Value]) -> float:
    return (float(a["x"]) - 1.3) ** 2 + (float(a["y"]) + 2.1) ** 2 + 0.1 * (float(a["n"]) - 7) ** 2


def _run(problem: sg.Problem, n: int, status: Callable[[int], str] = lambda i: "Succeeded") -> list[sg.Trial]:
    cmaes = sg.get_algorithm("cmaes")
    history: list[sg.Trial] = []
    for i in range(n):
        decision = cmaes.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        s = status(i)
        value = _quadratic(decision.assignments) if s == "Succeeded" else None
        history.append(sg.Trial(f"t{i}", decision.assignments, s, value, labels=decision.labels))
    return history


def test_a_generation_is_told_once_it_holds_popsize_values() -> None:
    history = _run(sg.Problem(SPACE, "loss", "minimize"), 3 * POPSIZE + 1)
    generations = [int(t.labels[LABEL_GENERATION]) for t in history]
    assert generations == [0] * POPSIZE + [1] * POPSIZE + [2] * POPSIZE + [3]


def test_failed_trials_do_not_count_towards_their_generation() -> None:
    history = _run(sg.Problem(SPACE, "loss", "minimize"), 12, status=lambda i: "Failed" if i % 2 else "Succeeded")
    generations = [int(t.labels[LABEL_GENERATION]) for t in history]
    assert generations == [0] * 12  # 6 successes so far: generation 0 still needs one more


def test_running_trials_wait_for_their_values_but_lanes_keep_getting_points() -> None:
    history = _run(sg.Problem(SPACE, "loss", "minimize"), 2 * POPSIZE, status=lambda i: "Running")
    assert {t.labels[LABEL_GENERATION] for t in history} == {"0"}
    assert len({(t.assignments["x"], t.assignments["y"]) for t in history}) == 2 * POPSIZE


def test_replay_gives_the_optimizer_a_long_lived_one_would_hold() -> None:
    """Telling the same solutions to one CMA object, generation by generation, ends in the same mean."""
    problem = sg.Problem(SPACE, "loss", "minimize")
    history = _run(problem, 4 * POPSIZE)
    scale = UnitScale(SPACE)
    run, generation = _replay(scale, history, 0, 1 / 6, "none", maximize=False)
    assert generation == 4
    fresh_run, _ = _replay(scale, [], 0, 1 / 6, "none", maximize=False)
    for g in range(4):
        told = [t for t in history if t.labels[LABEL_GENERATION] == str(g)]
        solutions = []
        for t in told:
            x = scale.to_unit(t.assignments)
            assert x is not None and t.value is not None
            solutions.append((x, t.value))
        fresh_run.cma.tell(solutions)
    assert np.allclose(run.cma.mean, fresh_run.cma.mean)


def test_ipop_restarts_with_a_doubled_population_when_cma_converges() -> None:
    flat = sg.Problem(SPACE, "loss", "minimize", settings={"restart_strategy": "ipop"})
    cmaes = sg.get_algorithm("cmaes")
    history: list[sg.Trial] = []
    for i in range(250):
        decision = cmaes.suggest(flat, history, 0)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", 1.0, labels=decision.labels))
    run, _ = _replay(UnitScale(SPACE), history, 0, 1 / 6, "ipop", maximize=False)
    assert run.restarts >= 1
    assert run.cma.population_size == POPSIZE * 2**run.restarts
    without, _ = _replay(UnitScale(SPACE), history, 0, 1 / 6, "none", maximize=False)
    assert without.restarts == 0


def test_bipop_restarts_too() -> None:
    flat = sg.Problem(SPACE, "loss", "minimize", settings={"restart_strategy": "bipop"})
    history: list[sg.Trial] = []
    for i in range(250):
        decision = sg.get_algorithm("cmaes").suggest(flat, history, 0)
        assert isinstance(decision, sg.Suggestion)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", 1.0, labels=decision.labels))
    run, _ = _replay(UnitScale(SPACE), history, 0, 1 / 6, "bipop", maximize=False)
    assert run.restarts >= 1


def test_sigma_sets_the_spread_of_the_first_generation() -> None:
    def spread(sigma: str) -> float:
        problem = sg.Problem(SPACE, "loss", "minimize", settings={"sigma": sigma})
        return statistics.pstdev(float(t.assignments["x"]) for t in _run(problem, POPSIZE))

    assert spread("0.01") < 0.5 < spread("0.3")


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_cmaes_beats_random_search(direction: str, loop: Callable[..., list[sg.Trial]]) -> None:
    sign = 1.0 if direction == "minimize" else -1.0
    problem = sg.Problem(SPACE, "loss", direction)  # type: ignore[arg-type]

    def best(name: str, seed: int) -> float:
        history = loop(sg.get_algorithm(name), problem, seed, lambda a: sign * _quadratic(a), 60)
        return min(sign * (t.value or 0.0) for t in history)

    random_median = statistics.median(best("random", seed) for seed in range(5))
    assert statistics.median(best("cmaes", seed) for seed in range(3)) < random_median
