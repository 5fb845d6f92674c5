"""A slow but healthy runner keeps its trial: every lease renewal is delayed by a slowed store, the trial
runs three times the lease, and a rival keeps expiring leases meanwhile; the trial is never taken away."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from pathlib import Path

import pytest
from local_helpers import script_experiment

from katib_flows.engine import evaluate_experiment, register_experiment
from katib_flows.local import LineReporter, LocalRun, RunOptions
from katib_flows.spec import check_document
from katib_flows.store import Store, TrialStatus

LEASE = 3.0


class SlowRenewals(Store):
    """A store whose lease renewals each take a third of the lease before they reach the database."""

    def renew_leases(
        self, namespace: str, experiment: str, runner: str, trials: Collection[str], seconds: float
    ) -> set[str]:
        time.sleep(LEASE / 3)
        return super().renew_leases(namespace, experiment, runner, trials, seconds)


@pytest.mark.slow
def test_delayed_renewals_keep_a_live_trial_three_leases_long(local_env: str, tmp_path: Path) -> None:
    checked = check_document(
        script_experiment(args=["--value=${trialParameters.value}", "--sleep", str(3 * LEASE)], maxTrialCount=1),
        "slow.yaml",
    )
    assert checked.experiment is not None
    with SlowRenewals(local_env, upgrade=True) as store, Store(local_env) as rival:
        register_experiment(store, checked.experiment, namespace="default", name="slow")
        done = threading.Event()

        def expire_leases() -> None:  # what every other runner's claims and evaluations do
            while not done.wait(0.2):
                evaluate_experiment(rival, "default", "slow")

        thread = threading.Thread(target=expire_leases)
        thread.start()
        try:
            options = RunOptions(logs_dir=tmp_path / "logs", lease=LEASE)
            LocalRun(store, "default", "slow", LineReporter(quiet=True), options).run()
        finally:
            done.set()
            thread.join()
        [trial] = store.list_trials("default", "slow")
    assert trial.status is TrialStatus.SUCCEEDED, (trial.status, trial.reason, trial.message)
