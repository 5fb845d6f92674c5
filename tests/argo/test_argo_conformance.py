"""Compiled Workflows executed end to end by the conformance harness (a fake of Argo's controller).

The harness follows the Workflow's own templates (withParam, when, recursion, parameters, onExit) and
runs every step's ``katib-flows step ...`` command against a real SQLite store, with trials run as
local processes (``KATIB_FLOWS_TRIAL_RUNNER=local``). Workflows the exit step creates (the next
generations) are written to a folder standing in for the cluster and run in turn.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from argo_harness import HarnessError, InProcess, Processes, Requeued, Run, run_chain
from argo_helpers import REPO

from katib_flows.argo import StepOptions, compile_workflow
from katib_flows.spec import Experiment, load_file, load_text
from katib_flows.store import ExperimentRecord, Store, TrialRecord, TrialStatus

SECRET = ("katib-flows-db", "url")


class Cluster:
    """A store, a folder of Workflows and the environment a step container would get."""

    def __init__(self, tmp_path: Path, cwd: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'store.db'}"
        self.workflows = tmp_path / "workflows"
        self.scratch = tmp_path / "nodes"
        self.cwd = cwd
        self.env = {"KATIB_FLOWS_TRIAL_RUNNER": "local", "KATIB_FLOWS_WORKFLOWS_DIR": str(self.workflows)}

    def run(self, workflow: dict[str, Any], *, processes: bool = False) -> list[Run]:
        executor = Processes(self.cwd, self.env) if processes else InProcess(self.cwd, self.env)
        return run_chain(
            workflow,
            executor=executor,
            secrets={SECRET: self.url},
            scratch=self.scratch,
            workflows_dir=self.workflows,
            parallel=True,
        )

    def state(self, namespace: str, name: str) -> tuple[ExperimentRecord, list[TrialRecord]]:
        with Store(self.url) as store:
            return store.get_experiment(namespace, name), store.list_trials(namespace, name)


def trivial(max_trials: int, parallel: int, *, goal: float | None = None) -> Experiment:
    objective = {"type": "minimize", "objectiveMetricName": "loss"} | ({"goal": goal} if goal is not None else {})
    text = json.dumps(
        {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Experiment",
            "metadata": {"name": "trivial"},
            "spec": {
                "objective": objective,
                "algorithm": {"algorithmName": "random"},
                "parallelTrialCount": parallel,
                "maxTrialCount": max_trials,
                "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
                "trialTemplate": {
                    "command": ["python3", "-c", "import sys; print('loss=' + sys.argv[1])", "${trialParameters.x}"]
                },
            },
        }
    )
    experiment = load_text(text).experiment
    assert experiment is not None
    return experiment


@pytest.mark.slow
def test_digits_example_runs_through_the_compiled_workflow(tmp_path: Path) -> None:
    """The same kind of result as ``katib-flows run``: 15 trials, the budget reached, accuracy above 0.95."""
    path = REPO / "examples" / "digits" / "experiment-random.yaml"
    experiment = load_file(path).experiment
    assert experiment is not None
    cluster = Cluster(tmp_path, path.parent)
    [run] = cluster.run(compile_workflow(experiment, name="digits", namespace="team-a"), processes=True)
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    assert run.exit_outputs == {"condition": "Succeeded", "next-workflow": "none"}
    record, trials = cluster.state("team-a", "digits")
    assert record.reason == "ExperimentMaxTrialsReached"
    assert len(trials) == 15 and all(t.status is TrialStatus.SUCCEEDED for t in trials)
    assert {t.lane for t in trials} == {0, 1, 2}, "three lanes ran side by side"
    best = next(t for t in trials if t.name == record.optimal_trial)
    assert best.objective_value is not None and best.objective_value >= 0.95


@pytest.mark.slow
def test_250_trials_in_3_lanes_cross_generations_with_exactly_the_budget(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, tmp_path)
    options = StepOptions(generation_iterations=40)  # 3 lanes x 40 = 120 trials per generation
    runs = cluster.run(compile_workflow(trivial(250, 3), name="trivial", namespace="ns", options=options))
    assert [r.workflow for r in runs] == ["trivial", "trivial-g1", "trivial-g2"]
    assert all(r.phase == "Succeeded" for r in runs)
    assert [r.exit_outputs["condition"] for r in runs] == ["Running", "Running", "Succeeded"]
    record, trials = cluster.state("ns", "trivial")
    assert record.reason == "ExperimentMaxTrialsReached"
    assert len(trials) == 250 and len({t.name for t in trials}) == 250
    assert all(t.status is TrialStatus.SUCCEEDED for t in trials)
    per_generation = [sum(1 for t in trials if (t.runner or "").startswith(f"argo:{r.workflow}/")) for r in runs]
    assert per_generation == [120, 120, 10]


@pytest.mark.slow
def test_one_lane_far_above_100_iterations_hands_off_below_argo_depth_limit(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, tmp_path)
    runs = cluster.run(compile_workflow(trivial(200, 1), name="long", namespace="ns"))  # default: 90 per generation
    assert [r.workflow for r in runs] == ["long", "long-g1", "long-g2"]
    assert all(r.max_depth < 100 for r in runs)
    assert max(r.max_depth for r in runs) == 90 + 2  # main 1, lane i at 2 + i, its steps one deeper
    _, trials = cluster.state("ns", "long")
    assert len(trials) == 200 and all(t.status is TrialStatus.SUCCEEDED for t in trials)


def test_goal_reached_stops_every_lane_and_no_generation_follows(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, tmp_path)
    [run] = cluster.run(compile_workflow(trivial(40, 2, goal=0.5), name="goal", namespace="ns"))
    assert run.exit_outputs == {"condition": "Succeeded", "next-workflow": "none"}
    record, trials = cluster.state("ns", "goal")
    assert record.reason == "ExperimentGoalReached"
    assert len(trials) < 40


def test_a_resubmitted_finished_experiment_runs_nothing(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, tmp_path)
    workflow = compile_workflow(trivial(4, 2), name="again", namespace="ns")
    cluster.run(workflow)
    again = copy.deepcopy(workflow)
    again["metadata"]["name"] = "again-resubmitted"
    [run] = cluster.run(again)
    assert run.exit_outputs == {"condition": "Succeeded", "next-workflow": "none"}
    assert not [n for n in run.nodes if n.template == "suggest"], "no lane runs for a finished experiment"
    _, trials = cluster.state("ns", "again")
    assert len(trials) == 4


def test_a_failing_trial_is_a_result_not_a_failed_workflow(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, tmp_path)
    experiment = trivial(6, 2)
    document = experiment.dump()
    document["spec"]["maxFailedTrialCount"] = 2
    document["spec"]["trialTemplate"]["command"] = ["python3", "-c", "raise SystemExit(3)"]
    failing = load_text(json.dumps(document)).experiment
    assert failing is not None
    [run] = cluster.run(compile_workflow(failing, name="failing", namespace="ns"))
    assert run.phase == "Succeeded"
    record, trials = cluster.state("ns", "failing")
    assert record.condition.value == "Failed" and record.reason == "ExperimentFailed"
    assert all(t.status is TrialStatus.FAILED for t in trials)


def _lane(workflow: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in workflow["spec"]["templates"] if t["name"] == "lane")


def test_the_harness_fails_on_a_broken_parameter_reference(tmp_path: Path) -> None:
    workflow = compile_workflow(trivial(2, 1), name="broken", namespace="ns")
    _lane(workflow)["steps"][1][0]["arguments"]["parameters"][0]["value"] = "{{steps.suggest.outputs.parameters.trail}}"
    with pytest.raises(Requeued, match=r"failed to resolve \{\{steps.suggest.outputs.parameters.trail\}\}"):
        Cluster(tmp_path, tmp_path).run(workflow)


def test_the_harness_fails_on_a_when_that_never_turns_false(tmp_path: Path) -> None:
    workflow = compile_workflow(trivial(2, 1), name="endless", namespace="ns")
    _lane(workflow)["steps"][2][0]["when"] = "'{{steps.suggest.outputs.parameters.status}}' != 'never'"
    with pytest.raises(HarnessError, match="Maximum recursion depth exceeded"):
        Cluster(tmp_path, tmp_path).run(workflow)


def test_the_harness_refuses_what_it_does_not_follow(tmp_path: Path) -> None:
    workflow = compile_workflow(trivial(2, 1), name="odd", namespace="ns")
    workflow["spec"]["parallelism"] = 2
    with pytest.raises(HarnessError, match="parallelism"):
        Cluster(tmp_path, tmp_path).run(workflow)
