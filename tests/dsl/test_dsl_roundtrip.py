"""YAML -> DSL -> YAML gives the same Experiment, for every example here and every one of Katib's upstream examples.

Both sides are compared after Katib's defaults, as ``katib-flows lint -o yaml`` prints them; ``repr`` of a
DSL experiment is Python that rebuilds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows import Experiment, search
from katib_flows.errors import SpecError
from katib_flows.spec import load_file

ROOT = Path(__file__).resolve().parents[2]
OURS = sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "compiled" not in p.parts)  # not the golden Workflows
KATIB = next(
    (p / "katib-examples" for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
    ROOT.parent / "shared" / "katib-examples",
)  # /work/shared, beside the landing checkout or two levels above a worktree
UPSTREAM = sorted(KATIB.rglob("*.yaml"))


def _loaded(path: Path) -> dict[str, Any]:
    """The file as the CLI reads it (checked, defaulted), with the envelope a DSL document always has."""
    checked = load_file(path)
    assert checked.experiment is not None
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", **checked.experiment.dump()}


def _roundtrip(path: Path) -> None:
    experiment = Experiment.from_yaml(path)
    assert experiment.to_dict() == _loaded(path)
    rebuilt = eval(repr(experiment), {"Experiment": Experiment, "search": search})  # the printed call rebuilds it
    assert rebuilt.to_dict() == _loaded(path)
    again = yaml.safe_load(experiment.to_yaml())
    assert Experiment.from_dict(again).to_dict() == again


@pytest.mark.parametrize("path", OURS, ids=[str(p.relative_to(ROOT / "examples")) for p in OURS])
def test_every_example_roundtrips(path: Path) -> None:
    _roundtrip(path)


def test_upstream_examples_are_there() -> None:
    assert len(UPSTREAM) == 33, f"expected Katib's 33 examples under {KATIB}"


@pytest.mark.parametrize("path", UPSTREAM, ids=[str(p.relative_to(KATIB)) for p in UPSTREAM])
def test_upstream_example_roundtrips(path: Path) -> None:
    _roundtrip(path)


def test_dsl_written_by_hand_is_the_yaml_example() -> None:
    """examples/digits/experiment-tpe.yaml, written in Python: the same Experiment, field for field."""
    command = [
        "python3", "train.py", "--lr=${trialParameters.learningRate}", "--units=${trialParameters.units}",
        "--alpha=${trialParameters.alpha}", "--batch-size=${trialParameters.batchSize}", "--epochs=15",
    ]  # fmt: skip
    template = {
        "primaryContainerName": "training-container",
        "trialParameters": [
            {"name": "learningRate", "description": "Learning rate of the Adam optimizer", "reference": "lr"},
            {"name": "units", "description": "Hidden units", "reference": "units"},
            {"name": "alpha", "description": "L2 penalty", "reference": "alpha"},
            {"name": "batchSize", "description": "Minibatch size", "reference": "batch_size"},
        ],
        "trialSpec": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "training-container", "image": "ghcr.io/katib-flows/examples-digits:latest",
                             "command": command}
                        ],
                        "restartPolicy": "Never",
                    }
                }
            },
        },
    }  # fmt: skip
    experiment = Experiment(
        "digits-tpe",
        objective=search.maximize("accuracy", goal=0.99, additional=["loss"]),
        parameters={
            "lr": search.double("0.0005", 0.05, log=True),
            "units": search.int(32, 256, step=32),
            "alpha": search.double("0.00001", 0.01, log=True),
            "batch_size": search.categorical([16, 32, 64, 128]),
        },
        algorithm="tpe",
        algorithm_settings={"n_startup_trials": 5},
        max_trials=15,
        parallel=3,
        max_failed=3,
        trial_template=template,
    )
    assert experiment.to_dict() == _loaded(ROOT / "examples" / "digits" / "experiment-tpe.yaml")


def test_short_form_from_the_issue() -> None:
    experiment = Experiment(
        name="digits",
        objective=search.maximize("accuracy", goal=0.99),
        parameters={
            "lr": search.double(1e-4, 1e-1, log=True),
            "units": search.int(16, 256),
            "act": search.categorical(["relu", "tanh"]),
        },
        algorithm="tpe",
        max_trials=30,
        parallel=3,
        command=["python", "train.py", "--lr=${trialParameters.lr}", "--units=${trialParameters.units}",
                 "--act=${trialParameters.act}"],
    )  # fmt: skip
    document = yaml.safe_load(experiment.to_yaml())
    spec = document["spec"]
    assert document["metadata"] == {"name": "digits"}
    assert spec["parameters"][0]["feasibleSpace"] == {"min": "0.0001", "max": "0.1", "distribution": "logUniform"}
    assert spec["parameters"][1]["feasibleSpace"]["max"] == "256"
    assert spec["objective"]["goal"] == 0.99 and spec["maxTrialCount"] == 30 and spec["parallelTrialCount"] == 3
    assert [p["name"] for p in spec["trialTemplate"]["trialParameters"]] == ["lr", "units", "act"]
    assert experiment == Experiment.from_dict(experiment.to_dict(defaults=False))


def test_spec_errors_name_the_field(tmp_path: Path) -> None:
    experiment = Experiment(
        "bad",
        objective=search.maximize("accuracy"),
        parameters={"lr": search.double(0.1, 0.01)},
        command=["python", "train.py", "--lr=${trialParameters.lr}"],
    )
    with pytest.raises(SpecError, match=r"spec\.parameters\[0\]\.feasibleSpace"):
        experiment.to_yaml()
    with pytest.raises(SpecError, match="not both"):
        Experiment("x", command=["a"], trial_template={"command": ["a"]})
    broken = tmp_path / "broken.yaml"
    broken.write_text("objective: {type: maximize}\n")
    with pytest.raises(SpecError, match=str(broken)):
        Experiment.from_yaml(broken)


def test_to_yaml_writes_a_file_the_cli_reads(tmp_path: Path) -> None:
    experiment = Experiment.from_yaml(ROOT / "examples" / "script" / "experiment.yaml")
    experiment.name = "script-copy"
    path = tmp_path / "copy.yaml"
    experiment.to_yaml(path)
    assert load_file(path).experiment.name == "script-copy"  # type: ignore[union-attr]


def test_compile_is_the_argo_compilers_workflow() -> None:
    argo = pytest.importorskip("katib_flows.argo", reason="the Argo compiler is not in this tree")
    path = ROOT / "examples" / "digits" / "experiment-tpe.yaml"
    checked = load_file(path).experiment
    assert Experiment.from_yaml(path).compile() == argo.compile_workflow(checked, name="digits-tpe")
    options = argo.StepOptions(image="registry.example/katib-flows:1")
    assert Experiment.from_yaml(path).compile(image="registry.example/katib-flows:1") == argo.compile_workflow(
        checked, name="digits-tpe", options=options
    )
