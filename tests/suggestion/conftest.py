"""Shared spaces and checks for the suggestion tests: a mixed space every algorithm must handle, and the
feasibility check the contract suite applies to every suggestion."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import katib_flows_suggestion as sg
import pytest

P = sg.Parameter

#: int, int with step, double with step, log double (with and without step), categorical, discrete.
MIXED = (
    P("layers", "int", 1, 5),
    P("units", "int", 16, 128, 16),
    P("dropout", "double", 0.0, 0.5, 0.1),
    P("lr", "double", 0.001, 0.1, 0.001, distribution="logUniform"),
    P("decay", "double", 1e-6, 1e-2, distribution="logUniform"),
    P("optimizer", "categorical", values=("sgd", "adam", "rmsprop")),
    P("batch", "discrete", values=("16", "32", "64")),
)


def _mixed_problem(algorithm: str, **kwargs: object) -> sg.Problem:
    """The mixed space; grid needs a step on every double, so it gets ``decay`` on a step."""
    parameters: tuple[sg.Parameter, ...] = MIXED
    if algorithm == "grid":
        parameters = tuple(
            P("decay", "double", 0.001, 0.01, 0.001, distribution="logUniform") if p.name == "decay" else p
            for p in MIXED
        )
    options: dict[str, object] = {"direction": "minimize", **kwargs}
    return sg.Problem(parameters, "loss", **options)  # type: ignore[arg-type]


def _check_feasible(problem: sg.Problem, assignments: dict[str, sg.Value]) -> None:
    assert set(assignments) == {p.name for p in problem.parameters}
    for p in problem.parameters:
        value = assignments[p.name]
        if p.type in ("categorical", "discrete"):
            assert type(value) is str and value in p.values, (p.name, value)
            continue
        assert p.min is not None and p.max is not None and not isinstance(value, str)
        assert p.min <= value <= p.max, (p.name, value)
        if p.type == "int":
            assert type(value) is int, (p.name, value)
            assert (value - p.min) % (p.step or 1) == 0, (p.name, value)
        else:
            assert type(value) is float, (p.name, value)
            if p.step:
                k = (Decimal(repr(value)) - Decimal(repr(p.min))) / Decimal(repr(p.step))
                assert k == k.to_integral_value(), f"{p.name}={value!r} is not min + k*step in exact decimals"


@pytest.fixture
def mixed_problem() -> Callable[..., sg.Problem]:
    return _mixed_problem


@pytest.fixture
def feasible() -> Callable[[sg.Problem, dict[str, sg.Value]], None]:
    return _check_feasible


def _run_loop(
    algorithm: sg.Algorithm,
    problem: sg.Problem,
    seed: int,
    objective: Callable[[dict[str, sg.Value]], float],
    trials: int,
) -> list[sg.Trial]:
    """Suggest, evaluate and record ``trials`` times, one trial at a time; the history it built."""
    history: list[sg.Trial] = []
    for i in range(trials):
        decision = algorithm.suggest(problem, history, seed)
        assert isinstance(decision, sg.Suggestion)
        value = objective(decision.assignments)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value=value))
    return history


@pytest.fixture
def loop() -> Callable[..., list[sg.Trial]]:
    return _run_loop
