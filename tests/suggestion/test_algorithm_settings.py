"""Katib's algorithmSettings rules for every Katib algorithm name, and the registry's answers."""

from __future__ import annotations

import katib_flows_suggestion as sg
import pytest
from katib_flows_suggestion._rules import SCHEMAS

P = sg.Parameter
SPACE = (
    P("lr", "double", 0.01, 0.1, 0.01),
    P("epochs", "int", 1, 27),
    P("optimizer", "categorical", values=("sgd", "adam")),
)


#: A NAS config every problem here carries, so that enas and darts find one; the other algorithms ignore it.
NAS = sg.NasConfig(
    2, (8, 8, 1), (10,), (sg.NasOperation("convolution", (P("filter_size", "categorical", values=("3", "5")),)),)
)


def _problem(settings: dict[str, str], parameters: tuple[sg.Parameter, ...] = SPACE, parallel: int = 3) -> sg.Problem:
    return sg.Problem(parameters, "loss", "minimize", settings=settings, parallel_trial_count=parallel, nas=NAS)


VALID = {
    "random": {"random_state": "0"},
    "grid": {"random_state": "42"},
    "tpe": {
        "gamma": "0.25",
        "prior_weight": "1.0",
        "n_EI_candidates": "24",
        "random_state": "1",
        "n_startup_trials": "5",
        "multivariate": "false",
    },
    "multivariate-tpe": {"n_startup_trials": "0", "n_ei_candidates": "24", "random_state": "3"},
    "cmaes": {"random_state": "1", "sigma": "0.001", "restart_strategy": "ipop"},
    "sobol": {},
    "bayesianoptimization": {
        "base_estimator": "GP",
        "n_initial_points": "10",
        "acq_func": "gp_hedge",
        "acq_optimizer": "auto",
        "random_state": "10",
    },
    "hyperband": {"r_l": "3", "resource_name": "epochs", "eta": "3"},
    "pbt": {"suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "40", "truncation_threshold": "0.2"},
    "asha": {"r_l": "27", "resource_name": "epochs", "eta": "3", "r_min": "1", "random_state": "2"},
    "enas": {"controller_hidden_size": "64", "controller_temperature": "None", "controller_baseline_decay": "1.0"},
    "darts": {"num_epochs": "3", "w_lr": "0.0", "batch_size": "None", "num_workers": "0", "num_nodes": "1"},
    "nsga2": {
        "population_size": "8",
        "mutation_prob": "0.1",
        "crossover_prob": "0.9",
        "swapping_prob": "0.5",
        "random_state": "4",
    },
    "motpe": {"n_startup_trials": "5", "n_ei_candidates": "24", "random_state": "3"},
}

# (algorithm, settings, the setting the problem names ("" = the whole spec), text the message contains)
BROKEN = [
    ("random", {"random_state": "-1"}, "random_state", "an integer >= 0"),
    ("random", {"random_state": "1.5"}, "random_state", "got '1.5'"),
    ("grid", {"random_state": "x"}, "random_state", "an integer >= 0"),
    ("tpe", {"gamma": "1"}, "gamma", "a number in (0, 1)"),
    ("tpe", {"gamma": "0"}, "gamma", "a number in (0, 1)"),
    ("tpe", {"prior_weight": "0"}, "prior_weight", "a number > 0"),
    ("tpe", {"n_EI_candidates": "0"}, "n_EI_candidates", "an integer > 0"),
    ("tpe", {"n_ei_candidates": "0"}, "n_ei_candidates", "an integer > 0"),
    ("tpe", {"n_startup_trials": "-2"}, "n_startup_trials", "an integer >= 0"),
    ("tpe", {"n_EI_candidates": "8", "n_ei_candidates": "8"}, "n_ei_candidates", "set only one"),
    ("tpe", {"multivariate": "yes"}, "multivariate", "one of: true, false"),
    ("multivariate-tpe", {"n_startup_trials": "-1"}, "n_startup_trials", "an integer >= 0"),
    ("multivariate-tpe", {"n_ei_candidates": "0"}, "n_ei_candidates", "an integer > 0"),
    ("multivariate-tpe", {"random_state": "-5"}, "random_state", "an integer >= 0"),
    ("multivariate-tpe", {"gamma": "0.5"}, "gamma", "unknown setting gamma for algorithm multivariate-tpe"),
    ("cmaes", {"restart_strategy": "lipop"}, "restart_strategy", "one of: ipop, bipop, none"),
    ("cmaes", {"sigma": "-1"}, "sigma", "a number > 0"),
    ("cmaes", {"random_state": "-1"}, "random_state", "an integer >= 0"),
    ("sobol", {"random_state": "1"}, "random_state", "takes no settings"),
    ("bayesianoptimization", {"base_estimator": "SVM"}, "base_estimator", "one of: GP, RF, ET, GBRT"),
    ("bayesianoptimization", {"n_initial_points": "-1"}, "n_initial_points", "an integer >= 0"),
    ("bayesianoptimization", {"acq_func": "UCB"}, "acq_func", "one of: gp_hedge, LCB, EI, PI, EIps, PIps"),
    ("bayesianoptimization", {"acq_optimizer": "adam"}, "acq_optimizer", "one of: auto, sampling, lbfgs"),
    ("bayesianoptimization", {"random_state": "-1"}, "random_state", "an integer >= 0"),
    ("hyperband", {"resource_name": "epochs"}, "r_l", "r_l is required"),
    ("hyperband", {"r_l": "3"}, "resource_name", "resource_name is required"),
    ("hyperband", {"r_l": "-1", "resource_name": "epochs"}, "r_l", "a number > 0"),
    ("hyperband", {"r_l": "0", "resource_name": "epochs"}, "r_l", "a number > 0"),
    ("hyperband", {"r_l": "3", "resource_name": "steps"}, "resource_name", "must name one of the parameters"),
    ("hyperband", {"r_l": "9", "resource_name": "epochs", "eta": "1"}, "eta", "eta must be >= 2"),
    ("hyperband", {"r_l": "3", "resource_name": "epochs", "eta": "three"}, "eta", "a number"),
    ("hyperband", {"r_l": "27", "resource_name": "epochs"}, "", "parallelTrialCount must be not less than 27"),
    ("hyperband", {"r_l": "3", "resource_name": "optimizer"}, "resource_name", "an int or double parameter"),
    ("bayesianoptimization", {"base_estimator": "RF"}, "base_estimator", "only GP is supported"),
    ("bayesianoptimization", {"acq_func": "EIps"}, "acq_func", "trial duration"),
    ("asha", {"resource_name": "epochs"}, "r_l", "r_l is required"),
    ("asha", {"r_l": "9"}, "resource_name", "resource_name is required"),
    ("asha", {"r_l": "9", "resource_name": "epochs", "eta": "1"}, "eta", "eta must be >= 2"),
    ("asha", {"r_l": "9", "resource_name": "epochs", "r_min": "10"}, "r_min", "r_min must be <= r_l (9)"),
    ("asha", {"r_l": "9", "resource_name": "epochs", "r_min": "0"}, "r_min", "a number > 0"),
    ("asha", {"r_l": "9", "resource_name": "lr2"}, "resource_name", "must name one of the parameters"),
    ("pbt", {"n_population": "40", "truncation_threshold": "0.2"}, "suggestion_trial_dir", "is required"),
    ("pbt", {**VALID["pbt"], "n_population": "4"}, "n_population", "an integer >= 5"),
    ("pbt", {**VALID["pbt"], "truncation_threshold": "1.5"}, "truncation_threshold", "a number in [0, 1]"),
    ("pbt", {**VALID["pbt"], "resample_probability": "2"}, "resample_probability", "a number in [0, 1]"),
    ("enas", {"controller_hidden_size": "0"}, "controller_hidden_size", "an integer >= 1"),
    ("enas", {"controller_temperature": "0"}, "controller_temperature", 'a number > 0, or "None"'),
    ("enas", {"controller_baseline_decay": "1.5"}, "controller_baseline_decay", "a number in (0, 1]"),
    ("enas", {"controller_learning_rate": "None"}, "controller_learning_rate", "a number in (0, 1]"),
    ("enas", {"controller_layers": "2"}, "controller_layers", "unknown setting controller_layers for algorithm enas"),
    ("darts", {"num_epochs": "0"}, "num_epochs", "an integer > 0"),
    ("darts", {"w_lr": "-0.1"}, "w_lr", "a number >= 0"),
    ("darts", {"w_momentum": "-1"}, "w_momentum", "a number >= 0"),
    ("darts", {"batch_size": "0"}, "batch_size", "an integer >= 1"),
    ("darts", {"num_workers": "-1"}, "num_workers", "an integer >= 0"),
    ("darts", {"stem_multiplier": "0"}, "stem_multiplier", "an integer >= 1"),
    ("nsga2", {"population_size": "1"}, "population_size", "an integer >= 2"),
    ("nsga2", {"crossover_prob": "1.5"}, "crossover_prob", "a number in [0, 1]"),
    ("nsga2", {"swapping_prob": "-0.1"}, "swapping_prob", "a number in [0, 1]"),
    ("nsga2", {"gamma": "0.5"}, "gamma", "unknown setting gamma for algorithm nsga2"),
    ("motpe", {"n_ei_candidates": "0"}, "n_ei_candidates", "an integer > 0"),
    ("motpe", {"gamma": "0.5"}, "gamma", "unknown setting gamma for algorithm motpe"),
]


def test_every_algorithm_name_has_rules() -> None:
    assert set(SCHEMAS) == set(sg.ALGORITHM_NAMES)
    assert set(VALID) == set(sg.ALGORITHM_NAMES)


@pytest.mark.parametrize("name", sg.ALGORITHM_NAMES)
def test_valid_settings_and_defaults_pass(name: str) -> None:
    assert sg.validate_settings(name, _problem(VALID[name])) == []
    if name not in ("hyperband", "pbt", "asha"):  # the only algorithms with required settings
        assert sg.validate_settings(name, _problem({})) == []


@pytest.mark.parametrize(("name", "settings", "setting", "text"), BROKEN)
def test_each_rule_is_reported_on_its_setting(name: str, settings: dict[str, str], setting: str, text: str) -> None:
    problems = sg.validate_settings(name, _problem(settings))
    assert [p.setting for p in problems] == [setting]
    assert text in problems[0].message
    assert problems[0].fix, "every problem says what to change"
    if setting:
        assert setting in problems[0].message


def test_a_misspelt_setting_gets_the_nearest_name() -> None:
    (problem,) = sg.validate_settings("tpe", _problem({"n_ei_candidate": "8"}))
    assert problem.fix == "rename it to n_ei_candidates"


@pytest.mark.parametrize("name", [n for n in sg.ALGORITHM_NAMES if n != "darts"])
def test_unknown_settings_are_rejected_with_the_valid_names(name: str) -> None:
    (problem,) = sg.validate_settings(name, _problem({**VALID[name], "learning_rate": "1"}))
    assert problem.setting == "learning_rate"
    assert f"unknown setting learning_rate for algorithm {name}" in problem.message
    for setting in SCHEMAS[name]:
        assert setting.name in problem.message


def test_darts_passes_unknown_settings_to_the_trial_as_katib_does() -> None:
    assert sg.validate_settings("darts", _problem({"my_custom_setting": "7"})) == []


def test_required_settings_are_reported_when_nothing_is_set() -> None:
    assert {p.setting for p in sg.validate_settings("hyperband", _problem({}))} == {"r_l", "resource_name"}
    assert {p.setting for p in sg.validate_settings("pbt", _problem({}))} == {
        "suggestion_trial_dir",
        "n_population",
        "truncation_threshold",
    }


def test_hyperband_parallelism_uses_katibs_arithmetic() -> None:
    settings = {"r_l": "9", "resource_name": "epochs", "eta": "3"}  # s_max = 2, needs 9 parallel trials
    assert sg.validate_settings("hyperband", _problem(settings, parallel=9)) == []
    (problem,) = sg.validate_settings("hyperband", _problem(settings, parallel=8))
    assert "parallelTrialCount must be not less than 9" in problem.message
    # eta <= 0 falls back to 3, and eta is truncated to an integer, as in Katib.
    assert sg.validate_settings("hyperband", _problem({**settings, "eta": "-1"}, parallel=9)) == []
    assert sg.validate_settings("hyperband", _problem({**settings, "eta": "3.9"}, parallel=9)) == []


def test_space_rules() -> None:
    no_step = (P("x", "double", 0.0, 1.0), P("y", "double", 0.0, 1.0, 0.5))
    for name in ("grid", "pbt"):
        (problem,) = sg.validate_settings(name, _problem(VALID[name], no_step))
        assert problem.setting == "" and "parameter x needs feasibleSpace.step" in problem.message
    one_numeric = (P("x", "double", 0.0, 1.0), P("c", "categorical", values=("a", "b")))
    (problem,) = sg.validate_settings("cmaes", _problem({}, one_numeric))
    assert "two or more dimensional continuous search space" in problem.message
    assert sg.validate_settings("cmaes", _problem({}, SPACE)) == []
    # bayesianoptimization searches a double by its own distribution here, so min <= 0 is fine.
    assert sg.validate_settings("bayesianoptimization", _problem({}, (P("x", "double", -1.0, 1.0),))) == []


def test_algorithm_settings_match_their_rules() -> None:
    for name in sg.IMPLEMENTED_ALGORITHMS:
        assert sg.get_algorithm(name).settings == tuple(s.name for s in SCHEMAS[name])


def test_unknown_algorithm_lists_the_valid_ones() -> None:
    with pytest.raises(sg.UnknownAlgorithmError, match="unknown algorithm 'tpe2'; valid algorithms: random, grid"):
        sg.get_algorithm("tpe2")
    with pytest.raises(LookupError, match="hyperband"):
        sg.validate_settings("hyperbnd", _problem({}))


def test_every_katib_algorithm_runs_here() -> None:
    for name in sg.KATIB_ALGORITHMS:
        assert sg.get_algorithm(name).name == name
    assert sg.get_algorithm("asha").name == "asha"
