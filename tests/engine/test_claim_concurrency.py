"""Eight OS processes claim trials of one experiment at once, on SQLite, MariaDB and PostgreSQL.

A claim is one transaction; this proves it cannot double-book a slot: exactly maxTrialCount distinct
trials result and never more than parallelTrialCount are active at any moment.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from katib_flows.engine import register_experiment
from katib_flows.spec import check_document
from katib_flows.store import ExperimentCondition, Store

WORKER = r"""
import random, sys, time
from pathlib import Path
from katib_flows.engine import Claimed, Done, claim_next_trial, finish_trial, record_observation
from katib_flows.store import MetricLog, Store, TrialStatus
import datetime as dt

url, lane, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
rng = random.Random(lane)
with Store(url) as store:
    while True:
        result = claim_next_trial(store, "ns", "race", lane=lane, runner=f"worker-{lane}")
        if isinstance(result, Done):
            break
        if not isinstance(result, Claimed):
            time.sleep(0.002)
            continue
        name = result.trial.name
        assert result.trial.status is TrialStatus.RUNNING and result.trial.runner == f"worker-{lane}"
        time.sleep(rng.uniform(0, 0.01))
        now = dt.datetime.now(dt.timezone.utc)
        record_observation(store, "ns", name, [MetricLog("loss", str(rng.random()), now, 0)])
        finish_trial(store, "ns", name, TrialStatus.SUCCEEDED)
"""

SPEC = {
    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
    "algorithm": {"algorithmName": "random"},
    "parallelTrialCount": 8,
    "maxTrialCount": 40,
    "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
    "trialTemplate": {"command": ["echo", "${trialParameters.x}"]},
}


def test_eight_processes_never_double_book(store: Store, store_url: str, tmp_path: Path) -> None:
    checked = check_document(SPEC, "race.yaml")
    assert checked.experiment is not None
    register_experiment(store, checked.experiment, namespace="ns", name="race", seed=7)
    go = tmp_path / "go"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, store_url, str(lane), str(go)], stderr=subprocess.PIPE)
        for lane in range(8)
    ]
    time.sleep(0.5)  # let every interpreter start, so the claims really race
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()

    trials = store.list_trials("ns", "race")
    assert len(trials) == 40
    assert len({t.name for t in trials}) == 40
    assert sorted(t.seq for t in trials) == list(range(40))
    assert all(t.status.value == "Succeeded" for t in trials)
    # Intervals from creation (inside the claim's lock) to completion: never more than 8 at once.
    events = sorted(
        [(t.created_at, 1) for t in trials] + [(t.completed_at, -1) for t in trials], key=lambda e: (e[0], e[1])
    )
    active = peak = 0
    for _, delta in events:
        active += delta
        peak = max(peak, active)
    assert peak <= 8
    assert len({t.lane for t in trials}) > 1, "the claims did not race"
    experiment = store.get_experiment("ns", "race")
    assert experiment.condition is ExperimentCondition.SUCCEEDED
    assert experiment.reason == "ExperimentMaxTrialsReached"
