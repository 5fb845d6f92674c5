"""Katib's rule for an experiment's status conditions, as a pure function over the stored list.

``ExperimentTxn.set_condition`` calls ``apply`` and stores what it returns. The rule, from Katib's
``experiment_types`` helpers: setting a condition whose type already holds the same status and reason
changes nothing; otherwise the old entry of that type is removed and the new one appended, so the last
entry is the current condition. Succeeded and Failed first turn Running's status to False (keeping its
reason), and Restarting removes Succeeded and Failed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from katib_flows.store._records import ExperimentCondition

Condition = dict[str, Any]


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def apply(
    conditions: list[Condition], kind: ExperimentCondition, reason: str, message: str, now: dt.datetime
) -> list[Condition]:
    """The conditions after setting ``kind`` (status True); equal to the input when nothing changes."""
    result = [dict(entry) for entry in conditions]
    if kind.terminal:
        running = _find(result, ExperimentCondition.RUNNING)
        if running is not None:
            result = _set(result, ExperimentCondition.RUNNING, "False", running["reason"], running["message"], now)
    if kind is ExperimentCondition.RESTARTING:
        terminal = (ExperimentCondition.SUCCEEDED.value, ExperimentCondition.FAILED.value)
        result = [entry for entry in result if entry.get("type") not in terminal]
    return _set(result, kind, "True", reason, message, now)


def _find(conditions: list[Condition], kind: ExperimentCondition) -> Condition | None:
    return next((entry for entry in conditions if entry.get("type") == kind.value), None)


def _set(
    conditions: list[Condition], kind: ExperimentCondition, status: str, reason: str, message: str, now: dt.datetime
) -> list[Condition]:
    current = _find(conditions, kind)
    if current is not None and current.get("status") == status and current.get("reason") == reason:
        return conditions
    stamp = rfc3339(now)
    same_status = current is not None and current.get("status") == status
    entry = {
        "type": kind.value,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp,
        "lastTransitionTime": current["lastTransitionTime"] if same_status and current else stamp,
    }
    return [*(other for other in conditions if other.get("type") != kind.value), entry]
