"""The compiler: the Workflow's shape, what travels in parameters, the options, and determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_helpers import KATIB_EXAMPLES, REPO, SCHEMA, unquoted_strings

from katib_flows.argo import (
    StepOptions,
    compile_template,
    compile_workflow,
    schema_problems,
    spec_json,
    to_yaml,
    unknown_fields,
)
from katib_flows.argo import _names as n
from katib_flows.errors import CompileError
from katib_flows.spec import Experiment, load_file, load_text

DIGITS = REPO / "examples" / "digits" / "experiment-random.yaml"


@pytest.fixture(scope="module")
def digits() -> Experiment:
    experiment = load_file(DIGITS).experiment
    assert experiment is not None
    return experiment


def _templates(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


def test_the_shape_is_init_then_lanes_fanned_out_then_recursion_and_an_exit_step(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits", namespace="team-a")
    spec = workflow["spec"]
    assert workflow["kind"] == "Workflow" and workflow["metadata"]["name"] == "digits"
    assert spec["entrypoint"] == "main" and spec["onExit"] == "finish"
    templates = _templates(workflow)
    assert set(templates) == {"main", "init", "lane", "suggest", "trial", "finish"}
    init_group, lane_group = templates["main"]["steps"]
    assert [s["template"] for s in init_group] == ["init"]
    [lane] = lane_group
    assert lane["template"] == "lane" and lane["withParam"] == "{{steps.init.outputs.parameters.lanes}}"
    suggest, trial, again = (group[0] for group in templates["lane"]["steps"])
    assert suggest["template"] == "suggest" and "when" not in suggest
    assert trial["when"] == "'{{steps.suggest.outputs.parameters.status}}' == 'trial'"
    assert again["template"] == "lane" and again["name"] == "n"  # short: it is repeated in every node's name
    assert again["when"] == "'{{steps.suggest.outputs.parameters.next}}' == 'continue'"
    assert {p["value"] for p in again["arguments"]["parameters"]} == {
        "{{inputs.parameters.lane}}",
        "{{steps.suggest.outputs.parameters.next-iteration}}",
        "{{inputs.parameters.iterations}}",
    }


def test_every_step_runs_the_cli_in_the_image_with_the_store_url_from_the_secret(digits: Experiment) -> None:
    options = StepOptions(image="registry.example/kf:1", db_secret="team-db", service_account="runner")
    workflow = compile_workflow(digits, name="digits", options=options)
    assert workflow["spec"]["serviceAccountName"] == "runner"
    for name in ("init", "suggest", "trial", "finish"):
        container = _templates(workflow)[name]["container"]
        assert container["image"] == "registry.example/kf:1"
        assert container["command"] == ["katib-flows"] and container["args"][:2] == ["step", name]
        db = next(e for e in container["env"] if e["name"] == "KATIB_FLOWS_DB")
        assert db["valueFrom"]["secretKeyRef"] == {"name": "team-db", "key": "url"}

    trial_env = _templates(workflow)["trial"]["container"]["env"]
    assert {"name": "KATIB_FLOWS_IMAGE", "value": "registry.example/kf:1"} in trial_env  # the collector sidecar's


def test_a_pbt_experiment_mounts_its_checkpoint_claim_in_the_trial_step_only(digits: Experiment) -> None:
    pbt = load_file(KATIB_EXAMPLES / "hp-tuning" / "simple-pbt.yaml").experiment
    assert pbt is not None
    for claim, options in (("katib-flows-checkpoints", None), ("team-nfs", StepOptions(checkpoints_claim="team-nfs"))):
        templates = _templates(compile_workflow(pbt, name="pbt", options=options))
        trial = templates["trial"]
        assert trial["volumes"] == [{"name": "checkpoints", "persistentVolumeClaim": {"claimName": claim}}]
        assert trial["container"]["volumeMounts"] == [{"name": "checkpoints", "mountPath": n.CHECKPOINTS_MOUNT}]
        env = {e["name"]: e.get("value") for e in trial["container"]["env"]}
        assert env["KATIB_FLOWS_CHECKPOINTS_CLAIM"] == claim and env["KATIB_FLOWS_CHECKPOINTS"] == n.CHECKPOINTS_MOUNT
        assert all("volumes" not in templates[t] for t in ("init", "suggest", "finish"))
    plain = _templates(compile_workflow(digits, name="digits"))["trial"]
    assert "volumes" not in plain and "volumeMounts" not in plain["container"]
    with pytest.raises(CompileError, match="--checkpoints-claim"):
        compile_workflow(pbt, name="pbt", options=StepOptions(checkpoints_claim=" "))


def test_parameters_carry_ids_and_the_spec_travels_once(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits")
    text = json.dumps(workflow)
    # The trial template appears once: inside the experiment-spec argument, nowhere else.
    assert text.count("examples-digits:latest") == 1
    arguments = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
    assert set(arguments) == {"experiment", "experiment-spec", "generation"}
    assert arguments["experiment"] == "digits" and arguments["generation"] == "0"
    registered = load_text(arguments["experiment-spec"]).experiment
    assert registered is not None and registered.dump()["spec"] == digits.dump()["spec"]
    # The init step reads it from its own Workflow through the API: no template references it.
    templates = _templates(workflow)
    assert "workflow.parameters.experiment-spec" not in json.dumps(templates)
    init_args = templates["init"]["container"]["args"]
    assert init_args[init_args.index("--workflow") + 1] == "{{workflow.name}}"
    for template in templates.values():
        for parameter in (template.get("inputs") or {}).get("parameters", []):
            assert parameter["name"] in {"lane", "iteration", "iterations", "trial"}


def test_a_spec_holding_argo_placeholders_reaches_the_store_unchanged() -> None:
    path = KATIB_EXAMPLES / "argo" / "argo-workflow.yaml"
    experiment = load_file(path).experiment
    assert experiment is not None
    text = spec_json(experiment, name="argo-trial", namespace=None)
    assert "{{" not in text  # Argo would take them for its own placeholders
    assert "{{steps.data-preprocessing.outputs.result}}" in json.dumps(json.loads(text))


def test_lanes_stop_below_argo_recursion_limit(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits")
    init = _templates(workflow)["init"]["container"]["args"]
    assert init[init.index("--iterations") + 1] == "90"  # init passes each lane its share (iterations_for)
    assert n.DEFAULT_GENERATION_ITERATIONS + 2 < n.MAX_DEPTH
    with pytest.raises(CompileError, match="between 1 and 90"):
        compile_workflow(digits, name="digits", options=StepOptions(generation_iterations=95))


def test_generate_name_and_namespace(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits", namespace="team-b", generate_name=True)
    assert workflow["metadata"]["generateName"] == "digits-" and "name" not in workflow["metadata"]
    assert workflow["metadata"]["namespace"] == "team-b"
    assert "namespace" not in compile_workflow(digits, name="digits")["metadata"]


def test_output_validates_against_argo_schema_and_has_no_unknown_field(digits: Experiment) -> None:
    for document in (
        compile_workflow(digits, name="digits"),
        compile_template(name="katib-flows", cluster=True),
        compile_template(name="katib-flows", namespace="team-a"),
    ):
        assert schema_problems(document, SCHEMA) == []
        assert unknown_fields(document) == []
        assert unquoted_strings(to_yaml(document)) == []


def test_unknown_fields_are_reported_with_their_path_by_both_checks(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits")
    workflow["spec"]["parallelizm"] = 3
    workflow["spec"]["templates"][0]["retryStrategy"]["bogus"] = "1"
    found = unknown_fields(workflow)
    assert any(f.startswith("spec.parallelizm:") and "'parallelism'" in f for f in found)
    assert any(f.startswith("spec.templates[0].retryStrategy.bogus:") for f in found)
    from_schema = schema_problems(workflow, SCHEMA)
    assert any(f.startswith("spec.parallelizm: unknown field") for f in from_schema)
    assert any(f.startswith("spec.templates[0].retryStrategy.bogus") for f in from_schema)


def test_schema_errors_are_reported(digits: Experiment) -> None:
    workflow = compile_workflow(digits, name="digits")
    workflow["spec"]["templates"][0]["retryStrategy"]["limit"] = 3  # IntOrString is a string in the schema
    assert any("retryStrategy.limit" in p for p in schema_problems(workflow, SCHEMA))


def test_same_input_gives_the_same_bytes_in_another_process(digits: Experiment) -> None:
    here = to_yaml(compile_workflow(digits, name="digits", namespace="team-a"))
    code = (
        "import sys; from katib_flows.argo import compile_workflow, to_yaml; from katib_flows.spec import load_file;"
        f"sys.stdout.write(to_yaml(compile_workflow(load_file({str(DIGITS)!r}).experiment, name='digits',"
        " namespace='team-a')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert here == there


def test_a_template_without_trial_template_is_refused() -> None:
    experiment = Experiment.model_validate({"spec": {"maxTrialCount": 1}})
    with pytest.raises(CompileError, match="trialTemplate"):
        compile_workflow(experiment, name="x")


def test_yaml_reads_back_as_the_compiled_dict(digits: Experiment, tmp_path: Path) -> None:
    workflow = compile_workflow(digits, name="digits")
    assert yaml.safe_load(to_yaml(workflow)) == workflow
