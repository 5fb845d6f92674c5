"""The table of algorithm names: Katib's and our extensions, which ones run here, plug-ins, and their settings rules.

Called by the engine (``get_algorithm`` before each suggestion) and by the spec rules (``algorithm_names``,
``validate_settings`` and ``grid_size`` when an experiment is linted). The table is explicit; an unknown name
is answered with the list of valid ones.

Plug-ins: another distribution adds an algorithm by declaring an entry point in the group
``katib_flows.algorithms`` whose name is the algorithm's name and whose object is an ``Algorithm`` subclass
(``[project.entry-points."katib_flows.algorithms"] my-search = "my_package:MySearch"``). Its settings are
its class's ``schema``. The table wins: a plug-in cannot replace a name listed here. Entry points are read
only when a name is not in the table (or when every name is listed), so built-in algorithms never pay for
the scan, and always afresh, so a distribution installed while a process runs is found.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import Problem, SettingProblem
from katib_flows_suggestion._errors import InvalidPluginError, UnknownAlgorithmError
from katib_flows_suggestion._rules import check_algorithm

#: The entry-point group in which other distributions declare algorithms.
ENTRY_POINT_GROUP = "katib_flows.algorithms"

#: Every algorithm name Katib v1beta1 accepts in ``spec.algorithm.algorithmName``.
KATIB_ALGORITHMS: tuple[str, ...] = (
    "random",
    "grid",
    "tpe",
    "multivariate-tpe",
    "cmaes",
    "sobol",
    "bayesianoptimization",
    "hyperband",
    "pbt",
    "enas",
    "darts",
)

#: Algorithms katib-flows adds to Katib's names (DESIGN.md section 8).
EXTENSION_ALGORITHMS: tuple[str, ...] = ("asha", "nsga2", "motpe")

#: Every built-in name ``spec.algorithm.algorithmName`` may hold: Katib's, then the extensions (plug-ins add
#: theirs: ``algorithm_names``).
ALGORITHM_NAMES: tuple[str, ...] = KATIB_ALGORITHMS + EXTENSION_ALGORITHMS

#: name -> (module, class). Modules are imported on first use: scipy and optuna cost a second to load,
#: which ``katib-flows lint`` and a run of random search should not pay.
_ALGORITHMS: dict[str, tuple[str, str]] = {
    "random": ("_random", "RandomSearch"),
    "grid": ("_grid", "GridSearch"),
    "tpe": ("_tpe", "TPE"),
    "multivariate-tpe": ("_tpe", "MultivariateTPE"),
    "sobol": ("_sobol", "Sobol"),
    "cmaes": ("_cmaes", "CmaEs"),
    "bayesianoptimization": ("_bayesopt", "BayesianOptimization"),
    "hyperband": ("_hyperband", "Hyperband"),
    "pbt": ("_pbt", "PopulationBasedTraining"),
    "darts": ("_darts", "Darts"),
    "asha": ("_asha", "Asha"),
    "nsga2": ("_nsga2", "NSGA2"),
    "motpe": ("_motpe", "MOTPE"),
    "enas": ("_enas", "Enas"),
}


def algorithm_class(name: str) -> type[Algorithm]:
    """The class registered for ``name`` (importing its module); ``KeyError`` for a name not registered."""
    module, attribute = _ALGORITHMS[name]
    cls: type[Algorithm] = getattr(import_module(f"katib_flows_suggestion.{module}"), attribute)
    return cls


#: The algorithms ``get_algorithm`` returns.
IMPLEMENTED_ALGORITHMS: tuple[str, ...] = tuple(name for name in ALGORITHM_NAMES if name in _ALGORITHMS)


def _plugins() -> dict[str, EntryPoint]:
    """The installed plug-ins by name, without the ones that would shadow a name of the table."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in ALGORITHM_NAMES}


def algorithm_names() -> tuple[str, ...]:
    """Every name ``spec.algorithm.algorithmName`` may hold: ``ALGORITHM_NAMES``, then installed plug-ins."""
    return ALGORITHM_NAMES + tuple(sorted(_plugins()))


def _plugin_class(name: str) -> type[Algorithm] | None:
    entry = _plugins().get(name)
    if entry is None:
        return None
    where = f"entry point {name} = {entry.value} (group {ENTRY_POINT_GROUP}"
    where += f", distribution {entry.dist.name})" if entry.dist is not None else ")"
    try:
        cls = entry.load()
    except Exception as exc:  # any error of foreign code on import; said with where it came from
        raise InvalidPluginError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        raise InvalidPluginError(f"{where} must name an Algorithm subclass, got {cls!r}")
    if getattr(cls, "name", None) != name:
        raise InvalidPluginError(f"{where} names a class whose name is {getattr(cls, 'name', None)!r}, not {name!r}")
    return cls


def _unknown(name: str) -> UnknownAlgorithmError:
    return UnknownAlgorithmError(f"unknown algorithm {name!r}; valid algorithms: {', '.join(algorithm_names())}")


def get_algorithm(name: str) -> Algorithm:
    """A fresh instance of the algorithm called ``name``: from the table, else from a plug-in.

    Raises ``UnknownAlgorithmError`` for an unknown name and ``InvalidPluginError`` for a
    plug-in that does not load or is not an ``Algorithm`` of that name.
    """
    if name in _ALGORITHMS:
        return algorithm_class(name)()
    plugin = _plugin_class(name)
    if plugin is None:
        raise _unknown(name)
    return plugin()


def validate_settings(name: str, problem: Problem) -> list[SettingProblem]:
    """Every broken rule of ``problem.settings`` (and the space) for algorithm ``name``, run here or not."""
    if name in ALGORITHM_NAMES:
        return check_algorithm(name, problem)
    plugin = _plugin_class(name)
    if plugin is None:
        raise _unknown(name)
    return plugin().validate(problem)
