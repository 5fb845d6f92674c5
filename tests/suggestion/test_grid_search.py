"""Grid search: Katib's value lists, exact decimals, every combination once, exhaustion, and cost on huge grids."""

from __future__ import annotations

import itertools
import time

import katib_flows_suggestion as sg
import pytest

P = sg.Parameter
SMALL = (
    P("n", "int", 1, 3),
    P("kind", "categorical", values=("a", "b")),
    P("x", "double", 0.1, 0.3, 0.1),
)


def _problem(*parameters: sg.Parameter, **kwargs: object) -> sg.Problem:
    return sg.Problem(tuple(parameters), "loss", "minimize", **kwargs)  # type: ignore[arg-type]


def _assignments(decisions: list[sg.Decision]) -> list[dict[str, sg.Value]]:
    return [d.assignments for d in decisions if isinstance(d, sg.Suggestion)]


def _run(problem: sg.Problem, calls: int, seed: int = 0, status: str = "Succeeded") -> list[sg.Decision]:
    grid = sg.get_algorithm("grid")
    history: list[sg.Trial] = []
    decisions = []
    for i in range(calls):
        decision = grid.suggest(problem, history, seed)
        decisions.append(decision)
        if isinstance(decision, sg.Suggestion):
            history.append(sg.Trial(f"t{i}", decision.assignments, status, value=1.0))
    return decisions


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Running", "MetricsUnavailable"])
def test_every_combination_once_then_exhausted(status: str) -> None:
    decisions = _run(_problem(*SMALL, max_trial_count=25), 21, status=status)
    suggested = [tuple(d.assignments.values()) for d in decisions[:18] if isinstance(d, sg.Suggestion)]
    assert sorted(suggested) == sorted(itertools.product([1, 2, 3], ["a", "b"], [0.1, 0.2, 0.3]))
    assert all(isinstance(d, sg.Exhausted) for d in decisions[18:])


def test_values_follow_katib_with_exact_decimals() -> None:
    problem = _problem(
        P("x", "double", 0.0, 1.0, 0.1), P("n", "int", 16, 128, 16), P("d", "discrete", values=("1", "2"))
    )
    suggested = _assignments(_run(problem, 11 * 8 * 2))
    values = {name: sorted({a[name] for a in suggested}, key=float) for name in ("x", "n", "d")}
    assert values["x"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert values["n"] == [16, 32, 48, 64, 80, 96, 112, 128]
    assert values["d"] == ["1", "2"]


def test_grid_size() -> None:
    assert sg.grid_size(_problem(*SMALL)) == 18
    assert sg.grid_size(_problem(P("x", "double", 0.0, 1.0, 0.3))) == 4  # 0, .3, .6, .9: max is not on the step
    assert sg.grid_size(_problem(P("n", "int", 1, 10, 4))) == 3  # range(1, 11, 4)
    assert sg.grid_size(_problem(P("x", "double", 0.0, 1.0), P("n", "int", 1, 3))) is None


def test_order_is_shuffled_by_seed_and_random_state_wins() -> None:
    problem = _problem(P("n", "int", 0, 99))
    orders = [[a["n"] for a in _assignments(_run(problem, 10, seed=seed))] for seed in (1, 2)]
    assert orders[0] != orders[1]
    assert orders[0] != sorted(orders[0])
    pinned = _problem(P("n", "int", 0, 99), settings={"random_state": "5"})
    assert _assignments(_run(pinned, 5, seed=1)) == _assignments(_run(pinned, 5, seed=2))


def test_history_values_are_compared_after_normalising_types() -> None:
    problem = _problem(P("x", "double", 0.1, 0.3, 0.1), P("n", "int", 1, 2))
    history = [
        sg.Trial("a", {"x": "0.1", "n": "1"}, "Succeeded", 1.0),
        sg.Trial("b", {"x": 0.30000000000000004, "n": 1.0}, "Running"),
        sg.Trial("c", {"x": 0.2, "n": 1}, "Failed"),
        sg.Trial("d", {"x": 0.1, "n": True}, "Failed"),  # a bool is not the int 1
    ]
    grid = sg.get_algorithm("grid")
    remaining = []
    for _ in range(4):
        decision = grid.suggest(problem, history, 0)
        if isinstance(decision, sg.Exhausted):
            break
        assert isinstance(decision, sg.Suggestion)
        remaining.append((decision.assignments["x"], decision.assignments["n"]))
        history.append(sg.Trial("t", decision.assignments, "Succeeded", 1.0))
    assert sorted(remaining) == [(0.1, 2), (0.2, 2), (0.3, 2)]


def test_an_empty_list_is_an_empty_grid() -> None:
    decision = sg.get_algorithm("grid").suggest(_problem(P("c", "categorical", values=())), [], 0)
    assert isinstance(decision, sg.Exhausted)


def test_huge_grid_costs_the_history_not_the_grid() -> None:
    problem = _problem(*(P(f"p{i}", "int", 0, 99) for i in range(10)))  # 10**20 combinations
    assert sg.grid_size(problem) == 10**20
    grid = sg.get_algorithm("grid")
    history = [
        sg.Trial(f"t{i}", grid.suggest(problem, [], i).assignments, "Succeeded", 1.0)  # type: ignore[union-attr]
        for i in range(300)
    ]
    started = time.perf_counter()
    decision = grid.suggest(problem, history, 0)
    assert time.perf_counter() - started < 0.5
    assert isinstance(decision, sg.Suggestion)
    assert decision.assignments not in [t.assignments for t in history]


def test_walks_past_a_long_prefix_of_used_positions() -> None:
    """The engine's usual history: the first k positions of the order are taken; the next one comes back."""
    problem = _problem(P("a", "int", 0, 49), P("b", "int", 0, 49))
    decisions = _run(problem, 400, seed=3)
    suggested = [tuple(d.assignments.values()) for d in decisions if isinstance(d, sg.Suggestion)]
    assert len(suggested) == len(set(suggested)) == 400
