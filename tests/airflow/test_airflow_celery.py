"""Compiled DAGs on CeleryExecutor with two ``airflow celery worker`` processes over Redis.

Sixty trivial trials in four lanes give exactly sixty distinct trials, never more than four at once; a
worker killed with SIGKILL (with its whole process tree, as a lost host) mid-trial leaves its task to
Airflow's retry, which marks the trial interrupted and runs a new one: the budget stays exact.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml
from airflow_deployment import PASSWORD, USER, Deployment

from katib_flows.airflow import AirflowApi, dag_id_of
from katib_flows.cli import main
from katib_flows.engine import REASON_INTERRUPTED
from katib_flows.store import ExperimentCondition, Store, TrialRecord, TrialStatus

SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "local" / "trial_script.py"

pytestmark = pytest.mark.slow


def _experiment(path: Path, name: str, *, trials: int, lanes: int, args: list[str]) -> Path:
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": lanes,
        "maxTrialCount": trials,
        "parameters": [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": [sys.executable, str(SCRIPT), "--value=${trialParameters.value}", *args]},
    }
    path.write_text(yaml.safe_dump({"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
                                    "metadata": {"name": name}, "spec": spec}))  # fmt: skip
    return path


def _run_on_celery(celery: Deployment, source: Path, tmp_path: Path) -> tuple[AirflowApi, str, str]:
    dag = tmp_path / f"{source.stem}.py"
    assert main(["compile", str(source), "--engine", "airflow", "--executor", "CeleryExecutor", "--out", str(dag)]) == 0
    text = dag.read_text()
    celery.add_dag(dag.name, text, dag_id_of(text))
    api = AirflowApi(celery.url, username=USER, password=PASSWORD)
    return api, dag_id_of(text), api.trigger(dag_id_of(text), {}).run_id


def _most_at_once(trials: list[TrialRecord]) -> int:
    events = sorted(
        [(t.started_at or t.created_at, 1) for t in trials] + [(t.completed_at, -1) for t in trials],
        key=lambda e: (e[0], e[1]),  # an end before a start at the same instant
    )
    active = most = 0
    for _, step in events:
        active += step
        most = max(most, active)
    return most


def test_sixty_trials_in_four_lanes_on_celery(celery: Deployment, tmp_path: Path) -> None:
    source = _experiment(tmp_path / "sixty.yaml", "sixty", trials=60, lanes=4, args=[])
    api, dag_id, run_id = _run_on_celery(celery, source, tmp_path)
    assert celery.wait_run(dag_id, run_id, timeout=1800)["state"] == "success"
    with Store(celery.store_url) as store:
        assert store.get_experiment("default", "sixty").condition is ExperimentCondition.SUCCEEDED
        trials = store.list_trials("default", "sixty")
    assert len(trials) == 60
    assert len({t.name for t in trials}) == 60
    assert {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    assert _most_at_once(trials) <= 4
    instances = [ti for ti in api.task_instances(dag_id, run_id) if ti["task_id"] == "trial"]
    assert sorted(ti["rendered_map_index"] for ti in instances) == sorted(t.name for t in trials)
    hosts = {ti["hostname"] for ti in instances}
    assert len(hosts) >= 1 and all(ti["executor"] == "CeleryExecutor" for ti in instances)


def test_a_worker_killed_mid_trial_is_retried_and_the_budget_stays_exact(celery: Deployment, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    source = _experiment(tmp_path / "killed.yaml", "killed", trials=4, lanes=2,
                         args=["--pid-dir", str(pids), "--sleep", "25"])  # fmt: skip
    api, dag_id, run_id = _run_on_celery(celery, source, tmp_path)
    deadline = time.monotonic() + 600
    victim = None
    while victim is None and time.monotonic() < deadline:
        for pid_file in pids.iterdir():
            victim = celery.worker_of(int(pid_file.read_text()))
            if victim is not None:
                killed_trial = pid_file.stem
                break
        time.sleep(1)
    assert victim is not None, "no trial started on a Celery worker"
    celery.kill_tree(victim)
    assert celery.wait_run(dag_id, run_id, timeout=1200)["state"] == "success"
    with Store(celery.store_url) as store:
        record = store.get_experiment("default", "killed")
        trials = store.list_trials("default", "killed")
    interrupted = [t for t in trials if t.reason == REASON_INTERRUPTED]
    counted = [t for t in trials if t.reason != REASON_INTERRUPTED]
    assert record.condition is ExperimentCondition.SUCCEEDED
    assert [t.name for t in interrupted] == [killed_trial]
    assert len(counted) == 4 and {t.status for t in counted} == {TrialStatus.SUCCEEDED}
    assert len({t.name for t in trials}) == len(trials) == 5
    retried = [ti for ti in api.task_instances(dag_id, run_id) if ti["task_id"] == "trial" and ti["try_number"] > 1]
    assert len(retried) == 1 and retried[0]["state"] == "success"
