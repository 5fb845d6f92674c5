"""Rules for ``spec.nasConfig``: the graph and the operations, as Katib's NAS services apply them.

Called by ``check_parameters`` (a NAS experiment has no ``spec.parameters``).
"""

from __future__ import annotations

from katib_flows.spec._models import ExperimentSpec, ParameterSpec
from katib_flows.spec._problems import Problem
from katib_flows.spec._rules._choices import PARAMETER_TYPES, as_number, bad_choice


def check_nas(spec: ExperimentSpec) -> list[Problem]:
    """The rules Katib's NAS services apply (its webhook checks nothing here): graph, then operations."""
    nas = spec.nas_config
    assert nas is not None
    algorithm = spec.algorithm.algorithm_name if spec.algorithm else None
    problems = []
    graph = nas.graph_config
    needed = ("numLayers", "inputSizes", "outputSizes") if algorithm == "enas" else ("numLayers",)
    present = {
        "numLayers": graph is not None and graph.num_layers is not None,
        "inputSizes": graph is not None and bool(graph.input_sizes),
        "outputSizes": graph is not None and bool(graph.output_sizes),
    }
    for field in needed:
        if not present[field]:
            problems.append(
                Problem(
                    f"spec.nasConfig.graphConfig.{field}",
                    f"is required by {algorithm}",
                    f"add {field}",
                    rule="nas-graph",
                )
            )
    if not nas.operations:
        problems.append(
            Problem("spec.nasConfig.operations", "must list at least one operation", "add operations", rule="non-empty")
        )
    for i, operation in enumerate(nas.operations or []):
        path = f"spec.nasConfig.operations[{i}]"
        if not operation.operation_type:
            problems.append(Problem(f"{path}.operationType", "is required", "name the operation", rule="required"))
        if not operation.parameters and operation.operation_type != "skip_connection":  # DARTS takes it bare
            problems.append(
                Problem(f"{path}.parameters", "is required", "add the operation's parameters", rule="required")
            )
        for j, parameter in enumerate(operation.parameters or []):
            problems += _nas_parameter_problems(parameter, f"{path}.parameters[{j}]")
    return problems


def _nas_parameter_problems(parameter: ParameterSpec, path: str) -> list[Problem]:
    kind, space = parameter.parameter_type, parameter.feasible_space
    if kind not in PARAMETER_TYPES:
        return [bad_choice(f"{path}.parameterType", kind, PARAMETER_TYPES, "parameter-type")]
    if space is None:
        return [Problem(f"{path}.feasibleSpace", "is required", "give a list, or min and max", rule="required")]
    if kind in ("categorical", "discrete"):
        if not space.list:
            return [
                Problem(
                    f"{path}.feasibleSpace.list", "must list at least one value", "add the values", rule="non-empty"
                )
            ]
        return []
    if space.min is None and space.max is None:
        return [Problem(f"{path}.feasibleSpace", "needs min or max", "add min and max", rule="required")]
    for field in ("min", "max", "step"):
        text = getattr(space, field)
        number = as_number(text) if text is not None else None
        if text is not None and (number is None or (kind == "int" and number != int(number))):
            what = "an integer" if kind == "int" else "a number"
            return [
                Problem(
                    f"{path}.feasibleSpace.{field}",
                    f"must be {what}",
                    f'write {what}, such as "3"',
                    value=text,
                    rule="number",
                )
            ]
    step = as_number(space.step) if space.step is not None else None
    if kind == "double" and (step is None or step <= 0):
        return [
            Problem(
                f"{path}.feasibleSpace.step",
                "must be a number greater than 0 for a double NAS parameter",
                "add a positive step",
                value=space.step,
                rule="step-positive",
            )
        ]
    return []
