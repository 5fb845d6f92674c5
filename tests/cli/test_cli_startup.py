"""``katib-flows --help`` and a local run import neither hera nor kubernetes nor Airflow (slow to import)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK = """
import sys
from katib_flows.cli import main
code = main(sys.argv[1:])
slow = ("hera", "kubernetes", "optuna", "sqlalchemy", "airflow", "katib_flows.airflow")
heavy = sorted(m for m in slow if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


def _heavy(*args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", CHECK, *args], capture_output=True, text=True, check=False).stdout
    line = next(line for line in out.splitlines() if line.startswith("HEAVY="))
    return set(filter(None, line.removeprefix("HEAVY=").split(",")))


def test_help_imports_nothing_heavy() -> None:
    assert _heavy("--help") == set()


def test_lint_does_not_import_hera_or_kubernetes() -> None:
    assert not _heavy("lint", "--help") & {"hera", "kubernetes"}


def test_a_local_run_imports_neither_hera_nor_kubernetes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path
    monkeypatch.setenv("KATIB_FLOWS_DB", f"sqlite:///{folder / 'store.db'}")
    monkeypatch.setenv("KATIB_FLOWS_LOGS", str(folder / "logs"))
    example = Path(__file__).resolve().parents[2] / "examples" / "script" / "experiment.yaml"
    heavy = _heavy("run", str(example), "--max-trials", "1", "-q")
    assert "sqlalchemy" in heavy, "the run did not happen"
    assert not heavy & {"hera", "kubernetes", "airflow", "katib_flows.airflow"}
