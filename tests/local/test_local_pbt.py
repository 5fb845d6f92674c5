"""PBT in a real local run: Katib's ``simple-pbt.yaml`` with its trial swapped for a script that checkpoints.

Each trial must get its own checkpoint directory at the path the template passes
(``--checkpoint=/var/log/katib/checkpoints/``), and a trial with a parent must start from a copy of the
parent's checkpoint: an exploiting trial from the donor's (another member's), so its accumulated steps and
lineage continue the donor's line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from katib_flows_suggestion._pbt import LABEL_GENERATION, LABEL_MEMBER, LABEL_PARENT

from katib_flows.cli import _exit, main
from katib_flows.errors import TrialCommandError
from katib_flows.local import trial_command
from katib_flows.local._command import point_to
from katib_flows.spec import Experiment, check_document
from katib_flows.store import Store, TrialRecord, TrialStatus
from katib_flows.trial import CHECKPOINT_DIR_ENV, prepare_checkpoint

# ../shared beside the checkout; the first such folder above it, so that a git worktree finds it too.
_SHARED = next((p / "shared" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
               Path(__file__).resolve().parents[3] / "shared")  # fmt: skip
EXAMPLE = _SHARED / "katib-examples" / "hp-tuning" / "simple-pbt.yaml"
SCRIPT = Path(__file__).parent / "pbt_script.py"
STEPS = 10


def _simple_pbt(trials: int) -> dict[str, Any]:
    """Katib's example, run for ``trials`` trials over a population of 5, its trial our checkpointing script."""
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    del document["metadata"]["namespace"]  # kubeflow: the default namespace keeps the test short
    spec = document["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"] = trials, 3
    del spec["objective"]["goal"]  # accumulated steps x lr passes 0.99 at once
    spec["algorithm"]["algorithmSettings"] = [
        {"name": "suggestion_trial_dir", "value": "/var/log/katib/checkpoints/"},
        {"name": "n_population", "value": "5"},
        {"name": "truncation_threshold", "value": "0.4"},
    ]
    [container] = spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["python3", "/opt/pbt/pbt_test.py", "--epochs=20"]
    container["command"] = [sys.executable, str(SCRIPT), f"--steps={STEPS}", *container["command"][3:]]
    assert container["command"][-1] == "--checkpoint=/var/log/katib/checkpoints/"
    return document


def _experiment(document: dict[str, Any]) -> Experiment:
    checked = check_document(document, "test")
    assert checked.experiment is not None, checked.problems
    return checked.experiment


def _state(root: Path, trial: TrialRecord) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((root / "default" / "pbt" / trial.name / "state.json").read_text())
    return state


