"""Several runner processes on one experiment and one store, for real: ``katib-flows run FILE --join``.

Two and three OS processes join one experiment on SQLite, MariaDB and PostgreSQL; one is killed with
SIGKILL mid-trial and the others run its trial again once its lease expires. A thread of the test samples
the store throughout, so "never more than parallelTrialCount active" is checked on what the store held.
A private MariaDB or PostgreSQL server (``tests/private_servers.py``) is stopped for 10 s under a runner,
which keeps every metric its trials printed, and for longer than the retry bound, which stops it resumable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from local_helpers import script_experiment
from private_servers import PrivateServer

from katib_flows.cli import _exit, main
from katib_flows.engine import REASON_INTERRUPTED, Counts
from katib_flows.store import Store, TrialRecord, TrialStatus

pytestmark = pytest.mark.slow


def start_runner(
    path: Path, name: str, url: str, logs: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``katib-flows run FILE --join`` as its own process group (so that SIGKILL takes its trials too)."""
    environment = {**os.environ, "KATIB_FLOWS_DB": url, "KATIB_FLOWS_LOGS": str(logs), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "katib_flows", "run", str(path), "--name", name, "--join", "-q", *extra],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def finish(runner: subprocess.Popen[bytes], timeout: float = 240) -> int:
    try:
        _, err = runner.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        _, err = runner.communicate()
        raise AssertionError(f"runner {runner.pid} did not end: {err.decode()[-2000:]}") from None
    assert b"Traceback" not in err, err.decode()
    return runner.returncode


