"""The committed Argo UI templates match what the compiler generates today (a golden-file test).

``KATIB_FLOWS_REGENERATE=1 pytest tests/argo/test_argo_templates.py`` rewrites them, as hera's
``HERA_REGENERATE`` does for its examples; commit the result with the change that caused it.
"""

from __future__ import annotations

import os

import pytest
import yaml
from argo_helpers import REPO, SCHEMA, unquoted_strings

from katib_flows.argo import TEMPLATE_FILES, schema_problems, template_texts, unknown_fields

REGENERATE = os.environ.get("KATIB_FLOWS_REGENERATE") == "1"


@pytest.mark.parametrize("relative", sorted(TEMPLATE_FILES))
def test_committed_template_has_not_drifted(relative: str) -> None:
    expected = template_texts()[relative]
    path = REPO / relative
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
    assert path.is_file(), f"{relative} is missing; regenerate with KATIB_FLOWS_REGENERATE=1"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{relative} differs from the compiler's output; regenerate with KATIB_FLOWS_REGENERATE=1 and commit it"
    )


@pytest.mark.parametrize("relative", sorted(TEMPLATE_FILES))
def test_committed_template_is_valid_argo(relative: str) -> None:
    text = (REPO / relative).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert schema_problems(document, SCHEMA) == []
    assert unknown_fields(document) == []
    assert unquoted_strings(text) == []


def test_the_ui_form_asks_for_the_experiment_and_its_name() -> None:
    document = yaml.safe_load((REPO / "workflow_templates" / "cluster-workflow-template.yaml").read_text())
    assert document["kind"] == "ClusterWorkflowTemplate" and "namespace" not in document["metadata"]
    parameters = {p["name"]: p for p in document["spec"]["arguments"]["parameters"]}
    assert set(parameters) == {"experiment", "experiment-spec", "generation"}
    assert all(p.get("description") for p in parameters.values())
