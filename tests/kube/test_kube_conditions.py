"""Katib's success and failure conditions, evaluated over realistic workload JSON.

Every condition found in Katib's example Experiments (``shared/katib-examples``) and Katib's defaults per
kind, on objects that succeeded, failed, are still running or have no status yet; and, as an independent
oracle, the ``gjson`` package (GJSON in Python, a test-only dependency: see ``_conditions``) must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gjson
import pytest
import yaml

from katib_flows.kube import Condition, ConditionError, ConditionMet
from katib_flows.kube._conditions import MISSING
from katib_flows.spec._kinds import SUCCESS_FAILURE_CONDITIONS

# ../shared beside the checkout; the first such folder above it, so that a git worktree finds it too.
EXAMPLES = next(
    (p / "shared" / "katib-examples" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples",
)


def _example_conditions() -> set[str]:
    found: set[str] = set()
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            template = ((document or {}).get("spec") or {}).get("trialTemplate") or {}
            found.update(template[k] for k in ("successCondition", "failureCondition") if template.get(k))
    return found


EXAMPLE_CONDITIONS = _example_conditions()
DEFAULT_CONDITIONS = {c for pair in SUCCESS_FAILURE_CONDITIONS.values() for c in pair}
ALL_CONDITIONS = sorted(EXAMPLE_CONDITIONS | DEFAULT_CONDITIONS)


def _conditions(*items: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "conditions": [
            {
                "type": t,
                "status": s,
                "reason": r,
                "message": f"{t} is {s}",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
            for t, s, r in items
        ]
    }


def _job(status: dict[str, Any] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "exp-abc", "namespace": "team-a"},
        "spec": {"template": {"spec": {"containers": [{"name": "training-container", "image": "x"}]}}},
    }
    if status is not None:
        obj["status"] = status
    return obj


JOB_COMPLETE = _job({"succeeded": 1, **_conditions(("SuccessCriteriaMet", "True", ""), ("Complete", "True", ""))})
JOB_FAILED = _job({"failed": 4, **_conditions(("FailureTarget", "True", "BackoffLimitExceeded"),
                                              ("Failed", "True", "BackoffLimitExceeded"))})  # fmt: skip
JOB_RUNNING = _job({"active": 1, "startTime": "2026-01-01T00:00:00Z"})
JOB_NO_STATUS = _job(None)
JOB_EMPTY_STATUS = _job({})
_PYTORCH = (("Created", "True", "PyTorchJobCreated"), ("Running", "False", "PyTorchJobRunning"))
TRAINING_SUCCEEDED = {
    "kind": "PyTorchJob",
    "status": _conditions(*_PYTORCH, ("Succeeded", "True", "PyTorchJobSucceeded")),
}
TRAINING_FAILED = {"kind": "TFJob", "status": _conditions(("Created", "True", "TFJobCreated"),
                   ("Running", "False", ""), ("Failed", "True", "TFJobFailed"))}  # fmt: skip
TRAINING_RUNNING = {"kind": "MPIJob", "status": _conditions(("Created", "True", ""), ("Running", "True", ""))}
TRAINING_NOT_SUCCEEDED = {"kind": "PipelineRun", "status": _conditions(("Succeeded", "False", "Failed"))}
TEKTON_SUCCEEDED = {"kind": "PipelineRun", "status": _conditions(("Succeeded", "True", "Succeeded"))}
WORKFLOW_SUCCEEDED = {"kind": "Workflow", "status": {"phase": "Succeeded", "progress": "2/2"}}
WORKFLOW_FAILED = {"kind": "Workflow", "status": {"phase": "Failed", "message": "child failed"}}
WORKFLOW_RUNNING = {"kind": "Workflow", "status": {"phase": "Running"}}
WORKFLOW_NEW = {"kind": "Workflow", "metadata": {"name": "w"}}

OBJECTS = {
    "job complete": JOB_COMPLETE,
    "job failed": JOB_FAILED,
    "job running": JOB_RUNNING,
    "job without status": JOB_NO_STATUS,
    "job with empty status": JOB_EMPTY_STATUS,
    "training succeeded": TRAINING_SUCCEEDED,
    "training failed": TRAINING_FAILED,
    "training running": TRAINING_RUNNING,
    "tekton not succeeded": TRAINING_NOT_SUCCEEDED,
    "tekton succeeded": TEKTON_SUCCEEDED,
    "workflow succeeded": WORKFLOW_SUCCEEDED,
    "workflow failed": WORKFLOW_FAILED,
    "workflow running": WORKFLOW_RUNNING,
    "workflow new": WORKFLOW_NEW,
}

JOB_SUCCESS, JOB_FAILURE = SUCCESS_FAILURE_CONDITIONS["Job"]
TRAINING_SUCCESS, TRAINING_FAILURE = SUCCESS_FAILURE_CONDITIONS["TFJob"]
WORKFLOW_SUCCESS = 'status.[@this].#(phase=="Succeeded")#'
WORKFLOW_FAILURE = 'status.[@this].#(phase=="Failed")#'
TEKTON_FAILURE = 'status.conditions.#(type=="Succeeded")#|#(status=="False")#'

#: condition -> the objects (names in OBJECTS) that meet it; every other object does not.
MET = {
    JOB_SUCCESS: {"job complete"},
    JOB_FAILURE: {"job failed", "training failed"},
    TRAINING_SUCCESS: {"training succeeded", "tekton succeeded"},
    WORKFLOW_SUCCESS: {"workflow succeeded"},
    WORKFLOW_FAILURE: {"workflow failed"},
    TEKTON_FAILURE: {"tekton not succeeded"},
}


def test_the_examples_hold_the_conditions_this_file_knows() -> None:
    assert len(EXAMPLE_CONDITIONS) >= 5, "the Katib examples were not found"
    assert set(ALL_CONDITIONS) == set(MET), "a condition in the examples or the defaults has no expectation here"


@pytest.mark.parametrize("condition", ALL_CONDITIONS)
@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_each_condition_on_each_object(condition: str, name: str) -> None:
    outcome = Condition(condition, "spec.trialTemplate.successCondition").check(OBJECTS[name])
    assert (outcome is not None) == (name in MET[condition])


@pytest.mark.parametrize("condition", ALL_CONDITIONS)
@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_the_gjson_package_agrees(condition: str, name: str) -> None:
    ours = Condition(condition, "c").path.get(OBJECTS[name])
    try:
        theirs = gjson.get(OBJECTS[name], condition)
    except gjson.GJSONParseError as exc:  # how the package says "no such key": GJSON's non-existent result
        theirs = None
        missing_key = "does not have key" in str(exc)
        assert missing_key
    if theirs is None:
        assert not isinstance(ours, list | dict) or ours == []
    else:
        assert ours == theirs


def test_a_met_condition_carries_the_workloads_reason_and_message() -> None:
    assert Condition(JOB_FAILURE, "c").check(JOB_FAILED) == ConditionMet("BackoffLimitExceeded", "Failed is True")
    assert Condition(WORKFLOW_FAILURE, "c").check(WORKFLOW_FAILED) == ConditionMet("", "child failed")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status.conditions.#", 2),
        ("status.conditions.#.type", ["FailureTarget", "Failed"]),
        ('status.conditions.#(type=="Failed").reason', "BackoffLimitExceeded"),
        ('status.conditions.#(type=="Failed")#.reason', ["BackoffLimitExceeded"]),
        ('status.conditions.#(type%"Fail*")#|#', 2),
        ('status.conditions.#(type!%"Fail*")#', []),
        ("status.failed", 4),
        ("status.conditions.1.type", "Failed"),
        ("status.cond*.0.type", "FailureTarget"),
        ("status.failed|@this", 4),
        ("status.#(failed>3)", None),  # a query on an object: nothing
        ("status.[failed,missing,conditions.#]", [4, 2]),
        ('status.conditions.#(status=="True")#|#(reason=="BackoffLimitExceeded")#|#', 2),
    ],
)
def test_the_subset_beyond_katibs_conditions(query: str, expected: Any) -> None:
    result = Condition(query, "c").path.get(JOB_FAILED)
    assert (None if result is MISSING else result) == expected


def test_numbers_and_booleans_compare_by_type() -> None:
    document = {"items": [{"n": 3, "ok": True, "s": "3"}, {"n": 5, "ok": False, "s": "5"}]}
    assert Condition("items.#(n>=4)#", "c").check(document) is not None
    assert Condition('items.#(n=="3")#', "c").check(document) is None  # a number is not the string "3"
    assert Condition("items.#(ok==true)#|#", "c").path.get(document) == 1
    assert Condition('items.#(s<"4")#|#', "c").path.get(document) == 1
    assert Condition("items.#(ok)#|#", "c").path.get(document) == 2  # existence


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "empty"),
        ("status..conditions", "empty path component"),
        ('status.conditions.#(type=="Complete"', "unbalanced"),
        ("status.conditions.#(type==Complete)#", "double quotes"),
        ("status.@pretty", "only @this"),
        ("{status.phase}", "not supported"),
    ],
)
def test_a_condition_we_cannot_evaluate_is_bad_input_naming_the_field(query: str, problem: str) -> None:
    with pytest.raises(ConditionError) as caught:
        Condition(query, "spec.trialTemplate.failureCondition")
    assert str(caught.value).startswith("spec.trialTemplate.failureCondition: ")
    assert problem in str(caught.value)
