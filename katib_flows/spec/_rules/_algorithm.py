"""Rules for ``spec.algorithm`` and ``spec.earlyStopping``: the names, and their settings judged by the
suggestion package against the search space.

Called by ``check`` in ``__init__.py``.
"""

from __future__ import annotations

from dataclasses import replace

from katib_flows_suggestion import MULTI_OBJECTIVE_ALGORITHMS, algorithm_names, validate_settings
from katib_flows_suggestion.early_stopping import EARLY_STOPPING_RULES, validate_early_stopping

from katib_flows.spec._models import ExperimentSpec
from katib_flows.spec._problems import Problem, one_of
from katib_flows.spec._rules._choices import bad_choice
from katib_flows.spec._rules._nas import check_nas
from katib_flows.spec._rules._parameters import parameter_problems
from katib_flows.spec._search import to_search_problem


def check_algorithm(spec: ExperimentSpec) -> list[Problem]:
    algorithm = spec.algorithm
    if algorithm is None or not algorithm.algorithm_name:
        return [
            Problem(
                "spec.algorithm.algorithmName",
                "is required",
                f"choose one of: {one_of(algorithm_names())}",
                rule="required",
            )
        ]
    name = algorithm.algorithm_name
    names = algorithm_names()  # the built-in ones and installed plug-ins
    if name not in names:
        return [bad_choice("spec.algorithm.algorithmName", name, names, "algorithm")]
    if name in ("enas", "darts") and spec.nas_config is None:
        return [Problem("spec.nasConfig", f"is required by the NAS algorithm {name}", "add nasConfig", rule="required")]
    objectives = spec.objective.objectives() if spec.objective else []
    if len(objectives) > 1 and name not in MULTI_OBJECTIVE_ALGORITHMS:
        return [
            Problem(
                "spec.algorithm.algorithmName",
                f"optimises a single objective, but spec.objective has {len(objectives)} "
                f"({', '.join(m for m, _ in objectives)})",
                f"use one of: {one_of(MULTI_OBJECTIVE_ALGORITHMS)}; or remove spec.objective.additionalObjectives",
                value=name,
                rule="multi-objective-algorithm",
            )
        ]
    if spec.nas_config is not None:
        if any(p.is_error for p in check_nas(spec)):
            return []  # settings are judged against the NAS space; a broken one is reported on its own
    elif spec.parameters is None or parameter_problems(spec.parameters):
        return []  # settings are judged against the space; a broken space is reported on its own
    problems = []
    settings = algorithm.algorithm_settings or []
    index = {s.name: i for i, s in enumerate(settings)}
    for found in validate_settings(name, to_search_problem(spec)):
        fix = found.fix or "change this setting, or remove it to use the default"
        if found.setting in index:
            i = index[found.setting]
            path, value = f"spec.algorithm.algorithmSettings[{i}]", settings[i].value
        else:
            path, value = "spec.algorithm.algorithmSettings" if found.setting else "spec.algorithm", None
            fix = found.fix or ("add the setting" if found.setting else "change the search space or the algorithm")
        problem = Problem(path, found.message, fix, rule=f"{name}-settings")
        problems.append(problem if value is None or "got" in found.message else replace(problem, value=value))
    return problems


def check_early_stopping(spec: ExperimentSpec) -> list[Problem]:
    early = spec.early_stopping
    if early is None:
        return []
    name = early.algorithm_name
    if not name:
        return [Problem("spec.earlyStopping.algorithmName", "is required", "use medianstop", rule="required")]
    if name not in EARLY_STOPPING_RULES:
        return [bad_choice("spec.earlyStopping.algorithmName", name, EARLY_STOPPING_RULES, "early-stopping")]
    settings = early.algorithm_settings or []
    index = {s.name: i for i, s in enumerate(settings)}
    problems = []
    for found in validate_early_stopping(name, early.settings()):
        i = index.get(found.setting)
        path = f"spec.earlyStopping.algorithmSettings[{i}]" if i is not None else "spec.earlyStopping.algorithmSettings"
        problem = Problem(
            path, found.message, found.fix or "change or remove this setting", rule="early-stopping-settings"
        )
        problems.append(replace(problem, value=settings[i].value) if i is not None else problem)
    return problems
