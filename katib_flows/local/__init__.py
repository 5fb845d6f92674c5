"""The local engine: trials as processes on this machine, lanes as threads, any store (SQLite by default)."""

from katib_flows.local._checkpoint import CHECKPOINT_DIR_ENV, prepare_checkpoint
from katib_flows.local._collect import Collection
from katib_flows.local._command import SOURCE_DIR_ANNOTATION, images, trial_command
from katib_flows.local._early import REASON_EARLY_STOPPED, EarlyStopping
from katib_flows.local._lanes import LocalRun, RunOptions, runner_alive, runner_id
from katib_flows.local._process import Command, TrialProcess
from katib_flows.local._report import LineReporter, LiveReporter, Reporter
from katib_flows.local._resume import take_over
from katib_flows.local._trial import INTERRUPTED, LocalTrial

__all__ = [
    "CHECKPOINT_DIR_ENV",
    "INTERRUPTED",
    "REASON_EARLY_STOPPED",
    "SOURCE_DIR_ANNOTATION",
    "Collection",
    "Command",
    "EarlyStopping",
    "LineReporter",
    "LiveReporter",
    "LocalRun",
    "LocalTrial",
    "Reporter",
    "RunOptions",
    "TrialProcess",
    "images",
    "prepare_checkpoint",
    "runner_alive",
    "runner_id",
    "take_over",
    "trial_command",
]
