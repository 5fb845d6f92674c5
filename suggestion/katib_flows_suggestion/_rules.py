"""Katib's ``algorithmSettings`` rules for every Katib algorithm, implemented here or not.

``validate_settings`` (the registry) and ``Algorithm.validate`` call ``check_algorithm``;
``Algorithm.read_settings`` parses by the same table. The rules follow Katib's suggestion services
(``katib-v1beta1.md`` section 3) and say where we are stricter: a value Katib accepts but that makes its
service crash at suggestion time (``eta`` 1, ``r_l`` 0, ``n_ei_candidates`` 0) is rejected here instead.
Unknown setting names are rejected for every algorithm except ``darts``, which, as in Katib, hands all its
settings to the trial code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from katib_flows_suggestion._base import Problem, SettingProblem
from katib_flows_suggestion._nas import operation_problems
from katib_flows_suggestion._settings import Kind, Parsed, Setting, check

_RANDOM_STATE = Setting("random_state", "int", low=0)
_N_STARTUP = Setting("n_startup_trials", "int", low=0)
_N_EI = Setting("n_ei_candidates", "int", low=0, low_open=True)


def _positive(name: str, kind: Kind = "float") -> Setting:
    return Setting(name, kind, low=0, low_open=True)


def _at_least(name: str, low: float, kind: Kind = "float") -> Setting:
    return Setting(name, kind, low=low)


def _probability(name: str) -> Setting:
    return Setting(name, "float", low=0, high=1)


#: The algorithms that accept more than one objective: the ones that ignore values, TPE (optuna's TPESampler
#: is MOTPE when it has several directions) and the two multi-objective extensions.
MULTI_OBJECTIVE_ALGORITHMS: tuple[str, ...] = ("random", "grid", "sobol", "tpe", "multivariate-tpe", "nsga2", "motpe")


SCHEMAS: dict[str, tuple[Setting, ...]] = {
    "random": (_RANDOM_STATE,),
    "grid": (_RANDOM_STATE,),
    "tpe": (
        Setting("gamma", "float", low=0, high=1, low_open=True, high_open=True),
        _positive("prior_weight"),
        _positive("n_EI_candidates", "int"),
        _RANDOM_STATE,
        _N_STARTUP,
        _N_EI,
        Setting("multivariate", "choice", choices=("true", "false")),
    ),
    "multivariate-tpe": (_N_STARTUP, _N_EI, _RANDOM_STATE),
    # Extensions for several objectives: optuna's NSGAIISampler's arguments, and MOTPE with multivariate-tpe's.
    "nsga2": (
        Setting("population_size", "int", low=2),
        _probability("mutation_prob"),
        _probability("crossover_prob"),
        _probability("swapping_prob"),
        _RANDOM_STATE,
    ),
    "motpe": (_N_STARTUP, _N_EI, _RANDOM_STATE),
    "cmaes": (
        _RANDOM_STATE,
        _positive("sigma"),
        Setting("restart_strategy", "choice", choices=("ipop", "bipop", "none")),
    ),
    "sobol": (),
    "bayesianoptimization": (
        Setting("base_estimator", "choice", choices=("GP", "RF", "ET", "GBRT")),
        _at_least("n_initial_points", 0, "int"),
        Setting("acq_func", "choice", choices=("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps")),
        Setting("acq_optimizer", "choice", choices=("auto", "sampling", "lbfgs")),
        _RANDOM_STATE,
    ),
    "hyperband": (
        Setting("r_l", "float", low=0, low_open=True, required=True),
        Setting("resource_name", "text", required=True),
        Setting("eta", "float"),
    ),
    # Extension: asynchronous successive halving, with hyperband's names plus the smallest budget r_min.
    "asha": (
        Setting("r_l", "float", low=0, low_open=True, required=True),
        Setting("resource_name", "text", required=True),
        Setting("eta", "float"),
        _positive("r_min"),
        _RANDOM_STATE,
    ),
    "pbt": (
        Setting("suggestion_trial_dir", "text", required=True),
        Setting("n_population", "int", low=5, required=True),
        Setting("truncation_threshold", "float", low=0, high=1, required=True),
        Setting("resample_probability", "float", low=0, high=1),
    ),
    "enas": (
        Setting("controller_hidden_size", "int", low=1),
        Setting("controller_temperature", "float", low=0, low_open=True, none_allowed=True),
        Setting("controller_tanh_const", "float", low=0, low_open=True, none_allowed=True),
        Setting("controller_entropy_weight", "float", low=0, low_open=True, none_allowed=True),
        Setting("controller_baseline_decay", "float", low=0, high=1, low_open=True),
        Setting("controller_learning_rate", "float", low=0, high=1, low_open=True),
        Setting("controller_skip_target", "float", low=0, high=1, low_open=True),
        Setting("controller_skip_weight", "float", low=0, low_open=True, none_allowed=True),
        Setting("controller_train_steps", "int", low=1),
        Setting("controller_log_every_steps", "int", low=1),
    ),
    "darts": (
        _positive("num_epochs", "int"),
        *(_at_least(name, 0) for name in ("w_lr", "w_lr_min", "alpha_lr", "w_weight_decay", "alpha_weight_decay")),
        _at_least("w_momentum", 0),
        _at_least("w_grad_clip", 0),
        Setting("batch_size", "int", low=1, none_allowed=True),
        _at_least("num_workers", 0, "int"),
        *(_at_least(name, 1, "int") for name in ("init_channels", "print_step", "num_nodes", "stem_multiplier")),
    ),
}


def _grid(problem: Problem) -> list[SettingProblem]:
    return [
        SettingProblem(
            "",
            f"parameter {p.name} needs feasibleSpace.step: grid enumerates every value, and a double "
            "parameter has a finite list of values only with a step",
            f"add feasibleSpace.step to {p.name}, or choose an algorithm that samples (random, tpe)",
        )
        for p in problem.parameters
        if p.type == "double" and not p.step
    ]


def _tpe(problem: Problem) -> list[SettingProblem]:
    if "n_EI_candidates" in problem.settings and "n_ei_candidates" in problem.settings:
        return [
            SettingProblem(
                "n_ei_candidates",
                "n_EI_candidates (Katib's name) and n_ei_candidates (optuna's) are the same setting: set only one",
                "remove n_ei_candidates",
            )
        ]
    return []


def _cmaes(problem: Problem) -> list[SettingProblem]:
    numeric = [p.name for p in problem.parameters if p.type in ("int", "double")]
    if len(numeric) >= 2:
        return []
    return [
        SettingProblem(
            "",
            "CMA-ES only supports two or more dimensional continuous search space: it needs at least two int "
            f"or double parameters, got {len(numeric)}",
            "add int or double parameters, or choose another algorithm (tpe, random)",
        )
    ]


def _bayesianoptimization(problem: Problem) -> list[SettingProblem]:
    problems = []
    estimator = problem.settings.get("base_estimator")
    if estimator in ("RF", "ET", "GBRT"):
        problems.append(
            SettingProblem(
                "base_estimator",
                f"base_estimator {estimator} is a scikit-optimize tree ensemble that katib-flows does not run; "
                "only GP is supported",
                "set base_estimator to GP, or remove it",
            )
        )
    acquisition = problem.settings.get("acq_func")
    if acquisition in ("EIps", "PIps"):
        problems.append(
            SettingProblem(
                "acq_func",
                f"acq_func {acquisition} weighs by trial duration, which katib-flows does not give to algorithms; "
                "use EI, PI, LCB or gp_hedge",
                f"set acq_func to {acquisition[:2]}",
            )
        )
    return problems


def hyperband_s_max(r_l: float, eta: int) -> int:
    """floor(log_eta(r_l)), never below 0. Katib truncates a float quotient, so log(1000)/log(10) =
    2.9999999999999996 gives it 2; a small slack gives the intended 3."""
    return max(0, math.floor(math.log(r_l) / math.log(eta) + 1e-9)) if r_l >= 1 else 0


def _resource(problem: Problem) -> list[SettingProblem]:
    resource = problem.settings.get("resource_name")
    if resource is None:
        return []
    names = [p.name for p in problem.parameters]
    parameter = next((p for p in problem.parameters if p.name == resource), None)
    if parameter is None:
        return [
            SettingProblem(
                "resource_name",
                f"resource_name must name one of the parameters ({', '.join(names)}), got {resource!r}",
                "set resource_name to the parameter that holds the training budget (e.g. epochs)",
            )
        ]
    if parameter.type not in ("int", "double"):
        return [
            SettingProblem(
                "resource_name",
                f"resource_name must name an int or double parameter: it receives the budget, "
                f"but {resource} is {parameter.type}",
                f"make {resource} an int or double parameter, or name another one",
            )
        ]
    return []


def _eta(settings: Mapping[str, str]) -> int | None:
    """Katib's eta: int(float(text)), and a value <= 0 means the default 3; None when it does not parse."""
    try:
        eta = int(float(settings.get("eta", "3")))
    except ValueError:
        return None
    return 3 if eta <= 0 else eta


