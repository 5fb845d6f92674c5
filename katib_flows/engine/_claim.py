"""``claim_waiting``: claim a lane's next trial, waiting with backoff while the answer is "not yet".

Called by ``katib-flows step suggest`` (one Argo or Airflow step claims one trial): a ``Wait`` answer (every
slot busy, or the algorithm waits for results) is asked again after 0.5 s, 1 s, 2 s... (at most 10 s apart)
until a trial is claimed, the experiment is done, or ``wait_seconds`` have passed. Time comes from a
``Clock``, so the tests drive the loop without sleeping.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from katib_flows.engine._engine import ClaimResult, Wait, claim_next_trial

if TYPE_CHECKING:
    from katib_flows.store import Store

FIRST_DELAY = 0.5
MAX_DELAY = 10.0


class Clock(Protocol):
    """Where ``claim_waiting`` reads the time and waits: the system's, or a test's."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def claim_waiting(
    store: Store,
    namespace: str,
    name: str,
    *,
    lane: int,
    runner: str,
    wait_seconds: float,
    clock: Clock | None = None,
) -> ClaimResult:
    """The first answer that is not ``Wait`` (``Claimed`` or ``Done``), else the last ``Wait`` once time is up."""
    clock = clock or SystemClock()
    deadline, delay = clock.monotonic() + wait_seconds, FIRST_DELAY
    while True:
        result = claim_next_trial(store, namespace, name, lane=lane, runner=runner)
        if not isinstance(result, Wait):
            return result
        left = deadline - clock.monotonic()
        if left <= 0:
            return result
        clock.sleep(min(delay, left))
        delay = min(delay * 2, MAX_DELAY)
