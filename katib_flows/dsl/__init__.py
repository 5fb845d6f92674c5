"""The Python DSL: Katib Experiments as Python calls, run from a notebook, with results as tables and plots.

``Experiment`` builds the same checked spec as a YAML file (``to_yaml``, ``from_yaml``, ``run``);
``search`` has the search-space and objective builders; ``tune`` tunes a Python function, each trial in
a subprocess; ``Result`` reads an experiment's results. ``katib_flows`` re-exports them. Names load on
first use: a ``tune`` trial process imports only ``search`` and ``_trial``, and starts in milliseconds.
``Experiment.compile()`` hands the checked spec to the Argo compiler (``katib_flows.argo``), loaded then;
``Experiment.submit()`` also creates the Workflow through Argo Server and returns a ``Submission``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from katib_flows.dsl import search
    from katib_flows.dsl._experiment import Experiment
    from katib_flows.dsl._result import Result, Trial
    from katib_flows.dsl._submit import Submission
    from katib_flows.dsl._tune import tune

__all__ = ["Experiment", "Result", "Submission", "Trial", "search", "tune"]

_WHERE = {
    "Experiment": "katib_flows.dsl._experiment",
    "Result": "katib_flows.dsl._result",
    "Trial": "katib_flows.dsl._result",
    "Submission": "katib_flows.dsl._submit",
    "tune": "katib_flows.dsl._tune",
}


def __getattr__(name: str) -> Any:
    if name == "search":
        return import_module("katib_flows.dsl.search")
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'katib_flows.dsl' has no attribute {name!r}")
