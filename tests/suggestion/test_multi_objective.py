"""Several objectives: the contract on a two-objective problem, directions reaching the samplers, NSGA-II's
generations rebuilt from labels as a live optuna study keeps them, and algorithms that refuse.

The contract suite (``test_algorithm_contract.py``) runs every algorithm, nsga2 and motpe included, on one
objective; here the algorithms that accept several run on two.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import katib_flows_suggestion as sg
import optuna
import pytest
from katib_flows_suggestion._nsga2 import LABEL_GENERATION, next_generation

P = sg.Parameter
MULTI = sg.MULTI_OBJECTIVE_ALGORITHMS
SAMPLING = [name for name in MULTI if name not in ("grid",)]
Feasible = Callable[[sg.Problem, dict[str, sg.Value]], None]
UNIT = (P("x", "double", 0.0, 1.0), P("y", "double", 0.0, 1.0))


def _two(problem: sg.Problem, second: sg.Direction = "minimize") -> sg.Problem:
    return dataclasses.replace(problem, additional_objectives=(("cost", second),))


def _zdt1(a: dict[str, sg.Value]) -> tuple[float, float]:
    """ZDT1 on (x, y): both minimised; the front is y = 0, f2 = 1 - sqrt(f1)."""
    x, y = float(a["x"]), float(a["y"])
    g = 1.0 + 9.0 * y
    return x, g * (1.0 - math.sqrt(x / g))


def _run(
    name: str,
    problem: sg.Problem,
    n: int,
    f: Callable[[dict[str, sg.Value]], tuple[float, ...]],
    statuses: Sequence[str] = ("Succeeded",),
    seed: int = 3,
) -> list[sg.Trial]:
    algorithm, history = sg.get_algorithm(name), []
    for i in range(n):
        decision = algorithm.suggest(problem, history, seed)
        assert isinstance(decision, sg.Suggestion), decision
        status = statuses[i % len(statuses)]
        values = f(decision.assignments) if status in sg.FINISHED_WITH_VALUE else None
        history.append(
            sg.Trial(f"t{i}", decision.assignments, status, values[0] if values else None, labels=decision.labels,
                     values=values)
        )  # fmt: skip
    return history


def test_a_problem_lists_its_objectives_first_one_first() -> None:
    problem = sg.Problem(UNIT, "accuracy", "maximize", additional_objectives=(("seconds", "minimize"),))
    assert problem.objectives == ("accuracy", "seconds")
    assert problem.directions == ("maximize", "minimize")
    assert problem.multi_objective
    single = sg.Problem(UNIT, "loss", "minimize")
    assert single.directions == ("minimize",) and not single.multi_objective
    trial = sg.Trial("t", {}, "Succeeded", 0.5, values=(0.5, 2.0))
    assert trial.objective_values(problem) == (0.5, 2.0)
    assert trial.objective_values(single) == (0.5,)
    assert sg.Trial("t", {}, "Succeeded", 0.5).objective_values(problem) is None  # the second value is missing


@pytest.mark.parametrize("name", MULTI)
def test_two_objective_suggestions_are_feasible_with_every_status(
    name: str, mixed_problem: Callable[..., sg.Problem], feasible: Feasible
) -> None:
    problem = _two(mixed_problem(name, settings={"population_size": "4"} if name == "nsga2" else None))
    assert sg.get_algorithm(name).validate(problem) == []
    statuses = ("Succeeded", "Failed", "Succeeded", "EarlyStopped", "MetricsUnavailable", "Running")
    history = _run(name, problem, 24, lambda a: (float(a["dropout"]), float(a["lr"])), statuses)
    for trial in history:
        feasible(problem, dict(trial.assignments))


@pytest.mark.parametrize("name", MULTI)
def test_two_objective_suggestions_are_deterministic(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = _two(mixed_problem(name, settings={"population_size": "4"} if name == "nsga2" else None))
    history = _run(name, problem, 16, lambda a: (float(a["dropout"]), float(a["lr"])), ("Succeeded", "Failed"))
    assert sg.get_algorithm(name).suggest(problem, history, 9) == sg.get_algorithm(name).suggest(problem, history, 9)


@pytest.mark.parametrize("name", ["nsga2", "motpe", "tpe", "multivariate-tpe"])
def test_a_history_with_missing_second_values_still_suggests(name: str, feasible: Feasible) -> None:
    """Trials that succeeded without every objective's value (values None) count as failures, not errors."""
    problem = _two(sg.Problem(UNIT, "loss", "minimize", settings={"population_size": "2"} if name == "nsga2" else {}))
    history = [sg.Trial(f"t{i}", {"x": i / 20, "y": 0.5}, "Succeeded", float(i)) for i in range(15)]
    decision = sg.get_algorithm(name).suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion)
    feasible(problem, decision.assignments)


