"""Per-trial overhead of the Airflow path against a local run of the same trivial trials, side by side.

Runs N trivial trials (a Python one-liner printing its metric), P at a time, two ways: ``katib-flows run``
on a PostgreSQL store (the local runner's lanes), and the same Experiment compiled with ``compile --engine
airflow`` and triggered through the REST API of a real Airflow 3.3 on this machine (LocalExecutor or
CeleryExecutor, the test suite's deployment: scheduler, dag-processor, api-server, PostgreSQL metadata),
timed from the trigger to the end of the run. Prints both wall times, the per-trial time of each
(wall x P / N) and the ratio; Airflow's start-up is not timed.

    .venv/bin/python bench/airflow_overhead.py --trials 60 --parallel 4 [--executor CeleryExecutor]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa  # noqa: TID251 - a schema of its own for the bench, as the tests make
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "airflow"))

from airflow_deployment import PASSWORD, USER, Deployment  # noqa: E402

from katib_flows.airflow import AirflowApi, dag_id_of  # noqa: E402
from katib_flows.cli import main  # noqa: E402

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TRIAL = [sys.executable, "-c", "import sys; print('score=' + sys.argv[1])", "${trialParameters.value}"]


def experiment(folder: Path, name: str, trials: int, parallel: int) -> Path:
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": parallel,
        "maxTrialCount": trials,
        "parameters": [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": TRIAL},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
                                    "metadata": {"name": name}, "spec": spec}))  # fmt: skip
    return path


def store(schema: str) -> str:
    engine = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = f"{ADMIN}?options=-csearch_path%3D{schema}"
    assert main(["db", "upgrade", "--db", url]) == 0
    return url


def local(source: Path, url: str) -> float:
    started = time.perf_counter()
    assert main(["run", str(source), "--db", url, "-q"]) == 0
    return time.perf_counter() - started


def airflow(source: Path, url: str, home: Path, executor: str | None) -> float:
    deployment = Deployment(home=home, admin_url=ADMIN, store_url=url)
    try:
        deployment.start()
        if executor == "CeleryExecutor":
            deployment.start_celery_workers(2)
        dag = home / "bench.py"
        extra = ["--executor", executor] if executor else []
        assert main(["compile", str(source), "--engine", "airflow", "--out", str(dag), *extra]) == 0
        text = dag.read_text()
        deployment.add_dag("bench.py", text, dag_id_of(text))
        api = AirflowApi(deployment.url, username=USER, password=PASSWORD)
        started = time.perf_counter()
        run = api.trigger(dag_id_of(text), {})
        ended = deployment.wait_run(run.dag_id, run.run_id, timeout=7200)
        took = time.perf_counter() - started
        assert ended["state"] == "success", ended
        return took
    finally:
        deployment.stop()


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--executor", default=None, help="CeleryExecutor: two Celery workers (default: LocalExecutor)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="katib-flows-bench-") as folder:
        home = Path(folder)
        local_s = local(experiment(home, "bench-local", args.trials, args.parallel), store("kfb_local"))
        airflow_s = airflow(
            experiment(home, "bench-airflow", args.trials, args.parallel), store("kfb_airflow"), home / "af",
            args.executor,
        )  # fmt: skip
    per = {name: wall * args.parallel / args.trials for name, wall in (("local", local_s), ("airflow", airflow_s))}
    print(f"{args.trials} trivial trials, {args.parallel} at a time ({args.executor or 'LocalExecutor'})")
    print(f"katib-flows run : {local_s:8.1f} s wall, {per['local']:6.2f} s per trial and lane")
    print(f"Airflow DAG run : {airflow_s:8.1f} s wall, {per['airflow']:6.2f} s per trial and lane")
    print(f"ratio Airflow / local: {airflow_s / local_s:.1f}x")


if __name__ == "__main__":
    main_()
