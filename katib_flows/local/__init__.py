"""The local engine: trials as processes on this machine, lanes as threads, any store (SQLite by default).

``LocalTrial`` is the local ``TrialRunner`` (``katib_flows.trial``), the sibling of the Kubernetes runner
(``katib_flows.kube``); neither imports the other.
"""

from katib_flows.local._command import SOURCE_DIR_ANNOTATION, images, trial_command
from katib_flows.local._lanes import LocalRun, RunOptions, runner_alive, runner_id
from katib_flows.local._process import Command, TrialProcess
from katib_flows.local._report import LineReporter, LiveReporter, Reporter
from katib_flows.local._resume import take_over
from katib_flows.local._trial import LocalTrial

__all__ = [
    "SOURCE_DIR_ANNOTATION",
    "Command",
    "LineReporter",
    "LiveReporter",
    "LocalRun",
    "LocalTrial",
    "Reporter",
    "RunOptions",
    "TrialProcess",
    "images",
    "runner_alive",
    "runner_id",
    "take_over",
    "trial_command",
]
