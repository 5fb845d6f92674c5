"""The store: experiments, trials and observation logs in SQLite, MySQL or PostgreSQL.

``Store`` is the only public entry; it hands out the plain records below, never SQLAlchemy objects. Only
this package imports SQLAlchemy and alembic (an import-linter contract checks it).
"""

from katib_flows.store._failures import experiment_not_found
from katib_flows.store._records import ExperimentCondition, ExperimentRecord, MetricLog, TrialRecord, TrialStatus
from katib_flows.store._store import Store
from katib_flows.store._txn import ExperimentTxn
from katib_flows.store._urls import safe_url

DEFAULT_NAMESPACE = "default"

__all__ = [
    "DEFAULT_NAMESPACE",
    "ExperimentCondition",
    "ExperimentRecord",
    "ExperimentTxn",
    "MetricLog",
    "Store",
    "TrialRecord",
    "TrialStatus",
    "experiment_not_found",
    "safe_url",
]
