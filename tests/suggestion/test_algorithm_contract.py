"""The contract every implemented algorithm keeps, run against each of them on the same mixed space."""

from __future__ import annotations

import logging
from collections.abc import Callable

import katib_flows_suggestion as sg
import pytest

ALGORITHMS = sg.IMPLEMENTED_ALGORITHMS
STOCHASTIC = [name for name in ALGORITHMS if name != "grid"]
WITH_RANDOM_STATE = [name for name in ALGORITHMS if "random_state" in sg.get_algorithm(name).settings]
STATUSES = ("Succeeded", "EarlyStopped", "Failed", "Killed", "MetricsUnavailable", "Running", "Created")

Feasible = Callable[[sg.Problem, dict[str, sg.Value]], None]


def _history(algorithm: sg.Algorithm, problem: sg.Problem, n: int, seed: int = 7) -> list[sg.Trial]:
    """``n`` trials suggested by ``algorithm`` itself, with every status Katib knows, in turn."""
    history: list[sg.Trial] = []
    for i in range(n):
        decision = algorithm.suggest(problem, history, seed)
        assert isinstance(decision, sg.Suggestion)
        status = STATUSES[i % len(STATUSES)]
        value = float(i % 5) if status in sg.FINISHED_WITH_VALUE else None
        history.append(sg.Trial(f"t{i}", decision.assignments, status, value=value))
    return history


def test_every_katib_algorithm_is_known_and_the_implemented_ones_are_listed() -> None:
    assert set(ALGORITHMS) == {"random", "grid", "tpe", "multivariate-tpe", "sobol"}
    assert set(ALGORITHMS) <= set(sg.KATIB_ALGORITHMS)
    for name in ALGORITHMS:
        assert sg.get_algorithm(name).name == name


@pytest.mark.parametrize("name", ALGORITHMS)
def test_suggestions_are_feasible_with_every_status_in_the_history(
    name: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    problem = mixed_problem(name)
    algorithm = sg.get_algorithm(name)
    assert algorithm.validate(problem) == []
    # 28 trials: past tpe's 10 startup trials, so the model-based path runs too.
    for trial in _history(algorithm, problem, 28):
        feasible(problem, dict(trial.assignments))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_two_fresh_instances_suggest_the_same(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    history = _history(sg.get_algorithm(name), problem, 14)
    first = sg.get_algorithm(name).suggest(problem, history, 3)
    second = sg.get_algorithm(name).suggest(problem, history, 3)
    assert first == second


@pytest.mark.parametrize("name", STOCHASTIC)
def test_successive_calls_differ(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    history = _history(sg.get_algorithm(name), problem, 14)
    # lr and decay are continuous enough that two equal points mean the history length was ignored.
    points = {(t.assignments["lr"], t.assignments["decay"]) for t in history}
    assert len(points) == len(history)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_the_seed_changes_the_suggestion(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    algorithm = sg.get_algorithm(name)
    suggestions = [algorithm.suggest(problem, [], seed) for seed in range(4)]
    assert len({repr(s) for s in suggestions}) > 1


@pytest.mark.parametrize("name", WITH_RANDOM_STATE)
def test_random_state_replaces_the_seed(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name, settings={"random_state": "11"})
    algorithm = sg.get_algorithm(name)
    history = _history(algorithm, problem, 12, seed=1)
    assert algorithm.suggest(problem, history, 1) == algorithm.suggest(problem, history, 2)


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_history_read_back_from_a_store_as_text(
    name: str, direction: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    """Assignments may come back as strings (or with float noise); they still count as the same points."""
    problem = mixed_problem(name, direction=direction)
    algorithm = sg.get_algorithm(name)
    history = [
        sg.Trial(t.name, {k: str(v) for k, v in t.assignments.items()}, t.status, t.value)
        for t in _history(algorithm, problem, 12)
    ]
    decision = algorithm.suggest(problem, history, 5)
    assert isinstance(decision, sg.Suggestion)
    feasible(problem, decision.assignments)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_trials_outside_the_space_are_ignored(
    name: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    """A history from before the space changed: unknown values and missing parameters do not break a suggestion."""
    problem = mixed_problem(name)
    strange: list[sg.Trial] = [
        sg.Trial("a", {"layers": 99, "units": 17, "dropout": 0.05, "lr": 5.0}, "Succeeded", 1.0),
        sg.Trial("b", {"optimizer": "adagrad", "batch": "7"}, "Running"),
        sg.Trial("c", {}, "Failed"),
    ]
    decision = sg.get_algorithm(name).suggest(problem, strange, 0)
    assert isinstance(decision, sg.Suggestion)
    feasible(problem, decision.assignments)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_suggest_refuses_settings_that_validate_rejects(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name, settings={"no_such_setting": "1"})
    with pytest.raises(sg.InvalidSettingsError, match="unknown setting no_such_setting"):
        sg.get_algorithm(name).suggest(problem, [], 0)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_nothing_is_logged_or_warned(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    """pytest turns warnings into errors; this catches optuna's per-study INFO line, which bypasses caplog."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.DEBUG)
    watched = [logging.getLogger(name) for name in ("optuna", "optuna.storages._in_memory", "optuna.study.study")]
    for logger in watched:
        logger.addHandler(handler)
    try:
        _history(sg.get_algorithm(name), mixed_problem(name), 12)
    finally:
        for logger in watched:
            logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == []
