"""Stopping and deleting an experiment from outside the process that runs it: ``katib-flows stop`` and the UI.

A run is told to stop through the store, so the request reaches it wherever it runs: ``request_stop``
records the time of the request as an annotation of the stored spec (``STOP_ANNOTATION``), the local run's
main thread sees it within a second (``stop_requested``) and ends as after Ctrl-C: its trials are stopped and
marked interrupted, they do not count, and the experiment stays resumable. ``resume`` clears the request
(``clear_stop_request``) before it runs. An annotation rather than a new column: the request is rare, must
be visible with the spec (``katib-flows experiments -o yaml`` shows what the run was told), and needs no
schema migration. ``delete_experiment`` is the one way to delete an experiment with what a local run kept.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

from katib_flows.errors import NotRunningError
from katib_flows.paths import checkpoints_dir, logs_dir
from katib_flows.store import ExperimentRecord, Store

STOP_ANNOTATION = "katib-flows.io/stop-requested"


def stop_requested(record: ExperimentRecord) -> bool:
    """Whether someone asked the runs of this experiment to stop (and no ``resume`` has cleared it since)."""
    return STOP_ANNOTATION in _annotations(record.spec)


def request_stop(store: Store, namespace: str, name: str) -> ExperimentRecord:
    """Ask every run of the experiment to stop as after Ctrl-C; ``NotRunningError`` once it has completed.

    Asking twice keeps the first request's time. Runs see the request within about a second; a run that is
    not alive at all (already interrupted) is unaffected, and ``resume`` continues the experiment later.
    """
    with store.locked_experiment(namespace, name) as txn:
        record = txn.experiment
        if record.condition.terminal:
            raise NotRunningError(
                f"experiment {namespace}/{name} has completed ({record.condition.value}, {record.reason}); "
                "there is nothing to stop"
            )
        if not stop_requested(record):
            now = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
            txn.update_spec(_with_annotation(record.spec, now))
        return txn.experiment


def clear_stop_request(store: Store, namespace: str, name: str) -> None:
    """Forget a stop request, so that a resumed run is not stopped by it again."""
    with store.locked_experiment(namespace, name) as txn:
        if stop_requested(txn.experiment):
            txn.update_spec(_with_annotation(txn.experiment.spec, None))


def delete_experiment(store: Store, namespace: str, name: str) -> None:
    """Delete the experiment, its trials and observation logs, and the output and checkpoints kept on this
    machine; ``NotFoundError`` if there is no such experiment."""
    store.delete_experiment(namespace, name)
    shutil.rmtree(logs_dir() / namespace / name, ignore_errors=True)
    shutil.rmtree(checkpoints_dir() / namespace / name, ignore_errors=True)


def _annotations(spec: dict[str, Any]) -> dict[str, str]:
    return (spec.get("metadata") or {}).get("annotations") or {}


def _with_annotation(spec: dict[str, Any], value: str | None) -> dict[str, Any]:
    """A copy of ``spec`` with the stop annotation set to ``value`` (removed when None)."""
    metadata = dict(spec.get("metadata") or {})
    annotations = {k: v for k, v in _annotations(spec).items() if k != STOP_ANNOTATION}
    if value is not None:
        annotations[STOP_ANNOTATION] = value
    metadata["annotations"] = annotations
    return {**spec, "metadata": metadata}
