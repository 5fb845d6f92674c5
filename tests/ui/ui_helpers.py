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
from katib_flows.ui import Access, create_app, preload


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
    store: Store,
    name: str,
    namespace: str = "default",
    *,
    trials: int = 8,
    running: int = 0,
    seed: int = 0,
    bulk: bool = False,
) -> None:
    """An experiment with ``trials`` finished trials (one in five failed) and ``running`` still running, each
    finished one with three steps of ``score``; written in one transaction through the store's own calls,
    or with ``bulk`` as multi-row INSERTs straight into its tables (the same rows, for 10,000 trials)."""
    checked = check_document(spec(name, namespace, max_trials=trials + running + 5), name)
    assert checked.experiment is not None, checked.problems
    register_experiment(store, checked.experiment, namespace=namespace, name=name, seed=seed)
    made = list(_made(name, trials, running, seed))
    if bulk:
        _insert(store, namespace, name, made)
        return
    with store.locked_experiment(namespace, name) as tx:
        for trial, assignments, score in made:
            tx.add_trial(trial, assignments, status=TrialStatus.RUNNING, runner="test:0")
            if score == _RUNNING:
                continue
            if score is None:
                tx.finish_trial(trial, TrialStatus.FAILED, reason="TrialFailed", message="exit code 1")
                continue
            tx.record_and_read_logs(trial, _curve(score))
            tx.finish_trial(
                trial, TrialStatus.SUCCEEDED, reason="TrialSucceeded", observation=_observation(score),
                objective_value=score,
            )  # fmt: skip


_T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_RUNNING = -1.0  # the score of a trial still running (None: a failed one)


def _made(name: str, trials: int, running: int, seed: int) -> Iterator[tuple[str, dict[str, Any], float | None]]:
    """(name, assignments, score) of each trial, as ``populate`` writes them."""
    rng = random.Random(seed)
    for i in range(trials + running):
        assignments = {"lr": round(10 ** rng.uniform(-3, -1), 6), "units": rng.randint(1, 64),
                       "act": rng.choice(["relu", "tanh"])}  # fmt: skip
        if i >= trials:
            yield f"{name}-{i:05d}", assignments, _RUNNING
        elif i % 5 == 4:
            yield f"{name}-{i:05d}", assignments, None
        else:
            yield f"{name}-{i:05d}", assignments, round(rng.random(), 6)


def _curve(score: float) -> list[MetricLog]:
    return [MetricLog("score", str(score - 0.1 * (2 - s)), _T0 + dt.timedelta(seconds=s), step=s) for s in range(3)]


def _observation(score: float) -> dict[str, dict[str, str]]:
    return {"score": {"min": str(score - 0.2), "max": str(score), "latest": str(score)}}


def _insert(store: Store, namespace: str, name: str, made: list[tuple[str, dict[str, Any], float | None]]) -> None:
    """``populate``'s rows as multi-row INSERTs in one transaction (a bench's 10,000 trials in seconds)."""
    from sqlalchemy import insert, select

    from katib_flows.store._schema import ExperimentRow, ObservationLogRow, TrialRow

    now = dt.datetime.now(dt.timezone.utc)
    with store._engine.begin() as connection:
        experiment_id = connection.scalar(
            select(ExperimentRow.id).where(ExperimentRow.namespace == namespace, ExperimentRow.name == name)
        )
        trial_rows, log_rows = [], []
        for seq, (trial, assignments, score) in enumerate(made):
            done = score != _RUNNING
            status = TrialStatus.RUNNING if not done else TrialStatus.FAILED if score is None else TrialStatus.SUCCEEDED
            reason, message = {TrialStatus.RUNNING: ("TrialRunning", "Trial is running"),
                               TrialStatus.FAILED: ("TrialFailed", "exit code 1"),
                               TrialStatus.SUCCEEDED: ("TrialSucceeded", "")}[status]  # fmt: skip
            trial_rows.append({
                "experiment_id": experiment_id, "namespace": namespace, "name": trial, "seq": seq,
                "assignments": assignments, "status": status.value, "reason": reason, "message": message,
                "lane": None, "runner": "test:0", "labels": {}, "created_at": now, "started_at": now,
                "completed_at": now if done else None, "lease_expires_at": None,
                "observation": _observation(score) if status is TrialStatus.SUCCEEDED and score is not None else {},
                "objective_value": score if status is TrialStatus.SUCCEEDED else None,
            })  # fmt: skip
            if status is TrialStatus.SUCCEEDED and score is not None:
                log_rows += [{"experiment_id": experiment_id, "namespace": namespace, "experiment": name,
                              "trial_name": trial, "metric_name": log.metric, "value": log.value,
                              "number": float(log.value), "step": log.step, "timestamp": log.timestamp}
                             for log in _curve(score)]  # fmt: skip
        for table, rows in ((TrialRow, trial_rows), (ObservationLogRow, log_rows)):
            for start in range(0, len(rows), 500):
                connection.execute(insert(table), rows[start : start + 500])


@contextmanager
def serving(store: Store, access: Access | None = None) -> Iterator[str]:
    """The UI over ``store``, served by uvicorn in a thread on a free port; yields its base URL."""
    import uvicorn

    preload()  # as `katib-flows ui` does: before serving, not by the first page

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