@pytest.mark.parametrize("name", ["nsga2", "motpe", "tpe"])
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_directions_reach_the_sampler(name: str, direction: sg.Direction) -> None:
    """Both objectives grow with x: minimising both should pull later points low, maximising both high."""
    settings = {"population_size": "6"} if name == "nsga2" else {"n_startup_trials": "6"}
    problem = _two(sg.Problem(UNIT, "a", direction, settings=settings), direction)
    history = _run(name, problem, 36, lambda a: (float(a["x"]), float(a["x"]) + 0.1 * float(a["y"])))
    late = sum(float(t.assignments["x"]) for t in history[-12:]) / 12
    assert late < 0.35 if direction == "minimize" else late > 0.65, late


def test_nsga2_generations_follow_a_live_optuna_study() -> None:
    """The generation we label each trial with is the one optuna's NSGAIISampler gives the same trial in a
    live study, failures included, so the rebuilt study has the generations a live one would."""
    population = 4
    problem = _two(sg.Problem(UNIT, "f1", "minimize", settings={"population_size": str(population)}))
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=optuna.samplers.NSGAIISampler(
        population_size=population, seed=0))  # fmt: skip
    key = optuna.samplers.NSGAIISampler._get_generation_key()
    history: list[sg.Trial] = []
    for i in range(30):
        ours = next_generation(problem, history, population)
        live = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        live.suggest_float("y", 0, 1)
        assert live.storage.get_trial_system_attrs(live._trial_id)[key] == ours
        assignments = {"x": live.params["x"], "y": live.params["y"]}
        if i % 5 == 3:
            study.tell(live, state=optuna.trial.TrialState.FAIL)
            history.append(sg.Trial(f"t{i}", assignments, "Failed", labels={LABEL_GENERATION: str(ours)}))
        else:
            values = _zdt1(assignments)
            study.tell(live, list(values))
            history.append(sg.Trial(f"t{i}", assignments, "Succeeded", values[0], values=values,
                                    labels={LABEL_GENERATION: str(ours)}))  # fmt: skip
    assert next_generation(problem, history, population) >= 5


def test_nsga2_without_its_labels_would_stay_in_generation_zero() -> None:
    """Why the label exists: a rebuilt study without generations never breeds, so every trial is random."""
    problem = _two(sg.Problem(UNIT, "f1", "minimize", settings={"population_size": "4"}))
    history = _run("nsga2", problem, 20, _zdt1)
    generations = [int(t.labels[LABEL_GENERATION]) for t in history]
    assert generations == sorted(generations) and generations[-1] == 4
    stripped = [dataclasses.replace(t, labels={}) for t in history]
    assert next_generation(problem, stripped, 4) == 0


def test_nsga2_children_come_from_parents() -> None:
    """From generation 1 on, with crossover always and no mutation, each child's x and y are parents' values."""
    settings = {"population_size": "4", "crossover_prob": "1", "mutation_prob": "0"}
    problem = _two(sg.Problem(UNIT, "f1", "minimize", settings=settings))
    history = _run("nsga2", problem, 16, _zdt1)
    first = history[:4]
    assert all(t.labels[LABEL_GENERATION] == "0" for t in first)
    xs, ys = {t.assignments["x"] for t in first}, {t.assignments["y"] for t in first}
    for child in history[4:8]:
        assert child.labels[LABEL_GENERATION] == "1"
        assert child.assignments["x"] in xs and child.assignments["y"] in ys


def test_nsga2_with_hundreds_of_generations_rebuilds_without_deep_recursion() -> None:
    """A rebuilt study selects every generation's parents again; 600 generations stay within Python's limits."""
    problem = _two(sg.Problem(UNIT, "f1", "minimize", settings={"population_size": "2"}))
    history = []
    for i in range(1200):
        point: dict[str, sg.Value] = {"x": (i * 0.618) % 1, "y": (i * 0.414) % 1}
        values = _zdt1(point)
        history.append(sg.Trial(f"t{i}", point, "Succeeded", values[0], labels={LABEL_GENERATION: str(i // 2)},
                                values=values))  # fmt: skip
    decision = sg.get_algorithm("nsga2").suggest(problem, history, 0)
    assert isinstance(decision, sg.Suggestion) and decision.labels == {LABEL_GENERATION: "600"}


def test_nsga2_settings_are_checked() -> None:
    problem = sg.Problem(UNIT, "f1", "minimize", settings={"population_size": "1", "mutation_prob": "2"})
    messages = [p.message for p in sg.validate_settings("nsga2", problem)]
    assert "population_size must be an integer >= 2, got '1'" in messages
    assert "mutation_prob must be a number in [0, 1], got '2'" in messages


@pytest.mark.parametrize("name", [n for n in sg.IMPLEMENTED_ALGORITHMS if n not in MULTI])
def test_single_objective_algorithms_refuse_two_objectives(name: str, mixed_problem: Callable[..., sg.Problem]) -> None:
    problem = _two(mixed_problem(name))
    problems = sg.validate_settings(name, problem)
    assert any(f"algorithm {name} optimises a single objective" in p.message for p in problems), problems
    with pytest.raises(sg.InvalidSettingsError, match="single objective"):
        sg.get_algorithm(name).suggest(problem, [], 0)
