"""Model-based search must actually search: on a simple quadratic, 30 trials of TPE beat random search."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import katib_flows_suggestion as sg
import pytest

P = sg.Parameter
SPACE = (P("x", "double", -5.0, 5.0), P("y", "double", -5.0, 5.0), P("n", "int", 0, 20))


def _quadratic(a: dict[str, sg.Value]) -> float:
    x, y, n = float(a["x"]), float(a["y"]), float(a["n"])
    return (x - 1.3) ** 2 + (y + 2.1) ** 2 + 0.1 * (n - 7) ** 2


def _best(name: str, seed: int, loop: Callable[..., list[sg.Trial]], direction: str = "minimize") -> float:
    problem = sg.Problem(SPACE, "loss", direction)  # type: ignore[arg-type]
    sign = 1.0 if direction == "minimize" else -1.0
    history = loop(sg.get_algorithm(name), problem, seed, lambda a: sign * _quadratic(a), 30)
    return min(sign * t.value for t in history if t.value is not None)


@pytest.mark.parametrize("name", ["tpe", "multivariate-tpe"])
def test_tpe_beats_random_search(name: str, loop: Callable[..., list[sg.Trial]]) -> None:
    random_median = statistics.median(_best("random", seed, loop) for seed in range(5))
    tpe_bests = [_best(name, seed, loop) for seed in range(3)]
    assert statistics.median(tpe_bests) < random_median, (tpe_bests, random_median)


def test_tpe_maximizes_when_asked(loop: Callable[..., list[sg.Trial]]) -> None:
    random_median = statistics.median(_best("random", seed, loop, "maximize") for seed in range(5))
    assert _best("tpe", 0, loop, "maximize") < random_median


def test_tpe_with_katib_settings(loop: Callable[..., list[sg.Trial]]) -> None:
    """gamma and prior_weight go through optuna's deprecated arguments without leaking a warning."""
    settings = {"gamma": "0.25", "prior_weight": "1.0", "n_EI_candidates": "24", "n_startup_trials": "5"}
    problem = sg.Problem(SPACE, "loss", "minimize", settings=settings)
    history = loop(sg.get_algorithm("tpe"), problem, 0, _quadratic, 15)
    assert len(history) == 15


@pytest.mark.parametrize("name", ["tpe", "multivariate-tpe"])
def test_running_trials_count_as_evidence(name: str) -> None:
    """Constant liar: a trial running at a point changes the next suggestion; a failed one there does not count."""
    problem = sg.Problem(SPACE, "loss", "minimize", settings={"n_startup_trials": "3"})
    tpe = sg.get_algorithm(name)
    history = [sg.Trial(f"t{i}", {"x": 1.0 + i / 10, "y": -2.0, "n": 7}, "Succeeded", value=float(i)) for i in range(6)]
    favourite = tpe.suggest(problem, [*history, sg.Trial("k", history[0].assignments, "Killed")], 0)
    assert isinstance(favourite, sg.Suggestion)
    # Same history length, so same seed: a failed trial carries no information, a running one is avoided.
    with_failed = tpe.suggest(problem, [*history, sg.Trial("f", favourite.assignments, "Failed")], 0)
    with_running = tpe.suggest(problem, [*history, sg.Trial("r", favourite.assignments, "Running")], 0)
    assert with_failed == favourite
    assert with_running != favourite


def test_sobol_walks_one_sequence_across_calls(loop: Callable[..., list[sg.Trial]]) -> None:
    """Point i of the history is point i of one scrambled Sobol' sequence: 16 calls fill 16 strata exactly once."""
    problem = sg.Problem((P("u", "double", 0.0, 1.0), P("v", "double", 0.0, 1.0)), "loss", "minimize")
    history = loop(sg.get_algorithm("sobol"), problem, 4, lambda a: 0.0, 16)
    for name in ("u", "v"):
        strata = sorted(int(float(t.assignments[name]) * 16) for t in history)
        assert strata == list(range(16))
