"""The small commands through ``main([...])`` in process: lint outputs, db upgrade/current, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from katib_flows.cli import _exit, main

FIXTURES = Path(__file__).resolve().parents[1] / "spec" / "fixtures"


def test_lint_prints_the_defaulted_spec_as_yaml_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "valid-minimal.yaml")
    assert main(["lint", "-o", "yaml", path]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert document["spec"]["parallelTrialCount"] == 3
    assert document["spec"]["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert main(["lint", "-o", "json", path]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["ok"] is True
    assert entry["experiment"]["metadata"]["name"] == "minimal"


def test_lint_errors_go_to_stderr_with_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((FIXTURES / "valid-minimal.yaml").read_text())
    document["spec"]["parameters"][1]["feasibleSpace"]["step"] = "0"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["lint", str(path)]) == _exit.BAD_INPUT
    captured = capsys.readouterr()
    assert "bad.yaml: invalid" in captured.out
    assert "spec.parameters[1].feasibleSpace.step: must be greater than 0 (got '0')" in captured.err
    assert main(["lint", "-o", "json", str(path)]) == _exit.BAD_INPUT
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["ok"] is False
    assert entry["problems"][0]["path"] == "spec.parameters[1].feasibleSpace.step"


def test_lint_strict_fails_on_warnings(tmp_path: Path) -> None:
    document = yaml.safe_load((FIXTURES / "valid-minimal.yaml").read_text())
    document["spec"]["maxTrialCounts"] = 3
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["lint", str(path)]) == 0
    assert main(["lint", "--strict", str(path)]) == _exit.BAD_INPUT


def test_db_upgrade_and_current(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current", "--db", store_url]) == 0
    assert "none (empty database)" in capsys.readouterr().out
    assert main(["experiments", "--db", store_url]) == _exit.BAD_INPUT or store_url.startswith("sqlite")
    err = capsys.readouterr().err
    if not store_url.startswith("sqlite"):
        assert "katib-flows db upgrade" in err
    assert main(["db", "upgrade", "--db", store_url]) == 0
    assert "schema at revision 0003" in capsys.readouterr().out
    assert main(["db", "current", "--db", store_url]) == 0
    assert "database revision: 0003" in capsys.readouterr().out


def test_unreachable_database_is_bad_input_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["experiments", "--db", "mysql+pymysql://root:secret@127.0.0.1:1/none"])
    assert code == _exit.BAD_INPUT
    err = capsys.readouterr().err
    assert "secret" not in err
    assert "Traceback" not in err
