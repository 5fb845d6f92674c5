"""Keeping a runner's leases alive: one thread that renews the lease of every trial the runner is running.

``LocalRun`` starts one ``LeaseKeeper`` per run. Every third of the lease it renews, in one store call, the
leases of the trials running at that moment, whatever their length, so a slow but healthy runner is never
taken for dead. A renewal that cannot reach the store is tried again at the next tick without waiting (the
trials keep running); only a runner silent for a whole lease, such as a killed one, loses its trials. A trial
the store no longer gives to this runner (its lease expired during a long outage and another runner
interrupted it) is handed to ``on_lost``, which stops it: it runs again elsewhere, never twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from katib_flows.errors import KatibFlowsError
from katib_flows.store import Store

#: How long a trial's lease lasts without renewal, by default: past it, the trial counts as abandoned.
DEFAULT_LEASE_SECONDS = 60.0
LEASE_ENV = "KATIB_FLOWS_LEASE_SECONDS"


class LeaseKeeper:
    """Renews, every ``seconds / 3``, the leases of the trials ``running()`` names."""

    def __init__(
        self,
        store: Store,
        namespace: str,
        name: str,
        runner: str,
        seconds: float,
        running: Callable[[], set[str]],
        on_lost: Callable[[str], None],
    ) -> None:
        self.store, self.namespace, self.name, self.runner = store, namespace, name, runner
        self.seconds, self.running, self.on_lost = seconds, running, on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> None:
        """Renew once now; trials that are no longer this runner's go to ``on_lost``."""
        names = self.running()
        try:
            kept = self.store.renew_leases(self.namespace, self.name, self.runner, names, self.seconds)
        except KatibFlowsError:
            return  # the store is down (or busy): the next tick tries again, the trials run on
        for lost in sorted(names - kept):
            if lost in self.running():  # not a trial that has just finished
                self.on_lost(lost)

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self.renew()
