"""Katib's darts-cpu.yaml runs here with our trial command: a real DARTS search on digits, a genotype as objective.

Katib's file is read from ../shared/katib-examples/nas/ (never copied); only the container's program is
replaced by ``examples/nas-darts/run_trial.py`` run by this interpreter, with Katib's arguments, placeholders
and quotes as written. The trial (PyTorch on the CPU) prints ``Best-Genotype=Genotype(...)``, which Katib's
custom filter collects as a string objective value: the trial succeeds and is the experiment's best.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import pytest
import yaml

from katib_flows.cli import _exit, main
from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import Store, TrialStatus

REPO = Path(__file__).resolve().parents[2]
NAS = next(
    (p / "shared" / "katib-examples" / "nas" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas",
)
TRIAL = REPO / "examples" / "nas-darts" / "run_trial.py"
#: What darts-cpu's search (1 layer, 1 node, one primitive but none) can only find: max pooling on both edges.
GENOTYPE = (
    "Genotype(normal=[[('max_pooling_3x3',{}),('max_pooling_3x3',{})]],normal_concat=range(2,3),"
    "reduce=[],reduce_concat=range(2,3))"
)


def with_our_command(document: dict[str, Any]) -> dict[str, Any]:
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["python3", "run_trial.py"]
    container["command"] = [sys.executable, str(TRIAL), *container["command"][2:]]
    return document


@pytest.mark.slow
def test_katibs_darts_cpu_runs_to_a_genotype(
    local_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    katib = NAS / "darts-cpu.yaml"
    assert main(["lint", str(katib)]) == _exit.SUCCEEDED
    document = with_our_command(yaml.safe_load(katib.read_text(encoding="utf-8")))
    path = tmp_path / "darts-cpu.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert main(["lint", str(path)]) == _exit.SUCCEEDED
    assert main(["compile", str(path), "-O", str(tmp_path / "workflow.yaml")]) == _exit.SUCCEEDED
    capsys.readouterr()

    assert main(["run", str(path), "-q"]) == _exit.SUCCEEDED
    with Store(local_env) as store:
        record = store.get_experiment("kubeflow", "darts-cpu")
        [trial] = store.list_trials("kubeflow", "darts-cpu")
    assert (record.condition.value, record.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert trial.status is TrialStatus.SUCCEEDED and record.optimal_trial == trial.name
    assert trial.objective_value is None  # a string: no number to compare
    genotype = trial.observation["Best-Genotype"]["latest"]
    assert genotype in (GENOTYPE.format(0, 1), GENOTYPE.format(1, 0))
    assert trial.observation["Best-Genotype"]["max"] == "unavailable"
    assert trial.assignments["search-space"] == "['max_pooling_3x3']" and trial.assignments["num-layers"] == "1"

    # The trial's log has the search's progress; best, trials and experiments show the genotype.
    assert main(["logs", "darts-cpu", trial.name, "-n", "kubeflow"]) == _exit.SUCCEEDED
    log = capsys.readouterr().out
    assert "Train: [1/1] Step 000/" in log and "Final best Prec@1" in log and f"Best-Genotype={genotype}" in log
    assert main(["best", "darts-cpu", "-n", "kubeflow", "-o", "json"]) == _exit.SUCCEEDED
    best = json.loads(capsys.readouterr().out)
    assert best["bestTrialName"] == trial.name
    assert best["observation"]["metrics"] == [
        {"name": "Best-Genotype", "min": "unavailable", "max": "unavailable", "latest": genotype}
    ]
    assert main(["best", "darts-cpu", "-n", "kubeflow"]) == _exit.SUCCEEDED
    assert genotype in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "1000")  # the tables in full
    for command in (["trials", "darts-cpu", "-n", "kubeflow"], ["experiments", "-A"]):
        assert main(command) == _exit.SUCCEEDED
        assert genotype in capsys.readouterr().out

    # The DSL and the HTML report read it too.
    from katib_flows import Result

    result = Result("darts-cpu", namespace="kubeflow", db=local_env)
    assert result.best is not None and result.best.metrics["Best-Genotype"] == genotype
    assert f"Best-Genotype={genotype}" in repr(result)
    assert main(["report", "darts-cpu", "-n", "kubeflow", "-O", str(tmp_path / "darts.html")]) == _exit.SUCCEEDED
    assert "Genotype(normal=" in (tmp_path / "darts.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_trial_searches_katibs_gpu_space_with_a_reduction_cell(tmp_path: Path) -> None:
    """darts-gpu's six primitives (skip_connection among them) on 2 layers: a normal and a reduction cell, both
    searched; the darts algorithm's own strings go to the trial as Katib's template writes them (quotes too)."""
    document = yaml.safe_load((NAS / "darts-gpu.yaml").read_text(encoding="utf-8"))
    document["spec"]["nasConfig"]["graphConfig"]["numLayers"] = 2
    document["spec"]["algorithm"]["algorithmSettings"] = [
        {"name": name, "value": value}
        for name, value in (("num_epochs", "1"), ("num_nodes", "2"), ("init_channels", "2"), ("num_workers", "0"))
    ]
    checked = check_document(document, "darts-gpu.yaml")
    assert checked.ok and checked.experiment is not None
    decision = sg.get_algorithm("darts").suggest(to_search_problem(checked.experiment.spec), [], seed=0)
    assert isinstance(decision, sg.Suggestion)
    a = decision.assignments
    argv = [
        f'--algorithm-settings="{a["algorithm-settings"]}"',
        f'--search-space="{a["search-space"]}"',
        f'--num-layers="{a["num-layers"]}"',
    ]
    done = subprocess.run(
        [sys.executable, str(TRIAL), *argv], capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "reduce node 1 edge 2: " in done.stdout and any(
        line.startswith("Valid: [1/1] Final Prec@1") for line in lines
    )
    [last] = [line for line in lines if line.startswith("Best-Genotype=")]
    genotype = last.removeprefix("Best-Genotype=")
    assert genotype.startswith("Genotype(normal=[[(") and genotype.endswith(",reduce_concat=range(2,4))")
    primitives = {"separable_convolution_3x3", "dilated_convolution_3x3", "dilated_convolution_5x5"}
    primitives |= {"avg_pooling_3x3", "max_pooling_3x3", "skip_connection"}
    chosen = re.findall(r"\('([a-z_0-9x]+)',(\d)\)", genotype)
    assert len(chosen) == 8 and {op for op, _ in chosen} <= primitives  # 2 cells x 2 nodes x 2 edges, never none
