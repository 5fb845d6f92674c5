"""The Argo Workflows side: compile an Experiment into a Workflow, check it, write it, continue it.

- ``compile_workflow`` / ``compile_template`` (``_compile.py``): pure functions from a checked
  Experiment (or nothing, for the UI template) to a plain dict, built with hera. The only place in
  katib-flows that imports hera (an import-linter contract says so).
- ``to_yaml`` / ``to_json`` (``_yaml.py``): deterministic text in which every string stays a string.
- ``unknown_fields`` / ``schema_problems`` (``_validate.py``): the checks the JSON schema alone misses.
- ``next_generation`` / ``hand_off`` (``_handoff.py``) and the ``Workflows`` stores (``_cluster.py``):
  what the exit step uses to start the next generation when Argo's recursion limit ends a lane.
- ``workflow_templates`` (``_templates.py``): the committed (Cluster)WorkflowTemplates for the Argo UI.
- ``ArgoServer`` / ``submit`` (``_server.py``): Argo Server's REST API, for ``katib-flows submit`` and the DSL.
- ``follow`` (``_watch.py``): an experiment's progress from the store (and its Workflow's phase) until it ends.

Names are resolved lazily, so the step verbs that only hand off never import hera.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from katib_flows.argo._cluster import FolderWorkflows, KubernetesWorkflows, workflows_from_env
    from katib_flows.argo._compile import compile_template, compile_workflow, spec_json
    from katib_flows.argo._handoff import Workflows, hand_off, next_generation
    from katib_flows.argo._options import StepOptions
    from katib_flows.argo._server import ArgoServer, Submitted, submit
    from katib_flows.argo._templates import TEMPLATE_FILES, template_texts, workflow_templates
    from katib_flows.argo._validate import schema_problems, unknown_fields
    from katib_flows.argo._watch import WorkflowEndedError, WorkflowState, follow, workflow_state
    from katib_flows.argo._yaml import to_json, to_yaml, to_yaml_all

_WHERE = {
    "FolderWorkflows": "_cluster",
    "KubernetesWorkflows": "_cluster",
    "workflows_from_env": "_cluster",
    "StepOptions": "_options",
    "compile_template": "_compile",
    "compile_workflow": "_compile",
    "spec_json": "_compile",
    "Workflows": "_handoff",
    "hand_off": "_handoff",
    "next_generation": "_handoff",
    "ArgoServer": "_server",
    "Submitted": "_server",
    "submit": "_server",
    "TEMPLATE_FILES": "_templates",
    "template_texts": "_templates",
    "workflow_templates": "_templates",
    "schema_problems": "_validate",
    "unknown_fields": "_validate",
    "WorkflowEndedError": "_watch",
    "WorkflowState": "_watch",
    "follow": "_watch",
    "workflow_state": "_watch",
    "to_json": "_yaml",
    "to_yaml": "_yaml",
    "to_yaml_all": "_yaml",
}

__all__ = [
    "TEMPLATE_FILES",
    "ArgoServer",
    "FolderWorkflows",
    "KubernetesWorkflows",
    "StepOptions",
    "Submitted",
    "WorkflowEndedError",
    "WorkflowState",
    "Workflows",
    "compile_template",
    "compile_workflow",
    "follow",
    "hand_off",
    "next_generation",
    "schema_problems",
    "spec_json",
    "submit",
    "template_texts",
    "to_json",
    "to_yaml",
    "to_yaml_all",
    "unknown_fields",
    "workflow_state",
    "workflow_templates",
    "workflows_from_env",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'katib_flows.argo' has no attribute {name!r}")
    return getattr(importlib.import_module(f"katib_flows.argo.{module}"), name)
