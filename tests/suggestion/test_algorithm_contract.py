"""The contract every implemented algorithm keeps, run against each of them on the same mixed space.

Feasible, typed suggestions; determinism in (problem, history, seed); failed and value-less trials in the
history; a finite space ends with ``Exhausted`` and no repeats; and a lane loop with a fake clock in which
a ``Wait`` never comes while no trial runs (which would leave every lane idle for ever).
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Sequence

import katib_flows_suggestion as sg
import pytest

#: darts is no search (each trial gets the same three strings and searches itself): tests/suggestion/test_darts.py.
ALGORITHMS = tuple(name for name in sg.IMPLEMENTED_ALGORITHMS if name != "darts")
STOCHASTIC = [name for name in ALGORITHMS if name != "grid"]
WITH_RANDOM_STATE = [name for name in ALGORITHMS if "random_state" in sg.get_algorithm(name).settings]
STATUSES = ("Succeeded", "EarlyStopped", "Failed", "Killed", "MetricsUnavailable", "Running", "Created")
P = sg.Parameter
#: Algorithms whose trials re-run a configuration on purpose (promotions, PBT's next generations).
DERIVING = ("hyperband", "asha", "pbt")

Feasible = Callable[[sg.Problem, dict[str, sg.Value]], None]


def _history(
    algorithm: sg.Algorithm, problem: sg.Problem, n: int, seed: int = 7, statuses: Sequence[str] = STATUSES
) -> list[sg.Trial]:
    """Up to ``n`` trials suggested by ``algorithm`` itself, with ``statuses`` in turn; stops at a non-suggestion."""
    history: list[sg.Trial] = []
    for i in range(n):
        decision = algorithm.suggest(problem, history, seed)
        if not isinstance(decision, sg.Suggestion):
            # Hyperband may finish its brackets; a Wait needs a running trial to end it.
            assert isinstance(decision, sg.Exhausted) or any(t.status in sg.ACTIVE for t in history), decision
            break
        status = statuses[i % len(statuses)]
        value = float(i % 5) if status in sg.FINISHED_WITH_VALUE else None
        history.append(sg.Trial(f"t{i}", decision.assignments, status, value=value, labels=decision.labels))
    return history


def test_every_katib_algorithm_is_known_and_the_implemented_ones_are_listed() -> None:
    assert set(ALGORITHMS) == set(sg.KATIB_ALGORITHMS) - {"darts"} | set(sg.EXTENSION_ALGORITHMS)
    assert sg.ALGORITHM_NAMES == sg.KATIB_ALGORITHMS + sg.EXTENSION_ALGORITHMS
    for name in ALGORITHMS:
        assert sg.get_algorithm(name).name == name


@pytest.mark.parametrize("name", ALGORITHMS)
def test_suggestions_are_feasible_with_every_status_in_the_history(
    name: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    problem = mixed_problem(name)
    algorithm = sg.get_algorithm(name)
    assert algorithm.validate(problem) == []
    # 28 trials: past tpe's 10 startup trials and bayesianoptimization's 10 initial points, past a CMA-ES
    # generation, so the model-based paths run too.
    history = _history(algorithm, problem, 28)
    assert len(history) >= 10
    for trial in history:
        feasible(problem, dict(trial.assignments))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_model_based_paths_run_on_a_succeeded_history(
    name: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    """Only successes: promotions, PBT's exploit/explore, CMA-ES generations and the GP all take their turn."""
    problem = mixed_problem(name)
    for trial in _history(sg.get_algorithm(name), problem, 30, statuses=("Succeeded",)):
        feasible(problem, dict(trial.assignments))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_two_fresh_instances_suggest_the_same(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    for statuses in (STATUSES, ("Succeeded",)):
        history = _history(sg.get_algorithm(name), problem, 14, statuses=statuses)
        first = sg.get_algorithm(name).suggest(problem, history, 3)
        second = sg.get_algorithm(name).suggest(problem, history, 3)
        assert first == second


@pytest.mark.parametrize("name", STOCHASTIC)
def test_successive_calls_differ(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    # Deriving algorithms re-run configurations on purpose once trials finish; with every trial still
    # running, each call must start a new configuration.
    statuses = ("Running",) if name in DERIVING else STATUSES
    history = _history(sg.get_algorithm(name), problem, 14, statuses=statuses)
    assert len(history) >= 5
    # lr and decay are continuous enough that two equal points mean the history length was ignored; a NAS
    # space has 1,728 architectures, so equal ones among 14 draws would be a 1 in 20 chance (it is seeded).
    points = {
        (t.assignments["lr"], t.assignments["decay"]) if problem.parameters else tuple(sorted(t.assignments.items()))
        for t in history
    }
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
        sg.Trial(t.name, {k: str(v) for k, v in t.assignments.items()}, t.status, t.value, labels=t.labels)
        for t in _history(algorithm, problem, 12)
    ]
    decision = algorithm.suggest(problem, history, 5)
    assert isinstance(decision, (sg.Suggestion, sg.Wait))
    if isinstance(decision, sg.Suggestion):
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
@pytest.mark.parametrize("status", ["Failed", "MetricsUnavailable", "Killed"])
def test_a_history_of_trials_without_values(
    name: str, status: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    """Nothing to learn from: every algorithm still answers, and never with an exception."""
    problem = mixed_problem(name)
    history = _history(sg.get_algorithm(name), problem, 20, statuses=(status,))
    # Hyperband promotes nobody when nothing has a value: its three base rungs (9 + 5 + 3) end it.
    assert len(history) == (17 if name == "hyperband" else 20)
    for trial in history:
        feasible(problem, dict(trial.assignments))


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


FINITE = (P("n", "int", 1, 3), P("m", "int", 0, 1), P("c", "categorical", values=("a", "b")))  # 12 points


@pytest.mark.parametrize("name", [n for n in ALGORITHMS if n not in ("pbt", *sg.NAS_ASSIGNMENTS)])
@pytest.mark.parametrize("status", ["Succeeded", "Failed"])
def test_a_finite_space_ends_with_exhausted_and_no_repeats(
    name: str, status: str, problem_for: Callable[..., sg.Problem]
) -> None:
    """maxTrialCount above the space's size: every point once (with its budget, for hyperband/asha), then the end.

    pbt is exempt: it re-runs values from new checkpoints by design and ends by maxTrialCount or the goal;
    so is enas, which samples architectures (repeats included) from its controller for ever, as Katib's.
    """
    problem = problem_for(name, FINITE, max_trial_count=40)
    algorithm = sg.get_algorithm(name)
    history: list[sg.Trial] = []
    decision: sg.Decision = sg.Wait("not asked yet")
    for i in range(60):
        decision = algorithm.suggest(problem, history, 0)
        if not isinstance(decision, sg.Suggestion):
            break
        value = float(i % 7) if status == "Succeeded" else None
        history.append(sg.Trial(f"t{i}", decision.assignments, status, value, labels=decision.labels))
    assert isinstance(decision, sg.Exhausted), decision
    points = [tuple(sorted(t.assignments.items())) for t in history]
    assert len(points) == len(set(points))
    configs = {tuple(t.assignments[p.name] for p in FINITE) for t in history}
    assert len(configs) == 12 or name in ("hyperband",)  # hyperband may end its brackets before the space


def test_pbt_keeps_going_on_a_finite_space(problem_for: Callable[..., sg.Problem]) -> None:
    problem = problem_for("pbt", FINITE)
    history = _history(sg.get_algorithm("pbt"), problem, 40, statuses=("Succeeded",))
    assert len(history) == 40


def lane_loop(
    name: str, problem: sg.Problem, lanes: int, trials: int, seed: int = 0
) -> tuple[list[sg.Trial], list[tuple[float, int]], sg.Decision]:
    """Run ``lanes`` lanes on a fake clock until ``trials`` trials ran or the algorithm ends.

    Each free lane asks for a trial; a trial takes its budget (or 1) times a seeded factor, then succeeds
    with a value from a smooth function of its assignments. Returns the history, every (time, running
    trials) at which the algorithm answered Wait, and the last decision.
    """
    algorithm = sg.get_algorithm(name)
    history: list[sg.Trial] = []
    running: list[tuple[float, int]] = []
    waits: list[tuple[float, int]] = []
    clock, decision = 0.0, sg.Wait("not asked yet")
    for _ in range(10 * trials):
        while len(running) < lanes and len(history) < trials:
            decision = algorithm.suggest(problem, history, seed)
            if not isinstance(decision, sg.Suggestion):
                if isinstance(decision, sg.Wait):
                    waits.append((clock, len(running)))
                break
            i = len(history)
            history.append(sg.Trial(f"t{i}", decision.assignments, "Running", labels=decision.labels))
            budget = float(decision.assignments.get("epochs", 1))
            heapq.heappush(running, (clock + budget * (1.0 + (i * 7919 % 13) / 13), i))
        if not running:
            return history, waits, decision
        clock, i = heapq.heappop(running)
        trial = history[i]
        history[i] = sg.Trial(trial.name, trial.assignments, "Succeeded", _score(trial), labels=trial.labels)
    raise AssertionError(f"the lane loop of {name} did not end")


def _score(trial: sg.Trial) -> float:
    a = trial.assignments
    if "architecture" in a:  # a NAS trial: the sum of its operation ids
        return float(sum(layer[0] for layer in sg.read_katib_json(str(a["architecture"]))))
    return (
        (math.log(float(a["lr"])) + 4.0) ** 2
        + float(a["dropout"])
        + (0.0 if a["optimizer"] == "adam" else 0.5)
        + 1.0 / float(a.get("epochs", 1))
    )


@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_wait_never_leaves_every_lane_idle(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = mixed_problem(name)
    lanes = problem.parallel_trial_count
    history, waits, last = lane_loop(name, problem, lanes, 40)
    assert all(busy > 0 for _, busy in waits), f"{name} answered Wait with no trial running: deadlock"
    assert len(history) == 40 or isinstance(last, sg.Exhausted), (len(history), last)
    if name not in ("hyperband", "pbt"):
        assert waits == [], f"{name} left a lane idle: {waits[:3]}"


def test_the_registry_names_match_the_classes() -> None:
    from katib_flows_suggestion._registry import _ALGORITHMS, algorithm_class

    for name in _ALGORITHMS:
        assert algorithm_class(name).name == name


def test_importing_the_package_loads_no_algorithm_library() -> None:
    import subprocess
    import sys

    libraries = ("optuna", "scipy", "cmaes", "threadpoolctl")
    code = f"import sys, katib_flows_suggestion; print(sorted(m for m in {libraries!r} if m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
