"""enas: Katib's formats, the controller's gradients, that it learns, and its state (typed, versioned, rebuilt).

The contract suite (``test_algorithm_contract.py``) holds enas to what every algorithm promises; here is
what only enas does. Katib's formats are written out literally, as Katib's service prints them.
"""

from __future__ import annotations

import logging
from typing import Any

import katib_flows_suggestion as sg
import numpy as np
import pytest
from katib_flows_suggestion import _enas_controller as ec
from katib_flows_suggestion import _tape as t
from katib_flows_suggestion._enas import Enas, EnasState, assignments

P = sg.Parameter
#: 2 + 2 operations: convolution 3 and 5, then max and avg pooling with pool_size 2 (an int range of one).
NAS = sg.NasConfig(
    3,
    (8, 8, 1),
    (10,),
    (
        sg.NasOperation("convolution", (P("filter_size", "categorical", values=("3", "5")),)),
        sg.NasOperation(
            "reduction",
            (P("reduction_type", "categorical", values=("max_pooling", "avg_pooling")), P("pool_size", "int", 2, 2)),
        ),
    ),
)


def _problem(direction: sg.Direction = "maximize", **settings: str) -> sg.Problem:
    return sg.Problem((), "acc", direction, settings=settings, nas=NAS)


def test_katibs_exact_strings() -> None:
    operations = sg.expand_operations(NAS)
    texts = assignments([[3], [0, 1], [3, 0, 1]], _problem(), operations)
    assert texts["architecture"] == "[[3], [0, 1], [3, 0, 1]]"
    assert texts["nn_config"] == (
        "{'num_layers': 3, 'input_sizes': [8, 8, 1], 'output_sizes': [10], 'embedding': "
        "{'3': {'opt_id': 3, 'opt_type': 'reduction', "
        "'opt_params': {'reduction_type': 'avg_pooling', 'pool_size': 2}}, "
        "'0': {'opt_id': 0, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3'}}}}"
    )


def test_double_parameters_expand_as_katibs_numpy_arange() -> None:
    nas = sg.NasConfig(1, (1,), (1,), (sg.NasOperation("dropout", (P("rate", "double", 0.1, 0.3, 0.1),)),))
    # numpy.arange(0.1, 0.4, 0.1) gives 0.1, 0.2, 0.30000000000000004 (past max: left out; Katib's
    # ``del`` on a numpy array would crash there).
    assert [o.opt_params["rate"] for o in sg.expand_operations(nas)] == [0.1, 0.2]
    nas = sg.NasConfig(1, (1,), (1,), (sg.NasOperation("dropout", (P("rate", "double", 0.0, 0.5, 0.25),)),))
    assert [o.opt_params["rate"] for o in sg.expand_operations(nas)] == [0.0, 0.25, 0.5]


def test_gradients_match_finite_differences() -> None:
    config = ec.ControllerConfig(num_layers=4, num_operations=3, hidden_size=5, entropy_weight=None)
    rng = np.random.default_rng(0)
    weights = ec.Weights(**{k: rng.normal(0, 0.5, s) for k, s in ec.Weights.shapes(config).items()})
    architectures = [ec.sample(config, weights, rng) for _ in range(3)]
    rewards = t.const(np.array([1.0, -0.5, 0.3]))

    def loss(w: ec.Weights) -> tuple[t.Var, dict[str, t.Var]]:
        variables = {k: t.Var(v) for k, v in w.arrays().items()}
        forward = ec._forward(config, variables, architectures, None)
        return t.total(-(forward.log_prob * rewards) + forward.skip_penalty * t.const(0.8)), variables

    value, variables = loss(weights)
    analytic = dict(zip(variables, t.gradients(value, list(variables.values())), strict=True))
    for name, array in weights.arrays().items():
        for _ in range(5):
            index = tuple(int(rng.integers(0, n)) for n in array.shape)
            old = array[index]
            array[index] = old + 1e-6
            up = float(loss(weights)[0].value)
            array[index] = old - 1e-6
            down = float(loss(weights)[0].value)
            array[index] = old
            numeric = (up - down) / 2e-6
            assert analytic[name][index] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (name, index)


def _learn(direction: sg.Direction, calls: int) -> tuple[float, float]:
    """A reward that favours operation 2 in every layer; the first layer's P(op 2) before and after."""
    problem = _problem(
        direction, controller_learning_rate="0.005", controller_train_steps="5", controller_baseline_decay="0.9"
    )
    enas = Enas()
    config = enas.config(problem)[0]
    history: list[sg.Trial] = []
    state: dict[str, Any] | None = None
    before = ec.operation_probabilities(config, EnasState.fresh(config, 0).trainer.weights)[2]
    for i in range(calls):
        decision = enas.suggest_with_state(problem, history, 0, state)
        assert isinstance(decision, sg.Suggestion)
        state = decision.state if decision.state is not None else state
        architecture = sg.read_katib_json(str(decision.assignments["architecture"]))
        good = sum(layer[0] == 2 for layer in architecture) / len(architecture)
        value = good if direction == "maximize" else 1.0 - good
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", value))
    assert state is not None
    return before, ec.operation_probabilities(config, EnasState.from_json(state, config).trainer.weights)[2]


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_the_controller_learns_which_operation_pays(direction: sg.Direction) -> None:
    before, after = _learn(direction, 30)
    assert before == pytest.approx(0.25, abs=0.01)  # four operations, near-zero initial weights
    assert after > 0.6, after


