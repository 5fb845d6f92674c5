"""Fixtures for the DSL tests: a private store and log folder per test, through the environment as a notebook would."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store and a log folder of the test's own; returns the store URL."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("KATIB_FLOWS_DB", url)
    monkeypatch.setenv("KATIB_FLOWS_LOGS", str(tmp_path / "logs"))
    return url
