"""Search algorithms for katib-flows: Katib's algorithms as stateless functions of (space, history, seed).

The engine builds a ``Problem`` from an Experiment, gets an algorithm with ``get_algorithm(name)`` and asks
it to ``suggest`` from the full trial history; the spec rules call ``validate_settings`` and ``grid_size``.
Early-stopping rules live in ``katib_flows_suggestion.early_stopping``. PBT's checkpoint contract for
runners is ``checkpoint_dirs`` (see ``_pbt``). This distribution depends on optuna, numpy, scipy and cmaes.

Every algorithm is stateless by default. A long-lived process may keep one ``SuggestionCache`` per experiment
and call ``cache.suggest(algorithm, problem, history, seed)``: ``tpe``, ``multivariate-tpe``, ``motpe``
(an optuna study kept up to date, ``_warm``) and ``cmaes`` (its replay kept and fed) then suggest faster,
with the same decisions; the others ignore the cache. ``bayesianoptimization`` is our own GP (``_gp``,
``_bayesopt``), not optuna's GPSampler: see ``_bayesopt`` for why, by measured quality and speed.
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
    SuggestionCache,
    Trial,
    Value,
    Wait,
)
from katib_flows_suggestion._errors import InvalidSettingsError, NotImplementedAlgorithmError, UnknownAlgorithmError
from katib_flows_suggestion._grid import grid_size
from katib_flows_suggestion._pbt import CheckpointDirs, checkpoint_dirs
from katib_flows_suggestion._registry import (
    ALGORITHM_NAMES,
    EXTENSION_ALGORITHMS,
    IMPLEMENTED_ALGORITHMS,
    KATIB_ALGORITHMS,
    get_algorithm,
    validate_settings,
)
from katib_flows_suggestion._rules import MULTI_OBJECTIVE_ALGORITHMS

__all__ = [
    "ACTIVE",
    "ALGORITHM_NAMES",
    "EXTENSION_ALGORITHMS",
    "FINISHED_WITH_VALUE",
    "IMPLEMENTED_ALGORITHMS",
    "KATIB_ALGORITHMS",
    "MULTI_OBJECTIVE_ALGORITHMS",
    "Algorithm",
    "CheckpointDirs",
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
    "SuggestionCache",
    "Trial",
    "UnknownAlgorithmError",
    "Value",
    "Wait",
    "checkpoint_dirs",
    "get_algorithm",
    "grid_size",
    "validate_settings",
]
