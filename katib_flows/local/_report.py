"""Progress of a local run: a live table on a terminal, plain lines elsewhere (CI logs, ``--quiet``).

The lanes call a ``Reporter`` from their threads; implementations serialise their own output. The live
table shows trials running/succeeded/failed, the best trial so far with its parameters, the elapsed time
and an estimate of the time left; ``verbose`` streams every trial's output lines too.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from katib_flows.engine import Counts, shown_objective
from katib_flows.spec import read_architecture, summary_text
from katib_flows.store import ExperimentRecord, TrialRecord, TrialStatus

if TYPE_CHECKING:
    from rich.table import Table


def _params(trial: TrialRecord) -> str:
    layers = read_architecture(trial.assignments)
    if layers is not None:  # an ENAS trial: its layers in words, not a page of nn_config
        return summary_text(layers)
    return ", ".join(f"{k}={v}" for k, v in trial.assignments.items())


class Reporter:
    """Base reporter: keeps the counts and the best trial; subclasses decide how to show them."""

    def __init__(self, *, maximize: bool = True, max_trials: int | None = None, verbose: bool = False) -> None:
        self.maximize, self.max_trials, self.verbose = maximize, max_trials, verbose
        self.metric = ""
        self.trials: dict[str, TrialRecord] = {}
        self.best: TrialRecord | None = None
        self.started_at = time.monotonic()
        self._lock = threading.Lock()

    def started(self, experiment: ExperimentRecord, lanes: int) -> None:
        objective = experiment.spec.get("spec", {}).get("objective", {})
        self.maximize = objective.get("type") != "minimize"
        self.metric = objective.get("objectiveMetricName", "")
        self.max_trials = experiment.spec.get("spec", {}).get("maxTrialCount")

    def trial_started(self, trial: TrialRecord, lane: int) -> None:
        with self._lock:
            self.trials[trial.name] = trial

    def trial_output(self, trial: TrialRecord, line: str) -> None:
        pass

    def trial_finished(self, trial: TrialRecord) -> None:
        with self._lock:
            self.trials[trial.name] = trial
            value = trial.objective_value
            if trial.status is not TrialStatus.SUCCEEDED:
                return
            if value is None:
                if self._value(trial) != "-":  # a non-numeric value (DARTS's genotype): the best, as in Katib
                    self.best = trial
                return
            best = self.best.objective_value if self.best else None
            if self.best is None or (best is not None and (value > best if self.maximize else value < best)):
                self.best = trial

    def _value(self, trial: TrialRecord) -> str:
        return shown_objective(trial, self.metric)

    def tick(self) -> None:
        pass

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None:
        pass

    def counts(self) -> Counts:
        return Counts.of(self.trials.values())

    def eta(self) -> float | None:
        """Seconds left at the pace so far, when the budget is known and a trial has finished."""
        counts = self.counts()
        if not self.max_trials or counts.completed == 0:
            return None
        elapsed = time.monotonic() - self.started_at
        return elapsed / counts.completed * max(self.max_trials - counts.completed, 0)


class LineReporter(Reporter):
    """One line per event, for logs and pipes."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, **kwargs: bool | int | None) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.stream = stream or sys.stderr
        self.quiet = quiet

    def _say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def started(self, experiment: ExperimentRecord, lanes: int) -> None:
        super().started(experiment, lanes)
        if not self.quiet:
            budget = self.max_trials if self.max_trials is not None else "no limit"
            self._say(f"experiment {experiment.namespace}/{experiment.name}: {lanes} lanes, max trials {budget}")

    def trial_started(self, trial: TrialRecord, lane: int) -> None:
        super().trial_started(trial, lane)
        if not self.quiet:
            self._say(f"[lane {lane}] {trial.name} started: {_params(trial)}")

    def trial_output(self, trial: TrialRecord, line: str) -> None:
        if self.verbose:
            self._say(f"  {trial.name} | {line}")

    def trial_finished(self, trial: TrialRecord) -> None:
        super().trial_finished(trial)
        if not self.quiet:
            reason = f" ({trial.reason})" if trial.reason and trial.status is not TrialStatus.SUCCEEDED else ""
            self._say(f"{trial.name} {trial.status.value}{reason}: objective {self._value(trial)}")
            if trial.status is TrialStatus.FAILED and trial.message:
                self._say("  " + trial.message.replace("\n", "\n  "))

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None:
        if interrupted:
            self._say(f"interrupted: resume with `katib-flows resume {experiment.name}`")
        self._say(f"experiment {experiment.name}: {experiment.condition.value} ({experiment.reason})")


class LiveReporter(Reporter):
    """A rich live table, redrawn on every tick, for a terminal."""

    def __init__(self, **kwargs: bool | int | None) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)
        self.name = ""

    def started(self, experiment: ExperimentRecord, lanes: int) -> None:
        super().started(experiment, lanes)
        self.name = f"{experiment.namespace}/{experiment.name}"
        self.live.start()

    def trial_output(self, trial: TrialRecord, line: str) -> None:
        if self.verbose:
            self.live.console.print(f"[dim]{trial.name} |[/dim] {line}", markup=True, highlight=False)

    def trial_finished(self, trial: TrialRecord) -> None:
        super().trial_finished(trial)
        if trial.status is TrialStatus.FAILED:
            self.live.console.print(
                f"[red]{trial.name} failed[/red]: {trial.message.splitlines()[0] if trial.message else ''}"
            )

    def tick(self) -> None:
        self.live.update(self._render())

    def _render(self) -> Table:
        counts = self.counts()
        by = counts.by_status
        elapsed = time.monotonic() - self.started_at
        eta = self.eta()
        from rich.table import Table

        table = Table(title=f"katib-flows {self.name}", show_header=True)
        for column in ("running", "succeeded", "failed", "other", "elapsed", "eta", "best", "best parameters"):
            table.add_column(column)
        other = counts.completed - by[TrialStatus.SUCCEEDED] - counts.failed
        table.add_row(
            str(counts.active),
            str(by[TrialStatus.SUCCEEDED]),
            str(counts.failed),
            str(other),
            f"{elapsed:.0f}s",
            "-" if eta is None else f"{eta:.0f}s",
            self._value(self.best) if self.best else "-",
            _params(self.best) if self.best else "-",
        )
        return table

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None:
        self.live.update(self._render())
        self.live.stop()
        if interrupted:
            self.console.print(f"interrupted: resume with `katib-flows resume {experiment.name}`")
        self.console.print(f"experiment {experiment.name}: {experiment.condition.value} ({experiment.reason})")
