"""Stopping and resuming for real: SIGKILL and SIGINT of a run in its own process group, then ``resume``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from local_helpers import script_experiment

from katib_flows.cli import _exit, main
from katib_flows.engine import REASON_INTERRUPTED, Counts, stop_requested
from katib_flows.store import ExperimentCondition, Store, TrialStatus


def _start_run(path: Path, name: str, url: str, logs: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KATIB_FLOWS_DB": url, "KATIB_FLOWS_LOGS": str(logs)}
    return subprocess.Popen(
        [sys.executable, "-m", "katib_flows", "run", str(path), "--name", name, "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_for(url: str, name: str, done: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with Store(url, upgrade=True) as store:  # the run may not have created the schema yet
        while time.monotonic() < deadline:
            try:
                trials = store.list_trials("default", name)
            except Exception:  # the run has not registered the experiment yet
                trials = []
            if sum(t.status is TrialStatus.SUCCEEDED for t in trials) >= done:
                return
            time.sleep(0.05)
    raise AssertionError(f"{name}: fewer than {done} trials succeeded in {timeout}s")


def _experiment(write: Callable[..., Path]) -> Path:
    return write(
        script_experiment(
            args=["--value=${trialParameters.value}", "--sleep", "0.4"], maxTrialCount=12, parallelTrialCount=3
        )
    )


def test_kill_dash_nine_then_resume_loses_and_duplicates_nothing(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    run = _start_run(_experiment(write_experiment), "killed", local_env, tmp_path / "logs")
    _wait_for(local_env, "killed", 4)
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    with Store(local_env) as store:
        left_running = [t.name for t in store.list_trials("default", "killed") if not t.status.terminal]
    assert left_running, "the kill should leave trials running"

    assert main(["resume", "killed", "-q"]) == _exit.SUCCEEDED
    with Store(local_env) as store:
        trials = store.list_trials("default", "killed")
        experiment = store.get_experiment("default", "killed")
    names = [t.name for t in trials]
    assert len(names) == len(set(names))
    interrupted = [t for t in trials if t.reason == REASON_INTERRUPTED]
    assert sorted(t.name for t in interrupted) == sorted(left_running)
    assert all(t.status is TrialStatus.KILLED for t in interrupted)
    assert Counts.of(trials).completed == 12
    assert sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 12
    assert experiment.reason == "ExperimentMaxTrialsReached"


def test_ctrl_c_stops_trials_and_leaves_the_experiment_resumable(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    run = _start_run(_experiment(write_experiment), "stopped", local_env, tmp_path / "logs")
    _wait_for(local_env, "stopped", 2)
    os.kill(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=30)
    assert run.returncode == _exit.INTERRUPTED, err.decode()
    assert b"katib-flows resume stopped" in err
    with Store(local_env) as store:
        trials = store.list_trials("default", "stopped")
        experiment = store.get_experiment("default", "stopped")
    assert experiment.condition is ExperimentCondition.RUNNING
    assert all(t.status.terminal for t in trials), [(t.name, t.status, t.reason, t.runner) for t in trials]
    assert any(t.reason == REASON_INTERRUPTED for t in trials)

    assert main(["resume", "stopped", "-q"]) == _exit.SUCCEEDED
    with Store(local_env) as store:
        trials = store.list_trials("default", "stopped")
    assert sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 12
    assert len({t.name for t in trials}) == len(trials)


def test_stop_through_the_store_ends_the_run_like_ctrl_c_and_resume_keeps_the_budget(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    run = _start_run(_experiment(write_experiment), "asked", local_env, tmp_path / "logs")
    _wait_for(local_env, "asked", 2)
    assert main(["stop", "asked"]) == _exit.SUCCEEDED  # another process: only the store connects the two
    _, err = run.communicate(timeout=30)
    assert run.returncode == _exit.INTERRUPTED, err.decode()
    with Store(local_env) as store:
        trials = store.list_trials("default", "asked")
        experiment = store.get_experiment("default", "asked")
    assert experiment.condition is ExperimentCondition.RUNNING and stop_requested(experiment)
    assert all(t.status.terminal for t in trials), [(t.name, t.status, t.reason) for t in trials]
    assert any(t.reason == REASON_INTERRUPTED for t in trials)

    assert main(["resume", "asked", "-q"]) == _exit.SUCCEEDED  # not stopped again by the old request
    with Store(local_env) as store:
        trials = store.list_trials("default", "asked")
        experiment = store.get_experiment("default", "asked")
    assert not stop_requested(experiment)
    assert Counts.of(trials).completed == 12 and sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 12
    assert main(["stop", "asked"]) == _exit.BAD_INPUT  # completed: nothing to stop
    assert main(["stop", "nobody"]) == _exit.NOT_FOUND


def test_resume_a_finished_experiment_with_a_larger_budget(
    local_env: str, write_experiment: Callable[..., Path], capsys: object
) -> None:
    path = write_experiment(
        script_experiment(args=["--value=${trialParameters.value}"], maxTrialCount=2, parallelTrialCount=1)
    )
    assert main(["run", str(path), "--name", "more", "-q"]) == 0
    assert main(["resume", "more", "-q"]) == _exit.BAD_INPUT  # says to raise --max-trials
    assert main(["resume", "more", "--max-trials", "4", "-q"]) == 0
    with Store(local_env) as store:
        assert len(store.list_trials("default", "more")) == 4
