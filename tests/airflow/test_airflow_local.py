"""Compiled DAGs run for real on Airflow's LocalExecutor, triggered through the REST API.

The digits example reaches its accuracy; every trial is a task instance of its own, named after the trial;
hostile categorical values reach the trial as one argv element each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from airflow_deployment import PASSWORD, USER, Deployment

from katib_flows.airflow import GENERIC_DAG_ID, TEMPLATE_FILE, AirflowApi
from katib_flows.cli import _exit, main
from katib_flows.store import ExperimentCondition, Store, TrialStatus

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "examples" / "digits" / "experiment-random.yaml"
SCRIPT = REPO / "tests" / "local" / "trial_script.py"
HOSTILE = [
    'it\'s "quoted"',
    "two\nlines",
    "$(touch /tmp/katib-flows-pwned)",
    "`id`",
    "; rm -rf ~",
    "{{ ti.xcom_pull('init') }}",
    "${trialSpec.Name}",
    "naïve – 東京 🚀",
    "  padded  ",
    "--flag=1",
]

pytestmark = pytest.mark.slow


def _deploy(airflow: Deployment, source: Path, tmp_path: Path, *extra: str) -> str:
    dag = tmp_path / f"{source.stem}.py"
    assert main(["compile", str(source), "--engine", "airflow", "--out", str(dag), *extra]) == _exit.SUCCEEDED
    text = dag.read_text(encoding="utf-8")
    assert airflow.store_url not in text  # the store URL comes from an Airflow Variable
    from katib_flows.airflow import dag_id_of

    dag_id = dag_id_of(text)
    airflow.add_dag(dag.name, text, dag_id)
    return dag_id


def test_digits_reaches_its_accuracy_through_the_rest_api(airflow: Deployment, tmp_path: Path) -> None:
    dag_id = _deploy(airflow, DIGITS, tmp_path, "--name", "digits-airflow", "--workdir", str(DIGITS.parent))
    api = AirflowApi(airflow.url, username=USER, password=PASSWORD)
    run = api.trigger(dag_id, {})
    ended = airflow.wait_run(dag_id, run.run_id, timeout=1500)
    assert ended["state"] == "success", airflow.log("scheduler")[-3000:]
    with Store(airflow.store_url) as store:
        record = store.get_experiment("default", "digits-airflow")
        trials = store.list_trials("default", "digits-airflow")
    assert record.condition is ExperimentCondition.SUCCEEDED
    assert len(trials) == 15
    assert all(t.status is TrialStatus.SUCCEEDED for t in trials)
    assert max(t.objective_value or 0.0 for t in trials) >= 0.95
    instances = [ti for ti in api.task_instances(dag_id, run.run_id) if ti["task_id"] == "trial"]
    assert sorted(ti["rendered_map_index"] for ti in instances) == sorted(t.name for t in trials)
    assert {ti["state"] for ti in instances} == {"success"}


def test_hostile_values_reach_the_trial_as_one_argv_element_each(airflow: Deployment, tmp_path: Path) -> None:
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "grid"},
        "parallelTrialCount": 3,
        "maxTrialCount": len(HOSTILE),
        "parameters": [{"name": "v", "parameterType": "categorical", "feasibleSpace": {"list": HOSTILE}}],
        "trialTemplate": {
            "command": [
                sys.executable, str(SCRIPT), "--argv-dir", str(argv_dir), "--",
                "${trialParameters.v}", "v=${trialParameters.v}",
            ],
        },
    }  # fmt: skip
    source = tmp_path / "hostile.yaml"
    document = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "hostile"},
        "spec": spec,
    }
    source.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    dag_id = _deploy(airflow, source, tmp_path)
    api = AirflowApi(airflow.url, username=USER, password=PASSWORD)
    run = api.trigger(dag_id, {})
    assert airflow.wait_run(dag_id, run.run_id, timeout=900)["state"] == "success"
    seen = [json.loads(p.read_text()) for p in argv_dir.iterdir()]
    assert sorted(argv[-2:] for argv in seen) == sorted([value, f"v={value}"] for value in HOSTILE)
    assert not Path("/tmp/katib-flows-pwned").exists()


def _trivial(path: Path, name: str, trials: int) -> Path:
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 2,
        "maxTrialCount": trials,
        "parameters": [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": [sys.executable, str(SCRIPT), "--value=${trialParameters.value}"]},
    }
    document = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name}, "spec": spec}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_generic_dag_runs_a_pasted_experiment_and_submit_follows_one(
    airflow: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generic = (REPO / TEMPLATE_FILE).read_text(encoding="utf-8")
    airflow.add_dag("katib_flows_experiment.py", generic, GENERIC_DAG_ID)
    api = AirflowApi(airflow.url, username=USER, password=PASSWORD)
    # What the "Trigger DAG" form sends: the pasted YAML, the name left empty (metadata.name is used).
    pasted = _trivial(tmp_path / "pasted.yaml", "pasted", 3).read_text(encoding="utf-8")
    run = api.trigger(GENERIC_DAG_ID, {"experiment_spec": pasted, "experiment": "", "namespace": "form"})
    assert airflow.wait_run(GENERIC_DAG_ID, run.run_id, timeout=900)["state"] == "success"
    with Store(airflow.store_url) as store:
        assert store.get_experiment("form", "pasted").condition is ExperimentCondition.SUCCEEDED
        assert len(store.list_trials("form", "pasted")) == 3

    source = _trivial(tmp_path / "submitted.yaml", "submitted", 2)
    login = ["--airflow-url", airflow.url, "--airflow-user", USER]
    assert main(["submit", str(source), "--engine", "airflow", *login, "--airflow-password", "wrong"]) == 6
    assert "refused the credentials" in capsys.readouterr().err
    unreachable = ["--airflow-url", "http://127.0.0.1:9", "--airflow-user", USER, "--airflow-password", PASSWORD]
    assert main(["submit", str(source), "--engine", "airflow", *unreachable]) == 6
    assert "cannot reach Airflow" in capsys.readouterr().err
    code = main(["submit", str(source), "--engine", "airflow", *login, "--airflow-password", PASSWORD,
                 "--wait", "--db", airflow.store_url, "--interval", "2", "-q"])  # fmt: skip
    assert code == _exit.SUCCEEDED
    assert "best trial" in capsys.readouterr().out
