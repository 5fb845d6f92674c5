"""``katib_flows.spec.prepare``: the caller's name, namespace, annotations and overrides, checked again."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from katib_flows.errors import SpecError
from katib_flows.spec import prepare


def _document() -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "from-file"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": 4,
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
            "trialTemplate": {"command": ["python3", "-c", "print('loss=${trialParameters.x}')"]},
        },
    }


def test_the_callers_values_replace_the_documents_and_the_document_is_left_alone() -> None:
    document = _document()
    before = copy.deepcopy(document)
    experiment = prepare(
        document,
        source="test",
        name="given",
        namespace="team-a",
        overrides={"maxTrialCount": 9, "parallelTrialCount": None},
        annotations={"note": "kept"},
    )
    assert (experiment.name, experiment.namespace) == ("given", "team-a")
    assert (experiment.spec.max_trial_count, experiment.spec.parallel_trial_count) == (9, 2)
    assert experiment.metadata.annotations == {"note": "kept"}
    assert document == before


def test_nothing_given_keeps_the_documents_values_and_a_bare_spec_is_read_as_one() -> None:
    assert prepare(_document(), source="test").name == "from-file"
    assert prepare(_document()["spec"], source="test", name="bare").spec.max_trial_count == 4


def test_what_the_caller_gives_obeys_the_same_rules_as_the_file() -> None:
    with pytest.raises(SpecError, match=r"metadata\.name") as bad_name:
        prepare(_document(), source="cli", name="Not_A_Label")
    assert bad_name.value.problems
    with pytest.raises(SpecError, match=r"parallelTrialCount|maxTrialCount"):
        prepare(_document(), source="cli", overrides={"maxTrialCount": 1, "parallelTrialCount": 5})