def test_simple_pbt_trials_resume_from_their_parents_checkpoints(
    local_env: str, write_experiment: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_experiment(_simple_pbt(trials=16))
    assert main(["run", str(path), "--name", "pbt", "--seed", "3", "-q"]) == _exit.SUCCEEDED
    with Store(local_env) as store:
        trials = store.list_trials("default", "pbt")
    root = tmp_path / "checkpoints"
    assert len(trials) == 16 and {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    states = {t.name: _state(root, t) for t in trials}
    by_name = {t.name: t for t in trials}
    exploited = 0
    for trial in trials:
        state, own = states[trial.name], root / "default" / "pbt" / trial.name
        assert state["given"] == f"{own}/" and state["env"] == str(own)  # its own directory, both ways
        parent = trial.labels.get(LABEL_PARENT)
        if parent is None:
            assert trial.labels[LABEL_GENERATION] == "0"
            assert state == {**state, "steps": STEPS, "lineage": [trial.name]}
            continue
        # Started from a copy of the parent's checkpoint, which the child did not change.
        assert state["lineage"] == [*states[parent]["lineage"], trial.name]
        assert state["steps"] == states[parent]["steps"] + STEPS
        finished, created = by_name[parent].completed_at, trial.created_at
        assert finished and created and finished <= created, "a child starts from a finished parent"
        if by_name[parent].labels[LABEL_MEMBER] != trial.labels[LABEL_MEMBER]:
            exploited += 1
            donor = by_name[parent].assignments["lr"]  # the donor's lr, explored: x0.8 or x1.2 on the lattice
            assert 0.8 * donor - 1e-4 <= trial.assignments["lr"] <= min(1.2 * donor + 1e-4, 0.02)
    assert exploited > 0, "no member exploited a better one"
    assert max(s["steps"] for s in states.values()) >= 3 * STEPS
    assert sorted(p.name for p in (root / "default" / "pbt").iterdir()) == sorted(states)  # no .partial left
    assert main(["delete", "pbt", "--yes"]) == _exit.SUCCEEDED
    assert not (root / "default" / "pbt").exists(), "delete removes the checkpoints too"


@pytest.mark.slow
def test_the_pbt_example_trains_digits_across_generations(local_env: str, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "pbt" / "experiment.yaml"
    assert main(["run", str(example), "--max-trials", "12", "-q"]) == _exit.SUCCEEDED
    with Store(local_env) as store:
        trials = store.list_trials("default", "pbt-digits")
    assert len(trials) == 12 and {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    folder = tmp_path / "checkpoints" / "default" / "pbt-digits"
    epochs = {t.name: json.loads((folder / t.name / "state.json").read_text())["epochs"] for t in trials}
    for trial in trials:  # 2 epochs per trial, on top of the parent's
        parent = trial.labels.get(LABEL_PARENT)
        assert epochs[trial.name] == (epochs[parent] if parent else 0) + 2
    assert max(epochs.values()) >= 4
    assert max(t.objective_value or 0.0 for t in trials) > 0.9


def test_no_checkpoint_directory_without_suggestion_trial_dir(local_env: str, tmp_path: Path) -> None:
    document = _simple_pbt(trials=1)
    document["spec"]["algorithm"] = {"algorithmName": "random"}
    experiment = _experiment(document)
    trial = TrialRecord("default", "pbt", "t1", 1, {"lr": 0.01}, TrialStatus.RUNNING)
    assert prepare_checkpoint(experiment, tmp_path, "default", trial) is None
    assert not any(tmp_path.iterdir())


def test_a_trial_starts_again_from_its_parent_and_a_failed_copy_is_a_clear_error(tmp_path: Path) -> None:
    experiment = _experiment(_simple_pbt(trials=2))
    parent_dir = tmp_path / "default" / "pbt" / "p"
    parent_dir.mkdir(parents=True)
    (parent_dir / "model.pt").write_text("parent")
    trial = TrialRecord("default", "pbt", "c", 2, {"lr": 0.01}, TrialStatus.RUNNING, labels={LABEL_PARENT: "p"})
    own = prepare_checkpoint(experiment, tmp_path, "default", trial)
    assert own == tmp_path / "default" / "pbt" / "c"
    (own / "model.pt").write_text("half-trained child")
    assert prepare_checkpoint(experiment, tmp_path, "default", trial) == own
    assert (own / "model.pt").read_text() == "parent"
    (tmp_path / "blocked").write_text("a file where a folder must go")
    with pytest.raises(TrialCommandError, match=r"cannot prepare its checkpoint directory .*KATIB_FLOWS_CHECKPOINTS"):
        prepare_checkpoint(experiment, tmp_path / "blocked", "default", trial)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--checkpoint=/var/log/katib/checkpoints/", "--checkpoint=/ck/t1/"),
        ("/var/log/katib/checkpoints", "/ck/t1"),
        ("/var/log/katib/checkpoints/model.pt", "/ck/t1/model.pt"),
        ("a:/var/log/katib/checkpoints,b", "a:/ck/t1,b"),
        ("/var/log/katib/checkpoints2", "/var/log/katib/checkpoints2"),  # another folder
        ("/data/var/log/katib/checkpoints", "/data/var/log/katib/checkpoints"),  # not the same path
        ("/var/log/katib/checkpoints.bak", "/var/log/katib/checkpoints.bak"),
    ],
)
def test_only_whole_paths_are_pointed_to_the_checkpoint(text: str, expected: str) -> None:
    assert point_to(text, "/var/log/katib/checkpoints/", Path("/ck/t1")) == expected


def test_the_command_form_and_environment_values_see_the_directory_too(tmp_path: Path) -> None:
    document = _simple_pbt(trials=1)
    template = document["spec"]["trialTemplate"]
    [container] = template.pop("trialSpec")["spec"]["template"]["spec"]["containers"]
    template["command"] = container["command"]
    experiment = _experiment(document)
    command = trial_command(experiment, {"lr": 0.01}, trial_name="t", namespace="default", checkpoint_dir=tmp_path)
    assert command.argv[-1] == f"--checkpoint={tmp_path}/"
    assert command.env[CHECKPOINT_DIR_ENV] == str(tmp_path)
    plain = trial_command(experiment, {"lr": 0.01}, trial_name="t", namespace="default")
    assert plain.argv[-1] == "--checkpoint=/var/log/katib/checkpoints/" and CHECKPOINT_DIR_ENV not in plain.env


def test_a_jobs_environment_values_see_the_directory(tmp_path: Path) -> None:
    document = _simple_pbt(trials=1)
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["env"] = [{"name": "CKPT", "value": "/var/log/katib/checkpoints/latest"}]
    command = trial_command(_experiment(document), {"lr": 0.01}, trial_name="t", namespace="default",
                            checkpoint_dir=tmp_path)  # fmt: skip
    assert command.env["CKPT"] == f"{tmp_path}/latest"
