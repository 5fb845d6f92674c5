"""NAS trials as people see them: ``trials``, ``best``, ``report``, ``export`` and the UI word an ENAS
architecture (layers, operations with their parameters, skip connections) instead of printing its JSON.

The experiment is Katib's enas-cpu.yaml with three layers, written into a real SQLite store; each trial's
assignments are what Katib's ENAS service sends (``architecture`` and ``nn_config`` in its formats, the
operations numbered as Katib numbers them), for architectures chosen here so the words can be checked.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import pytest
import yaml

from katib_flows.cli import main
from katib_flows.engine import register_experiment
from katib_flows.spec import check_document, to_search_problem
from katib_flows.spec._architecture import architecture_view, read_architecture
from katib_flows.store import ExperimentCondition, Store, TrialStatus

NAS = next(p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents if (p / "shared").is_dir())

# (architecture, accuracy): operation ids of Katib's enas-cpu list (28: conv 7x7 128 filters stride 1,
# 103: max pooling 3, 91: depthwise 3x3 stride 1 multiplier 2, 0: conv 3x3 32 filters stride 1).
TRIALS = [
    ([[0], [103, 0], [91, 0, 0]], 0.61),
    ([[28], [103, 1], [91, 1, 1]], 0.93),
    ([[103], [0, 0], [28, 0, 1]], 0.72),
]
BEST_LINES = [
    "layer 1: convolution 7x7, 128 filters, stride 1 [operation 28]",
    "layer 2: max pooling 3x3; skip from input [operation 103]",
    "layer 3: depthwise convolution 3x3, stride 1, depth multiplier 2; skip from input, layer 1 [operation 91]",
]


def enas_spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    document["spec"]["nasConfig"]["graphConfig"]["numLayers"] = 3
    return document


def katib_assignments(architecture: list[list[int]], operations: tuple[sg.ExpandedOperation, ...]) -> dict[str, str]:
    nn_config = {
        "num_layers": len(architecture),
        "input_sizes": [32, 32, 3],
        "output_sizes": [10],
        "embedding": {layer[0]: operations[layer[0]].as_dict() for layer in architecture},
    }
    return {"architecture": sg.katib_json(architecture), "nn_config": sg.katib_json(nn_config)}


@pytest.fixture
def nas_store(local_env: str) -> str:
    """kubeflow/enas-cpu with the three trials of ``TRIALS`` finished; the second is the best."""
    checked = check_document(enas_spec(), "enas-cpu.yaml")
    assert checked.experiment is not None, checked.problems
    problem = to_search_problem(checked.experiment.spec)
    assert problem.nas is not None
    operations = sg.expand_operations(problem.nas)
    with Store(local_env, upgrade=True) as store:
        register_experiment(store, checked.experiment, namespace="kubeflow", name="enas-cpu", seed=0)
        with store.locked_experiment("kubeflow", "enas-cpu") as tx:
            for i, (architecture, accuracy) in enumerate(TRIALS):
                name = f"enas-cpu-{i}"
                tx.add_trial(name, katib_assignments(architecture, operations), status=TrialStatus.RUNNING)
                metric = {"Validation-Accuracy": {"min": "0.1", "max": str(accuracy), "latest": str(accuracy)}}
                tx.finish_trial(name, TrialStatus.SUCCEEDED, observation=metric, objective_value=accuracy)
            tx.set_condition(
                ExperimentCondition.SUCCEEDED, "ExperimentMaxTrialsReached", "done", optimal_trial="enas-cpu-1"
            )
    return local_env


def test_an_architecture_is_worded_layer_by_layer_from_katibs_strings() -> None:
    checked = check_document(enas_spec(), "enas-cpu.yaml")
    assert checked.experiment is not None
    nas = to_search_problem(checked.experiment.spec).nas
    assert nas is not None
    view = architecture_view(katib_assignments(TRIALS[1][0], sg.expand_operations(nas)))
    assert view is not None
    assert [layer["description"] for layer in view["layers"]] == BEST_LINES
    assert [layer["skipConnections"] for layer in view["layers"]] == [[], [0], [0, 1]]
    assert view["layers"][0]["parameters"] == {"filter_size": "7", "num_filter": "128", "stride": "1"}
    assert view["summary"] == (
        "1: convolution 7x7, 128 filters, stride 1 | 2: max pooling 3x3 (skip from input) | "
        "3: depthwise convolution 3x3, stride 1, depth multiplier 2 (skip from input, layer 1)"
    )


def test_operations_katibs_examples_do_not_have_are_worded_by_their_parameters() -> None:
    embedding = {"5": {"opt_id": 5, "opt_type": "dilated_convolution", "opt_params": {"filter_size": 3, "rate": 2}}}
    assignments = {"architecture": "[[5]]", "nn_config": json.dumps({"num_layers": 1, "embedding": embedding})}
    layers = read_architecture(assignments)
    assert layers is not None and layers[0].operation_text() == "dilated convolution 3x3, rate=2"


@pytest.mark.parametrize(
    "assignments",
    [
        {"lr": 0.1},  # not a NAS trial
        {"architecture": "[[0], [1]]", "nn_config": "{'embedding': {'0': {'opt_type': 'x'}, '1': {'opt_type': 'y'}}}"},
        {"architecture": "[[7]]", "nn_config": "{'embedding': {}}"},  # an operation the embedding lacks
        {"architecture": "[[0]", "nn_config": "{}"},  # not JSON
        {"architecture": "[[0]]"},  # nn_config missing
    ],
)
def test_assignments_that_are_no_architecture_in_katibs_format_are_shown_as_they_are(
    assignments: dict[str, Any],
) -> None:
    assert read_architecture(assignments) is None
    assert architecture_view(assignments) is None


def test_trials_lists_architectures_in_words(nas_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trials", "enas-cpu", "-n", "kubeflow", "-o", "json"]) == 0
    views = json.loads(capsys.readouterr().out)
    assert [v["architecture"]["layers"][0]["operation"] for v in views] == [0, 28, 103]
    # The assignments stay as the trials got them, for scripts.
    assert views[1]["parameterAssignments"][0] == {"name": "architecture", "value": "[[28], [103, 1], [91, 1, 1]]"}
    assert views[1]["parameterAssignments"][1]["value"].startswith("{'num_layers': 3, 'input_sizes': [32, 32, 3]")

    assert main(["trials", "enas-cpu", "-n", "kubeflow"]) == 0
    table = capsys.readouterr().out
    assert "architecture" in table and "nn_config" not in table and "opt_params" not in table
    assert "max pooling" in table


def test_best_prints_the_best_architecture_layer_by_layer(nas_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["best", "enas-cpu", "-n", "kubeflow"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-4:] == [
        "architecture (3 layers; `best -o json` gives the assignments as the trial got them):",
        *(f"  {line}" for line in BEST_LINES),
    ]
    assert "bestTrialName: enas-cpu-1" in out and "objectiveValue: 0.93" in out and "opt_params" not in out

    assert main(["best", "enas-cpu", "-n", "kubeflow", "-o", "json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert [layer["description"] for layer in view["architecture"]["layers"]] == BEST_LINES
    assert [a["name"] for a in view["parameterAssignments"]] == ["architecture", "nn_config"]


def test_the_report_and_the_csv_show_architectures_not_json(
    nas_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    assert main(["report", "enas-cpu", "-n", "kubeflow", "-O", str(page)]) == 0
    capsys.readouterr()  # "wrote report.html"
    html = page.read_text(encoding="utf-8")
    assert "<td>graph</td><td>nasConfig</td><td>3 layers, input 32x32x3, output 10</td>" in html
    assert "<td>reduction</td><td>operation</td><td>reduction_type: max_pooling, avg_pooling; pool_size: [2, 3]" in html
    assert (
        "<td>layer 3</td><td>depthwise convolution 3x3, stride 1, depth multiplier 2; skip from input, layer 1" in html
    )
    assert "opt_params" not in html.split("<details>")[0]  # the spec at the end is the only JSON-like text

    assert main(["export", "enas-cpu", "-n", "kubeflow", "-o", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["architecture"].split(" | ")[0] for r in rows] == [
        "1: convolution 3x3, 32 filters, stride 1",
        "1: convolution 7x7, 128 filters, stride 1",
        "1: max pooling 3x3",
    ]


def test_a_local_runs_progress_lines_word_architectures_too(nas_store: str) -> None:
    from katib_flows.local._report import _params

    with Store(nas_store) as store:
        trials = store.list_trials("kubeflow", "enas-cpu")
    assert _params(trials[2]) == (
        "1: max pooling 3x3 | 2: convolution 3x3, 32 filters, stride 1 | "
        "3: convolution 7x7, 128 filters, stride 1 (skip from layer 1)"
    )
