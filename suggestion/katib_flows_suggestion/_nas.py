"""What Katib's NAS services share: the numbered operation list, the assignment names, the quoting of JSON.

Called by the NAS algorithms (enas; darts builds its own search space from the same ``NasConfig``) and by
the spec rules (which trial-parameter references a NAS algorithm fills). Katib's formats are kept exactly,
so Katib's trial code reads what a trial receives here:

- ``expand_operations`` is Katib's ``Operation.py`` (``SearchSpace``): each operation becomes one entry per
  combination of its parameters' values (categorical lists as written, ints from min to max by step, doubles
  from ``numpy.arange(min, max + step, step)`` up to max), numbered from 0 in the order of the spec.
- ``katib_json`` is how Katib's services print their JSON assignments: ``json.dumps`` with every ``"``
  replaced by ``'`` (Katib substitutes values into the template's JSON text, where a ``"`` would end the
  string).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from katib_flows_suggestion._base import NasConfig, NasOperation, Parameter, SettingProblem

#: The assignments each of Katib's NAS algorithms gives every trial, which ``trialParameters`` reference.
NAS_ASSIGNMENTS: Mapping[str, tuple[str, ...]] = {
    "enas": ("architecture", "nn_config"),
    "darts": ("algorithm-settings", "search-space", "num-layers"),
}


@dataclass(frozen=True)
class ExpandedOperation:
    """One entry of Katib's operation list: its id, its ``operationType`` and one value per parameter."""

    opt_id: int
    opt_type: str
    opt_params: dict[str, str | int | float]

    def as_dict(self) -> dict[str, Any]:
        """Katib's ``Operation.get_dict()``: ``{"opt_id": ..., "opt_type": ..., "opt_params": {...}}``."""
        return {"opt_id": self.opt_id, "opt_type": self.opt_type, "opt_params": dict(self.opt_params)}


def parameter_values(parameter: Parameter) -> list[str | int | float]:
    """The values Katib enumerates for one operation parameter, in Katib's order and Python types.

    Categorical and discrete: the list as written (Katib's ``Operation.py`` leaves discrete parameters out
    altogether; we list them like categorical ones). Int: ``range(min, max + 1, step)`` (step 1 if unset).
    Double: ``numpy.arange(min, max + step, step)`` without values past max. Raises ``ValueError`` when min,
    max or a positive step is missing (``operation_problems`` reports it first).
    """
    if parameter.type in ("categorical", "discrete"):
        return list(parameter.values)
    if parameter.min is None or parameter.max is None:
        raise ValueError(f"parameter {parameter.name} needs both min and max to list its values")
    if parameter.type == "int":
        step = int(parameter.step) if parameter.step else 1
        if step <= 0:
            raise ValueError(f"parameter {parameter.name} needs step > 0, got {step}")
        return list(range(int(parameter.min), int(parameter.max) + 1, step))
    if not parameter.step or parameter.step <= 0:
        raise ValueError(f"parameter {parameter.name} needs step > 0 to list its values")
    values = np.arange(parameter.min, parameter.max + parameter.step, parameter.step)
    return [float(v) for v in values if v <= parameter.max]


def expand_operations(nas: NasConfig) -> tuple[ExpandedOperation, ...]:
    """Katib's ``SearchSpace``: every operation times the cartesian product of its parameters' values."""
    expanded: list[ExpandedOperation] = []
    for operation in nas.operations:
        names = [p.name for p in operation.parameters]
        for combination in itertools.product(*(parameter_values(p) for p in operation.parameters)):
            params = dict(zip(names, combination, strict=True))
            expanded.append(ExpandedOperation(len(expanded), operation.type, params))
    return tuple(expanded)


def operation_problems(operations: tuple[NasOperation, ...], *, most: int = 100_000) -> list[SettingProblem]:
    """What stops ``expand_operations``: a parameter whose values cannot be listed, or a list past ``most``."""
    problems: list[SettingProblem] = []
    total = 0
    for i, operation in enumerate(operations):
        count = 1
        for parameter in operation.parameters:
            where = f"spec.nasConfig.operations[{i}] ({operation.type})"
            try:
                count *= len(parameter_values(parameter))
            except ValueError as exc:
                problems.append(SettingProblem("", f"{where}: {exc}", "give min and max (and a step > 0 for a double)"))
        total += count
    if not problems and total == 0:
        problems.append(SettingProblem("", "the NAS operations list no operation", "add operations with values"))
    elif total > most:
        problems.append(
            SettingProblem(
                "",
                f"the NAS operations expand to {total} operations (every combination of their parameters' "
                f"values), more than {most}",
                "list fewer values, or use a larger step",
            )
        )
    return problems


def katib_json(value: Any) -> str:
    """``json.dumps(value)`` with ``"`` replaced by ``'``, as Katib's NAS services write their assignments."""
    return json.dumps(value).replace('"', "'")


def read_katib_json(text: str) -> Any:
    """The value of a ``katib_json`` text (``'`` read back as ``"``, as Katib's trial code does)."""
    return json.loads(text.replace("'", '"'))
