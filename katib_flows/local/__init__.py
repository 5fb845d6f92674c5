"""The local engine: trials as processes on this machine, lanes as threads, any store (SQLite by default)."""

from katib_flows.local._command import SOURCE_DIR_ANNOTATION, images, trial_command
from katib_flows.local._lanes import LocalRun, RunOptions, runner_alive, runner_id
from katib_flows.local._process import Command, TrialProcess
from katib_flows.local._report import LineReporter, LiveReporter, Reporter
from katib_flows.local._resume import take_over

__all__ = [
    "SOURCE_DIR_ANNOTATION",
    "Command",
    "LineReporter",
    "LiveReporter",
    "LocalRun",
    "Reporter",
    "RunOptions",
    "TrialProcess",
    "images",
    "runner_alive",
    "runner_id",
    "take_over",
    "trial_command",
]
