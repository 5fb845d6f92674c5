"""Katib's enas-cpu.yaml compiled and run through the conformance harness with enas: the ``suggest`` steps
continue the controller stored by the steps before them, and each trial step renders Katib's NAS texts into
the Job's command (run by the local trial runner, with a tiny real script instead of Katib's image)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import katib_flows_suggestion as sg
import yaml
from argo_harness import run_in_process

from katib_flows.argo import compile_workflow
from katib_flows.spec import load_text
from katib_flows.store import Store, TrialStatus

NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)
SCRIPT = Path(__file__).resolve().parents[1] / "local" / "nas_trial_script.py"


def test_enas_cpu_runs_through_the_compiled_workflow(tmp_path: Path) -> None:
    document = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    katib_args = [a for a in container["command"] if a.startswith("--")]
    container["command"] = [sys.executable, str(SCRIPT), *katib_args, f"--argv-dir={argv_dir}"]
    document["spec"].update(maxTrialCount=4)
    document["spec"]["algorithm"]["algorithmSettings"] = [{"name": "controller_train_steps", "value": "3"}]
    experiment = load_text(json.dumps(document)).experiment
    assert experiment is not None
    workflow = compile_workflow(experiment, name="enas-cpu", namespace="team-a")
    [run], url = run_in_process(workflow, tmp_path)
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    with Store(url) as store:
        record = store.get_experiment("team-a", "enas-cpu")
        trials = store.list_trials("team-a", "enas-cpu")
        state = store.algorithm_state("team-a", "enas-cpu")
    assert record.reason == "ExperimentMaxTrialsReached"
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 4
    for trial in trials:
        [[op]] = sg.read_katib_json(trial.assignments["architecture"])
        argv = json.loads((argv_dir / f"{trial.name}.json").read_text())
        assert argv[1:3] == [f'--architecture="[[{op}]]"', f'--nn_config="{trial.assignments["nn_config"]}"']
    assert state is not None and state["train_step"] % 3 == 0 and len(state["consumed"]) >= 2
    assert set(state["consumed"]) < {t.name for t in trials}
