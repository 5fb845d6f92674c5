"""One workload, two trial runners: what the runner contract suite parametrizes over.

Every case of ``test_runner_contract.py`` states a workload once (its log lines, and whether it ends
``succeeded``, ``failed`` or stays ``running``) and a harness makes it real for its runner:

- ``LocalHarness``: the trial template's container command is a real Python program (``workload.py``) that
  reads its plan from a file named after the trial; ``LocalTrial`` runs it as a process.
- ``KubeHarness``: the same template is created as a Job on the FAKE API server of ``tests/kube`` (no
  cluster can run here), whose script serves the lines as the primary pod's log and then finishes the Job;
  ``KubeTrial`` drives it through the real ``kubernetes`` client.

The store is real (SQLite), as are the engine, the collector and early stopping.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kube"))  # the fake API server lives there

from fake_apiserver import FakeApiServer, Script

from katib_flows.kube import KubeApi, KubeTrial, Timing
from katib_flows.local import LocalTrial
from katib_flows.trial import TrialContext, TrialRunner

NS = "team-a"
JOBS = f"/apis/batch/v1/namespaces/{NS}/jobs"
WORKLOAD = Path(__file__).parent / "workload.py"
End = Literal["succeeded", "failed", "running"]


def job(plans: Path) -> dict[str, Any]:
    """The trial template's Job: on a cluster its pod runs the container, locally the command runs."""
    container = {
        "name": "training-container",
        "image": "docker.io/kubeflowkatib/pytorch-mnist-cpu:latest",
        "command": [sys.executable, str(WORKLOAD), f"{plans}/${{trialSpec.Name}}.json",
                    "--lr=${trialParameters.learningRate}"],
    }  # fmt: skip
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}},
    }


class LocalHarness:
    name = "local"
    #: What a failed trial's message quotes: the last lines of the process's output.
    failure_detail = "ValueError: lr"

    def __init__(self, plans: Path) -> None:
        self.plans = plans

    def plan(self, trial: str, lines: list[str], end: End = "succeeded", *, pod_reason: str = "") -> None:
        assert not pod_reason, "a local process has no pod"
        (self.plans / f"{trial}.json").write_text(json.dumps({"lines": lines, "end": end}))

    def runner(self, context: TrialContext) -> TrialRunner:
        return LocalTrial(context, grace=5.0)

    def stopped_workload(self, trial: str) -> bool:
        return True  # ``wait`` returned, so the process has ended

    def close(self) -> None:
        pass


class KubeHarness:
    name = "kubernetes"
    #: What a failed trial's message quotes: the Job's failure condition.
    failure_detail = "Job failed: BackoffLimitExceeded"

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.api = FakeApiServer().start()
        monkeypatch.setenv("KUBECONFIG", str(self.api.kubeconfig(tmp_path / "kubeconfig")))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # never the in-cluster configuration

    def plan(self, trial: str, lines: list[str], end: End = "succeeded", *, pod_reason: str = "") -> None:
        outcome = {"succeeded": "Succeeded", "failed": "Failed", "running": None}[end]
        script = Script(lines=lines, outcome=outcome, pod_reason=pod_reason)
        if end == "failed":
            script.reason, script.message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        self.api.scripts[trial] = script

    def runner(self, context: TrialContext) -> TrialRunner:
        return KubeTrial(context, api=KubeApi(), timing=Timing(poll_seconds=0.05))

    def stopped_workload(self, trial: str) -> bool:
        """The Job was deleted: that is how a cluster trial is stopped."""
        return self.api.find(trial) is None and any(d.path == f"{JOBS}/{trial}" for d in self.api.calls("DELETE"))

    def close(self) -> None:
        self.api.close()


Harness = LocalHarness | KubeHarness
