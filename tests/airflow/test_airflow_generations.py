"""A run that used all its slots while the experiment needs more trials triggers the DAG's next run itself.

With three slots a run, one trigger through the REST API runs an 8-trial experiment to its end in exactly
three runs (3, 3 and 2 trials) of the generic DAG, each passing the conf on unchanged but for its
generation, and the last triggers none. A run whose experiment reached its goal triggers none, and neither
does a run whose trial task failed after its retries, though the experiment still needs trials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow_deployment import PASSWORD, USER, Deployment

from katib_flows.airflow import AirflowApi, DagOptions, compile_dag, dag_id_of, generic_dag
from katib_flows.engine import REASON_INTERRUPTED
from katib_flows.spec import load_file
from katib_flows.store import ExperimentCondition, Store, TrialStatus

SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "local" / "trial_script.py"
GENERATION = "katib_flows_generation"

pytestmark = pytest.mark.slow


def _document(name: str, *, parallel: int, trials: int | None, command: list[str], **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "objective": {"type": "maximize", "objectiveMetricName": "score", **extra.pop("objective", {})},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": parallel,
        "parameters": [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "1"}}],
        "trialTemplate": {"command": command},
        **extra,
    }
    if trials is not None:
        spec["maxTrialCount"] = trials
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name}, "spec": spec}


def _compiled(airflow: Deployment, tmp_path: Path, document: dict[str, Any], options: DagOptions) -> str:
    source = tmp_path / f"{document['metadata']['name']}.yaml"
    source.write_text(yaml.safe_dump(document), encoding="utf-8")
    loaded = load_file(source)
    assert loaded.experiment is not None
    text = compile_dag(loaded.experiment, name=document["metadata"]["name"], namespace=None, options=options)
    dag_id = dag_id_of(text)
    airflow.add_dag(f"{dag_id.replace('.', '_').replace('-', '_')}.py", text, dag_id)
    return dag_id


def _states(airflow: Deployment, dag_id: str, run_id: str) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for ti in airflow.task_instances(dag_id, run_id):
        states.setdefault(ti["task_id"], []).append(str(ti["state"]))
    return {task: sorted(found) for task, found in states.items()}


def _runs(airflow: Deployment, dag_id: str) -> list[dict[str, Any]]:
    return list((airflow.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100") or {}).get("dag_runs", []))


def _finish_said(airflow: Deployment, dag_id: str, run_id: str) -> dict[str, str]:
    """What ``finish`` returned (its ``step finish`` outputs), read through the REST API."""
    value = airflow.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/finish/xcomEntries/return_value") or {}
    found = value.get("value")
    return dict(json.loads(found) if isinstance(found, str) else found)


def test_one_trigger_runs_every_trial_in_three_runs_and_no_fourth(airflow: Deployment, tmp_path: Path) -> None:
    dag_id = "kf_generations"
    airflow.add_dag(f"{dag_id}.py", generic_dag(DagOptions(dag_id=dag_id, max_slots=3)), dag_id)
    command = [sys.executable, str(SCRIPT), "--value=${trialParameters.value}", "{{ run_id }}"]
    document = _document("chain", parallel=2, trials=8, command=command)
    conf = {"experiment_spec": yaml.safe_dump(document), "experiment": "", "namespace": "generations"}
    api = AirflowApi(airflow.url, username=USER, password=PASSWORD)
    first = api.trigger(dag_id, conf).run_id
    run_ids = [first, f"{first}__generation_1", f"{first}__generation_2"]
    runs = [airflow.wait_run(dag_id, run_id, timeout=900) for run_id in run_ids]
    assert [run["state"] for run in runs] == ["success"] * 3, airflow.log("scheduler")[-3000:]
    assert [run["conf"] for run in runs] == [conf, {**conf, GENERATION: 1}, {**conf, GENERATION: 2}]
    states = [_states(airflow, dag_id, run_id) for run_id in run_ids]
    assert [s["trial"] for s in states] == [["success"] * 3, ["success"] * 3, ["success"] * 2]
    assert [s["next_run"] for s in states] == [["success"], ["success"], ["skipped"]]
    assert [s["plan_next_run"] for s in states] == [["success"], ["success"], ["skipped"]]
    assert sorted(run["dag_run_id"] for run in _runs(airflow, dag_id)) == sorted(run_ids)  # the last ended: no 4th
    with Store(airflow.store_url) as store:
        record = store.get_experiment("generations", "chain")
        trials = store.list_trials("generations", "chain")
    assert record.condition is ExperimentCondition.SUCCEEDED and record.reason == "ExperimentMaxTrialsReached"
    assert len(trials) == len({t.name for t in trials}) == 8
    assert {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    per_run = [sum(1 for t in trials if (t.runner or "").startswith(f"argo:airflow/{dag_id}/{r}/")) for r in run_ids]
    assert per_run == [3, 3, 2]


def test_a_run_whose_experiment_reached_its_goal_triggers_none(airflow: Deployment, tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPT), "--value=${trialParameters.value}", "--sleep", "3"]
    document = _document("goal", parallel=2, trials=None, command=command, objective={"goal": 0.4})
    dag_id = _compiled(airflow, tmp_path, document, DagOptions(max_slots=2))
    run_id = AirflowApi(airflow.url, username=USER, password=PASSWORD).trigger(dag_id, {}).run_id
    assert airflow.wait_run(dag_id, run_id, timeout=900)["state"] == "success"
    states = _states(airflow, dag_id, run_id)
    assert states["plan_next_run"] == states["next_run"] == ["skipped"]
    assert _finish_said(airflow, dag_id, run_id)["more"] == "false"
    assert [run["dag_run_id"] for run in _runs(airflow, dag_id)] == [run_id]
    with Store(airflow.store_url) as store:
        record = store.get_experiment("default", "goal")
    assert record.condition is ExperimentCondition.SUCCEEDED and record.reason == "ExperimentGoalReached"


def test_a_run_whose_task_failed_after_its_retries_triggers_none(airflow: Deployment, tmp_path: Path) -> None:
    # The first trial kills its `katib-flows step trial` process: that task fails (no retries), the other
    # two slots run a trial each, and the experiment (no maxTrialCount) still needs trials. One place under
    # parallelTrialCount: the failed task's callback (`step release`) gives back the place its trial held,
    # which the other slots would otherwise wait for until the run timed out.
    marker = tmp_path / "killed-once"
    script = 'if mkdir "$1" 2>/dev/null; then kill -9 "$PPID"; sleep 3; fi; echo "score=$2"'
    command = ["sh", "-c", script, "sh", str(marker), "${trialParameters.value}"]
    document = _document("broken", parallel=1, trials=None, command=command)
    dag_id = _compiled(airflow, tmp_path, document, DagOptions(max_slots=3, retries=0))
    run_id = AirflowApi(airflow.url, username=USER, password=PASSWORD).trigger(dag_id, {}).run_id
    assert airflow.wait_run(dag_id, run_id, timeout=900)["state"] == "failed"
    states = _states(airflow, dag_id, run_id)
    assert states["trial"] == ["failed", "success", "success"]
    assert states["plan_next_run"] == states["next_run"] == ["upstream_failed"]
    assert _finish_said(airflow, dag_id, run_id)["more"] == "true"  # only the failed task stops the chain
    assert [run["dag_run_id"] for run in _runs(airflow, dag_id)] == [run_id]
    with Store(airflow.store_url) as store:
        record = store.get_experiment("default", "broken")
        trials = store.list_trials("default", "broken")
    assert not record.condition.terminal
    assert sorted(t.reason == REASON_INTERRUPTED for t in trials) == [False, False, True]
    assert sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 2
