"""``compile --engine airflow``: deterministic DAG files that hold the Experiment as data, and import cleanly.

The DagBag test imports the files with Airflow itself (in a subprocess, as the dag-processor would), with
warnings as errors; the drift test keeps ``workflow_templates/airflow/`` equal to what the compiler writes.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from katib_flows.airflow import MAX_SLOTS, TEMPLATE_FILE, DagOptions, compile_dag, dag_id_of, generic_dag
from katib_flows.cli import _exit, main
from katib_flows.errors import CompileError
from katib_flows.spec import load_file

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "examples" / "digits" / "experiment-random.yaml"
REGENERATE = os.environ.get("KATIB_FLOWS_REGENERATE") == "1"
HOSTILE = [
    'x"""; import os; os.system("id") #',
    "two\nlines",
    "{{ ti.xcom_pull() }}",
    "back\\slash",
    "naïve 🚀",
    "\x7f",
]


def _hostile_experiment(tmp_path: Path) -> Path:
    document = yaml.safe_load(DIGITS.read_text())
    document["metadata"]["name"] = "hostile"
    document["spec"]["parameters"][3]["feasibleSpace"]["list"] = HOSTILE
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _code(text: str) -> str:
    """The file without its data block."""
    head, rest = text.split("# --- katib-flows data: ", 1)
    return head + rest.split("# --- end of katib-flows data ---", 1)[1]


def _data(text: str) -> dict[str, object]:
    """The module-level string constants of a DAG file, evaluated without running it."""
    values = {}
    for node in ast.parse(text).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in ("EXPERIMENT", "SETTINGS"):
            values[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
    return values


def test_same_experiment_gives_the_same_bytes_and_the_code_of_the_template(tmp_path: Path) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    assert main(["compile", str(DIGITS), "--engine", "airflow", "--out", str(first)]) == _exit.SUCCEEDED
    assert main(["compile", str(DIGITS), "--engine", "airflow", "--out", str(second)]) == _exit.SUCCEEDED
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    template = (REPO / "katib_flows" / "airflow" / "dag_file.py").read_text(encoding="utf-8")
    assert _code(text) == _code(template)
    assert dag_id_of(text) == "katib_flows.default.digits-random"


def test_hostile_values_stay_data(tmp_path: Path) -> None:
    path = _hostile_experiment(tmp_path)
    checked = load_file(path)
    assert checked.experiment is not None
    text = compile_dag(checked.experiment, name="hostile", namespace="team-a")
    template_tree = ast.dump(ast.parse(generic_dag()))
    # Only the two data assignments differ from the generic DAG: no hostile value became code.
    tree = ast.parse(text)
    assert [type(n).__name__ for n in tree.body] == [type(n).__name__ for n in ast.parse(generic_dag()).body]
    assert len(ast.dump(tree)) != len(template_tree)
    data = _data(text)
    document = json.loads(str(data["EXPERIMENT"]))
    assert document["spec"]["parameters"][3]["feasibleSpace"]["list"] == HOSTILE
    assert document["metadata"] == {"name": "hostile", "namespace": "team-a"}
    settings = json.loads(str(data["SETTINGS"]))
    assert settings["parallel"] == 3
    assert settings["dag_id"] == "katib_flows.team-a.hostile"


def test_options_reach_the_settings() -> None:
    checked = load_file(DIGITS)
    assert checked.experiment is not None
    options = DagOptions(
        dag_id="digits", db_variable="store", workdir="/srv/digits", trial_runner="kubernetes", max_slots=5
    )
    settings = json.loads(
        str(_data(compile_dag(checked.experiment, name="d", namespace=None, options=options))["SETTINGS"])
    )
    assert (settings["dag_id"], settings["db_variable"], settings["workdir"], settings["trial_runner"]) == (
        "digits", "store", "/srv/digits", "kubernetes",
    )  # fmt: skip
    assert settings["max_slots"] == 5
    assert json.loads(str(_data(generic_dag())["SETTINGS"]))["max_slots"] == MAX_SLOTS


@pytest.mark.parametrize("slots", [0, 1025])
def test_max_slots_beyond_airflows_map_length_is_a_clear_error(slots: int) -> None:
    with pytest.raises(CompileError, match=f"max_slots must be between 1 and 1024 .*, got {slots}"):
        generic_dag(DagOptions(max_slots=slots))


def test_bad_dag_id_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compile", str(DIGITS), "--engine", "airflow", "--dag-id", "no spaces"])
    assert code == _exit.BAD_INPUT
    assert "--dag-id 'no spaces'" in capsys.readouterr().err


def test_compile_all_writes_a_dag_folder_and_check_finds_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "experiments"
    folder.mkdir()
    shutil.copy(DIGITS, folder / "digits-random.yaml")
    assert main(["compile", "--all", str(folder), "--engine", "airflow"]) == _exit.SUCCEEDED
    assert sorted(p.name for p in (folder / "dags").iterdir()) == ["digits_random.py"]
    assert main(["compile", "--all", str(folder), "--engine", "airflow", "--check"]) == _exit.SUCCEEDED
    (folder / "digits-random.yaml").write_text(DIGITS.read_text().replace("maxTrialCount: 15", "maxTrialCount: 16"))
    capsys.readouterr()
    assert main(["compile", "--all", str(folder), "--engine", "airflow", "--check"]) == _exit.BAD_INPUT
    assert f"stale: {folder / 'dags' / 'digits_random.py'}" in capsys.readouterr().err
    (folder / "digits-random.yaml").unlink()
    assert main(["compile", "--all", str(folder), "--engine", "airflow"]) == _exit.SUCCEEDED
    assert list((folder / "dags").iterdir()) == []


def test_committed_generic_dag_has_not_drifted() -> None:
    path = REPO / TEMPLATE_FILE
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generic_dag(), encoding="utf-8")
    assert path.read_text(encoding="utf-8") == generic_dag(), (
        f"{TEMPLATE_FILE} differs from the compiler's output; regenerate with KATIB_FLOWS_REGENERATE=1 and commit it"
    )


def test_airflow_imports_the_dag_files_without_errors_or_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    assert main(["compile", str(DIGITS), "--engine", "airflow", "--out", str(folder / "digits.py")]) == 0
    assert (
        main(["compile", str(_hostile_experiment(tmp_path)), "--engine", "airflow", "--out", str(folder / "h.py")]) == 0
    )
    shutil.copy(REPO / TEMPLATE_FILE, folder)
    script = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(sys.argv[1])\n"
        "print(json.dumps({'errors': bag.import_errors, 'dags': sorted(bag.dag_ids), "
        "'tasks': {d: sorted(bag.dags[d].task_ids) for d in bag.dag_ids}}))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, str(folder)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == [
        "katib_flows.default.digits-random",
        "katib_flows.default.hostile",
        "katib_flows_experiment",
    ]
    tasks = ["failed", "finish", "init", "next_run", "plan_next_run", "trial"]
    assert all(found == tasks for found in result["tasks"].values())
    assert "Warning" not in done.stderr
