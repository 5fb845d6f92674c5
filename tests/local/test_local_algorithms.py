"""Every registered algorithm runs a 12-trial experiment end to end through ``katib-flows run`` (a real
subprocess, a real SQLite store) on a mixed space: int, double with step, log double, categorical.

The list comes from the registry, so an algorithm added there is run here without editing this file; an
algorithm that needs more than the plain experiment (a resource parameter, PBT's settings, a second
objective) gets it from ``_adapt``. Each run must exit 0 (no goal), create exactly the trials its budget or
its documented end allows, and give every trial assignments inside the feasible space with the right type.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from katib_flows_suggestion import NAS_ASSIGNMENTS, _registry, _rules
from katib_flows_suggestion._hyperband import total_trials

from katib_flows.cli import _exit
from katib_flows.store import Store, TrialStatus

TRIALS, LANES = 12, 3
SPACE: list[dict[str, Any]] = [
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "5"}},
    {"name": "dropout", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "0.5", "step": "0.1"}},
    {
        "name": "lr",
        "parameterType": "double",
        "feasibleSpace": {"min": "0.0001", "max": "0.1", "distribution": "logUniform"},
    },
    {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam", "rmsprop"]}},
]
EPOCHS = {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
#: A trivial trial: prints its objectives at once, computed from its assignments.
CODE = (
    "import math, sys; layers, dropout, lr, opt = sys.argv[1:5]; "
    "score = -(math.log10(float(lr)) + 2) ** 2 - float(dropout) + 0.1 * int(layers) + (opt == 'adam'); "
    "print(f'score={score}'); print(f'cost={int(layers) * (1 - float(dropout))}')"
)
ARGS = ["${trialParameters.layers}", "${trialParameters.dropout}", "${trialParameters.lr}", "${trialParameters.opt}"]
#: Hyperband with r_l=3, eta=3 fits 3 lanes (ceil(eta^s_max) = 3) and ends, exhausted, after its two brackets.
HYPERBAND_TRIALS = total_trials(3, 3)


def _multi_objective_only(name: str) -> bool:
    """Our multi-objective extensions (nsga2, motpe) run on two objectives; Katib's algorithms on one."""
    several = getattr(_rules, "MULTI_OBJECTIVE_ALGORITHMS", ())
    return name in several and name not in _registry.KATIB_ALGORITHMS


def _adapt(name: str, spec: dict[str, Any]) -> int:
    """Give algorithm ``name`` what it needs to run; return the exact number of trials it must create."""
    settings: dict[str, str] = {}
    if name in ("grid", "pbt"):  # a lattice on every double (Katib: step required)
        spec["parameters"][2]["feasibleSpace"]["step"] = "0.0001"
    if name == "hyperband":
        settings = {"resource_name": "epochs", "r_l": "3", "eta": "3"}
    if name == "asha":
        settings = {"resource_name": "epochs", "r_l": "9", "eta": "3"}
    if name in ("hyperband", "asha"):
        spec["parameters"].append(EPOCHS)
        spec["trialTemplate"]["trialParameters"].append({"name": "epochs", "reference": "epochs"})
        spec["trialTemplate"]["command"].append("--epochs=${trialParameters.epochs}")
    if name == "pbt":
        settings = {"suggestion_trial_dir": "/tmp/ckpt", "n_population": "5", "truncation_threshold": "0.2"}
    if _multi_objective_only(name):
        spec["objective"]["additionalObjectives"] = [{"type": "minimize", "objectiveMetricName": "cost"}]
    spec["algorithm"]["algorithmSettings"] = [{"name": k, "value": v} for k, v in settings.items()]
    return HYPERBAND_TRIALS if name == "hyperband" else TRIALS


def _check(spec: dict[str, Any], assignments: dict[str, Any], resource: str | None) -> None:
    assert set(assignments) == {p["name"] for p in spec["parameters"]}
    for parameter in spec["parameters"]:
        name, space, value = parameter["name"], parameter["feasibleSpace"], assignments[parameter["name"]]
        if parameter["parameterType"] == "categorical":
            assert type(value) is str and value in space["list"], (name, value)
            continue
        if name == resource:  # the budget, written by the algorithm: an int stays an int
            assert type(value) is int and 1 <= value <= 9, (name, value)
            continue
        low, high = Decimal(space["min"]), Decimal(space["max"])
        number = Decimal(repr(value))
        assert low <= number <= high, (name, value)
        if parameter["parameterType"] == "int":
            assert type(value) is int, (name, value)
        else:
            assert type(value) is float, (name, value)
            if "step" in space:
                k = (number - low) / Decimal(space["step"])
                assert k == k.to_integral_value(), f"{name}={value!r} is not on min + k*step"


# NAS algorithms search spec.nasConfig, not parameters: tests/local/test_local_nas.py runs them.
@pytest.mark.parametrize("algorithm", [a for a in _registry.IMPLEMENTED_ALGORITHMS if a not in NAS_ASSIGNMENTS])
def test_algorithm_runs_twelve_trials_on_a_mixed_space(algorithm: str, tmp_path: Path) -> None:
    spec: dict[str, Any] = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": algorithm},
        "maxTrialCount": TRIALS,
        "parallelTrialCount": LANES,
        "parameters": [dict(p, feasibleSpace=dict(p["feasibleSpace"])) for p in SPACE],
        "trialTemplate": {
            "command": [sys.executable, "-c", CODE, *ARGS],
            "trialParameters": [
                {"name": "layers", "reference": "layers"},
                {"name": "dropout", "reference": "dropout"},
                {"name": "lr", "reference": "lr"},
                {"name": "opt", "reference": "optimizer"},
            ],
        },
    }
    expected = _adapt(algorithm, spec)
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        **os.environ,
        "KATIB_FLOWS_DB": url,
        "KATIB_FLOWS_LOGS": str(tmp_path / "logs"),
        "KATIB_FLOWS_CHECKPOINTS": str(tmp_path / "checkpoints"),
    }
    cli = [sys.executable, "-m", "katib_flows", "run", str(path), "--name", "mixed", "--seed", "5", "-q"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == _exit.SUCCEEDED, done.stderr
    with Store(url) as store:
        trials = store.list_trials("default", "mixed")
        record = store.get_experiment("default", "mixed")
    assert len(trials) == expected, [t.name for t in trials]
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * expected, [t.message for t in trials]
    assert record.reason == (
        "ExperimentSuggestionEndReached" if algorithm == "hyperband" else "ExperimentMaxTrialsReached"
    )
    for trial in trials:
        _check(spec, trial.assignments, "epochs" if algorithm in ("hyperband", "asha") else None)
