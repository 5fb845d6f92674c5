"""The trial methods of ``Store``: reads in creation order, the two conditional state transitions and
lease renewal.

``start_trial`` and ``finish_trial`` are single conditional UPDATEs (``... WHERE status IN (...)``), so of
several processes racing to start or finish a trial exactly one gets True and the others False, on every
backend, without locks held across calls. Creating trials happens in ``ExperimentTxn.add_trial``; finding
trials whose lease expired in ``ExperimentTxn.expired_trials``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from katib_flows.store._failures import experiment_not_found, rowcount, trial_not_found
from katib_flows.store._records import TrialRecord, TrialStatus
from katib_flows.store._schema import ExperimentRow, TrialRow, named_experiment

T = TypeVar("T")
_ACTIVE = (TrialStatus.CREATED.value, TrialStatus.RUNNING.value)


class Trials:
    """Trial methods of ``Store``; each runs in one transaction through ``Store._run``."""

    _clock: Callable[[], dt.datetime]

    def _run(self, doing: str, body: Callable[[Session], T], *, write: bool = False, wait: bool = True) -> T:
        raise NotImplementedError

    def get_trial(self, namespace: str, trial_name: str) -> TrialRecord:
        """The trial ``trial_name`` of ``namespace``; ``NotFoundError`` if there is none."""

        def body(session: Session) -> TrialRecord:
            found = session.execute(
                select(TrialRow, ExperimentRow.name)
                .join(ExperimentRow, TrialRow.experiment_id == ExperimentRow.id)
                .where(TrialRow.namespace == namespace, TrialRow.name == trial_name)
            ).first()
            if found is None:
                raise trial_not_found(namespace, trial_name)
            return found[0].to_record(found[1])

        return self._run(f"reading trial {namespace}/{trial_name}", body)

    def list_trials(self, namespace: str, experiment: str) -> list[TrialRecord]:
        """Every trial of the experiment in creation order; ``NotFoundError`` if there is no experiment."""
        return self._trials(namespace, experiment)

    def trials_since(self, namespace: str, experiment: str, seq: int, *, wait: bool = True) -> list[TrialRecord]:
        """Trials whose ``seq`` is ``seq`` or later, in order: what a cache holding ``seq`` trials lacks.
        Without ``wait`` an unreachable store raises ``StoreUnavailableError`` at once."""
        return self._trials(namespace, experiment, TrialRow.seq >= seq, wait=wait)

    def active_trials(self, namespace: str, experiment: str) -> list[TrialRecord]:
        """Trials still Created or Running, in order, so the engine can reclaim those of dead runners."""
        return self._trials(namespace, experiment, TrialRow.status.in_(_ACTIVE))

    def start_trial(self, namespace: str, trial_name: str, *, runner: str) -> bool:
        """Created -> Running, owned by ``runner``, in one conditional UPDATE; False if it was not Created."""
        changes = {"status": TrialStatus.RUNNING.value, "started_at": self._clock(), "runner": runner,
                   "reason": "TrialRunning", "message": "Trial is running"}  # fmt: skip
        return self._transition(namespace, trial_name, (TrialStatus.CREATED.value,), changes, "starting")

    def finish_trial(
        self,
        namespace: str,
        trial_name: str,
        status: TrialStatus,
        *,
        reason: str = "",
        message: str = "",
        observation: dict[str, dict[str, str]] | None = None,
        objective_value: float | None = None,
    ) -> bool:
        """Created/Running -> terminal ``status`` in one conditional UPDATE; False if already terminal.

        ``observation`` replaces the stored one when given; ``completed_at`` becomes now.
        """
        if not status.terminal:
            raise ValueError(f"finish_trial needs a terminal status, got {status.value}")
        changes: dict[str, Any] = {"status": status.value, "reason": reason, "message": message,
                                   "completed_at": self._clock(), "objective_value": objective_value}  # fmt: skip
        if observation is not None:
            changes["observation"] = observation
        return self._transition(namespace, trial_name, _ACTIVE, changes, "finishing")

    def renew_leases(
        self, namespace: str, experiment: str, runner: str, trials: Collection[str], seconds: float
    ) -> set[str]:
        """Extend to now + ``seconds`` the leases ``runner`` holds on ``trials`` of the experiment (one UPDATE);
        returns the names still active and the runner's (a trial missing from it was taken from the runner).

        Never waits through an outage (``StoreUnavailableError`` at once): the renewer tries again soon.
        """
        names = sorted(trials)
        if not names:
            return set()
        expires = self._clock() + dt.timedelta(seconds=seconds)

        def body(session: Session) -> set[str]:
            experiment_id = session.scalar(select(ExperimentRow.id).where(*named_experiment(namespace, experiment)))
            if experiment_id is None:
                raise experiment_not_found(namespace, experiment)
            mine = (TrialRow.experiment_id == experiment_id, TrialRow.runner == runner,
                    TrialRow.status.in_(_ACTIVE), TrialRow.name.in_(names))  # fmt: skip
            session.execute(
                update(TrialRow)
                .where(*mine)
                .values(lease_expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            return set(session.scalars(select(TrialRow.name).where(*mine)))

        return self._run(f"renewing the leases of {runner} in {namespace}/{experiment}", body, write=True, wait=False)

    def _trials(self, namespace: str, experiment: str, *conditions: Any, wait: bool = True) -> list[TrialRecord]:
        def body(session: Session) -> list[TrialRecord]:
            experiment_id = session.scalar(select(ExperimentRow.id).where(*named_experiment(namespace, experiment)))
            if experiment_id is None:
                raise experiment_not_found(namespace, experiment)
            rows = session.scalars(
                select(TrialRow).where(TrialRow.experiment_id == experiment_id, *conditions).order_by(TrialRow.seq)
            )
            return [row.to_record(experiment) for row in rows]

        return self._run(f"listing the trials of {namespace}/{experiment}", body, wait=wait)

    def _transition(
        self, namespace: str, trial_name: str, allowed: tuple[str, ...], changes: dict[str, Any], doing: str
    ) -> bool:
        def body(session: Session) -> bool:
            named = (TrialRow.namespace == namespace, TrialRow.name == trial_name)
            result = session.execute(
                update(TrialRow)
                .where(*named, TrialRow.status.in_(allowed))
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
            if rowcount(result) == 1:
                return True
            if session.scalar(select(TrialRow.id).where(*named)) is None:
                raise trial_not_found(namespace, trial_name)
            return False

        return self._run(f"{doing} trial {namespace}/{trial_name}", body, write=True)
