"""Plain records the store hands out, so that callers never touch SQLAlchemy objects.

The store (``katib_flows.store``) builds these from rows; the engine, CLI and runners read them.
They are snapshots: changing one changes nothing in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class TrialStatus(str, Enum):
    """Katib's trial conditions. The last five are terminal ("completed" in Katib's words)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    KILLED = "Killed"
    EARLY_STOPPED = "EarlyStopped"
    METRICS_UNAVAILABLE = "MetricsUnavailable"

    @property
    def terminal(self) -> bool:
        return self not in (TrialStatus.CREATED, TrialStatus.RUNNING)


class ExperimentCondition(str, Enum):
    """Katib's experiment condition types; the current one is the last appended."""

    CREATED = "Created"
    RUNNING = "Running"
    RESTARTING = "Restarting"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        return self in (ExperimentCondition.SUCCEEDED, ExperimentCondition.FAILED)


@dataclass(frozen=True)
class MetricLog:
    """One observation row: Katib's ``metric_logs`` entry plus a step index (None when the source had none)."""

    metric: str
    value: str
    timestamp: dt.datetime
    step: int | None = None

    @property
    def number(self) -> float | None:
        """The value as a float, or None for non-numeric values such as ``unavailable``."""
        try:
            return float(self.value)
        except ValueError:
            return None


@dataclass(frozen=True)
class ExperimentRecord:
    namespace: str
    name: str
    spec: dict[str, Any]
    seed: int
    condition: ExperimentCondition
    reason: str
    message: str
    conditions: list[dict[str, Any]]
    created_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    optimal_trial: str | None
    # The algorithm's state is not here: it can be megabytes (enas), and only the suggest path needs it
    # (``Store.algorithm_state``, ``ExperimentTxn.algorithm_state``).


@dataclass(frozen=True)
class TrialRecord:
    namespace: str
    experiment: str
    name: str
    seq: int
    assignments: dict[str, Any]
    status: TrialStatus
    reason: str = ""
    message: str = ""
    lane: int | None = None
    runner: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    observation: dict[str, dict[str, str]] = field(default_factory=dict)
    objective_value: float | None = None
    lease_expires_at: dt.datetime | None = None
    """While the trial is active: when its runner's lease ends unless renewed (None: the trial has no lease)."""
