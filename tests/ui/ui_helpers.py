"""Experiments written straight into a store, and a real UI server on a free port, for the UI tests."""

from __future__ import annotations

import datetime as dt
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from katib_flows.engine import register_experiment
from katib_flows.spec import check_document
from katib_flows.store import MetricLog, Store, TrialStatus
from katib_flows.ui import Access, create_app


def spec(name: str, namespace: str = "default", *, max_trials: int = 20) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "score"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [
                {"name": "lr", "parameterType": "double",
                 "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logUniform"}},
                {"name": "units", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}},
                {"name": "act", "parameterType": "categorical", "feasibleSpace": {"list": ["relu", "tanh"]}},
            ],
            "trialTemplate": {"command": ["true"]},
            "maxTrialCount": max_trials,
            "parallelTrialCount": 2,
        },
    }  # fmt: skip


def populate(
    store: Store, name: str, namespace: str = "default", *, trials: int = 8, running: int = 0, seed: int = 0
) -> None:
    """An experiment with ``trials`` finished trials (one in five failed) and ``running`` still running, each
    finished one with three steps of ``score``; written in one transaction, as fast as the store allows."""
    checked = check_document(spec(name, namespace, max_trials=trials + running + 5), name)
    assert checked.experiment is not None, checked.problems
    register_experiment(store, checked.experiment, namespace=namespace, name=name, seed=seed)
    rng = random.Random(seed)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with store.locked_experiment(namespace, name) as tx:
        for i in range(trials + running):
            assignments = {"lr": round(10 ** rng.uniform(-3, -1), 6), "units": rng.randint(1, 64),
                           "act": rng.choice(["relu", "tanh"])}  # fmt: skip
            trial = f"{name}-{i:05d}"
            tx.add_trial(trial, assignments, status=TrialStatus.RUNNING, runner="test:0")
            if i >= trials:
                continue
            if i % 5 == 4:
                tx.finish_trial(trial, TrialStatus.FAILED, reason="TrialFailed", message="exit code 1")
                continue
            score = round(rng.random(), 6)
            steps = range(3)
            tx.record_and_read_logs(
                trial,
                [MetricLog("score", str(score - 0.1 * (2 - s)), t0 + dt.timedelta(seconds=s), step=s) for s in steps],
            )
            observation = {"score": {"min": str(score - 0.2), "max": str(score), "latest": str(score)}}
            tx.finish_trial(
                trial, TrialStatus.SUCCEEDED, reason="TrialSucceeded", observation=observation, objective_value=score
            )


@contextmanager
def serving(store: Store, access: Access | None = None) -> Iterator[str]:
    """The UI over ``store``, served by uvicorn in a thread on a free port; yields its base URL."""
    import optuna  # noqa: F401 - as `katib-flows ui` does: loaded before serving, not by the first figures
    import plotly.graph_objects  # noqa: F401
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(store, access), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ui-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
