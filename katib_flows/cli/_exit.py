"""Named exit codes of the ``katib-flows`` command; the README lists them for scripts."""

SUCCEEDED = 0
"""The experiment succeeded: its goal was reached, or its budget was spent when it has no goal."""
INTERNAL_ERROR = 1
"""A bug in katib-flows: please report it with the traceback."""
BAD_INPUT = 2
"""The command line, a spec file or a store URL is wrong; the message says what to change."""
EXPERIMENT_FAILED = 3
"""The experiment failed: too many trials failed (maxFailedTrialCount), or its Workflow ended before it did."""
GOAL_NOT_REACHED = 4
"""The budget was spent (or the search space exhausted) without reaching the objective's goal."""
NOT_FOUND = 5
"""The experiment or trial named does not exist in that namespace."""
CLUSTER_ERROR = 6
"""Argo Server (``submit``, ``watch``) or the Kubernetes API (``step trial``) could not be reached or refused the
request; the message says why (a step that fails so is retried by Argo)."""
RUN_IN_PROGRESS = 7
"""Another runner is running the experiment (``resume``), or it exists already (``run``); ``--join`` adds this
one to it."""
STORE_UNAVAILABLE = 75
"""The store stayed unreachable (or locked) for longer than ``KATIB_FLOWS_DB_RETRY_SECONDS``; this runner stopped
its trials and, as after 130, the experiment can be resumed (or joined) once the store is back."""
INTERRUPTED = 130
"""Stopped by Ctrl-C or SIGTERM; the experiment can be resumed."""
