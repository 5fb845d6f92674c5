"""``katib-flows compile``: one file to stdout or a file, options, errors, and the GitOps folder mode."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from argo_helpers import KATIB_EXAMPLES, REPO

from katib_flows.cli import main

DIGITS = REPO / "examples" / "digits" / "experiment-random.yaml"
SCRIPT = REPO / "examples" / "script" / "experiment.yaml"


def _args(workflow: dict[str, object], template: str) -> list[str]:
    found = next(t for t in workflow["spec"]["templates"] if t["name"] == template)  # type: ignore[index]
    return list(found["container"]["args"])


def test_compile_to_stdout_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["compile", str(DIGITS), "--name", "tuned", "--namespace", "team-a", "--image", "reg/kf:2",
         "--db-secret", "team-db", "--service-account", "sa", "--generation-iterations", "40"]
    )  # fmt: skip
    assert code == 0
    workflow = yaml.safe_load(capsys.readouterr().out)
    assert workflow["metadata"] == {
        "name": "tuned",
        "namespace": "team-a",
        "labels": {
            "app.kubernetes.io/managed-by": "katib-flows",
            "katib-flows.io/experiment": "tuned",
            "katib-flows.io/generation": "0",
        },
    }
    args = _args(workflow, "init")  # init gives each lane its share of at most 40 (fewer for many lanes)
    assert args[args.index("--iterations") + 1] == "40"
    spec = yaml.safe_load(workflow["spec"]["arguments"]["parameters"][1]["value"])
    assert spec["metadata"] == {"name": "tuned", "namespace": "team-a"}


def test_name_defaults_to_the_file_name_without_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(SCRIPT)]) == 0
    captured = capsys.readouterr()
    assert yaml.safe_load(captured.out)["metadata"]["name"] == "experiment"
    assert "trialTemplate.command runs only" in captured.err


def test_a_bad_name_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(DIGITS), "--name", "Not_A_Name"]) == 2
    assert "metadata.name" in capsys.readouterr().err


def test_a_broken_experiment_is_bad_input_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: x}\nspec: {maxTrialCount: -1}\n"
    )
    assert main(["compile", str(bad)]) == 2
    assert "spec." in capsys.readouterr().err


def test_usage_errors(tmp_path: Path) -> None:
    assert main(["compile"]) == 2
    assert main(["compile", str(DIGITS), "--check"]) == 2
    assert main(["compile", str(DIGITS), "--all", str(tmp_path)]) == 2
    assert main(["compile", str(DIGITS), "--generation-iterations", "95"]) == 2


def _gitops_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "experiments"
    folder.mkdir()
    shutil.copy(DIGITS, folder / "digits.yaml")
    shutil.copy(REPO / "examples" / "push" / "experiment.yaml", folder / "push.yaml")
    (folder / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    return folder


def test_all_compiles_a_folder_and_check_sees_it_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _gitops_folder(tmp_path)
    assert main(["compile", "--all", str(folder), "--check"]) == 2  # nothing compiled yet
    assert "missing:" in capsys.readouterr().err
    assert main(["compile", "--all", str(folder)]) == 0
    compiled = sorted(p.name for p in (folder / "compiled").iterdir())
    assert compiled == ["digits.yaml", "push.yaml"]
    assert yaml.safe_load((folder / "compiled" / "digits.yaml").read_text())["metadata"]["name"] == "digits-random"
    capsys.readouterr()
    assert main(["compile", "--all", str(folder), "--check"]) == 0
    assert "2 compiled files are up to date" in capsys.readouterr().err


def test_check_lists_stale_and_orphaned_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _gitops_folder(tmp_path)
    assert main(["compile", "--all", str(folder)]) == 0
    source = folder / "digits.yaml"
    source.write_text(source.read_text().replace("maxTrialCount: 15", "maxTrialCount: 16"))
    (folder / "push.yaml").unlink()
    (folder / "compiled" / "notes.yaml").write_text("mine: true\n")  # not ours: never reported or removed
    capsys.readouterr()
    assert main(["compile", "--all", str(folder), "--check"]) == 2
    err = capsys.readouterr().err
    assert f"stale: {folder / 'compiled' / 'digits.yaml'}" in err
    assert f"orphan: {folder / 'compiled' / 'push.yaml'}" in err
    assert "notes.yaml" not in err
    assert main(["compile", "--all", str(folder)]) == 0
    assert sorted(p.name for p in (folder / "compiled").iterdir()) == ["digits.yaml", "notes.yaml"]
    assert main(["compile", "--all", str(folder), "--check"]) == 0


def test_all_fails_on_a_broken_experiment_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _gitops_folder(tmp_path)
    (folder / "broken.yaml").write_text(
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nspec: {maxTrialCount: 0}\n"
    )
    assert main(["compile", "--all", str(folder)]) == 2
    assert "broken.yaml" in capsys.readouterr().err
    assert not (folder / "compiled").exists()


def test_all_with_json_output(tmp_path: Path) -> None:
    folder = _gitops_folder(tmp_path)
    assert main(["compile", "--all", str(folder), "--output", "json"]) == 0
    assert sorted(p.name for p in (folder / "compiled").iterdir()) == ["digits.json", "push.json"]
    assert main(["compile", "--all", str(folder), "--output", "json", "--check"]) == 0


CHECK_IMPORTS = """
import sys
from katib_flows.cli import main
code = main(sys.argv[1:])
print("HEAVY=" + ",".join(sorted(m for m in ("hera", "kubernetes", "sqlalchemy") if m in sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["compile", "--help"], ["step", "suggest", "--help"]])
def test_help_imports_neither_hera_nor_kubernetes(args: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", CHECK_IMPORTS, *args], capture_output=True, text=True, check=True)
    [heavy] = [line for line in out.stdout.splitlines() if line.startswith("HEAVY=")]
    assert heavy == "HEAVY="


def test_trial_runner_local_is_set_on_the_trial_step_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(DIGITS), "--trial-runner", "local"]) == 0
    workflow = yaml.safe_load(capsys.readouterr().out)
    for template in workflow["spec"]["templates"]:
        env = {e["name"]: e.get("value") for e in (template.get("container") or {}).get("env", [])}
        assert ("KATIB_FLOWS_TRIAL_RUNNER" in env) == (template["name"] == "trial")
        if template["name"] == "trial":
            assert env["KATIB_FLOWS_TRIAL_RUNNER"] == "local"


def test_katib_simple_pbt_compiles_with_the_checkpoint_claim_named(capsys: pytest.CaptureFixture[str]) -> None:
    pbt = KATIB_EXAMPLES / "hp-tuning" / "simple-pbt.yaml"
    assert main(["compile", str(pbt), "--checkpoints-claim", "team-nfs"]) == 0
    captured = capsys.readouterr()
    trial = next(t for t in yaml.safe_load(captured.out)["spec"]["templates"] if t["name"] == "trial")
    assert trial["volumes"] == [{"name": "checkpoints", "persistentVolumeClaim": {"claimName": "team-nfs"}}]
    assert "PersistentVolumeClaim team-nfs (ReadWriteMany)" in captured.err
