"""Fixtures for local runs: a private store and log folder per test, and experiments around a real script."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store, a log folder and a checkpoint folder of the test's own; returns the store URL."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("KATIB_FLOWS_DB", url)
    monkeypatch.setenv("KATIB_FLOWS_LOGS", str(tmp_path / "logs"))
    monkeypatch.setenv("KATIB_FLOWS_CHECKPOINTS", str(tmp_path / "checkpoints"))
    return url


@pytest.fixture
def write_experiment(tmp_path: Path) -> Callable[..., Path]:
    def write(document: dict[str, Any], name: str = "experiment.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write
