"""``katib-flows step ...`` verb by verb: outputs, idempotency (Argo retries steps) and the exit step's choices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from katib_flows.argo import compile_workflow, spec_json
from katib_flows.cli import _exit, main
from katib_flows.spec import Experiment, load_text
from katib_flows.store import Store, TrialStatus

NS = "team-a"


def experiment(max_trials: int = 4, parallel: int = 2, command: str = "print('loss=0.5')") -> Experiment:
    loaded = load_text(
        json.dumps(
            {
                "metadata": {"name": "exp"},
                "spec": {
                    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                    "algorithm": {"algorithmName": "random"},
                    "parallelTrialCount": parallel,
                    "maxTrialCount": max_trials,
                    "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
                    "trialTemplate": {"command": ["python3", "-c", command, "${trialParameters.x}"]},
                },
            }
        )
    )
    assert loaded.experiment is not None
    return loaded.experiment


class Steps:
    """Runs step verbs in process with the environment a step container gets."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.url = f"sqlite:///{tmp_path / 'store.db'}"
        self.tmp_path = tmp_path
        self.workflows = tmp_path / "workflows"
        monkeypatch.setenv("KATIB_FLOWS_DB", self.url)
        monkeypatch.setenv("KATIB_FLOWS_TRIAL_RUNNER", "local")
        monkeypatch.setenv("KATIB_FLOWS_WORKFLOWS_DIR", str(self.workflows))
        self.monkeypatch = monkeypatch
        self._count = 0

    def __call__(
        self, verb: str, *args: str, spec: str | None = None, workflow: str = "wf"
    ) -> tuple[int, dict[str, str]]:
        """Run ``verb``; for ``init``, the Workflow ``workflow`` holds ``spec`` as its experiment-spec argument."""
        self._count += 1
        outputs = self.tmp_path / f"out-{self._count}"
        extra = [] if verb in ("trial", "release") else ["--outputs", str(outputs)]
        if verb == "init":
            self.save_workflow(workflow, spec)
            extra += ["--workflow", workflow]
        code = main(["step", verb, "--experiment", "exp", "--namespace", NS, *args, *extra])
        found = {p.name: p.read_text() for p in outputs.iterdir()} if outputs.is_dir() else {}
        return code, found

    def save_workflow(self, name: str, spec: str | None, phase: str | None = None) -> None:
        """The Workflow object init reads its argument from, as the API server would answer it (an existing
        one keeps all but its experiment-spec argument)."""
        path = self.workflows / NS / f"{name}.json"
        document: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"metadata": {"name": name}}
        arguments = document.setdefault("spec", {}).setdefault("arguments", {})
        parameters = [p for p in arguments.get("parameters", []) if p["name"] != "experiment-spec"]
        arguments["parameters"] = parameters + ([] if spec is None else [{"name": "experiment-spec", "value": spec}])
        if phase is not None:
            document["status"] = {"phase": phase}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))

    def store(self) -> Store:
        return Store(self.url)


@pytest.fixture
def steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Steps:
    return Steps(tmp_path, monkeypatch)


def _spec(exp: Experiment | None = None) -> str:
    return spec_json(exp or experiment(), name="exp", namespace=NS)


def test_init_registers_once_and_prints_the_lanes(steps: Steps) -> None:
    assert steps("init", spec=_spec()) == (0, {"lanes": "[0, 1]", "iterations": "90", "budget-left": "4"})
    assert steps("init", spec=_spec()) == (
        0,
        {"lanes": "[0, 1]", "iterations": "90", "budget-left": "4"},
    )  # a retried init
    with steps.store() as store:
        assert [e.name for e in store.list_experiments(NS)] == ["exp"]