def test_without_training_steps_nothing_is_learnt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the test above: with Adam's update turned off, P(op 2) stays where it started."""
    original = ec.Trainer.step

    def no_update(self: ec.Trainer, *args: Any) -> ec.TrainStats:
        kept = {k: v.copy() for k, v in self.weights.arrays().items()}
        stats = original(self, *args)
        for k, v in kept.items():
            getattr(self.weights, k)[...] = v
        return stats

    monkeypatch.setattr(ec.Trainer, "step", no_update)
    before, after = _learn("maximize", 30)
    assert after == pytest.approx(before, abs=1e-12)


def test_the_state_round_trips_and_trains_only_on_new_trials() -> None:
    problem = _problem(controller_train_steps="3")
    enas = Enas()
    config = enas.config(problem)[0]
    first = enas.suggest(problem, [], 1)
    assert isinstance(first, sg.Suggestion) and first.state is None  # nothing to learn from: nothing to store
    history = [sg.Trial("a", first.assignments, "Succeeded", 0.5), sg.Trial("b", first.assignments, "Running")]
    trained = enas.suggest_with_state(problem, history, 1, None)
    assert isinstance(trained, sg.Suggestion) and trained.state is not None
    state = EnasState.from_json(trained.state, config)
    assert state.consumed == ("a",) and state.trainer.train_step == 3
    assert EnasState.from_json(state.to_json(), config).to_json() == trained.state
    # The same history again: nothing new, so no training and no new state; the same sample as before.
    again = enas.suggest_with_state(problem, history, 1, trained.state)
    assert isinstance(again, sg.Suggestion) and again.state is None
    assert again.assignments == trained.assignments
    # "b" succeeds: only it is trained on.
    history[1] = sg.Trial("b", first.assignments, "Succeeded", 0.9)
    later = enas.suggest_with_state(problem, history, 1, trained.state)
    assert isinstance(later, sg.Suggestion) and later.state is not None
    assert later.state["consumed"] == ["a", "b"] and later.state["train_step"] == 6
    # Deterministic in (problem, history, seed, state): a fresh instance continues identically.
    assert Enas().suggest_with_state(problem, history, 1, trained.state) == later


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"version": 99}, "stored state is 'enas' version 99, this enas reads version 1"),
        ({"num_operations": 5}, "stored controller has (layers, operations, hidden size) (3, 5, 64)"),
        ({"baseline": "high"}, "stored state is damaged: ValueError"),
    ],
)
def test_a_state_it_cannot_read_is_rebuilt_from_the_history(
    change: dict[str, Any], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    problem = _problem(controller_train_steps="2")
    first = Enas().suggest(problem, [], 4)
    assert isinstance(first, sg.Suggestion)
    history = [sg.Trial("a", first.assignments, "Succeeded", 0.5)]
    rebuilt = Enas().suggest_with_state(problem, history, 4, None)
    assert isinstance(rebuilt, sg.Suggestion) and rebuilt.state is not None
    with caplog.at_level(logging.WARNING, logger="katib_flows_suggestion._enas"):
        decision = Enas().suggest_with_state(problem, history, 4, {**rebuilt.state, **change})
    assert decision == rebuilt
    [record] = caplog.records
    assert record.getMessage().startswith(f"enas rebuilds its controller from the trial history: {why}")


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        (_problem(controller_hidden_size="0"), "controller_hidden_size must be an integer >= 1, got '0'"),
        (_problem(controller_skip_target="1.5"), "controller_skip_target must be a number in (0, 1], got '1.5'"),
        (sg.Problem((), "acc", "maximize"), "enas searches spec.nasConfig, which is missing"),
        (
            sg.Problem((), "acc", "maximize", nas=sg.NasConfig(None, (1,), (1,), NAS.operations)),
            "enas needs spec.nasConfig.graphConfig.numLayers",
        ),
    ],
)
def test_bad_settings_and_spaces_are_clear_errors(problem: sg.Problem, message: str) -> None:
    assert message in [p.message for p in Enas().validate(problem)]
    with pytest.raises(sg.InvalidSettingsError, match="invalid settings for algorithm enas: ") as raised:
        Enas().suggest(problem, [], 0)
    assert message in str(raised.value)


def test_none_turns_katibs_optional_terms_off() -> None:
    problem = _problem(
        controller_temperature="None",
        controller_tanh_const="None",
        controller_entropy_weight="None",
        controller_skip_weight="None",
        controller_train_steps="2",
    )
    config = Enas().config(problem)[0]
    assert (config.temperature, config.tanh_const, config.entropy_weight, config.skip_weight) == (None,) * 4
    first = Enas().suggest(problem, [], 0)
    assert isinstance(first, sg.Suggestion)
    decision = Enas().suggest(problem, [sg.Trial("a", first.assignments, "Succeeded", 1.0)], 0)
    assert isinstance(decision, sg.Suggestion) and decision.state is not None
