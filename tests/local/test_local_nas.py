"""Katib's NAS Experiments (``nasConfig``) lint, compile and run: a NAS algorithm's assignments reach the trial.

Katib's enas-cpu.yaml and darts-cpu.yaml are read from ../shared/katib-examples/nas/ (never copied); only the
training command is replaced by a tiny real script. The NAS plumbing is exercised with a stand-in
algorithm that answers in Katib's formats and keeps a state, so these tests say what the engine does
with any NAS algorithm: assignments that are not ``spec.parameters`` reach ``${trialParameters.X}``
through each trial parameter's ``reference``, and a stateful algorithm's state is stored and handed back.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import pytest
import yaml

from katib_flows.cli import _exit, main
from katib_flows.engine import experiment_of
from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import Store

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)
SCRIPT = Path(__file__).parent / "nas_trial_script.py"


def katib_example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((NAS / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def with_our_command(document: dict[str, Any], argv_dir: Path) -> dict[str, Any]:
    """The example with its container's program (``python3 -u RunTrial.py``) replaced by ours; Katib's
    arguments, placeholders and quotes included, are kept as written."""
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    katib_args = [a for a in container["command"] if a.startswith("--")]
    container["command"] = [sys.executable, str(SCRIPT), *katib_args, f"--argv-dir={argv_dir}"]
    return document


class StandIn(sg.Algorithm):
    """A NAS algorithm as the engine sees one: layer 0 takes operation ``k`` for the k-th trial, in Katib's
    exact formats; its state counts the calls."""

    name = "enas"  # Katib's settings rules for enas apply
    stateful = True

    def suggest(self, problem: sg.Problem, history: Sequence[sg.Trial], seed: int) -> sg.Decision:
        return self.suggest_with_state(problem, history, seed, None)

    def suggest_with_state(
        self, problem: sg.Problem, history: Sequence[sg.Trial], seed: int, state: Mapping[str, Any] | None
    ) -> sg.Decision:
        assert problem.nas is not None and problem.nas.num_layers is not None
        operations = sg.expand_operations(problem.nas)
        architecture = [[len(history) % len(operations)] + [0] * layer for layer in range(problem.nas.num_layers)]
        nn_config = {
            "num_layers": problem.nas.num_layers,
            "input_sizes": list(problem.nas.input_sizes),
            "output_sizes": list(problem.nas.output_sizes),
            "embedding": {layer[0]: operations[layer[0]].as_dict() for layer in architecture},
        }
        calls = (state or {}).get("calls", 0) + 1
        return sg.Suggestion(
            {"architecture": sg.katib_json(architecture), "nn_config": sg.katib_json(nn_config)},
            state={"version": 1, "calls": calls},
        )


@pytest.mark.parametrize("name", ["enas-cpu", "darts-cpu"])
def test_katibs_nas_examples_lint_and_compile(name: str, tmp_path: Path) -> None:
    path = NAS / f"{name}.yaml"
    assert main(["lint", str(path)]) == _exit.SUCCEEDED
    out = tmp_path / "workflow.yaml"
    assert main(["compile", str(path), "-O", str(out)]) == _exit.SUCCEEDED
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["kind"] == "Workflow"


def test_the_nas_config_reaches_the_algorithm_as_plain_data() -> None:
    checked = check_document(katib_example("enas-cpu"), "enas-cpu.yaml")
    assert checked.ok and checked.experiment is not None
    problem = to_search_problem(checked.experiment.spec)
    assert problem.parameters == () and problem.nas is not None
    assert (problem.nas.num_layers, problem.nas.input_sizes, problem.nas.output_sizes) == (1, (32, 32, 3), (10,))
    assert [o.type for o in problem.nas.operations] == [
        "convolution",
        "separable_convolution",
        "depthwise_convolution",
        "reduction",
    ]
    reduction = problem.nas.operations[3].parameters
    assert reduction[1] == sg.Parameter("pool_size", "int", 2.0, 3.0, 1.0)
    operations = sg.expand_operations(problem.nas)
    # Katib's Operation.py: 3*5*2 convolutions, 3*5*2*2 separable, 3*2*2 depthwise, 2*2 reductions.
    assert len(operations) == 30 + 60 + 12 + 4
    assert operations[0].as_dict() == {
        "opt_id": 0,
        "opt_type": "convolution",
        "opt_params": {"filter_size": "3", "num_filter": "32", "stride": "1"},
    }
    assert operations[-1].as_dict() == {
        "opt_id": 105,
        "opt_type": "reduction",
        "opt_params": {"reduction_type": "avg_pooling", "pool_size": 3},
    }


def test_a_nas_algorithms_assignments_and_state_reach_the_trial_and_the_store(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sg, "get_algorithm", lambda name: StandIn() if name == "enas" else pytest.fail(name))
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    path = write_experiment(with_our_command(katib_example("enas-cpu"), argv_dir))
    assert main(["run", str(path), "-q"]) == _exit.GOAL_NOT_REACHED  # the goal is 0.99

    with Store(local_env) as store:
        record = store.get_experiment("kubeflow", "enas-cpu")
        trials = store.list_trials("kubeflow", "enas-cpu")
        state = store.algorithm_state("kubeflow", "enas-cpu")
    assert state == {"version": 1, "calls": 3}
    assert [t.status.value for t in trials] == ["Succeeded"] * 3
    problem = to_search_problem(experiment_of(record).spec)
    assert problem.nas is not None
    operations = sg.expand_operations(problem.nas)
    for k, trial in enumerate(trials):
        config = operations[k].as_dict()
        embedding = json.dumps(config).replace('"', "'")
        graph = "'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10]"
        expected_config = f"{{{graph}, 'embedding': {{'{k}': {embedding}}}}}"
        assert trial.assignments == {"architecture": f"[[{k}]]", "nn_config": expected_config}
        argv = json.loads((argv_dir / f"{trial.name}.json").read_text())
        # Katib's template writes the quotes around the value; the trial gets every character as written.
        assert argv == [
            "--num_epochs=1",
            f'--architecture="[[{k}]]"',
            f'--nn_config="{expected_config}"',
            f"--argv-dir={argv_dir}",
        ]
        assert trial.observation["Validation-Accuracy"]["latest"] == ("0.6" if k == 0 else "0.5")
    for command in (["trials", "enas-cpu", "-n", "kubeflow"], ["best", "enas-cpu", "-n", "kubeflow", "-o", "json"]):
        assert main(command) == _exit.SUCCEEDED


def test_katibs_enas_cpu_runs_with_enas_and_our_trial_command(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    """The real enas: every trial gets an architecture and its nn_config in Katib's formats, the controller
    is stored, and any process can go on (``resume`` with more trials starts from the stored state)."""
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    document = with_our_command(katib_example("enas-cpu"), argv_dir)
    document["spec"]["algorithm"]["algorithmSettings"] = [{"name": "controller_train_steps", "value": "5"}]
    path = write_experiment(document)
    assert main(["run", str(path), "-q", "--seed", "2"]) == _exit.GOAL_NOT_REACHED
    assert main(["resume", "enas-cpu", "-n", "kubeflow", "--max-trials", "5", "-q"]) == _exit.GOAL_NOT_REACHED

    with Store(local_env) as store:
        record = store.get_experiment("kubeflow", "enas-cpu")
        trials = store.list_trials("kubeflow", "enas-cpu")
        state = store.algorithm_state("kubeflow", "enas-cpu")
    assert [t.status.value for t in trials] == ["Succeeded"] * 5
    problem = to_search_problem(experiment_of(record).spec)
    assert problem.nas is not None
    operations = sg.expand_operations(problem.nas)
    for trial in trials:
        [[op]] = sg.read_katib_json(trial.assignments["architecture"])
        graph = {"num_layers": 1, "input_sizes": [32, 32, 3], "output_sizes": [10]}
        assert trial.assignments["nn_config"] == sg.katib_json(
            {**graph, "embedding": {str(op): operations[op].as_dict()}}
        )
        argv = json.loads((argv_dir / f"{trial.name}.json").read_text())
        assert argv[1:3] == [f'--architecture="[[{op}]]"', f'--nn_config="{trial.assignments["nn_config"]}"']
    assert state is not None and state["version"] == 1
    assert set(state["consumed"]) < {t.name for t in trials} and len(state["consumed"]) >= 3
