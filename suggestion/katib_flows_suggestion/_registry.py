"""The table of algorithm names: which Katib algorithms exist, which ones run here, and their settings rules.

Called by the engine (``get_algorithm`` before each suggestion) and by the spec rules (``validate_settings``
and ``grid_size`` when an experiment is linted). The table is explicit; an unknown name is answered with
the list of valid ones.
"""

from __future__ import annotations

from katib_flows_suggestion._base import Algorithm, Problem, SettingProblem
from katib_flows_suggestion._errors import NotImplementedAlgorithmError, UnknownAlgorithmError
from katib_flows_suggestion._grid import GridSearch
from katib_flows_suggestion._random import RandomSearch
from katib_flows_suggestion._rules import check_algorithm
from katib_flows_suggestion._sobol import Sobol
from katib_flows_suggestion._tpe import TPE, MultivariateTPE

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

_ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (RandomSearch, GridSearch, TPE, MultivariateTPE, Sobol)
}

#: The algorithms ``get_algorithm`` returns.
IMPLEMENTED_ALGORITHMS: tuple[str, ...] = tuple(name for name in KATIB_ALGORITHMS if name in _ALGORITHMS)

_NOT_YET = {
    "cmaes": "it needs the 'cmaes' package, which katib-flows-suggestion does not depend on yet",
    "bayesianoptimization": "optuna's GPSampler needs PyTorch, which katib-flows-suggestion does not depend on",
    "hyperband": "it is planned",
    "pbt": "it is planned",
}


def _unknown(name: str) -> UnknownAlgorithmError:
    return UnknownAlgorithmError(f"unknown algorithm {name!r}; valid algorithms: {', '.join(KATIB_ALGORITHMS)}")


def get_algorithm(name: str) -> Algorithm:
    """A fresh instance of the algorithm called ``name``.

    Raises ``UnknownAlgorithmError`` for a name Katib does not know, ``NotImplementedAlgorithmError`` for a
    Katib algorithm that does not run here yet.
    """
    cls = _ALGORITHMS.get(name)
    if cls is not None:
        return cls()
    if name in ("enas", "darts"):
        raise NotImplementedAlgorithmError(f"NAS is not supported yet ({name})")
    if name in _NOT_YET:
        raise NotImplementedAlgorithmError(
            f"algorithm {name} is not available in katib-flows yet: {_NOT_YET[name]}; "
            f"available: {', '.join(IMPLEMENTED_ALGORITHMS)}"
        )
    raise _unknown(name)


def validate_settings(name: str, problem: Problem) -> list[SettingProblem]:
    """Every broken Katib rule of ``problem.settings`` (and the space) for algorithm ``name``, run here or not."""
    if name not in KATIB_ALGORITHMS:
        raise _unknown(name)
    return check_algorithm(name, problem)
