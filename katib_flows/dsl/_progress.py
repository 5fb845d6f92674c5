"""Progress of a run started from Python: an updating HTML bar in Jupyter, one rewritten text line elsewhere.

``Experiment.run`` and ``tune`` use it through ``progress_reporter``. Lanes report from their threads;
this reporter only records there and draws from ``tick``, which the run's main thread calls, so a
notebook's output always lands in the cell that started the run. Failures are printed once each,
with the first line of their message; the whole output stays in ``katib-flows logs NAME TRIAL``.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any, TextIO

from katib_flows.local import LineReporter, Reporter
from katib_flows.store import ExperimentRecord, TrialRecord, TrialStatus

_WIDTH = 24


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where HTML output updates in place), False in a terminal or script."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def progress_reporter(progress: bool, *, verbose: bool = False) -> Reporter:
    if not progress:
        return LineReporter(quiet=True, verbose=verbose)
    return ProgressReporter(html=in_notebook(), verbose=verbose)


class ProgressReporter(Reporter):
    """A progress bar with counts, the best value and parameters so far, elapsed time and time left."""

    def __init__(self, stream: TextIO | None = None, *, html: bool = False, verbose: bool = False) -> None:
        super().__init__(verbose=verbose)
        self.stream = stream or sys.stdout
        self.html = html
        self.name = ""
        self._handle: Any = None
        self._pending: list[str] = []
        self._drawn = 0.0

    def started(self, experiment: ExperimentRecord, lanes: int) -> None:
        super().started(experiment, lanes)
        self.name = experiment.name
        if self.html:
            from IPython.display import HTML, display

            self._handle = display(HTML(self._html()), display_id=True)

    def trial_output(self, trial: TrialRecord, line: str) -> None:
        if self.verbose:
            with self._lock:
                self._pending.append(f"{trial.name} | {line}")

    def trial_finished(self, trial: TrialRecord) -> None:
        super().trial_finished(trial)
        if trial.status is TrialStatus.FAILED:
            first = trial.message.splitlines()[0] if trial.message else trial.reason
            with self._lock:
                self._pending.append(f"{trial.name} failed: {first}")

    def tick(self) -> None:
        if time.monotonic() - self._drawn >= 0.5:
            self._draw()

    def finished(self, experiment: ExperimentRecord, *, interrupted: bool) -> None:
        self._draw()
        if not self.html:
            print(file=self.stream, flush=True)
        if interrupted:
            print(f"interrupted: resume with `katib-flows resume {experiment.name}`", file=self.stream)
        print(f"experiment {experiment.name}: {experiment.condition.value} ({experiment.reason})", file=self.stream)

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        with self._lock:
            pending, self._pending = self._pending, []
        if self.html:
            for line in pending:
                print(line, file=self.stream)
            if self._handle is not None:
                from IPython.display import HTML

                self._handle.update(HTML(self._html()))
            return
        for line in pending:
            print("\r\033[K" + line, file=self.stream)
        print("\r\033[K" + self.line(), end="", file=self.stream, flush=True)

    def _state(self) -> tuple[int, int | None, str]:
        counts = self.counts()
        done = counts.completed
        total = self.max_trials
        eta = self.eta()
        elapsed = time.monotonic() - self.started_at
        by = counts.by_status
        parts = [
            f"{by[TrialStatus.SUCCEEDED]} succeeded",
            f"{counts.failed} failed",
            f"{counts.active} running",
            f"{elapsed:.0f}s" + (f", ~{eta:.0f}s left" if eta is not None and done != total else ""),
        ]
        if self.best is not None:
            params = ", ".join(f"{k}={_short(v)}" for k, v in self.best.assignments.items())
            parts.append(f"best {self.metric}={self._value(self.best)} ({params})")
        return done, total, " | ".join(parts)

    def line(self) -> str:
        """The text line: ``name [#####.....] 5/10 | 4 succeeded | ... | best accuracy=0.97 (lr=0.01)``."""
        done, total, text = self._state()
        if total:
            filled = round(_WIDTH * min(done, total) / total)
            bar = f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total}"
        else:
            bar = f"{done} trials"
        return f"{self.name} {bar} | {text}"

    def _html(self) -> str:
        done, total, text = self._state()
        bar = f'<progress value="{done}" max="{total or max(done, 1)}" style="width:16em"></progress>'
        count = f"{done}/{total}" if total else f"{done} trials"
        return f"<div><code>{html.escape(self.name)}</code> {bar} {count} &middot; {html.escape(text)}</div>"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
