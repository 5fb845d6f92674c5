"""Search algorithms for katib-flows: Katib's algorithms as stateless functions of (space, history, seed).

The engine builds a ``Problem`` from an Experiment, gets an algorithm with ``get_algorithm(name)`` and asks
it to ``suggest`` from the full trial history; the spec rules call ``validate_settings`` and ``grid_size``.
This distribution depends on optuna, numpy and scipy only.
"""

from katib_flows_suggestion._base import (
    ACTIVE,
    FINISHED_WITH_VALUE,
    Algorithm,
    Decision,
    Direction,
    Distribution,
    Exhausted,
    Parameter,
    ParameterType,
    Problem,
    SettingProblem,
    Suggestion,
    Trial,
    Value,
    Wait,
)
from katib_flows_suggestion._errors import InvalidSettingsError, NotImplementedAlgorithmError, UnknownAlgorithmError
from katib_flows_suggestion._grid import grid_size
from katib_flows_suggestion._registry import IMPLEMENTED_ALGORITHMS, KATIB_ALGORITHMS, get_algorithm, validate_settings

__all__ = [
    "ACTIVE",
    "FINISHED_WITH_VALUE",
    "IMPLEMENTED_ALGORITHMS",
    "KATIB_ALGORITHMS",
    "Algorithm",
    "Decision",
    "Direction",
    "Distribution",
    "Exhausted",
    "InvalidSettingsError",
    "NotImplementedAlgorithmError",
    "Parameter",
    "ParameterType",
    "Problem",
    "SettingProblem",
    "Suggestion",
    "Trial",
    "UnknownAlgorithmError",
    "Value",
    "Wait",
    "get_algorithm",
    "grid_size",
    "validate_settings",
]
