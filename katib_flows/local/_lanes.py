"""The local engine: ``parallelTrialCount`` lanes, each looping claim -> run -> record -> evaluate.

``LocalRun.run`` is what ``katib-flows run`` and ``resume`` call. Each lane is a thread that owns one
trial process at a time; a finished trial's slot is claimed again at once, so no lane waits for the
slowest trial of a batch; a lane drives its trial through the ``TrialRunner`` call order with a
``LocalTrial``. The main thread only watches: the deadline, Ctrl-C (SIGINT), SIGTERM, and a stop request
in the store (``katib-flows stop``, the UI), which it treats as Ctrl-C. When the experiment completes,
trials still running are stopped and marked ``Killed`` (Katib lets them run; DESIGN.md section 8). When
interrupted, they are marked as interrupted and the experiment stays resumable. All state is in the
store; a crash of this process loses nothing that ``resume`` cannot redo.

Several runners (processes, machines) may run one experiment on a shared store (``--join``): the engine's
claim keeps them within ``parallelTrialCount`` together, ``RunOptions.lanes`` caps this runner's share,
and each runner holds a lease on its trials (``_lease``), so the trials of a runner that dies are run
again by the others. If the store stays unreachable past its bound, the runner stops its trials and
raises ``StoreUnavailableError``; the experiment is left resumable.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import katib_flows_suggestion as sg

from katib_flows.engine import (
    REASON_EXPERIMENT_COMPLETED,
    Claimed,
    Done,
    claim_next_trial,
    evaluate_experiment,
    experiment_of,
    interrupt_trial,
    stop_requested,
)
from katib_flows.errors import StoreUnavailableError
from katib_flows.local._lease import DEFAULT_LEASE_SECONDS, LeaseKeeper
from katib_flows.local._process import DEFAULT_GRACE_SECONDS
from katib_flows.local._report import Reporter
from katib_flows.local._trial import LocalTrial
from katib_flows.spec import Experiment
from katib_flows.store import ExperimentCondition, ExperimentRecord, Store, TrialRecord
from katib_flows.trial import INTERRUPTED, EarlyStopping, TrialContext, on_sigterm, wait_and_record

REASON_DEADLINE = "ExperimentDeadlineReached"
#: How long an idle lane sleeps before asking again, when no local trial finishing wakes it first.
_IDLE_POLL_SECONDS = 1.0
#: How often the main thread reads the store for a stop request (``katib-flows stop``, the UI's Stop button).
_STOP_POLL_SECONDS = 1.0


def runner_id() -> str:
    """Who runs a trial: host and process id, so ``resume`` can tell a dead runner from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}"


def runner_alive(runner: str | None) -> bool | None:
    """True or False for a runner on this host; None when it ran elsewhere and nobody here can tell."""
    if not runner or ":" not in runner:
        return False
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunOptions:
    deadline: float | None = None
    """Seconds from the start after which the experiment ends and running trials are stopped."""
    grace: float = DEFAULT_GRACE_SECONDS
    logs_dir: Path | None = None
    """Where each trial's output is kept as ``<namespace>/<experiment>/<trial>.log``."""
    lanes: int | None = None
    """This runner's own cap on its concurrent trials (default: ``parallelTrialCount``, the cap of all runners)."""
    lease: float = DEFAULT_LEASE_SECONDS
    """Seconds a trial's lease lasts unless renewed; renewed every third of it while the trial runs."""


