"""Shared spaces and checks for the suggestion tests: a mixed space every algorithm must handle (a NAS space
for the NAS algorithms), and the feasibility check the contract suite applies to every suggestion."""

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


#: The NAS algorithms, which search ``Problem.nas`` instead of parameters.
NAS_ALGORITHMS = tuple(sg.NAS_ASSIGNMENTS)
#: Their space: 3 layers over 6 operations (4 convolutions, 2 poolings): 6**3 * 2**3 architectures.
NAS = sg.NasConfig(
    3,
    (8, 8, 1),
    (10,),
    (
        sg.NasOperation(
            "convolution", (P("filter_size", "categorical", values=("3", "5")), P("num_filter", "int", 16, 32, 16))
        ),
        sg.NasOperation("reduction", (P("pool_size", "int", 2, 3),)),
    ),
)

#: The settings each algorithm needs to run at all, merged under the settings a test passes.
REQUIRED_SETTINGS: dict[str, dict[str, str]] = {
    "enas": {"controller_train_steps": "5"},  # Katib's 50 steps per call, ten times over, slow the suite down
    "hyperband": {"resource_name": "epochs", "r_l": "9", "eta": "3"},
    "asha": {"resource_name": "epochs", "r_l": "9", "eta": "3"},
    "pbt": {"suggestion_trial_dir": "/tmp/checkpoints", "n_population": "5", "truncation_threshold": "0.2"},
}
#: The resource parameter the multi-fidelity algorithms overwrite with each trial's budget.
EPOCHS = P("epochs", "int", 1, 9)


def parameters_for(algorithm: str, parameters: tuple[sg.Parameter, ...]) -> tuple[sg.Parameter, ...]:
    """``parameters`` adjusted to what ``algorithm`` needs: a step on every double for grid and pbt, a
    resource parameter for hyperband and asha."""
    if algorithm in ("grid", "pbt"):
        parameters = tuple(
            P(p.name, p.type, 0.001, 0.01, 0.001, distribution=p.distribution)
            if p.type == "double" and not p.step
            else p
            for p in parameters
        )
    if algorithm in ("hyperband", "asha") and "epochs" not in {p.name for p in parameters}:
        parameters = (*parameters, EPOCHS)
    return parameters


def problem_for(
    algorithm: str, parameters: tuple[sg.Parameter, ...], settings: dict[str, str] | None = None, **kwargs: object
) -> sg.Problem:
    """A problem ``algorithm`` accepts over (adjusted) ``parameters``, ``settings`` on top of the required ones."""
    options: dict[str, object] = {"direction": "minimize", **kwargs}
    if algorithm == "hyperband":
        options.setdefault("parallel_trial_count", 9)  # Katib's rule: ceil(eta^s_max) lanes
    merged = {**REQUIRED_SETTINGS.get(algorithm, {}), **(settings or {})}
    if algorithm in NAS_ALGORITHMS:
        return sg.Problem((), "loss", settings=merged, nas=NAS, **options)  # type: ignore[arg-type]
    return sg.Problem(parameters_for(algorithm, parameters), "loss", settings=merged, **options)  # type: ignore[arg-type]


def _mixed_problem(algorithm: str, **kwargs: object) -> sg.Problem:
    """The mixed space, adjusted per algorithm (``parameters_for``); keyword arguments go to ``Problem``."""
    settings = kwargs.pop("settings", None)
    return problem_for(algorithm, MIXED, settings, **kwargs)  # type: ignore[arg-type]


def _check_nas_feasible(nas: sg.NasConfig, assignments: dict[str, sg.Value]) -> None:
    """enas's two assignments in Katib's formats: an architecture that fits, and its nn_config."""
    assert nas.num_layers is not None
    operations = sg.expand_operations(nas)
    architecture = sg.read_katib_json(str(assignments["architecture"]))
    assert [len(layer) for layer in architecture] == list(range(1, nas.num_layers + 1)), architecture
    for layer in architecture:
        assert type(layer[0]) is int and 0 <= layer[0] < len(operations), architecture
        assert all(bit in (0, 1) for bit in layer[1:]), architecture
    embedding = {str(layer[0]): operations[layer[0]].as_dict() for layer in architecture}
    nn_config = {"num_layers": nas.num_layers, "input_sizes": [8, 8, 1], "output_sizes": [10], "embedding": embedding}
    assert assignments["nn_config"] == sg.katib_json(nn_config)


def _check_feasible(problem: sg.Problem, assignments: dict[str, sg.Value]) -> None:
    if problem.nas is not None:
        # Each NAS algorithm gives its own assignments (sg.NAS_ASSIGNMENTS); enas's formats are checked here.
        assert tuple(assignments) in sg.NAS_ASSIGNMENTS.values(), assignments
        if tuple(assignments) == sg.NAS_ASSIGNMENTS["enas"]:
            _check_nas_feasible(problem.nas, assignments)
        return
    assert set(assignments) == {p.name for p in problem.parameters}
    for p in problem.parameters:
        if p.name == problem.settings.get("resource_name"):
            # The budget: Katib's hyperband writes it whatever the feasible space says; an int stays an int.
            assert type(assignments[p.name]) is (int if p.type == "int" else float), (p.name, assignments[p.name])
            continue
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


@pytest.fixture(name="problem_for")
def problem_for_fixture() -> Callable[..., sg.Problem]:
    return problem_for


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
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value=value, labels=decision.labels))
    return history


@pytest.fixture
def loop() -> Callable[..., list[sg.Trial]]:
    return _run_loop
