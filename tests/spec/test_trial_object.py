"""The trial template's Kubernetes object checked offline against Kubernetes' own schema (strict, as the
API server is when Katib's webhook creates the trial with dry-run): errors at the field, with the fix."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows.cli import main
from katib_flows.errors import SpecError
from katib_flows.spec import Problem, check_document, load_text

FIXTURES = Path(__file__).parent / "fixtures"
VALID = yaml.safe_load((FIXTURES / "valid-minimal.yaml").read_text())
TRIAL_SPEC = "spec.trialTemplate.trialSpec"


def _document(change: Any = None) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    if change is not None:
        change(doc["spec"]["trialTemplate"]["trialSpec"])
    return doc


def _schema_problems(doc: dict[str, Any]) -> list[Problem]:
    return [p for p in check_document(doc, "exp.yaml").problems if p.rule == "kubernetes-schema"]


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = job["spec"]["template"]["spec"]
    return pod


def test_a_valid_job_has_no_schema_problem() -> None:
    assert _schema_problems(_document()) == []


def test_an_unknown_field_under_spec_template_is_an_error_at_its_path() -> None:
    doc = _document(lambda job: job["spec"]["template"].update(replicas=2))
    [problem] = _schema_problems(doc)
    assert problem.is_error
    assert problem.path == f"{TRIAL_SPEC}.spec.template.replicas"
    assert "is not a field Kubernetes knows here" in problem.message and "Job" in problem.message
    assert problem.fix == "remove it; the fields here are: metadata, spec"
    checked = check_document(doc, "exp.yaml")
    assert not checked.ok


def test_a_misspelt_field_gets_the_nearest_name() -> None:
    doc = _document(lambda job: _pod(job).update(restartPolicyy="Never"))
    [problem] = _schema_problems(doc)
    assert problem.path == f"{TRIAL_SPEC}.spec.template.spec.restartPolicyy"
    assert problem.fix == "did you mean 'restartPolicy'?"


def test_every_unknown_field_is_reported_and_inside_lists_too() -> None:
    def change(job: dict[str, Any]) -> None:
        _pod(job)["containers"][0].update(imagee="x", volumeMount=[])
        job["spec"]["backofLimit"] = 3

    paths = [p.path for p in _schema_problems(_document(change))]
    assert paths == [
        f"{TRIAL_SPEC}.spec.backofLimit",
        f"{TRIAL_SPEC}.spec.template.spec.containers[0].imagee",
        f"{TRIAL_SPEC}.spec.template.spec.containers[0].volumeMount",
    ]


def test_a_wrong_type_names_the_type_and_the_value() -> None:
    doc = _document(lambda job: job["spec"].update(backoffLimit="three"))
    [problem] = _schema_problems(doc)
    assert problem.path == f"{TRIAL_SPEC}.spec.backoffLimit"
    assert problem.message.startswith("must be an integer (the Kubernetes 1.")
    assert problem.fix == "write an integer here"
    assert problem.value == "three"


def test_a_missing_required_field_is_named() -> None:
    doc = _document(lambda job: _pod(job).pop("containers"))
    problems = _schema_problems(doc)
    assert f"{TRIAL_SPEC}.spec.template.spec.containers" in [p.path for p in problems]
    assert all(p.is_error for p in problems)


def test_a_placeholder_is_a_string_where_the_schema_wants_one() -> None:
    doc = _document(lambda job: _pod(job)["containers"][0].update(image="${trialParameters.units}"))
    assert _schema_problems(doc) == []


def test_a_custom_resource_is_skipped_with_a_note_that_fails_nothing() -> None:
    def tfjob(job: dict[str, Any]) -> None:
        job.clear()
        job.update(
            apiVersion="kubeflow.org/v1",
            kind="TFJob",
            spec={"tfReplicaSpecs": {"Worker": {"replicas": 1, "unknownField": 1, "template": job_template}}},
        )

    job_template = copy.deepcopy(VALID["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"])
    checked = check_document(_document(tfjob), "exp.yaml")
    [note] = [p for p in checked.problems if p.rule == "kubernetes-schema"]
    assert note.severity == "note" and note.path == TRIAL_SPEC
    assert "TFJob kubeflow.org/v1 is a custom resource" in note.message and "not checked offline" in note.message
    assert checked.ok and checked.warnings == []


def test_run_and_compile_refuse_it_before_doing_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _document(lambda job: job["spec"]["template"].update(replicas=2))
    with pytest.raises(SpecError, match=r"spec\.trialTemplate\.trialSpec\.spec\.template\.replicas"):
        load_text(yaml.safe_dump(doc))
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["lint", str(path)]) == 2
    assert main(["compile", str(path)]) == 2
    assert main(["run", str(path), "--db", f"sqlite:///{tmp_path / 's.db'}", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count(f"{TRIAL_SPEC}.spec.template.replicas: is not a field Kubernetes knows here") == 3
    assert not (tmp_path / "s.db").exists(), "run refused the spec before opening the store"


def test_the_schemas_are_not_loaded_for_help_or_a_command_template() -> None:
    code = (
        "import sys; from katib_flows.cli import main; from katib_flows.spec import check_document; "
        "main(['--help']); import yaml; "
        "check_document(yaml.safe_load(open(sys.argv[1])), 'x'); "
        "print(sorted(m for m in ('jsonschema', 'kubernetes_validate') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / "bare-spec-command.yaml")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"
