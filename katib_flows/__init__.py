"""katib-flows: Katib v1beta1 hyperparameter tuning, locally or on Argo Workflows.

``report_metrics`` is the collector package's push API, re-exported for training code that already
depends on katib-flows; images that only report metrics need just ``katib-flows-collector``.
``Experiment``, ``search``, ``tune`` and ``Result`` (the Python DSL, ``katib_flows.dsl``) load on first
use, so ``import katib_flows`` and ``katib-flows --help`` stay light.
"""

from importlib import import_module
from typing import Any

from katib_flows_collector import report_metrics

__version__ = "0.1.0"

__all__ = ["Experiment", "Result", "__version__", "report_metrics", "search", "tune"]

_DSL = {"Experiment", "Result", "search", "tune"}


def __getattr__(name: str) -> Any:
    if name in _DSL:  # import_module, not an import statement: the DSL is no dependency of katib_flows' layers
        return getattr(import_module("katib_flows.dsl"), name)
    raise AttributeError(f"module 'katib_flows' has no attribute {name!r}")
