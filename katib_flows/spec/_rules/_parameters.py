"""Rules for ``spec.parameters``: names, types and each feasible space (numbers that parse, min <= max,
step > 0, lists not empty), which Katib partly leaves to run time; ``spec.nasConfig`` goes to ``_nas``.

Called by ``check`` in ``__init__.py``; ``parameter_problems`` also by the algorithm's rules.
"""

from __future__ import annotations

from katib_flows.spec._models import ExperimentSpec, ParameterSpec
from katib_flows.spec._problems import Problem, join_path
from katib_flows.spec._rules._choices import PARAMETER_TYPES, as_number, bad_choice
from katib_flows.spec._rules._nas import check_nas

DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal")


def check_parameters(spec: ExperimentSpec) -> list[Problem]:
    if spec.parameters is None and spec.nas_config is None:
        return [
            Problem(
                "spec.parameters",
                "spec.parameters or spec.nasConfig must be specified",
                "add the parameters to search",
                rule="parameters-or-nas",
            )
        ]
    if spec.parameters is not None and spec.nas_config is not None:
        return [
            Problem(
                "spec.nasConfig",
                "only one of spec.parameters and spec.nasConfig can be specified",
                "remove one of them",
                rule="parameters-or-nas",
            )
        ]
    if spec.nas_config is not None:
        return check_nas(spec)
    problems = parameter_problems(spec.parameters or [])
    if not spec.parameters:
        problems.append(Problem("spec.parameters", "is empty", "add at least one parameter", rule="non-empty"))
    return problems


def parameter_problems(parameters: list[ParameterSpec], prefix: str = "spec.parameters") -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, parameter in enumerate(parameters):
        path = join_path(prefix, i)
        if not parameter.name:
            problems.append(Problem(f"{path}.name", "is required", "give the parameter a name", rule="required"))
        elif parameter.name in seen:
            problems.append(
                Problem(
                    f"{path}.name",
                    "is used by an earlier parameter",
                    "give it a unique name",
                    value=parameter.name,
                    rule="unique-name",
                )
            )
        seen.add(parameter.name or "")
        problems += _check_feasible_space(parameter, path)
    return problems


def _check_feasible_space(parameter: ParameterSpec, path: str) -> list[Problem]:
    kind = parameter.parameter_type
    if kind not in PARAMETER_TYPES:
        return [bad_choice(f"{path}.parameterType", kind, PARAMETER_TYPES, "parameter-type")]
    space = parameter.feasible_space
    if space is None or (space.min is None and space.max is None and space.list is None and space.step is None):
        return [
            Problem(
                f"{path}.feasibleSpace",
                "feasibleSpace must be specified",
                "give min and max, or a list",
                rule="required",
            )
        ]
    fs = f"{path}.feasibleSpace"
    problems: list[Problem] = []
    if space.distribution not in DISTRIBUTIONS:
        problems.append(bad_choice(f"{fs}.distribution", space.distribution, DISTRIBUTIONS, "distribution"))
    if kind in ("categorical", "discrete"):
        for field in ("min", "max", "step"):
            if getattr(space, field) is not None:
                problems.append(
                    Problem(
                        f"{fs}.{field}",
                        f"is not allowed for a {kind} parameter",
                        "list the values under feasibleSpace.list instead",
                        rule="list-only",
                    )
                )
        if not space.list:
            problems.append(
                Problem(f"{fs}.list", "must list at least one value", "add the values to try", rule="non-empty")
            )
        elif kind == "discrete":
            for j, item in enumerate(space.list):
                if as_number(item) is None:
                    problems.append(
                        Problem(
                            f"{fs}.list[{j}]",
                            "a discrete value must be a number",
                            "use parameterType: categorical for text values",
                            value=item,
                            rule="number",
                        )
                    )
        if space.list and len(set(space.list)) != len(space.list):
            problems.append(
                Problem(
                    f"{fs}.list",
                    "repeats a value",
                    "list each value once",
                    value=space.list,
                    rule="unique-values",
                    severity="warning",
                )
            )
        return problems
    if space.list is not None:
        problems.append(
            Problem(f"{fs}.list", f"is not allowed for a {kind} parameter", "use min and max", rule="range-only")
        )
    bounds: dict[str, float] = {}
    for field in ("min", "max", "step"):
        text = getattr(space, field)
        if text is None:
            if field != "step":
                problems.append(
                    Problem(
                        f"{fs}.{field}",
                        f"is required for a {kind} parameter",
                        f"add feasibleSpace.{field}",
                        rule="required",
                    )
                )
            continue
        number = as_number(text)
        if number is None or (kind == "int" and not number.is_integer()):
            what = "an integer" if kind == "int" else "a number"
            problems.append(
                Problem(
                    f"{fs}.{field}",
                    f"must be {what}",
                    f"write {field} as {what}, quoted",
                    value=text,
                    rule="number",
                )
            )
        else:
            bounds[field] = number
    low, high, step = bounds.get("min"), bounds.get("max"), bounds.get("step")
    if low is not None and high is not None and low > high:
        problems.append(
            Problem(
                f"{fs}.max",
                f"must be >= feasibleSpace.min ({space.min})",
                "swap min and max",
                value=space.max,
                rule="min-le-max",
            )
        )
    if step is not None and step <= 0:
        problems.append(
            Problem(
                f"{fs}.step",
                "must be greater than 0",
                "use a positive step, or leave it out",
                value=space.step,
                rule="step-positive",
            )
        )
    elif step is not None and low is not None and high is not None and low <= high and step > high - low > 0:
        problems.append(
            Problem(
                f"{fs}.step",
                f"is larger than max - min ({high - low:g}); only min can be drawn",
                "use a smaller step",
                value=space.step,
                rule="step-in-range",
                severity="warning",
            )
        )
    if space.distribution in ("logUniform", "logNormal") and low is not None and low <= 0:
        problems.append(
            Problem(
                f"{fs}.min",
                f"must be greater than 0 for distribution {space.distribution}",
                "use a positive min, or distribution: uniform",
                value=space.min,
                rule="log-positive",
            )
        )
    return problems