class LocalRun:
    """Runs one stored experiment's trials on this machine until it completes or is stopped."""

    def __init__(self, store: Store, namespace: str, name: str, reporter: Reporter, options: RunOptions) -> None:
        self.store, self.namespace, self.name = store, namespace, name
        self.reporter, self.options = reporter, options
        self.runner = runner_id()
        self.experiment: Experiment = experiment_of(store.get_experiment(namespace, name))
        self._running: dict[str, LocalTrial] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop_reason: str | None = None
        self._errors: list[BaseException] = []
        # This process suggests every trial of the run: keep the algorithm's state between claims (same trials).
        self._cache = sg.SuggestionCache()
        self._early = (
            EarlyStopping(self.experiment, store, namespace, name) if self.experiment.spec.early_stopping else None
        )

    def run(self) -> ExperimentRecord:
        lanes = self.experiment.spec.parallel_trial_count or 1
        lanes = min(lanes, self.options.lanes or lanes)
        self.reporter.started(self.store.get_experiment(self.namespace, self.name), lanes)
        threads = [threading.Thread(target=self._lane, args=(i,), name=f"lane-{i}", daemon=True) for i in range(lanes)]
        keeper = LeaseKeeper(self.store, self.namespace, self.name, self.runner, self.options.lease,
                             self._running_names, self._lost)  # fmt: skip
        keeper.start()
        started = polled = time.monotonic()
        # SIGTERM (a scheduler or ``kill`` asks us to stop) stops the run as Ctrl-C does.
        with on_sigterm(_keyboard_interrupt):
            try:
                for thread in threads:
                    thread.start()
                while any(t.is_alive() for t in threads):
                    for thread in threads:
                        thread.join(timeout=0.2)
                    self.reporter.tick()
                    now, deadline = time.monotonic(), self.options.deadline
                    if deadline is not None and now - started > deadline and self._stop_reason is None:
                        self._stop(REASON_DEADLINE)
                    if now - polled >= _STOP_POLL_SECONDS and self._stop_reason is None:
                        polled = now
                        if self._stop_asked():
                            self._stop(INTERRUPTED)  # asked through the store: end exactly as after Ctrl-C
            except KeyboardInterrupt:
                self._stop(INTERRUPTED)
                for thread in threads:
                    thread.join()
            finally:
                keeper.stop()
        if self._stop_reason == INTERRUPTED:
            self._interrupt_leftovers()
        if self._errors:
            # The store going away explains the errors that followed it in other lanes.
            raise next((e for e in self._errors if isinstance(e, StoreUnavailableError)), self._errors[0])
        if self._stop_reason == REASON_DEADLINE:
            self._end_by_deadline()
        record = self.store.get_experiment(self.namespace, self.name)
        self.reporter.finished(record, interrupted=self._stop_reason == INTERRUPTED)
        return record

    def _lane(self, lane: int) -> None:
        try:
            while self._stop_reason is None:
                result = claim_next_trial(self.store, self.namespace, self.name, lane=lane, runner=self.runner,
                                          cache=self._cache, lease=self.options.lease)  # fmt: skip
                if isinstance(result, Done) and result.completed:
                    self._stop(REASON_EXPERIMENT_COMPLETED)
                    return
                # Done but not completed: every trial is created and some still run, here or in another
                # runner. Stay until the experiment completes: if one of them is interrupted (its runner
                # died), its slot must be run again.
                if isinstance(result, Claimed):
                    self._run_trial(result.trial, lane)
                else:
                    with self._wake:
                        self._wake.wait(timeout=_IDLE_POLL_SECONDS)
        except BaseException as exc:  # a lane must not die silently: the main thread re-raises it
            self._errors.append(exc)
            # Without a store, trials cannot be recorded: stop them as interrupted (resumable), not killed.
            self._stop(INTERRUPTED if isinstance(exc, StoreUnavailableError) else "error")

    def _run_trial(self, trial: TrialRecord, lane: int) -> None:
        """Run a trial claimed by this runner (created Running) to its end."""
        self.reporter.trial_started(trial, lane)
        context = TrialContext(self.store, self.namespace, self.name, self.experiment, trial, early=self._early,
                               on_line=lambda line: self.reporter.trial_output(trial, line))  # fmt: skip
        run = LocalTrial(context, log_path=self._log_path(trial), grace=self.options.grace)
        run.start()
        with self._lock:
            self._running[trial.name] = run
            stopping = self._stop_reason
        if stopping is not None:
            run.stop(stopping)
        try:
            finished = wait_and_record(run)
        finally:
            with self._lock:
                self._running.pop(trial.name, None)
        self.reporter.trial_finished(finished)
        with self._wake:
            self._wake.notify_all()

    def _stop_asked(self) -> bool:
        """Whether the store holds a stop request; while the store is down, no (the lanes see the outage)."""
        try:
            return stop_requested(self.store.get_experiment(self.namespace, self.name))
        except StoreUnavailableError:
            return False

    def _running_names(self) -> set[str]:
        with self._lock:
            return set(self._running)

    def _lost(self, trial: str) -> None:
        """The store gave ``trial`` to no one (its lease expired): stop it, it runs again."""
        with self._lock:
            run = self._running.get(trial)
        if run is not None:
            run.stop(INTERRUPTED)

    def _stop(self, reason: str) -> None:
        """Stop every running trial (once); lanes see the reason and end after their current trial."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            running = list(self._running.values())
            self._wake.notify_all()
        for run in running:
            run.stop(self._stop_reason or reason)

    def _interrupt_leftovers(self) -> None:
        """After Ctrl-C, no trial of this runner may stay active: one claimed as the stop came in is
        marked interrupted here (it does not count, and ``resume`` runs it again)."""
        for left in self.store.active_trials(self.namespace, self.name):
            if left.runner == self.runner:
                interrupt_trial(self.store, self.namespace, left.name, "the run was interrupted; it runs again")

    def _end_by_deadline(self) -> None:
        record = self.store.get_experiment(self.namespace, self.name)
        if not record.condition.terminal:
            self.store.set_experiment_condition(
                self.namespace,
                self.name,
                ExperimentCondition.SUCCEEDED,
                REASON_DEADLINE,
                "Experiment has succeeded because its deadline has been reached",
                optimal_trial=evaluate_experiment(self.store, self.namespace, self.name).optimal_trial,
            )

    def _log_path(self, trial: TrialRecord) -> Path | None:
        if self.options.logs_dir is None:
            return None
        return self.options.logs_dir / self.namespace / self.name / f"{trial.name}.log"


def _keyboard_interrupt() -> None:
    raise KeyboardInterrupt
