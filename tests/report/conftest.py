"""Fixtures for the report tests: one real digits run shared by the module, and a private store per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import DIGITS_TRIALS

from katib_flows.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def digits_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The store URL of a real, short run of examples/digits/experiment-random.yaml (6 trials, 2 at a time)."""
    folder = tmp_path_factory.mktemp("digits")
    url = f"sqlite:///{folder / 'store.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KATIB_FLOWS_LOGS", str(folder / "logs"))
        argv = ["run", str(EXAMPLES / "digits" / "experiment-random.yaml"), "--db", url, "-q"]
        code = main([*argv, "--max-trials", str(DIGITS_TRIALS), "--parallel", "2"])
    assert code == 0
    return url


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store and a log folder of the test's own; returns the store URL."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("KATIB_FLOWS_DB", url)
    monkeypatch.setenv("KATIB_FLOWS_LOGS", str(tmp_path / "logs"))
    return url
