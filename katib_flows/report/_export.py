"""An experiment's history as files other tools read: CSV (one row per trial), JSON, an Optuna storage.

Called by ``katib-flows export``. CSV has the columns of ``History.rows`` (parameters by name, metrics
as ``metric:NAME`` with their latest value). JSON holds the experiment's status, every trial in the
shape of ``katib-flows trials -o json`` and the full observation log by trial. The Optuna format is
a SQLite file with one study named after the experiment (``_optuna.write_storage``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from katib_flows.report._history import History, _time

FORMATS = ("csv", "json", "optuna")


def to_csv(history: History) -> str:
    rows = history.rows()
    out = io.StringIO()
    columns = list(rows[0]) if rows else ["trial", "number", "status", "reason", "objective"]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(history: History, trial_view: Callable[[Any], dict[str, Any]]) -> str:
    """``trial_view`` is the CLI's shape of a trial (``katib-flows trials -o json``), passed in by the caller."""
    record = history.experiment
    document = {
        "name": record.name,
        "namespace": record.namespace,
        "status": {"condition": record.condition.value, "reason": record.reason, "message": record.message},
        "currentOptimalTrial": record.optimal_trial,
        "startTime": _time(record.started_at),
        "completionTime": _time(record.completed_at),
        "spec": record.spec,
        "trials": [trial_view(t) for t in history.trials],
        "observationLogs": {
            trial: [
                {"metric": log.metric, "value": log.value, "step": log.step, "timestamp": _time(log.timestamp)}
                for log in logs
            ]
            for trial, logs in history.logs.items()
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
