"""A two-objective experiment (``objective.additionalObjectives``, NSGA-II) compiled and run through the
conformance harness: the extension travels in the experiment-spec argument and the steps keep every
objective, so the store ends with NSGA-II's generations and a Pareto front as a local run would."""

from __future__ import annotations

import json
from pathlib import Path

from argo_harness import run_in_process

from katib_flows.argo import compile_workflow
from katib_flows.engine import experiment_of, non_dominated, pareto_front
from katib_flows.spec import load_text
from katib_flows.store import Store, TrialStatus

SCRIPT = "import sys; x = float(sys.argv[1]); print(f'accuracy={x} seconds={x * x + 0.1}')"
SPEC = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "two"},
    "spec": {
        "objective": {
            "type": "maximize",
            "objectiveMetricName": "accuracy",
            "additionalObjectives": [{"type": "minimize", "objectiveMetricName": "seconds"}],
        },
        "algorithm": {"algorithmName": "nsga2", "algorithmSettings": [{"name": "population_size", "value": "3"}]},
        "parallelTrialCount": 2,
        "maxTrialCount": 6,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": ["python3", "-c", SCRIPT, "${trialParameters.x}"]},
    },
}


def test_a_two_objective_experiment_runs_through_the_compiled_workflow(tmp_path: Path) -> None:
    experiment = load_text(json.dumps(SPEC)).experiment
    assert experiment is not None
    workflow = compile_workflow(experiment, name="two", namespace="team-a")
    arguments = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
    assert json.loads(arguments["experiment-spec"])["spec"]["objective"]["additionalObjectives"] == [
        {"objectiveMetricName": "seconds", "type": "minimize"}
    ]
    [run], url = run_in_process(workflow, tmp_path)
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    with Store(url) as store:
        record = store.get_experiment("team-a", "two")
        trials = store.list_trials("team-a", "two")
    assert record.reason == "ExperimentMaxTrialsReached"
    assert len(trials) == 6 and all(t.status is TrialStatus.SUCCEEDED for t in trials)
    assert {t.observation["seconds"]["latest"] != "unavailable" for t in trials} == {True}
    front = pareto_front(experiment_of(record), trials)
    values = [v for _, v in front]
    assert front and non_dominated(values, [True, False]) == list(range(len(values)))
    generations = {t.labels["nsga2.suggestion.katib.kubeflow.org/generation"] for t in trials}
    assert "0" in generations and generations <= {"0", "1", "2"}
