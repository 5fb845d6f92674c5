"""Hyperband runs every bracket and promotes the best; ASHA promotes as soon as a rung allows and keeps lanes busy."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import katib_flows_suggestion as sg
import pytest
from katib_flows_suggestion import _asha, _hyperband
from katib_flows_suggestion._asha import rung_budgets
from katib_flows_suggestion._hyperband import brackets, total_trials
from test_algorithm_contract import lane_loop

P = sg.Parameter
SPACE = (
    P("lr", "double", 1e-4, 1e-1, distribution="logUniform"),
    P("dropout", "double", 0.0, 0.5, 0.1),
    P("optimizer", "categorical", values=("sgd", "adam")),
    P("epochs", "int", 1, 9),
)
HB = {"resource_name": "epochs", "r_l": "9", "eta": "3"}


def _problem(name: str, settings: dict[str, str], lanes: int = 9, **kwargs: object) -> sg.Problem:
    options: dict[str, object] = {"direction": "minimize", **kwargs}
    return sg.Problem(SPACE, "loss", settings=settings, parallel_trial_count=lanes, **options)  # type: ignore[arg-type]


def test_bracket_arithmetic_follows_the_paper() -> None:
    assert [(b.s, b.sizes, b.budgets) for b in brackets(9, 3)] == [
        (2, (9, 3, 1), (1.0, 3.0, 9.0)),
        (1, (5, 1), (3.0, 9.0)),
        (0, (3,), (9.0,)),
    ]
    assert total_trials(9, 3) == 22
    assert len(brackets(1000, 10)) == 4  # log10(1000) is 2.9999999999999996 in floats; Katib would get 3


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_hyperband_completes_all_three_brackets_in_a_lane_loop(direction: str) -> None:
    problem = _problem("hyperband", HB, direction=direction)
    history, waits, last = lane_loop("hyperband", problem, 9, 100)
    assert isinstance(last, sg.Exhausted) and "all 3 Hyperband brackets are complete" in last.reason
    cells = Counter(
        (t.labels[_hyperband.LABEL_BRACKET], t.labels[_hyperband.LABEL_RUNG], t.assignments["epochs"]) for t in history
    )
    assert cells == {
        ("2", "0", 1): 9,
        ("2", "1", 3): 3,
        ("2", "2", 9): 1,
        ("1", "0", 3): 5,
        ("1", "1", 9): 1,
        ("0", "0", 9): 3,
    }
    assert all(t.status == "Succeeded" for t in history)
    assert all(busy > 0 for _, busy in waits)


def test_hyperband_promotes_the_best_of_a_finished_rung_only() -> None:
    problem = _problem("hyperband", HB)
    hyperband = sg.get_algorithm("hyperband")
    history: list[sg.Trial] = []
    for i in range(9):  # bracket 2, rung 0
        decision = hyperband.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion) and decision.labels[_hyperband.LABEL_RUNG] == "0"
        history.append(sg.Trial(f"t{i}", decision.assignments, "Running", labels=decision.labels))
    # One trial still runs: the next bracket starts instead of a promotion.
    values = [5.0, 1.0, 7.0, 3.0, 9.0, 2.0, 8.0, 6.0]
    history = [
        sg.Trial(t.name, t.assignments, "Succeeded", v, labels=t.labels) for t, v in zip(history, values, strict=False)
    ] + [history[8]]
    decision = hyperband.suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion) and decision.labels[_hyperband.LABEL_BRACKET] == "1"
    # The rung is finished (the last trial failed): the three best (t1, t5, t3) go to 3 epochs, best first.
    history[8] = sg.Trial("t8", history[8].assignments, "Failed", labels=history[8].labels)
    promoted = []
    for _ in range(3):
        decision = hyperband.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        parent = decision.labels[_hyperband.LABEL_PARENT]
        promoted.append(parent)
        assert decision.assignments["epochs"] == 3
        assert {k: v for k, v in decision.assignments.items() if k != "epochs"} == {
            k: v for k, v in next(t for t in history if t.name == parent).assignments.items() if k != "epochs"
        }
        history.append(sg.Trial(f"p{parent}", decision.assignments, "Running", labels=decision.labels))
    assert promoted == ["t1", "t5", "t3"]


def test_an_interrupted_trial_is_created_again() -> None:
    """The engine leaves interrupted trials out of the history: the rung is simply short of one trial."""
    problem = _problem("hyperband", HB)
    history, _, _ = lane_loop("hyperband", problem, 9, 22)
    lost = next(t for t in history if t.labels.get(_hyperband.LABEL_RUNG) == "1")
    without = [t for t in history if t.name != lost.name]
    decision = sg.get_algorithm("hyperband").suggest(problem, without, 0)
    assert isinstance(decision, sg.Suggestion)
    assert decision.labels == lost.labels


def test_asha_rungs() -> None:
    assert rung_budgets(9, 3, None) == (1.0, 3.0, 9)
    assert rung_budgets(10, 3, None) == pytest.approx((10 / 9, 10 / 3, 10))
    assert rung_budgets(9, 3, 9.0) == (9,)
    assert rung_budgets(100, 2, 10.0) == (10.0, 20.0, 40.0, 100)  # the top rung gets the full budget


def test_asha_promotes_as_soon_as_a_rung_allows() -> None:
    problem = _problem("asha", HB, lanes=3)
    asha = sg.get_algorithm("asha")
    history: list[sg.Trial] = []
    for i, value in enumerate([4.0, 2.0, 3.0]):
        decision = asha.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion) and decision.labels == {_asha.LABEL_RUNG: "0"}
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value, labels=decision.labels))
    # floor(3 / 3) = 1: the best of rung 0 goes up now, without waiting for anything else.
    decision = asha.suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion)
    assert decision.labels == {_asha.LABEL_RUNG: "1", _asha.LABEL_PARENT: "t1"}
    assert decision.assignments["epochs"] == 3
    history.append(sg.Trial("t3", decision.assignments, "Running", labels=decision.labels))
    decision = asha.suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion) and decision.labels == {_asha.LABEL_RUNG: "0"}


@pytest.mark.parametrize("lanes", [1, 3, 8])
def test_asha_keeps_every_lane_busy(lanes: int) -> None:
    history, waits, _ = lane_loop("asha", _problem("asha", HB, lanes=lanes), lanes, 60)
    assert waits == []
    assert len(history) == 60
    rungs = Counter(t.labels[_asha.LABEL_RUNG] for t in history)
    assert rungs["1"] > 0 and rungs["2"] > 0


def test_asha_waits_only_when_the_configurations_run_out() -> None:
    space = (P("n", "int", 1, 2), P("epochs", "int", 1, 9))
    problem = sg.Problem(space, "loss", "minimize", settings=HB)
    asha = sg.get_algorithm("asha")
    history = [sg.Trial(f"t{n}", {"n": n, "epochs": 1}, "Running", labels={_asha.LABEL_RUNG: "0"}) for n in (1, 2)]
    assert isinstance(asha.suggest(problem, history, 0), sg.Wait)
    finished = [sg.Trial(t.name, t.assignments, "Succeeded", 1.0, labels=t.labels) for t in history]
    assert isinstance(asha.suggest(problem, finished, 0), sg.Exhausted)  # 2 trials: floor(2/3) = 0 promotions


def test_the_budget_is_written_whatever_the_feasible_space_says(feasible: Callable[..., None]) -> None:
    """Katib's own hyperband example declares epochs in [1, 1] and r_l 2: the budget wins, as in Katib."""
    space = (P("lr", "double", 0.01, 0.05), P("momentum", "double", 0.5, 0.9), P("num-epochs", "int", 1, 1))
    settings = {"resource_name": "num-epochs", "eta": "2", "r_l": "2"}
    problem = sg.Problem(space, "loss", "minimize", settings=settings, parallel_trial_count=2)
    assert sg.validate_settings("hyperband", problem) == []
    history, _, last = lane_loop_plain(problem)
    assert isinstance(last, sg.Exhausted)
    assert sorted(t.assignments["num-epochs"] for t in history) == [1, 1, 2, 2, 2]  # brackets (2, 1) and (2,)
    assert math.isclose(total_trials(2, 2), 5)


def lane_loop_plain(problem: sg.Problem) -> tuple[list[sg.Trial], list[tuple[float, int]], sg.Decision]:
    hyperband = sg.get_algorithm("hyperband")
    history: list[sg.Trial] = []
    decision: sg.Decision = sg.Wait("")
    for i in range(20):
        decision = hyperband.suggest(problem, history, 0)
        if not isinstance(decision, sg.Suggestion):
            break
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", float(i), labels=decision.labels))
    return history, [], decision
