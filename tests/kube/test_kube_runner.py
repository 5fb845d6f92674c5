"""The Kubernetes trial runner through ``katib-flows step trial``, against a FAKE API server over real HTTP.

The store is real (SQLite, prepared by ``step init`` and ``step suggest``), the ``kubernetes`` client is the
real one (pointed at ``tests/kube/fake_apiserver.py`` by a kubeconfig file), the step runs in process through
``main``, once as a subprocess. The fake plays the cluster: it makes the primary pod, serves its log and
only then marks the object finished, or keeps it running until it is deleted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_apiserver import FakeApiServer, Script

from katib_flows.argo import spec_json
from katib_flows.cli import _exit, main
from katib_flows.spec import Experiment, load_text
from katib_flows.store import ExperimentCondition, Store, TrialStatus

NS = "team-a"
WORKFLOW, WORKFLOW_UID = "exp-wf", "7f9c2a4e-0000-4000-8000-000000000001"
JOBS = f"/apis/batch/v1/namespaces/{NS}/jobs"
PYTORCHJOBS = f"/apis/kubeflow.org/v1/namespaces/{NS}/pytorchjobs"


def _container() -> dict[str, Any]:
    return {
        "name": "training-container",
        "image": "docker.io/kubeflowkatib/pytorch-mnist-cpu:latest",
        "command": ["python3", "/opt/pytorch-mnist/mnist.py", "--epochs=1", "--lr=${trialParameters.learningRate}"],
    }


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "spec": {"template": {"spec": {"containers": [_container()], "restartPolicy": "Never"}}},
}
PYTORCHJOB = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "spec": {
        "pytorchReplicaSpecs": {
            "Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [
                {**_container(), "name": "pytorch"}]}}},
            "Worker": {"replicas": 2, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [
                {**_container(), "name": "pytorch"}]}}},
        }
    },
}  # fmt: skip


def experiment(trial_spec: dict[str, Any] = JOB, **spec: Any) -> Experiment:
    container = "pytorch" if trial_spec["kind"] == "PyTorchJob" else "training-container"
    document = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "exp"},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": 6,
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
            "trialTemplate": {
                "primaryContainerName": container,
                "trialParameters": [{"name": "learningRate", "reference": "lr"}],
                "trialSpec": trial_spec,
            },
            **spec,
        },
    }
    loaded = load_text(json.dumps(document))
    assert loaded.experiment is not None, loaded
    return loaded.experiment


def epochs(values: list[float]) -> list[str]:
    """Log lines in Katib's StdOut format, with some noise between them."""
    lines = ["Using CPU", "Train Epoch: 1 [0/60000 (0%)]"]
    for epoch, accuracy in enumerate(values, start=1):
        lines += [f"epoch {epoch}:", f"accuracy={accuracy}", f"loss={round(1 - accuracy, 4)}"]
    return lines


