"""Gaussian-process Bayesian optimisation: the model's gradient, that it searches, its settings and lanes."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import katib_flows_suggestion as sg
import numpy as np
import pytest
from katib_flows_suggestion._bayesopt import LABEL_ACQUISITION, acquisition, acquisition_with_gradient
from katib_flows_suggestion._gp import _objective, _sq_dists, condition_on, fit
from scipy.optimize import check_grad  # type: ignore[import-untyped]

P = sg.Parameter
BRANIN = (P("x", "double", -5.0, 10.0), P("y", "double", 0.0, 15.0))


def _branin(a: dict[str, sg.Value]) -> float:
    x, y = float(a["x"]), float(a["y"])
    return (
        (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
    )


def test_the_likelihood_gradient_is_right() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((25, 3))
    y = np.sin(5 * x[:, 0]) + x[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    sq = _sq_dists(x, x)
    theta = np.array([-0.5, 0.2, -1.0, 0.3, -4.0])
    error = check_grad(lambda t: _objective(t, y, sq)[0], lambda t: _objective(t, y, sq)[1], theta)
    assert error < 1e-3 * np.linalg.norm(_objective(theta, y, sq)[1])


@pytest.mark.parametrize("name", ["EI", "PI", "LCB"])
def test_the_acquisition_gradient_is_right(name: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.random((20, 3))
    y = np.sin(5 * x[:, 0]) + x[:, 1] ** 2
    gp = fit(x, y)
    best = float(y.min())
    for point in rng.random((3, 3)):
        value, gradient = acquisition_with_gradient(name, gp, point, best)
        assert value == pytest.approx(float(acquisition(name, gp, point[None, :], best)[0]))
        error = check_grad(
            lambda u: acquisition_with_gradient(name, gp, u, best)[0],
            lambda u: acquisition_with_gradient(name, gp, u, best)[1],
            point,
        )
        assert error < 1e-3 * max(1.0, float(np.linalg.norm(gradient)))


def test_the_gp_interpolates_and_a_running_point_looks_bad_and_certain() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((20, 2))
    y = np.sin(6 * x[:, 0]) - x[:, 1]
    gp = fit(x, y)
    mean, _ = gp.predict(x[:3])
    assert np.allclose(mean, y[:3], atol=0.05)
    pending = np.array([[0.5, 0.5]])
    before_mean, before = gp.predict(pending)
    after_mean, after = condition_on(gp, pending, float(y.max())).predict(pending)
    assert after[0] < before[0] / 2
    assert after_mean[0] > before_mean[0]


@pytest.mark.parametrize("acq_func", ["gp_hedge", "EI", "PI", "LCB"])
def test_bayesianoptimization_beats_random_search_on_branin(acq_func: str, loop: Callable[..., list[sg.Trial]]) -> None:
    def best(name: str, seed: int, settings: dict[str, str]) -> float:
        problem = sg.Problem(BRANIN, "loss", "minimize", settings=settings)
        return min(t.value or 0.0 for t in loop(sg.get_algorithm(name), problem, seed, _branin, 25))

    random_median = statistics.median(best("random", seed, {}) for seed in range(5))
    bo = [best("bayesianoptimization", seed, {"acq_func": acq_func}) for seed in range(2)]
    assert max(bo) < random_median, (bo, random_median)


def test_maximize_and_sampling_optimizer(loop: Callable[..., list[sg.Trial]]) -> None:
    problem = sg.Problem(BRANIN, "loss", "maximize", settings={"acq_optimizer": "sampling", "n_initial_points": "5"})
    history = loop(sg.get_algorithm("bayesianoptimization"), problem, 0, lambda a: -_branin(a), 20)
    assert max(t.value or -1e9 for t in history) > -2.0


def test_initial_points_are_random_then_the_model_labels_its_choice() -> None:
    problem = sg.Problem(BRANIN, "loss", "minimize", settings={"n_initial_points": "3", "acq_func": "EI"})
    bo = sg.get_algorithm("bayesianoptimization")
    history: list[sg.Trial] = []
    for i in range(5):
        decision = bo.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        assert (LABEL_ACQUISITION in decision.labels) == (i >= 3)
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", _branin(decision.assignments)))
    assert decision.labels == {LABEL_ACQUISITION: "EI"}


def test_gp_hedge_labels_each_choice_from_its_portfolio() -> None:
    problem = sg.Problem(BRANIN, "loss", "minimize", settings={"n_initial_points": "3", "acq_func": "gp_hedge"})
    bo = sg.get_algorithm("bayesianoptimization")
    history: list[sg.Trial] = []
    for i in range(8):
        decision = bo.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion)
        history.append(
            sg.Trial(f"t{i}", decision.assignments, "Succeeded", _branin(decision.assignments), labels=decision.labels)
        )
    assert {t.labels.get(LABEL_ACQUISITION) for t in history[3:]} <= {"EI", "PI", "LCB"}


def test_a_running_trial_moves_the_next_point_away() -> None:
    problem = sg.Problem(BRANIN, "loss", "minimize", settings={"n_initial_points": "3"})
    bo = sg.get_algorithm("bayesianoptimization")
    history = [
        sg.Trial(f"t{i}", {"x": x, "y": y}, "Succeeded", _branin({"x": x, "y": y}))
        for i, (x, y) in enumerate([(-3.0, 12.0), (3.0, 3.0), (9.0, 2.0), (0.0, 5.0), (6.0, 10.0)])
    ]
    first = bo.suggest(problem, [*history, sg.Trial("f", {"x": 0.0, "y": 0.0}, "Failed")], 0)
    assert isinstance(first, sg.Suggestion)
    running = bo.suggest(problem, [*history, sg.Trial("r", first.assignments, "Running")], 0)
    assert isinstance(running, sg.Suggestion)
    a, b = first.assignments, running.assignments
    distance = math.dist([float(a["x"]), float(a["y"])], [float(b["x"]), float(b["y"])])
    assert distance > 0.1
