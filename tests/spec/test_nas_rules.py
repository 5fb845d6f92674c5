"""Lint of ``nasConfig`` Experiments: what a NAS algorithm gives a trial, its settings and its operations.

Katib's enas-cpu.yaml is read from ../shared/katib-examples/nas/ and broken one field at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows.spec import check_document, render_object, trial_parameters

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)


def enas_cpu() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    return document


def errors(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    checked = check_document(document, "enas-cpu.yaml")
    return [(p.path, p.message, p.fix) for p in checked.problems if p.is_error]


def test_a_trial_parameter_must_reference_what_the_nas_algorithm_gives() -> None:
    document = enas_cpu()
    document["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "arch"
    assert errors(document) == [
        (
            "spec.trialTemplate.trialParameters[0].reference",
            "names nothing the NAS algorithm gives a trial",
            "use one of: architecture, nn_config",
        )
    ]


def test_enas_settings_are_checked_at_lint() -> None:
    document = enas_cpu()
    document["spec"]["algorithm"]["algorithmSettings"] = [{"name": "controller_learning_rate", "value": "2"}]
    [(path, message, _)] = errors(document)
    assert path == "spec.algorithm.algorithmSettings[0]"
    assert "controller_learning_rate" in message and "a number in (0, 1]" in message


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [("min", "two", "must be an integer"), ("step", "0.5", "must be an integer"), ("max", "x", "must be an integer")],
)
def test_nas_numbers_must_parse(field: str, value: str, text: str) -> None:
    document = enas_cpu()
    pool_size = document["spec"]["nasConfig"]["operations"][3]["parameters"][1]
    pool_size["feasibleSpace"][field] = value
    [(path, message, _)] = errors(document)
    assert path == f"spec.nasConfig.operations[3].parameters[1].feasibleSpace.{field}"
    assert message == text


def test_an_int_operation_parameter_without_max_cannot_be_listed_by_enas() -> None:
    document = enas_cpu()
    del document["spec"]["nasConfig"]["operations"][3]["parameters"][1]["feasibleSpace"]["max"]
    [(path, message, fix)] = errors(document)
    assert path == "spec.algorithm"
    assert message == (
        "spec.nasConfig.operations[3] (reduction): parameter pool_size needs both min and max to list its values"
    )
    assert fix == "give min and max (and a step > 0 for a double)"


def test_nas_assignments_render_into_katibs_job_as_written() -> None:
    """What the Kubernetes runner (and a local Job) creates: Katib's container command with the NAS texts."""
    document = enas_cpu()
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.ok and checked.experiment is not None
    template = checked.experiment.spec.trial_template
    assert template is not None and template.trial_spec is not None
    nn_config = "{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {}}"
    job = render_object(
        template.trial_spec,
        trial_parameters(checked.experiment),
        {"architecture": "[[7]]", "nn_config": nn_config},
        trial_name="enas-cpu-abcdefgh",
        namespace="kubeflow",
    )
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == [
        "python3",
        "-u",
        "RunTrial.py",
        "--num_epochs=1",
        '--architecture="[[7]]"',
        f'--nn_config="{nn_config}"',
    ]
    assert job["metadata"] == {"name": "enas-cpu-abcdefgh", "namespace": "kubeflow"}
