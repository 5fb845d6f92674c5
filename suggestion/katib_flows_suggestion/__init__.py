"""Search algorithms for katib-flows: Katib's algorithms as stateless functions of (space, history, seed).

The engine builds a ``Problem`` from an Experiment, gets an algorithm with ``get_algorithm(name)`` and asks
it to ``suggest`` from the full trial history; the spec rules call ``algorithm_names``, ``validate_settings``
and ``grid_size``. Other distributions add algorithms through entry points (``ENTRY_POINT_GROUP``, ``_registry``).
NAS experiments (``Problem.nas``) share ``_nas``: Katib's operation list (``expand_operations``), the assignment names
of each NAS algorithm (``NAS_ASSIGNMENTS``) and Katib's quoting of JSON assignments (``katib_json``).
Early-stopping rules live in ``katib_flows_suggestion.early_stopping``. PBT's checkpoint contract for
runners is ``checkpoint_dirs`` (see ``_pbt``). This distribution depends on optuna, numpy, scipy and cmaes.

``enas`` (``_enas``) is the one stateful algorithm: its LSTM controller (numpy, ``_enas_controller``) is state
the engine stores with the experiment (``Algorithm.stateful``, ``Suggestion.state``) and rebuilds from the
history when the store has none. Every other algorithm is stateless. A long-lived process may keep one
``SuggestionCache`` per experiment and call ``cache.suggest(algorithm, problem, history, seed)``: ``tpe``,
``multivariate-tpe``, ``motpe``, ``nsga2`` (an optuna study kept up to date, ``_warm``) and ``cmaes`` (its
replay kept and fed) then suggest faster, with the same decisions; the others ignore the cache.
``bayesianoptimization`` is our own GP (``_gp``, ``_bayesopt``), not optuna's GPSampler: see ``_bayesopt`` for
why, by measured quality and speed.
"""

from katib_flows_suggestion._algorithm import Algorithm, SuggestionCache
from katib_flows_suggestion._base import (
    ACTIVE,
    FINISHED_WITH_VALUE,
    Decision,
    Direction,
    Distribution,
    Exhausted,
    NasConfig,
    NasOperation,
    Parameter,
    ParameterType,
    Problem,
    SettingProblem,
    Suggestion,
    Trial,
    Value,
    Wait,
)
from katib_flows_suggestion._errors import (
    InvalidPluginError,
    InvalidSettingsError,
    NotImplementedAlgorithmError,
    UnknownAlgorithmError,
)
from katib_flows_suggestion._grid import grid_size
from katib_flows_suggestion._nas import (
    NAS_ASSIGNMENTS,
    ExpandedOperation,
    expand_operations,
    katib_json,
    read_katib_json,
)
from katib_flows_suggestion._pbt import CheckpointDirs, checkpoint_dirs
from katib_flows_suggestion._registry import (
    ALGORITHM_NAMES,
    ENTRY_POINT_GROUP,
    EXTENSION_ALGORITHMS,
    IMPLEMENTED_ALGORITHMS,
    KATIB_ALGORITHMS,
    algorithm_names,
    get_algorithm,
    validate_settings,
)
from katib_flows_suggestion._rules import MULTI_OBJECTIVE_ALGORITHMS

__all__ = [
    "ACTIVE",
    "ALGORITHM_NAMES",
    "ENTRY_POINT_GROUP",
    "EXTENSION_ALGORITHMS",
    "FINISHED_WITH_VALUE",
    "IMPLEMENTED_ALGORITHMS",
    "KATIB_ALGORITHMS",
    "MULTI_OBJECTIVE_ALGORITHMS",
    "NAS_ASSIGNMENTS",
    "Algorithm",
    "CheckpointDirs",
    "Decision",
    "Direction",
    "Distribution",
    "Exhausted",
    "ExpandedOperation",
    "InvalidPluginError",
    "InvalidSettingsError",
    "NasConfig",
    "NasOperation",
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
    "algorithm_names",
    "checkpoint_dirs",
    "expand_operations",
    "get_algorithm",
    "grid_size",
    "katib_json",
    "read_katib_json",
    "validate_settings",
]
