"""What stops a running trial from outside: the experiment completing elsewhere, and SIGTERM.

``stop_when_experiment_ends`` is for a runner with no lanes beside it to tell it the experiment ended
(``katib-flows step trial``: another lane of the Workflow may reach the goal): a thread reads the
experiment from the store every ``poll_seconds`` and stops the trial ``ExperimentCompleted`` once it is
terminal. ``on_sigterm`` is the one SIGTERM handler of the package's callers (Argo stopping a step, a
scheduler or ``kill`` stopping a local run): it calls back in the main thread and puts the previous
handler back on exit. Both are context managers, so no thread or handler outlives the trial.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from katib_flows.engine import REASON_EXPERIMENT_COMPLETED
from katib_flows.errors import KatibFlowsError
from katib_flows.trial._runner import TrialRunner


@contextmanager
def stop_when_experiment_ends(runner: TrialRunner, poll_seconds: float) -> Iterator[None]:
    """While inside, stop ``runner`` with ``ExperimentCompleted`` when its experiment becomes terminal."""
    context = runner.context
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_seconds):
            try:
                found = context.store.get_experiment(context.namespace, context.experiment_name)
            except KatibFlowsError:
                continue  # the store blinked; the next poll tries again
            if found.condition.terminal:
                runner.stop(REASON_EXPERIMENT_COMPLETED)
                return

    watcher = threading.Thread(target=watch, name=f"watch-{context.trial.name}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@contextmanager
def on_sigterm(callback: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGTERM calls ``callback`` (in the main thread; elsewhere signals cannot be caught)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        callback()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
