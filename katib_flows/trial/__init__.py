"""Running one claimed trial to its end, whatever runs it: the runner interface and what runners share.

``TrialRunner`` is the interface (its docstring gives the call order), ``Outcome`` how a trial ended and
``record`` the one function that stores it. The shared pieces: ``Collection`` (a trial's metrics while it
runs, from its output or its files), ``EarlyStopping`` (the experiment's rule, checked at every report),
PBT checkpoint directories (``prepare_checkpoint``) and what stops a trial from outside
(``stop_when_experiment_ends``, ``on_sigterm``). The runners are adapters above this package: ``local``
runs a trial as a process, ``kube`` as an object in a cluster; neither imports the other, and callers (the
local lanes, ``katib-flows step trial``) see only this interface. Imports neither kubernetes nor hera.
"""

from katib_flows.trial._checkpoint import CHECKPOINT_DIR_ENV, prepare_checkpoint
from katib_flows.trial._collect import Collection
from katib_flows.trial._context import TrialContext
from katib_flows.trial._early import REASON_EARLY_STOPPED, EarlyStopping
from katib_flows.trial._outcome import INTERRUPTED, REASON_FAILED, Outcome, record, stopped
from katib_flows.trial._runner import TrialRunner, wait_and_record
from katib_flows.trial._watch import on_sigterm, stop_when_experiment_ends

__all__ = [
    "CHECKPOINT_DIR_ENV",
    "INTERRUPTED",
    "REASON_EARLY_STOPPED",
    "REASON_FAILED",
    "Collection",
    "EarlyStopping",
    "Outcome",
    "TrialContext",
    "TrialRunner",
    "on_sigterm",
    "prepare_checkpoint",
    "record",
    "stop_when_experiment_ends",
    "stopped",
    "wait_and_record",
]