def test_init_refuses_another_spec_under_the_same_name(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    steps("init", spec=_spec())
    code, _ = steps("init", spec=_spec(experiment(max_trials=9)))
    assert code == _exit.BAD_INPUT
    assert "already exists" in capsys.readouterr().err


def test_init_of_a_later_generation_trusts_the_store(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    assert steps("init", "--generation", "1")[0] == _exit.NOT_FOUND
    assert "Submit generation 0 again" in capsys.readouterr().err
    steps("init", spec=_spec())
    assert steps("init", "--generation", "1", spec=_spec(experiment(max_trials=9))) == (
        0,
        {"lanes": "[0, 1]", "iterations": "90", "budget-left": "4"},
    )


def test_init_with_bad_input_is_exit_2(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    assert steps("init")[0] == _exit.BAD_INPUT
    assert "experiment-spec" in capsys.readouterr().err
    assert steps("init", spec="spec: {maxTrialCount: -1}")[0] == _exit.BAD_INPUT
    nas = experiment().dump()
    nas["spec"]["algorithm"]["algorithmName"] = "enas"
    assert steps("init", spec=json.dumps(nas))[0] == _exit.BAD_INPUT


def _suggest(steps: Steps, lane: int, iteration: int, iterations: int = 90, workflow: str = "wf") -> dict[str, str]:
    code, outputs = steps(
        "suggest", "--lane", str(lane), "--iteration", str(iteration), "--iterations", str(iterations),
        "--workflow", workflow, "--wait-seconds", "0",
    )  # fmt: skip
    assert code == 0
    return outputs


def test_suggest_claims_one_trial_per_lane_iteration_even_when_retried(steps: Steps) -> None:
    steps("init", spec=_spec())
    first = _suggest(steps, 0, 0)
    assert first["status"] == "trial" and first["next"] == "continue" and first["next-iteration"] == "1"
    assert _suggest(steps, 0, 0) == first  # the retry finds its own trial
    with steps.store() as store:
        [trial] = store.list_trials(NS, "exp")
    assert trial.name == first["trial"] and trial.runner == "argo:wf/0/0" and trial.lane == 0
    assert trial.status is TrialStatus.RUNNING


def test_suggest_stops_the_lane_at_the_generation_limit(steps: Steps) -> None:
    steps("init", spec=_spec())
    last = _suggest(steps, 0, 4, iterations=5)
    assert last["status"] == "trial" and last["next"] == "stop"


def test_suggest_says_wait_when_every_slot_is_busy_and_done_when_the_budget_is_created(steps: Steps) -> None:
    steps("init", spec=_spec(experiment(max_trials=2, parallel=1)))
    assert _suggest(steps, 0, 0)["status"] == "trial"
    busy = _suggest(steps, 1, 0)
    assert busy["status"] == "wait" and busy["trial"] == "none" and busy["next"] == "continue"
    first = _suggest(steps, 0, 0)["trial"]
    assert steps("trial", "--trial", first, "--workflow", "wf")[0] == 0
    assert _suggest(steps, 0, 1)["status"] == "trial"
    done = _suggest(steps, 1, 1)
    assert done["status"] == "done" and done["next"] == "stop"


def test_release_gives_back_the_place_of_the_trial_a_failed_task_claimed(steps: Steps) -> None:
    steps("init", spec=_spec(experiment(max_trials=3, parallel=1)))
    held = _suggest(steps, 0, 0)["trial"]  # its task then fails for good (Airflow), leaving it Running
    assert _suggest(steps, 0, 1)["status"] == "wait"
    assert steps("release", "--lane", "0", "--iteration", "1", "--workflow", "wf")[0] == 0  # nothing of its own
    assert _suggest(steps, 0, 1)["status"] == "wait"
    assert steps("release", "--lane", "0", "--iteration", "0", "--workflow", "wf")[0] == 0
    with steps.store() as store:
        trial = store.get_trial(NS, held)
    assert trial.status is TrialStatus.KILLED and trial.reason == "TrialInterrupted"
    assert _suggest(steps, 0, 1)["status"] == "trial"


def test_trial_runs_records_and_is_a_no_op_when_retried(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    steps("init", spec=_spec())
    name = _suggest(steps, 0, 0)["trial"]
    assert steps("trial", "--trial", name, "--workflow", "wf")[0] == 0
    assert "loss=0.5" in capsys.readouterr().out  # the trial's output is the step's log
    assert steps("trial", "--trial", name, "--workflow", "wf")[0] == 0
    assert "already finished" in capsys.readouterr().out
    with steps.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.SUCCEEDED and trial.objective_value == 0.5


def test_a_failing_trial_is_recorded_and_the_step_succeeds(steps: Steps) -> None:
    steps("init", spec=_spec(experiment(command="raise SystemExit(4)")))
    name = _suggest(steps, 0, 0)["trial"]
    assert steps("trial", "--trial", name, "--workflow", "wf")[0] == 0
    with steps.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.FAILED and "exit code 4" in trial.message


def test_the_kubernetes_runner_refuses_the_command_short_form_as_bad_input(
    steps: Steps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps("init", spec=_spec())
    name = _suggest(steps, 0, 0)["trial"]
    monkeypatch.delenv("KATIB_FLOWS_TRIAL_RUNNER")
    assert steps("trial", "--trial", name, "--workflow", "wf")[0] == _exit.BAD_INPUT
    assert "--trial-runner local" in capsys.readouterr().err


def _write_workflow(steps: Steps, name: str = "wf", **labels: str) -> dict[str, Any]:
    workflow = compile_workflow(experiment(), name=name, namespace=NS)
    workflow["metadata"]["labels"].update(labels)
    workflow["metadata"]["uid"] = "1234"
    folder = steps.workflows / NS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(workflow))
    return workflow


def _finish(
    steps: Steps, status: str = "Succeeded", generation: int = 0, workflow: str = "wf", *extra: str
) -> dict[str, str]:
    code, outputs = steps(
        "finish", "--workflow", workflow, "--workflow-status", status, "--generation", str(generation), *extra
    )
    assert code == 0
    return outputs


def test_finish_hands_off_when_lanes_stopped_at_the_limit_and_only_once(steps: Steps) -> None:
    _write_workflow(steps, **{"workflows.argoproj.io/phase": "Running"})
    steps("init", spec=_spec())
    name = _suggest(steps, 0, 0, iterations=1)["trial"]
    steps("trial", "--trial", name, "--workflow", "wf")
    assert _finish(steps) == {"condition": "Running", "next-workflow": "wf-g1", "more": "true"}
    assert _finish(steps) == {"condition": "Running", "next-workflow": "wf-g1", "more": "true"}  # a retried exit step
    created = json.loads((steps.workflows / NS / "wf-g1.json").read_text())
    labels = created["metadata"]["labels"]
    assert labels["katib-flows.io/generation"] == "1" and labels["katib-flows.io/root"] == "wf"
    assert "workflows.argoproj.io/phase" not in labels and "uid" not in created["metadata"]
    assert {"name": "generation", "value": "1"} in created["spec"]["arguments"]["parameters"]
    assert sorted(p.name for p in (steps.workflows / NS).iterdir()) == ["wf-g1.json", "wf.json"]


def test_finish_without_hand_off_only_says_more_trials_are_needed(steps: Steps) -> None:
    """Airflow's ``finish``: the DAG triggers its own next run when ``more`` is true; nothing is submitted."""
    _write_workflow(steps)
    steps("init", spec=_spec())
    name = _suggest(steps, 0, 0, iterations=1)["trial"]
    steps("trial", "--trial", name, "--workflow", "wf")
    found = _finish(steps, "Succeeded", 0, "wf", "--no-hand-off")
    assert found == {"condition": "Running", "next-workflow": "none", "more": "true"}
    assert sorted(p.name for p in (steps.workflows / NS).iterdir()) == ["wf.json"]


def test_finish_interrupts_what_its_generation_left_running(steps: Steps) -> None:
    _write_workflow(steps)
    steps("init", spec=_spec())
    done = _suggest(steps, 0, 0)["trial"]
    steps("trial", "--trial", done, "--workflow", "wf")
    left = _suggest(steps, 1, 0)["trial"]  # its trial step never ran (a lane failed, say)
    assert _finish(steps, status="Failed") == {"condition": "Running", "next-workflow": "none", "more": "false"}
    with steps.store() as store:
        trial = store.get_trial(NS, left)
    assert trial.status is TrialStatus.KILLED and trial.reason == "TrialInterrupted"
    assert not (steps.workflows / NS / "wf-g1.json").exists()


def test_finish_does_not_chain_a_generation_that_made_no_progress(steps: Steps) -> None:
    _write_workflow(steps)
    steps("init", spec=_spec())
    assert _finish(steps) == {"condition": "Created", "next-workflow": "none", "more": "false"}


def test_finish_of_a_completed_experiment_records_it(steps: Steps, capsys: pytest.CaptureFixture[str]) -> None:
    _write_workflow(steps)
    steps("init", spec=_spec(experiment(max_trials=1, parallel=1)))
    name = _suggest(steps, 0, 0)["trial"]
    steps("trial", "--trial", name, "--workflow", "wf")
    capsys.readouterr()
    assert _finish(steps) == {"condition": "Succeeded", "next-workflow": "none", "more": "false"}
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["reason"] == "ExperimentMaxTrialsReached" and summary["optimalTrial"] == name


def test_finish_of_a_never_registered_experiment(steps: Steps) -> None:
    assert _finish(steps, status="Failed") == {"condition": "none", "next-workflow": "none", "more": "false"}


def test_init_interrupts_the_trials_of_a_chain_that_died_without_its_exit_handler(steps: Steps) -> None:
    """``argo terminate`` or a deleted Workflow skips ``finish``; the next init interrupts what they left."""
    steps("init", spec=_spec(), workflow="old")
    terminated = _suggest(steps, 0, 0, workflow="old")["trial"]
    steps("init", spec=_spec(), workflow="gone")
    deleted = _suggest(steps, 1, 0, workflow="gone")["trial"]
    (steps.workflows / NS / "gone.json").unlink()
    steps.save_workflow("old", _spec(), phase="Failed")
    steps("init", spec=_spec(), workflow="alive")
    running = _suggest(steps, 0, 1, workflow="alive")["trial"]
    steps("init", spec=_spec(), workflow="wf")
    with steps.store() as store:
        for name in (terminated, deleted):
            trial = store.get_trial(NS, name)
            assert trial.status is TrialStatus.KILLED and trial.reason == "TrialInterrupted", name
        assert not store.get_trial(NS, running).status.terminal, "a Workflow still running keeps its trial"
