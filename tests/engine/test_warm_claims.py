"""Claims through a ``SuggestionCache`` create the trials that claims without one create, on every backend.

Two experiments with the same spec and seed are driven alike through the real engine and store: three
slots, trials finished out of order (some failed, some without the metric), new claims as slots free up.
One passes a cache to ``claim_next_trial`` (what a local run does), the other does not (any fresh
process). The trials must match one for one, assignments read back from the store included, and the
cache must have stayed warm (one build), so the store's round trip of values did not force rebuilds.
"""

from __future__ import annotations

import datetime as dt
import random

import katib_flows_suggestion as sg
from katib_flows_suggestion._warm import WarmStudy

from katib_flows.engine import Claimed, Done, claim_next_trial, finish_trial, record_observation, register_experiment
from katib_flows.spec import check_document
from katib_flows.store import MetricLog, Store, TrialStatus

SPEC = {
    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
    "algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "n_startup_trials", "value": "5"}]},
    "parallelTrialCount": 3,
    "maxTrialCount": 30,
    "maxFailedTrialCount": 30,
    "parameters": [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "10"}},
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "0.1", "step": "0.0001",
                                                                    "distribution": "logUniform"}},
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}},
        {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
    ],
    "trialTemplate": {"command": ["echo"]},
}  # fmt: skip


def _drive(store: Store, name: str, cache: sg.SuggestionCache | None) -> list[tuple[str, dict[str, object]]]:
    """Claim and finish trials until the experiment is done; (status, assignments) of every trial."""
    rng = random.Random(0)
    running: list[str] = []
    while True:
        result = claim_next_trial(store, "ns", name, runner="test", cache=cache)
        if isinstance(result, Claimed):
            running.append(result.trial.name)
            continue
        if isinstance(result, Done):
            break
        trial = store.get_trial("ns", running.pop(rng.randrange(len(running))))
        outcome = rng.choice([TrialStatus.SUCCEEDED] * 4 + [TrialStatus.FAILED])
        a = trial.assignments
        loss = (float(a["x"]) - 2) ** 2 + abs(int(a["n"]) - 20) / 10 + (a["opt"] == "sgd")
        if rng.random() > 0.1:  # else no metric: MetricsUnavailable
            record_observation(
                store, "ns", trial.name, [MetricLog("loss", str(loss), dt.datetime.now(dt.timezone.utc), 0)]
            )
        finish_trial(store, "ns", trial.name, outcome, experiment=name)
    return [(t.status.value, t.assignments) for t in store.list_trials("ns", name)]


def test_claims_with_a_cache_create_the_same_trials(store: Store) -> None:
    checked = check_document(SPEC, "warm.yaml")
    assert checked.experiment is not None, checked
    for name in ("cold", "warm"):
        register_experiment(store, checked.experiment, namespace="ns", name=name, seed=11)
    cold = _drive(store, "cold", None)
    cache = sg.SuggestionCache()
    warm = _drive(store, "warm", cache)
    assert warm == cold
    assert len(cold) == 30
    assert {status for status, _ in cold} >= {"Succeeded", "Failed", "MetricsUnavailable"}
    assert cache.kept("tpe", WarmStudy, WarmStudy).rebuilds == 1
