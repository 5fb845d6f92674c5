"""Each metrics collector in a real local run: File (TEXT and JSON), TensorFlowEvent, Push, and the
template forms a laptop can run (a ConfigMap template from a file, a TFJob's primary container)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows.cli import _exit, main
from katib_flows.store import Store, TrialStatus

PARAMETERS = [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]


def _spec(code: str, collector: dict[str, Any], *, objective: str = "score", trials: int = 2) -> dict[str, Any]:
    return {
        "objective": {"type": "maximize", "objectiveMetricName": objective},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": trials,
        "parallelTrialCount": 1,
        "metricsCollectorSpec": collector,
        "parameters": PARAMETERS,
        "trialTemplate": {"command": [sys.executable, "-c", textwrap.dedent(code), "${trialParameters.value}"]},
    }


def _observations(url: str, name: str) -> list[tuple[TrialStatus, dict[str, dict[str, str]], dict[str, Any]]]:
    with Store(url) as store:
        return [(t.status, t.observation, t.assignments) for t in store.list_trials("default", name)]


def test_file_text_collector(local_env: str, write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.log"
    code = f"""
        import sys
        with open({str(metrics)!r}, "a") as f:
            for step in range(3):
                f.write(f"score={{float(sys.argv[1]) + step}}\\n")
        print("score=999  (stdout is not read by the File collector)")
    """
    collector = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": str(metrics), "kind": "File"}}}
    path = write_experiment(_spec(code, collector))
    assert main(["run", str(path), "--name", "filetext", "-q"]) == _exit.SUCCEEDED
    for status, observation, assignments in _observations(local_env, "filetext"):
        assert status is TrialStatus.SUCCEEDED
        assert float(observation["score"]["max"]) == pytest.approx(assignments["value"] + 2)


def test_file_json_collector_with_numbers(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics.json"
    code = f"""
        import json, sys
        with open({str(metrics)!r}, "a") as f:
            for step in range(2):
                f.write(json.dumps({{"score": float(sys.argv[1]) * (step + 1), "step": step}}) + "\\n")
    """
    collector = {
        "collector": {"kind": "File"},
        "source": {"fileSystemPath": {"path": str(metrics), "kind": "File", "format": "JSON"}},
    }
    path = write_experiment(_spec(code, collector))
    assert main(["run", str(path), "--name", "filejson", "-q"]) == _exit.SUCCEEDED
    for status, observation, assignments in _observations(local_env, "filejson"):
        assert status is TrialStatus.SUCCEEDED
        assert float(observation["score"]["latest"]) == pytest.approx(assignments["value"] * 2)


def test_tensorflow_event_collector(local_env: str, write_experiment: Callable[..., Path], tmp_path: Path) -> None:
    events = tmp_path / "tfevents"
    code = f"""
        import sys, time
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        writer = EventFileWriter({str(events / "test")!r})
        for step in range(3):
            value = summary_pb2.Summary.Value(tag="accuracy", simple_value=float(sys.argv[1]) / (3 - step))
            summary = summary_pb2.Summary(value=[value])
            writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
        writer.close()
    """
    collector = {
        "collector": {"kind": "TensorFlowEvent"},
        "source": {"fileSystemPath": {"path": str(events), "kind": "Directory"}},
    }
    path = write_experiment(_spec(code, collector, objective="test/accuracy", trials=1))
    assert main(["run", str(path), "--name", "tfevents", "-q"]) == _exit.SUCCEEDED
    [(status, observation, assignments)] = _observations(local_env, "tfevents")
    assert status is TrialStatus.SUCCEEDED
    assert float(observation["test/accuracy"]["max"]) == pytest.approx(assignments["value"], rel=1e-6)


def test_push_collector_and_the_push_example(local_env: str) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "push" / "experiment.yaml"
    assert main(["run", str(example), "--name", "push", "--max-trials", "3", "-q"]) == 0
    with Store(local_env) as store:
        trials = store.list_trials("default", "push")
        logs = store.get_observation_log("default", trials[0].name, metric="loss")
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 3
    assert [log.step for log in logs] == list(range(8))
    assert trials[0].observation["loss"]["latest"] == logs[-1].value  # metricStrategies: latest


def test_configmap_template_from_a_file_beside_the_experiment(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "training-container",
                            "image": "python:3.11",
                            "command": [
                                sys.executable,
                                "-c",
                                "import sys; print('score=' + sys.argv[1])",
                                "${trialParameters.v}",
                            ],
                        }
                    ]
                }
            }
        },
    }
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "trial-templates"},
        "data": {"defaultTrialTemplate.yaml": yaml.safe_dump(job)},
    }
    (tmp_path / "trial-templates.yaml").write_text(yaml.safe_dump(configmap))
    document = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": 2,
        "parallelTrialCount": 2,
        "parameters": PARAMETERS,
        "trialTemplate": {
            "primaryContainerName": "training-container",
            "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
            "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
            "trialParameters": [{"name": "v", "reference": "value"}],
            "configMap": {
                "configMapName": "trial-templates",
                "configMapNamespace": "kubeflow",
                "templatePath": "defaultTrialTemplate.yaml",
            },
        },
    }
    path = write_experiment(document)
    assert main(["run", str(path), "--name", "configmap", "-q"]) == 0
    assert {s for s, _, _ in _observations(local_env, "configmap")} == {TrialStatus.SUCCEEDED}


def test_tfjob_runs_its_primary_container(local_env: str, write_experiment: Callable[..., Path]) -> None:
    def container(name: str, code: str) -> dict[str, Any]:
        return {"name": name, "image": "x", "command": [sys.executable, "-c", code, "${trialParameters.v}"]}

    worker = container("tensorflow", "raise SystemExit('the worker replica must not run locally')")
    chief = container("tensorflow", "import sys; print('score=' + sys.argv[1])")
    document = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": 1,
        "parallelTrialCount": 1,
        "parameters": PARAMETERS,
        "trialTemplate": {
            "primaryContainerName": "tensorflow",
            "trialParameters": [{"name": "v", "reference": "value"}],
            "trialSpec": {
                "apiVersion": "kubeflow.org/v1",
                "kind": "TFJob",
                "spec": {
                    "tfReplicaSpecs": {
                        "Worker": {"replicas": 2, "template": {"spec": {"containers": [worker]}}},
                        "Chief": {"replicas": 1, "template": {"spec": {"containers": [chief]}}},
                    }
                },
            },
        },
    }
    path = write_experiment(document)
    assert main(["run", str(path), "--name", "tfjob", "-q"]) == 0
    assert {s for s, _, _ in _observations(local_env, "tfjob")} == {TrialStatus.SUCCEEDED}


def test_report_metrics_is_reexported() -> None:
    import katib_flows_collector

    import katib_flows

    assert katib_flows.report_metrics is katib_flows_collector.report_metrics
