"""Experiments around the real trial script, shared by the local-run tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).parent / "trial_script.py"


def script_experiment(
    *,
    args: list[str],
    parameters: list[dict[str, Any]] | None = None,
    objective: dict[str, Any] | None = None,
    algorithm: str = "random",
    **spec: Any,
) -> dict[str, Any]:
    """A bare spec whose trial runs trial_script.py with ``args`` (placeholders allowed)."""
    return {
        "objective": objective or {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": algorithm},
        "parameters": parameters
        or [{"name": "value", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": [sys.executable, str(SCRIPT), *args]},
        **spec,
    }