def _eta_problem(eta: int | None) -> list[SettingProblem]:
    if eta != 1:
        return []
    return [
        SettingProblem("eta", "eta must be >= 2 (its integer part is used; <= 0 means 3), got 1", "set eta to 2 or 3")
    ]


def _hyperband(problem: Problem) -> list[SettingProblem]:
    settings = problem.settings
    problems = _resource(problem)
    eta = _eta(settings)
    problems += _eta_problem(eta)
    try:
        r_l = float(settings["r_l"])
    except (KeyError, ValueError):
        return problems  # reported by the schema
    if eta is None or eta == 1 or not (math.isfinite(r_l) and r_l > 0):
        return problems
    top = hyperband_s_max(r_l, eta)
    needed = math.ceil(eta**top)
    if problem.parallel_trial_count < needed:
        problems.append(
            SettingProblem(
                "",
                f"parallelTrialCount must be not less than {needed} (ceil(eta^s_max) with eta={eta}, r_l={r_l:g}, "
                f"s_max={top}), got {problem.parallel_trial_count}",
                f"raise parallelTrialCount to {needed}, or lower r_l",
            )
        )
    return problems


def _asha(problem: Problem) -> list[SettingProblem]:
    settings = problem.settings
    problems = _resource(problem) + _eta_problem(_eta(settings))
    try:
        r_l = float(settings["r_l"])
        r_min = float(settings.get("r_min", "nan"))
    except (KeyError, ValueError):
        return problems
    if math.isfinite(r_min) and math.isfinite(r_l) and 0 < r_l < r_min:
        problems.append(
            SettingProblem("r_min", f"r_min must be <= r_l ({r_l:g}), got {r_min:g}", f"set r_min to at most {r_l:g}")
        )
    return problems


