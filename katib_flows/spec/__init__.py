"""Katib's v1beta1 Experiment: models, defaults, rules, loading and trial rendering.

Pure: imports neither the store nor the engine. ``load_file`` is what commands use; ``check_file`` is
what ``lint`` uses (it reports every problem and never raises for user input).
"""

from katib_flows.spec._architecture import architecture_view, read_architecture, summary_text
from katib_flows.spec._kinds import (
    PRIMARY_POD_LABELS,
    SUCCESS_FAILURE_CONDITIONS,
    find_container,
    pod_specs,
    primary_pod,
)
from katib_flows.spec._load import Checked, check_document, check_file, check_text, load_file, load_text
from katib_flows.spec._models import (
    AdditionalObjective,
    AlgorithmSpec,
    EarlyStoppingSpec,
    Experiment,
    ExperimentSpec,
    MetricsCollectorSpec,
    ObjectiveSpec,
    ParameterSpec,
    TrialTemplate,
)
from katib_flows.spec._prepare import prepare
from katib_flows.spec._problems import Problem
from katib_flows.spec._render import format_value, render_command, render_object, trial_parameters
from katib_flows.spec._search import to_search_problem

__all__ = [
    "PRIMARY_POD_LABELS",
    "SUCCESS_FAILURE_CONDITIONS",
    "AdditionalObjective",
    "AlgorithmSpec",
    "Checked",
    "EarlyStoppingSpec",
    "Experiment",
    "ExperimentSpec",
    "MetricsCollectorSpec",
    "ObjectiveSpec",
    "ParameterSpec",
    "Problem",
    "TrialTemplate",
    "architecture_view",
    "check_document",
    "check_file",
    "check_text",
    "find_container",
    "format_value",
    "load_file",
    "load_text",
    "pod_specs",
    "prepare",
    "primary_pod",
    "read_architecture",
    "render_command",
    "render_object",
    "summary_text",
    "to_search_problem",
    "trial_parameters",
]