class Sampler:
    """Samples the experiment's active trials from the store until stopped; ``most`` is the peak."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name, self.most = url, name, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.most

    def _loop(self) -> None:
        with Store(self.url, upgrade=True) as store:
            while not self._stop.wait(0.05):
                try:
                    active = store.active_trials("default", self.name)
                except Exception:  # the experiment is not registered yet
                    continue
                self.most = max(self.most, len(active))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def trials_of(url: str, name: str) -> list[TrialRecord]:
    with Store(url, upgrade=True) as store:  # the first runner may not have created the schema yet
        try:
            return store.list_trials("default", name)
        except Exception:
            return []


def experiment(write: Callable[..., Path], *, trials: int, parallel: int, sleep: float) -> Path:
    return write(
        script_experiment(
            args=["--value=${trialParameters.value}", "--sleep", str(sleep)],
            maxTrialCount=trials,
            parallelTrialCount=parallel,
        )
    )


@pytest.mark.parametrize("runners", [2, 3])
def test_runners_join_one_experiment_within_its_global_cap(
    runners: int, store_url: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    # Lanes no more than the cap (4): a runner's waiting lanes poll each second while the others' lanes
    # refill at once, so with more lanes than the cap a late runner may never win a slot (README says so).
    Store(store_url, upgrade=True).close()
    path = experiment(write_experiment, trials=12, parallel=4, sleep=1.5)
    sampler = Sampler(store_url, "joined")
    lanes = str(4 // runners)
    started = [start_runner(path, "joined", store_url, tmp_path / "logs", "--parallel", lanes) for _ in range(runners)]
    codes = [finish(runner) for runner in started]
    most = sampler.stop()
    trials = trials_of(store_url, "joined")
    assert codes == [_exit.SUCCEEDED] * runners
    assert len({t.name for t in trials}) == len(trials) == 12
    assert all(t.status is TrialStatus.SUCCEEDED for t in trials)
    assert 1 <= most <= 4, f"{most} trials were active at once"
    assert len({t.runner for t in trials}) == runners, "every runner ran some trials"


def test_runners_with_more_lanes_than_the_cap_never_exceed_it(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    Store(local_env, upgrade=True).close()
    path = experiment(write_experiment, trials=12, parallel=4, sleep=1.5)
    sampler = Sampler(local_env, "capped")
    started = [start_runner(path, "capped", local_env, tmp_path / "logs", "--parallel", "2") for _ in range(3)]
    codes = [finish(runner) for runner in started]
    most = sampler.stop()
    trials = trials_of(local_env, "capped")
    assert codes == [_exit.SUCCEEDED] * 3
    assert len({t.name for t in trials}) == len(trials) == 12
    assert 1 <= most <= 4, f"{most} trials were active at once (6 lanes, cap 4)"


def test_resume_without_join_is_refused_with_its_own_code_and_the_flag(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment(write_experiment, trials=4, parallel=2, sleep=3)
    first = start_runner(path, "busy", local_env, tmp_path / "logs")
    try:
        wait_until(lambda: any(t.status is TrialStatus.RUNNING for t in trials_of(local_env, "busy")), "a trial")
        assert main(["resume", "busy", "-q"]) == _exit.RUN_IN_PROGRESS
        message = capsys.readouterr().err
        assert "--join" in message and "is being run by" in message
        assert main(["run", str(path), "--name", "busy", "-q"]) == _exit.BAD_INPUT
        assert "--join" in capsys.readouterr().err
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.communicate(timeout=60)


def test_a_killed_runner_trial_is_run_again_after_its_lease(
    store_url: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    Store(store_url, upgrade=True).close()
    path = experiment(write_experiment, trials=6, parallel=2, sleep=3)
    lease = ("--lease", "3")
    doomed = start_runner(path, "lost", store_url, tmp_path / "logs", "--parallel", "1", *lease)
    wait_until(lambda: any(t.status is TrialStatus.RUNNING for t in trials_of(store_url, "lost")), "a first trial")
    survivor = start_runner(path, "lost", store_url, tmp_path / "logs", "--parallel", "1", *lease)
    doomed_runner = next(t.runner for t in trials_of(store_url, "lost"))
    wait_until(
        lambda: len({t.runner for t in trials_of(store_url, "lost") if t.status is TrialStatus.RUNNING}) == 2,
        "both runners running a trial",
    )
    os.killpg(doomed.pid, signal.SIGKILL)  # the runner and its trial, mid-trial, as a lost machine
    doomed.communicate(timeout=30)
    assert finish(survivor) == _exit.SUCCEEDED
    trials = trials_of(store_url, "lost")
    interrupted = [t for t in trials if t.reason == REASON_INTERRUPTED]
    assert len(interrupted) == 1, [(t.name, t.status, t.reason) for t in trials]
    assert interrupted[0].runner == doomed_runner and "lease" in interrupted[0].message
    assert interrupted[0].status is TrialStatus.KILLED
    assert len({t.name for t in trials}) == len(trials) == 7, "six counted trials plus the interrupted one"
    assert Counts.of(trials).total == 6
    assert sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 6


def test_a_runner_rides_out_a_ten_second_database_outage_and_loses_no_observation(
    private_store: tuple[str, PrivateServer], write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    url, server = private_store
    Store(url, upgrade=True).close()
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}", "--steps", "40", "--step-sleep", "0.1"],
            maxTrialCount=8,
            parallelTrialCount=2,
        )
    )
    logs = tmp_path / "logs"
    runner = start_runner(path, "outage", url, logs)
    wait_until(lambda: len(trials_of(url, "outage")) >= 2, "two trials")
    server.stop()
    time.sleep(10)
    server.start()
    assert finish(runner) == _exit.SUCCEEDED
    trials = trials_of(url, "outage")
    assert len(trials) == 8 and all(t.status is TrialStatus.SUCCEEDED for t in trials)
    with Store(url) as store:
        for trial in trials:
            printed = (logs / "default" / "outage" / f"{trial.name}.log").read_text().count(" score=")
            stored = len(store.get_observation_log("default", trial.name, metric="score"))
            assert printed == stored == 40, trial.name


def test_past_the_retry_bound_the_runner_stops_resumable_with_its_own_code(
    private_store: tuple[str, PrivateServer], write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    url, server = private_store
    Store(url, upgrade=True).close()
    path = experiment(write_experiment, trials=4, parallel=2, sleep=3)
    runner = start_runner(path, "gone", url, tmp_path / "logs", env={"KATIB_FLOWS_DB_RETRY_SECONDS": "3"})
    wait_until(lambda: any(t.status is TrialStatus.RUNNING for t in trials_of(url, "gone")), "a trial")
    server.stop()
    try:
        _, err = runner.communicate(timeout=120)
    finally:
        server.start()
    message = err.decode()
    assert runner.returncode == _exit.STORE_UNAVAILABLE, message
    assert "Traceback" not in message and "katib-flows resume" in message
    assert main(["resume", "gone", "--db", url, "-q", "--lease", "5"]) == _exit.SUCCEEDED
    trials = trials_of(url, "gone")
    assert Counts.of(trials).total == 4 and sum(t.status is TrialStatus.SUCCEEDED for t in trials) == 4


def test_early_stopping_reads_trials_another_runner_finished(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    """B runs one bad, long trial; A joins and finishes good ones. B's trial is stopped on what A stored:
    B built its early-stopping rule before A's trials existed and never finishes one of its own."""
    path = write_experiment(
        script_experiment(
            args=["--value=${trialParameters.value}"],
            maxTrialCount=5,
            parallelTrialCount=5,
            earlyStopping={
                "algorithmName": "medianstop",
                "algorithmSettings": [
                    {"name": "min_trials_required", "value": "2"},
                    {"name": "start_step", "value": "2"},
                ],
            },
        )
    )
    logs = tmp_path / "logs"
    bad = {"TRIAL_SCRIPT_ARGS": "--value 0.1 --steps 100 --step-sleep 0.2"}
    b = start_runner(path, "early", local_env, logs, "--parallel", "1", env=bad)
    with Store(local_env, upgrade=True) as store:

        def reported() -> bool:
            trials = trials_of(local_env, "early")
            return bool(trials) and len(store.get_observation_log("default", trials[0].name)) >= 3

        wait_until(reported, "B's trial to report")
    good = {"TRIAL_SCRIPT_ARGS": "--value 0.9 --steps 200"}  # each reaches every step B can
    a = start_runner(path, "early", local_env, logs, "--parallel", "2", env=good)
    assert finish(a) == finish(b) == _exit.SUCCEEDED
    trials = trials_of(local_env, "early")
    mine = trials[0]
    assert mine.status is TrialStatus.EARLY_STOPPED and "median" in mine.message, (mine.status, mine.message)
    with Store(local_env) as store:
        assert len(store.get_observation_log("default", mine.name)) < 100
    assert {t.status for t in trials[1:]} == {TrialStatus.SUCCEEDED}
    assert {t.runner for t in trials[1:]} == {trials[1].runner} != {mine.runner}, "A ran every other trial"
