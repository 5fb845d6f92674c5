"""Local runs end to end through the CLI, in process, with real trial processes and a real SQLite store."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from local_helpers import script_experiment

from katib_flows.cli import _exit, main
from katib_flows.store import ExperimentCondition, Store, TrialStatus

HOSTILE = [
    'it\'s "quoted"',
    "two\nlines",
    "$(touch /tmp/katib-flows-pwned)",
    "`id`",
    "; rm -rf ~",
    "{a: 1}",
    "- x",
    "key: value",
    "${trialSpec.Name}",
    "naïve – 東京 🚀",
    "  padded  ",
    "--flag=1",
    "&anchor *alias",
    "# not a comment",
    "back\\slash",
]


def _store(url: str) -> Store:
    return Store(url)


def test_hostile_categorical_values_reach_the_trial_as_one_argv_element(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    path = write_experiment(
        script_experiment(
            args=["--argv-dir", str(argv_dir), "--", "${trialParameters.v}", "v=${trialParameters.v}"],
            parameters=[{"name": "v", "parameterType": "categorical", "feasibleSpace": {"list": HOSTILE}}],
            algorithm="grid",
            parallelTrialCount=3,
            maxTrialCount=len(HOSTILE),
        )
    )
    assert main(["run", str(path), "--name", "hostile", "-q"]) == _exit.SUCCEEDED
    seen = [json.loads(p.read_text()) for p in argv_dir.iterdir()]
    assert len(seen) == len(HOSTILE)
    assert sorted(argv[-2:] for argv in seen) == sorted([value, f"v={value}"] for value in HOSTILE)
    assert not Path("/tmp/katib-flows-pwned").exists()


def test_run_and_read_the_results(
    local_env: str, write_experiment: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}", "--steps", "3"], maxTrialCount=4, parallelTrialCount=2
        )
    )
    assert main(["run", str(path), "--name", "reads", "--seed", "3", "-q"]) == _exit.SUCCEEDED
    capsys.readouterr()

    assert main(["experiments", "-o", "json"]) == 0
    [experiment] = json.loads(capsys.readouterr().out)
    assert experiment["name"] == "reads"
    assert experiment["namespace"] == "default"
    assert experiment["status"] == {
        "condition": "Succeeded",
        "reason": "ExperimentMaxTrialsReached",
        "message": "Experiment has succeeded because max trial count has reached",
    }
    assert experiment["trials"]["succeeded"] == 4

    assert main(["trials", "reads", "-o", "json"]) == 0
    trials = json.loads(capsys.readouterr().out)
    assert len(trials) == 4
    for trial in trials:
        assert trial["status"] == "Succeeded"
        [assignment] = trial["parameterAssignments"]
        assert assignment["name"] == "value"
        value = float(assignment["value"])
        [metric] = trial["metrics"]
        assert metric["name"] == "score"
        assert float(metric["min"]) == pytest.approx(value, abs=1e-9)
        assert float(metric["max"]) == pytest.approx(value + 0.002, abs=1e-9)
    best_value = max(t["objectiveValue"] for t in trials)

    assert main(["best", "reads", "-o", "json"]) == 0
    best = json.loads(capsys.readouterr().out)
    assert best["objectiveValue"] == best_value
    assert best["bestTrialName"] == experiment["currentOptimalTrial"]["bestTrialName"]

    assert main(["logs", "reads", best["bestTrialName"]]) == 0
    assert f"starting {best['bestTrialName']}" in capsys.readouterr().out

    assert main(["delete", "reads", "-y"]) == 0
    assert main(["trials", "reads"]) == _exit.NOT_FOUND


def test_failed_trials_keep_their_last_lines_and_fail_the_experiment(
    local_env: str, write_experiment: Callable[..., Path]
) -> None:
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}", "--exit", "3"],
            maxTrialCount=6,
            maxFailedTrialCount=2,
            parallelTrialCount=1,
        )
    )
    assert main(["run", str(path), "--name", "failing", "-q"]) == _exit.EXPERIMENT_FAILED
    with _store(local_env) as store:
        experiment = store.get_experiment("default", "failing")
        trials = store.list_trials("default", "failing")
    assert experiment.condition is ExperimentCondition.FAILED
    assert experiment.reason == "ExperimentFailed"
    assert len(trials) == 2
    for trial in trials:
        assert trial.status is TrialStatus.FAILED
        assert "exit code 3" in trial.message
        assert "last line before exit" in trial.message


def test_no_objective_is_metrics_unavailable(local_env: str, write_experiment: Callable[..., Path]) -> None:
    path = write_experiment(script_experiment(args=["--no-metric"], maxTrialCount=2, parallelTrialCount=1))
    code = main(["run", str(path), "--name", "silent", "-q"])
    assert code == _exit.SUCCEEDED
    with _store(local_env) as store:
        statuses = {t.status for t in store.list_trials("default", "silent")}
        assert statuses == {TrialStatus.METRICS_UNAVAILABLE}


def test_goal_reached_stops_the_trials_still_running(local_env: str, write_experiment: Callable[..., Path]) -> None:
    # Grid order is seeded: whichever trial draws 0.9 meets the goal; the one with 0.1 would sleep a minute.
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}", "--sleep-if-below", "0.5"],
            parameters=[{"name": "value", "parameterType": "discrete", "feasibleSpace": {"list": ["0.1", "0.9"]}}],
            objective={"type": "maximize", "objectiveMetricName": "score", "goal": 0.8},
            algorithm="grid",
            parallelTrialCount=2,
            maxTrialCount=2,
        )
    )
    started = time.monotonic()
    assert main(["run", str(path), "--name", "goal", "-q"]) == _exit.SUCCEEDED
    assert time.monotonic() - started < 30
    with _store(local_env) as store:
        experiment = store.get_experiment("default", "goal")
        trials = {t.assignments["value"]: t for t in store.list_trials("default", "goal")}
    assert experiment.reason == "ExperimentGoalReached"
    assert trials["0.9"].status is TrialStatus.SUCCEEDED
    assert trials["0.1"].status is TrialStatus.KILLED
    assert trials["0.1"].reason == "ExperimentCompleted"
    assert experiment.optimal_trial == trials["0.9"].name


def test_active_deadline_seconds_is_the_trial_timeout(local_env: str, write_experiment: Callable[..., Path]) -> None:
    document = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": 1,
        "parallelTrialCount": 1,
        "parameters": [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {
            "primaryContainerName": "main",
            "trialParameters": [{"name": "value", "reference": "value"}],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "activeDeadlineSeconds": 1,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {
                                    "name": "main",
                                    "image": "python:3.11",
                                    "command": [sys.executable, "trial_script.py", "--value=${trialParameters.value}"],
                                    "args": ["--sleep", "60"],
                                    "workingDir": str(Path(__file__).parent),
                                }
                            ],
                        }
                    },
                },
            },
        },
    }
    path = write_experiment(document)
    started = time.monotonic()
    main(["run", str(path), "--name", "slow", "-q"])
    assert time.monotonic() - started < 30
    with _store(local_env) as store:
        [trial] = store.list_trials("default", "slow")
    assert trial.status is TrialStatus.FAILED
    assert trial.reason == "DeadlineExceeded"


def test_bad_input_is_exit_two_with_the_field(
    local_env: str, write_experiment: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    document = script_experiment(args=["--value=${trialParameters.value}"], maxTrialCount=0)
    path = write_experiment(document)
    assert main(["run", str(path)]) == _exit.BAD_INPUT
    assert "spec.maxTrialCount" in capsys.readouterr().err
    assert main(["run", str(path.parent / "missing.yaml")]) == _exit.BAD_INPUT


def test_the_same_name_twice_says_how_to_go_on(
    local_env: str, write_experiment: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_experiment(
        script_experiment(args=["--value=${trialParameters.value}"], maxTrialCount=1, parallelTrialCount=1)
    )
    assert main(["run", str(path), "--name", "twice", "-q"]) == 0
    assert main(["run", str(path), "--name", "twice", "-q"]) == _exit.BAD_INPUT
    err = capsys.readouterr().err
    assert "katib-flows resume twice" in err
    assert "katib-flows delete twice" in err


def test_deadline_ends_the_experiment_and_stops_running_trials(
    local_env: str, write_experiment: Callable[..., Path]
) -> None:
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}", "--sleep", "30"], maxTrialCount=4, parallelTrialCount=2
        )
    )
    started = time.monotonic()
    assert main(["run", str(path), "--name", "late", "--deadline", "1", "-q"]) == _exit.SUCCEEDED
    assert time.monotonic() - started < 20
    with _store(local_env) as store:
        experiment = store.get_experiment("default", "late")
        trials = store.list_trials("default", "late")
    assert experiment.condition is ExperimentCondition.SUCCEEDED
    assert experiment.reason == "ExperimentDeadlineReached"
    assert len(trials) == 2
    assert {t.status for t in trials} == {TrialStatus.KILLED}
    assert {t.reason for t in trials} == {"ExperimentDeadlineReached"}


def test_verbose_streams_trial_output(
    local_env: str, write_experiment: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_experiment(
        script_experiment(args=["--value=${trialParameters.value}"], maxTrialCount=1, parallelTrialCount=1)
    )
    assert main(["run", str(path), "--name", "chatty", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "| last line before exit" in err
    assert "chatty-" in err and "started" in err
