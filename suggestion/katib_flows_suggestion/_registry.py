"""The table of algorithm names: Katib's and our extensions, which ones run here, and their settings rules.

Called by the engine (``get_algorithm`` before each suggestion) and by the spec rules (``validate_settings``
and ``grid_size`` when an experiment is linted). The table is explicit; an unknown name is answered with
the list of valid ones.
"""

from __future__ import annotations

from importlib import import_module

from katib_flows_suggestion._base import Algorithm, Problem, SettingProblem
from katib_flows_suggestion._errors import NotImplementedAlgorithmError, UnknownAlgorithmError
from katib_flows_suggestion._rules import check_algorithm

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

#: Every name ``spec.algorithm.algorithmName`` may hold here: Katib's, then the extensions.
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
    "asha": ("_asha", "Asha"),
    "nsga2": ("_nsga2", "NSGA2"),
    "motpe": ("_motpe", "MOTPE"),
}


def algorithm_class(name: str) -> type[Algorithm]:
    """The class registered for ``name`` (importing its module); ``KeyError`` for a name not registered."""
    module, attribute = _ALGORITHMS[name]
    cls: type[Algorithm] = getattr(import_module(f"katib_flows_suggestion.{module}"), attribute)
    return cls


#: The algorithms ``get_algorithm`` returns.
IMPLEMENTED_ALGORITHMS: tuple[str, ...] = tuple(name for name in ALGORITHM_NAMES if name in _ALGORITHMS)


def _unknown(name: str) -> UnknownAlgorithmError:
    return UnknownAlgorithmError(f"unknown algorithm {name!r}; valid algorithms: {', '.join(ALGORITHM_NAMES)}")


def get_algorithm(name: str) -> Algorithm:
    """A fresh instance of the algorithm called ``name``.

    Raises ``UnknownAlgorithmError`` for an unknown name, ``NotImplementedAlgorithmError`` for Katib's NAS
    algorithms (enas, darts), whose settings can still be validated.
    """
    if name in _ALGORITHMS:
        return algorithm_class(name)()
    if name in ("enas", "darts"):
        raise NotImplementedAlgorithmError(f"NAS is not supported yet ({name})")
    raise _unknown(name)


def validate_settings(name: str, problem: Problem) -> list[SettingProblem]:
    """Every broken rule of ``problem.settings`` (and the space) for algorithm ``name``, run here or not."""
    if name not in ALGORITHM_NAMES:
        raise _unknown(name)
    return check_algorithm(name, problem)
