"""What every trial runner is given: the claimed trial, its experiment, the store, early stopping, a display.

Made by the caller that picked the runner (the lanes of a local run, ``katib-flows step trial``) and
passed to the runner's constructor, so the runners share one signature for what they have in common and
``record`` knows where the outcome goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from katib_flows.spec import Experiment
from katib_flows.store import Store, TrialRecord
from katib_flows.trial._early import EarlyStopping


@dataclass(frozen=True)
class TrialContext:
    """One claimed trial (created Running) of experiment ``experiment_name`` in ``namespace``."""

    store: Store
    namespace: str
    experiment_name: str
    experiment: Experiment
    trial: TrialRecord
    early: EarlyStopping | None = None
    """The experiment's early stopping, shared by the trials that run at the same time; None without one."""
    on_line: Callable[[str], None] | None = None
    """Where the trial's output and the runner's own messages are shown."""

    def say(self, line: str) -> None:
        if self.on_line is not None:
            self.on_line(line)
