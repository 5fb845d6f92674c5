"""Rendering substitutes values inside string leaves only: each value arrives as one unchanged string."""

from __future__ import annotations

import copy

import pytest
import yaml

from katib_flows.spec import format_value, render_command, render_object

HOSTILE = [
    'it\'s "quoted"',
    "two\nlines",
    "$(rm -rf /)",
    "`id`",
    "; rm -rf ~",
    "{a: 1}",
    "- x",
    "key: value",
    "${trialSpec.Name}",
    "${trialParameters.other}",
    "naïve – 東京 🚀",
    "",
    "  padded  ",
    "\\n not a newline",
    "&anchor *alias",
    "# not a comment",
]

TEMPLATE = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"labels": {"team": "a"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "training-container",
                        "command": [
                            "python",
                            "train.py",
                            "--opt=${trialParameters.optimizer}",
                            "${trialParameters.optimizer}",
                        ],
                        "env": [
                            {"name": "OPT", "value": "${trialParameters.optimizer}"},
                            {"name": "WHO", "value": "${trialParameters.trialName}"},
                        ],
                    }
                ]
            }
        }
    },
}
PARAMETERS = [("optimizer", "opt"), ("trialName", "${trialSpec.Name}"), ("other", "other")]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_one_unchanged_string(value: str) -> None:
    rendered = render_object(
        copy.deepcopy(TEMPLATE),
        PARAMETERS,
        {"opt": value, "other": "OTHER"},
        trial_name="exp-abc12345",
        namespace="ns",
    )
    container = rendered["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "train.py", f"--opt={value}", value]
    assert container["env"][0] == {"name": "OPT", "value": value}
    assert container["env"][1] == {"name": "WHO", "value": "exp-abc12345"}
    # The rendered object survives a YAML round trip unchanged: no value changed the structure.
    assert yaml.safe_load(yaml.safe_dump(rendered)) == rendered


@pytest.mark.parametrize("value", HOSTILE)
def test_command_form(value: str) -> None:
    argv = render_command(
        ["python", "-c", "${trialParameters.optimizer}", "x=${trialParameters.optimizer}"],
        PARAMETERS,
        {"opt": value},
        trial_name="t",
        namespace="n",
    )
    assert argv == ["python", "-c", value, f"x={value}"]


def test_metadata_and_names() -> None:
    rendered = render_object(TEMPLATE, PARAMETERS, {"opt": "sgd"}, trial_name="exp-1", namespace="team-a")
    assert rendered["metadata"] == {"labels": {"team": "a"}, "name": "exp-1", "namespace": "team-a"}
    assert TEMPLATE["metadata"] == {"labels": {"team": "a"}}, "the template must not be changed"


def test_trial_spec_references() -> None:
    template = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"labels": {"custom-key": "L"}, "annotations": {"custom-key": "A"}},
        "spec": {
            "x": [
                "${trialParameters.kind}",
                "${trialParameters.label}",
                "${trialParameters.note}",
                "${trialParameters.api}",
                "${trialParameters.ns}",
            ]
        },
    }
    params = [
        ("kind", "${trialSpec.Kind}"),
        ("label", "${trialSpec.Labels[custom-key]}"),
        ("note", "${trialSpec.Annotations[custom-key]}"),
        ("api", "${trialSpec.APIVersion}"),
        ("ns", "${trialSpec.Namespace}"),
    ]
    rendered = render_object(template, params, {}, trial_name="t", namespace="ns1")
    assert rendered["spec"]["x"] == ["Job", "L", "A", "batch/v1", "ns1"]


def test_value_formatting() -> None:
    assert format_value(3) == "3"
    assert format_value(0.1) == "0.1"
    assert format_value(1e-05) == "1e-05"
    assert format_value("0.10") == "0.10"
