"""Results for people: an experiment's history, its figures, a self-contained HTML report and exports.

Read an experiment once with ``load_history(store, namespace, name)``; everything else is a function of
the ``History``. Used by ``katib-flows report`` and ``katib-flows export``, the DSL's ``Result`` and the web
UI. ``*_view`` are the machine-readable shapes of DESIGN.md section 10 (``--output json``, the UI's API).
plotly (``pip install 'katib-flows[report]'``) is imported only when a figure is built.
"""

from katib_flows.report._export import FORMATS, to_csv, to_json
from katib_flows.report._figures import (
    figures,
    metric_curves,
    optimization_history,
    parallel_coordinates,
    parameter_importance,
    pareto_front,
    pareto_optimal,
    pareto_points,
)
from katib_flows.report._history import History, Objective, load_history
from katib_flows.report._html import render_html, write_html
from katib_flows.report._images import check_image_support, write_images
from katib_flows.report._importance import importances
from katib_flows.report._optuna import frozen_trials, study_from, write_storage
from katib_flows.report._views import experiment_view, front_view, optimal_view, trial_view

__all__ = [
    "FORMATS",
    "History",
    "Objective",
    "check_image_support",
    "experiment_view",
    "figures",
    "front_view",
    "frozen_trials",
    "importances",
    "load_history",
    "metric_curves",
    "optimal_view",
    "optimization_history",
    "parallel_coordinates",
    "parameter_importance",
    "pareto_front",
    "pareto_optimal",
    "pareto_points",
    "render_html",
    "study_from",
    "to_csv",
    "to_json",
    "trial_view",
    "write_html",
    "write_images",
    "write_storage",
]