def _pbt(problem: Problem) -> list[SettingProblem]:
    return [
        SettingProblem(
            "",
            f"parameter {p.name} needs feasibleSpace.step: pbt draws double values from a step grid",
            f"add feasibleSpace.step to {p.name}",
        )
        for p in problem.parameters
        if p.type == "double" and not p.step
    ]


def _enas(problem: Problem) -> list[SettingProblem]:
    """Katib's enas service: a NAS config with numLayers, inputSizes and outputSizes, operations it can list."""
    nas = problem.nas
    if nas is None:
        return [SettingProblem("", "enas searches spec.nasConfig, which is missing", "add spec.nasConfig")]
    problems = [
        SettingProblem("", f"enas needs spec.nasConfig.graphConfig.{field}", f"add {field}")
        for field, present in (
            ("numLayers", nas.num_layers is not None and nas.num_layers >= 1),
            ("inputSizes", bool(nas.input_sizes)),
            ("outputSizes", bool(nas.output_sizes)),
        )
        if not present
    ]
    return problems + operation_problems(nas.operations)


def _darts(problem: Problem) -> list[SettingProblem]:
    """What Katib's service needs to build the search space: numLayers, and a list for each operation."""
    nas = problem.nas
    if nas is None:
        return [SettingProblem("", "darts searches spec.nasConfig, which is missing", "add spec.nasConfig")]
    problems = []
    if nas.num_layers is None or nas.num_layers < 1:
        problems.append(
            SettingProblem("", "darts needs spec.nasConfig.graphConfig.numLayers (1 or more)", "add numLayers")
        )
    for i, operation in enumerate(nas.operations):
        if operation.type == "skip_connection":
            continue
        first = operation.parameters[0] if operation.parameters else None
        if first is None or first.type not in ("categorical", "discrete") or not first.values:
            problems.append(
                SettingProblem(
                    "",
                    f"spec.nasConfig.operations[{i}] ({operation.type}): darts makes one primitive "
                    f"{operation.type}_<k>x<k> per value k of the operation's first parameter, which has no list",
                    "make the first parameter categorical with feasibleSpace.list of filter sizes, such as ['3']",
                )
            )
    return problems


_EXTRA: dict[str, Callable[[Problem], list[SettingProblem]]] = {
    "grid": _grid,
    "tpe": _tpe,
    "cmaes": _cmaes,
    "bayesianoptimization": _bayesianoptimization,
    "hyperband": _hyperband,
    "asha": _asha,
    "pbt": _pbt,
    "enas": _enas,
    "darts": _darts,
}


def objectives_problem(name: str, problem: Problem) -> SettingProblem | None:
    """The broken rule when ``problem`` has several objectives and algorithm ``name`` optimises only one."""
    if not problem.multi_objective or name in MULTI_OBJECTIVE_ALGORITHMS:
        return None
    return SettingProblem(
        "",
        f"algorithm {name} optimises a single objective, but the experiment has "
        f"{len(problem.objectives)} ({', '.join(problem.objectives)})",
        f"use one of: {', '.join(MULTI_OBJECTIVE_ALGORITHMS)}; or remove objective.additionalObjectives",
    )


def check_algorithm(name: str, problem: Problem, schema: Sequence[Setting] | None = None) -> list[SettingProblem]:
    """Every broken rule of ``problem``'s settings (and space) for algorithm ``name``.

    ``schema`` defaults to ``SCHEMAS[name]``; a plug-in passes its own (and gets no extra rules by name).
    """
    schema = SCHEMAS[name] if schema is None else schema
    problems = check(name, problem.settings, schema, reject_unknown=name != "darts")
    extra = _EXTRA.get(name)
    several = objectives_problem(name, problem)
    return problems + (extra(problem) if extra else []) + ([several] if several else [])


def base_seed(settings: dict[str, Parsed], seed: int) -> int:
    """The experiment's seed: the ``random_state`` setting when it is set, else the seed the engine passed."""
    random_state = settings.get("random_state")
    return random_state if isinstance(random_state, int) else seed