class Cluster:
    """The step's environment: a store, a kubeconfig pointing at the fake, the Kubernetes runner."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApiServer) -> None:
        self.api, self.tmp_path, self.monkeypatch = api, tmp_path, monkeypatch
        self.url = f"sqlite:///{tmp_path / 'store.db'}"
        self.env = {
            "KATIB_FLOWS_DB": self.url,
            "KUBECONFIG": str(api.kubeconfig(tmp_path / "kubeconfig")),
            "KATIB_FLOWS_TRIAL_RUNNER": "kubernetes",
            "KATIB_FLOWS_TRIAL_POLL_SECONDS": "0.05",
        }
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # never the in-cluster configuration
        self._count = 0

    def step(self, verb: str, *args: str) -> tuple[int, dict[str, str]]:
        self._count += 1
        outputs = self.tmp_path / f"out-{self._count}"
        extra = [] if verb == "trial" else ["--outputs", str(outputs)]
        code = main(["step", verb, "--experiment", "exp", "--namespace", NS, *args, *extra])
        found = {p.name: p.read_text() for p in outputs.iterdir()} if outputs.is_dir() else {}
        return code, found

    def init(self, exp: Experiment) -> None:
        spec = self.tmp_path / "experiment-spec.json"  # init reads it from its Workflow; here from a file
        spec.write_text(spec_json(exp, name="exp", namespace=NS))
        assert self.step("init", "--workflow", WORKFLOW, "--spec-file", str(spec))[0] == 0

    def suggest(self, lane: int = 0, iteration: int = 0) -> str:
        code, outputs = self.step("suggest", "--lane", str(lane), "--iteration", str(iteration), "--iterations", "90",
                                  "--workflow", WORKFLOW, "--wait-seconds", "0")  # fmt: skip
        assert code == 0 and outputs["status"] == "trial", outputs
        return outputs["trial"]

    def trial(self, name: str) -> int:
        return self.step("trial", "--trial", name, "--workflow", WORKFLOW, "--workflow-uid", WORKFLOW_UID)[0]

    def store(self) -> Store:
        return Store(self.url)


@pytest.fixture
def api() -> Iterator[FakeApiServer]:
    server = FakeApiServer().start()
    yield server
    server.close()


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApiServer) -> Cluster:
    return Cluster(tmp_path, monkeypatch, api)


def test_a_job_that_succeeds_is_recorded_with_its_metrics_and_deleted(
    cluster: Cluster, api: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.71, 0.86, 0.83]), reason="", message="Reached expected completions")
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
        logs = store.get_observation_log(NS, name)
    assert trial.status is TrialStatus.SUCCEEDED, trial
    assert trial.objective_value == 0.86  # max, the default strategy of a maximized objective
    assert trial.observation["accuracy"] == {"min": "0.71", "max": "0.86", "latest": "0.83"}
    assert [(row.metric, row.value) for row in logs if row.metric == "loss"] == [
        ("loss", "0.29"), ("loss", "0.14"), ("loss", "0.17")]  # fmt: skip
    [created] = api.calls("POST", JOBS)
    body = created.body
    assert body["metadata"]["name"] == name and body["metadata"]["namespace"] == NS
    assert body["metadata"]["ownerReferences"] == [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": WORKFLOW, "uid": WORKFLOW_UID}
    ]
    assert body["metadata"]["labels"]["katib-flows.io/trial"] == name
    container = body["spec"]["template"]["spec"]["containers"][0]
    lr = trial.assignments["lr"]
    assert container["command"][-1] == f"--lr={lr!r}"  # rendered inside the string value
    assert {"name": "KATIB_TRIAL_NAME", "value": name} in container["env"]
    [deleted] = api.calls("DELETE", JOBS)
    assert deleted.path.endswith(f"/{name}") and deleted.query["propagationPolicy"] == ["Foreground"]
    assert api.find(name) is None
    selectors = {r.query["labelSelector"][0] for r in api.calls("GET", "/pods") if "labelSelector" in r.query}
    assert selectors == {f"job-name={name}"}
    out = capsys.readouterr().out
    assert "accuracy=0.86" in out and f"trial {name}: Succeeded" in out  # the trial's log is the step's log


def test_the_failure_condition_fails_the_trial_with_the_workloads_reason(cluster: Cluster, api: FakeApiServer) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(
        lines=["Traceback (most recent call last):", "ValueError: lr"],
        outcome="Failed",
        reason="BackoffLimitExceeded",
        message="Job has reached the specified backoff limit",
    )
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.FAILED and trial.reason == "TrialFailed"
    assert trial.message == "Job failed: BackoffLimitExceeded. Job has reached the specified backoff limit"
    assert api.find(name) is None


def test_an_evicted_pod_interrupts_the_trial_instead_of_failing_it(cluster: Cluster, api: FakeApiServer) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.5]), outcome="Failed", reason="BackoffLimitExceeded",
                                pod_reason="Evicted")  # fmt: skip
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.KILLED and trial.reason == "TrialInterrupted"
    assert "Evicted" in trial.message


def test_a_job_without_the_objective_in_its_log_is_metrics_unavailable(cluster: Cluster, api: FakeApiServer) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(lines=["training...", "loss=0.4", "done"])
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.METRICS_UNAVAILABLE and trial.reason == "MetricsUnavailable"


def test_retain_keeps_the_object_and_a_pytorchjob_is_followed_through_its_master(
    cluster: Cluster, api: FakeApiServer
) -> None:
    exp = experiment(PYTORCHJOB)
    assert exp.spec.trial_template is not None
    exp.spec.trial_template.retain = True
    cluster.init(exp)
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.9]))
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        assert store.get_trial(NS, name).objective_value == 0.9
    assert len(api.calls("POST", PYTORCHJOBS)) == 1 and not api.calls("DELETE")
    assert api.find(name) is not None  # retained
    selectors = {r.query["labelSelector"][0] for r in api.calls("GET", "/pods") if "labelSelector" in r.query}
    assert selectors == {f"training.kubeflow.org/job-name={name},training.kubeflow.org/job-role=master"}


def test_an_experiment_that_completes_meanwhile_kills_the_trial_and_deletes_it(
    cluster: Cluster, api: FakeApiServer
) -> None:
    cluster.init(experiment())
    name = cluster.suggest()

    def another_lane_reaches_the_goal() -> None:
        with Store(cluster.url) as store:
            store.set_experiment_condition(NS, "exp", ExperimentCondition.SUCCEEDED, "ExperimentGoalReached", "goal")

    api.default_script = Script(lines=epochs([0.6]), outcome=None, on_log_served=another_lane_reaches_the_goal)
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
    assert trial.status is TrialStatus.KILLED and trial.reason == "ExperimentCompleted"
    assert trial.observation["accuracy"]["latest"] == "0.6"
    assert [d.path for d in api.calls("DELETE")] == [f"{JOBS}/{name}"]


def test_forbidden_names_the_rbac_to_grant(
    cluster: Cluster, api: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.fail_with = 403
    assert cluster.trial(name) == _exit.CLUSTER_ERROR
    err = capsys.readouterr().err
    assert f"creating Job {NS}/{name}: the API server refused (403" in err and "manifests/base/rbac.yaml" in err
    with cluster.store() as store:
        assert store.get_trial(NS, name).status is TrialStatus.RUNNING  # left for the retry or the exit step


def test_the_command_short_form_is_bad_input_for_the_kubernetes_runner(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = experiment()
    assert exp.spec.trial_template is not None
    exp.spec.trial_template.trial_spec = None
    exp.spec.trial_template.command = ["python3", "-c", "print('accuracy=1')", "${trialParameters.learningRate}"]
    cluster.init(exp)
    name = cluster.suggest()
    assert cluster.trial(name) == _exit.BAD_INPUT
    assert "--trial-runner local" in capsys.readouterr().err


def test_the_step_as_a_process(cluster: Cluster, api: FakeApiServer) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.42]))
    env = {**os.environ, **cluster.env}
    done = subprocess.run(
        [sys.executable, "-m", "katib_flows", "step", "trial", "--experiment", "exp", "--namespace", NS,
         "--trial", name, "--workflow", WORKFLOW, "--workflow-uid", WORKFLOW_UID],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"trial {name}: Succeeded (TrialSucceeded) objective=0.42" in done.stdout
    assert api.find(name) is None


def test_a_step_retried_after_the_api_server_failed_follows_the_same_object_and_stores_no_row_twice(
    cluster: Cluster, api: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.init(experiment())
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.61, 0.74, 0.79]))
    reads = 0

    def unavailable_after_the_log(method: str, path: str) -> int | None:
        nonlocal reads  # the API server goes away once the log was served: reading the Job fails
        if method == "GET" and path.endswith(f"/jobs/{name}"):
            reads += 1
            return 503 if reads > 1 else None
        return None

    api.fail_with = unavailable_after_the_log
    assert cluster.trial(name) == _exit.CLUSTER_ERROR
    assert "503" in capsys.readouterr().err
    with cluster.store() as store:
        assert store.get_trial(NS, name).status is TrialStatus.RUNNING  # left for Argo's retry of the step
    api.fail_with = None
    assert cluster.trial(name) == 0  # Argo's retry: the same step again
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
        logs = store.get_observation_log(NS, name)
    assert trial.status is TrialStatus.SUCCEEDED, trial
    assert trial.objective_value == 0.79
    assert [(row.metric, row.value) for row in logs if row.metric == "accuracy"] == [
        ("accuracy", "0.61"), ("accuracy", "0.74"), ("accuracy", "0.79")]  # fmt: skip
    assert [r.status for r in api.calls("POST", JOBS)] == [201, 409]
    assert "created by an earlier attempt" in capsys.readouterr().out
    assert api.find(name) is None


def test_medianstop_stops_a_trial_below_the_median_and_deletes_its_object(cluster: Cluster, api: FakeApiServer) -> None:
    exp = experiment(
        earlyStopping={"algorithmName": "medianstop",
                       "algorithmSettings": [{"name": "min_trials_required", "value": "2"},
                                             {"name": "start_step", "value": "2"}]},
    )  # fmt: skip
    cluster.init(exp)
    good = [cluster.suggest(lane=0), cluster.suggest(lane=1)]
    for name, values in zip(good, ([0.8, 0.9, 0.95], [0.82, 0.91, 0.96]), strict=True):
        api.scripts[name] = Script(lines=epochs(values))
        assert cluster.trial(name) == 0
    bad = cluster.suggest(lane=0, iteration=1)
    api.scripts[bad] = Script(lines=epochs([0.1, 0.12, 0.15]), outcome=None)  # would train on
    assert cluster.trial(bad) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, bad)
    assert trial.status is TrialStatus.EARLY_STOPPED and trial.reason == "TrialEarlyStopped", trial
    assert [d.path for d in api.calls("DELETE") if d.path.endswith(bad)] == [f"{JOBS}/{bad}"]


def pbt(checkpoint_path: str) -> Experiment:
    """Katib's PBT settings (simple-pbt.yaml) over the Job of these tests."""
    settings = {"suggestion_trial_dir": checkpoint_path, "n_population": "5", "truncation_threshold": "0.2"}
    return experiment(
        algorithm={"algorithmName": "pbt", "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()]},
        parameters=[{"name": "lr", "parameterType": "double",
                     "feasibleSpace": {"min": "0.01", "max": "0.1", "step": "0.01"}}],
    )  # fmt: skip


def test_a_pbt_trial_mounts_its_checkpoint_directory_from_the_claim(
    cluster: Cluster, api: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "claim"  # where the trial step mounts the claim (KATIB_FLOWS_CHECKPOINTS)
    monkeypatch.setenv("KATIB_FLOWS_CHECKPOINTS", str(root))
    monkeypatch.setenv("KATIB_FLOWS_CHECKPOINTS_CLAIM", "team-nfs")
    cluster.init(pbt("/var/log/katib/checkpoints/"))
    name = cluster.suggest()
    api.default_script = Script(lines=epochs([0.5]))
    assert cluster.trial(name) == 0
    [created] = api.calls("POST", JOBS)
    pod = created.body["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "katib-flows-checkpoints", "persistentVolumeClaim": {"claimName": "team-nfs"}}]
    [container] = pod["containers"]
    assert container["volumeMounts"] == [{"name": "katib-flows-checkpoints", "mountPath": "/var/log/katib/checkpoints/",
                                          "subPath": f"{NS}/exp/{name}"}]  # fmt: skip
    assert {"name": "KATIB_TRIAL_CHECKPOINT_DIR", "value": "/var/log/katib/checkpoints/"} in container["env"]
    assert (root / NS / "exp" / name).is_dir()  # prepared by the step on the claim before the Job was created


def test_a_pbt_trial_without_a_checkpoint_claim_is_bad_input_naming_the_option(
    cluster: Cluster, api: FakeApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.init(pbt("/ckpt"))
    name = cluster.suggest()
    assert cluster.trial(name) == _exit.BAD_INPUT
    assert "--checkpoints-claim" in capsys.readouterr().err and not api.calls("POST")


def test_a_file_collector_gets_a_sidecar_whose_log_carries_the_metrics(
    cluster: Cluster, api: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("KATIB_FLOWS_IMAGE", "registry.example/katib-flows:1")
    metrics_file = tmp_path / "katib" / "mnist.log"  # Katib's file-metrics-collector.yaml, in a folder of ours
    cluster.init(experiment(metricsCollectorSpec={
        "collector": {"kind": "File"},
        "source": {"fileSystemPath": {"path": str(metrics_file), "kind": "File"},
                   "filter": {"metricsFormat": ["{metricName: ([\\w|-]+), metricValue: ((-?\\d+)(\\.\\d+)?)}"]}},
    }))  # fmt: skip
    name = cluster.suggest()

    def sidecar_log(pod: dict[str, Any]) -> list[str]:
        """The sidecar the runner added, run for real over the file the training container wrote."""
        [sidecar] = pod["spec"]["initContainers"]
        metrics_file.parent.mkdir(parents=True)
        metrics_file.write_text("".join(f"{{metricName: accuracy, metricValue: {a}}}\n{{metricName: loss, "
                                        f"metricValue: {round(1 - a, 2)}}}\n" for a in (0.71, 0.86, 0.83)))  # fmt: skip
        assert sidecar["command"][0] == "python"
        with subprocess.Popen([sys.executable, *sidecar["command"][1:]], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "KATIB_TRIAL_NAME": name}) as process:  # fmt: skip
            assert process.stdout is not None
            lines = [process.stdout.readline()]  # it runs: the kubelet ends it, as the training container ended
            process.terminate()
            lines += process.stdout.read().splitlines()  # not communicate(): it would skip what readline buffered
            assert process.wait(timeout=30) == 0
        return [line for line in lines if line.strip()]

    api.default_script = Script(lines=["training...", "done"], container_lines={
        "katib-flows-metrics-collector": sidecar_log})  # fmt: skip
    assert cluster.trial(name) == 0
    with cluster.store() as store:
        trial = store.get_trial(NS, name)
        logs = store.get_observation_log(NS, name)
    assert trial.status is TrialStatus.SUCCEEDED and trial.objective_value == 0.86, trial
    assert [(row.metric, row.value) for row in logs] == [
        ("accuracy", "0.71"), ("loss", "0.29"), ("accuracy", "0.86"), ("loss", "0.14"), ("accuracy", "0.83"),
        ("loss", "0.17")]  # fmt: skip
    [created] = api.calls("POST", JOBS)
    pod = created.body["spec"]["template"]["spec"]
    [sidecar] = pod["initContainers"]
    assert sidecar["restartPolicy"] == "Always" and sidecar["image"] == "registry.example/katib-flows:1"
    folder = {"name": "katib-flows-metrics", "mountPath": str(metrics_file.parent)}
    assert sidecar["volumeMounts"] == [folder] and pod["containers"][0]["volumeMounts"] == [folder]
    assert pod["volumes"] == [{"name": "katib-flows-metrics", "emptyDir": {}}]
    out = capsys.readouterr().out
    assert "training..." in out and "katib-flows-metrics:" not in out  # the training log is shown, not envelopes


def test_a_retried_pbt_step_leaves_the_checkpoint_of_its_running_trial_alone(
    cluster: Cluster, api: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "claim"
    monkeypatch.setenv("KATIB_FLOWS_CHECKPOINTS", str(root))
    monkeypatch.setenv("KATIB_FLOWS_CHECKPOINTS_CLAIM", "team-nfs")
    cluster.init(pbt("/var/log/katib/checkpoints/"))
    name = cluster.suggest()
    own = root / NS / "exp" / name
    own.mkdir(parents=True)
    (own / "model.pt").write_text("epoch 3")  # what the trial wrote before the first attempt of the step failed
    labels = {"katib-flows.io/trial": name}
    api.add_object(JOBS, {**JOB, "metadata": {"name": name, "namespace": NS, "labels": labels}})
    api.default_script = Script(lines=epochs([0.5]))
    assert cluster.trial(name) == 0
    assert [r.status for r in api.calls("POST", JOBS)] == [409]
    assert (own / "model.pt").read_text() == "epoch 3"
