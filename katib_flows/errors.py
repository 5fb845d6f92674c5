"""The exceptions katib-flows raises, one root and a subclass for each thing a caller handles differently.

Every layer raises these; third-party exceptions are caught in their adapter and chained with ``from``.
The CLI maps them to exit codes and prints their message, which states the rule, the value and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence


class KatibFlowsError(Exception):
    """Root of every error katib-flows raises on purpose."""


class SpecError(KatibFlowsError):
    """An Experiment document breaks a rule; ``problems`` lists every broken rule found."""

    def __init__(self, message: str, problems: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class StoreError(KatibFlowsError):
    """The store cannot be reached or used (bad URL, database down, driver missing)."""


class StoreUnavailableError(StoreError):
    """The store stayed unreachable (or locked by other writers) for longer than the bound given to ``Store``.

    Nothing was lost that a ``resume`` cannot redo: a runner that gets it stops its trials and exits resumable.
    """


class SchemaOutdatedError(StoreError):
    """The database schema is older (or newer) than this release; ``katib-flows db upgrade`` fixes it."""


class NotFoundError(KatibFlowsError):
    """An experiment or trial does not exist in the namespace asked for."""


class AlreadyExistsError(KatibFlowsError):
    """An experiment with that name already exists in that namespace."""


class NotRunningError(KatibFlowsError):
    """An action needs an experiment in progress (``stop``), but it has completed."""


class ExperimentBusyError(KatibFlowsError):
    """Another live runner is running the experiment; ``--join`` runs beside it instead of refusing."""


class CompileError(KatibFlowsError):
    """An Experiment cannot be compiled into an Argo Workflow."""


class ClusterError(KatibFlowsError):
    """The Kubernetes API or Argo Server refused a request or could not be reached (exit code CLUSTER_ERROR).

    The subclasses say what kind of refusal it was (``katib_flows.cluster.status_error`` picks one from the
    HTTP status): the CLI gives every one of them, and this class itself, the cluster's exit code, except
    that a cluster's not-found and conflict answers are also ``NotFoundError`` and ``AlreadyExistsError``.
    """

    #: Whether the same request may succeed later: true only for ``TemporaryClusterError``.
    temporary = False


class UnauthorizedError(ClusterError):
    """401 or 403: the token is not valid, or its ServiceAccount lacks the RBAC; the message names both."""


class ObjectNotFoundError(ClusterError, NotFoundError):
    """404: the object (a Workflow, a trial's Job, a ConfigMap) does not exist on the cluster."""


class ConflictError(ClusterError, AlreadyExistsError):
    """409: an object of that name exists already."""


class InvalidObjectError(ClusterError):
    """400 or 422: the server rejected the object itself; sending it again would not help."""


class TemporaryClusterError(ClusterError):
    """429, a 5xx, or no answer at all: the same request may succeed later (Argo retries a failed step)."""

    temporary = True


class TrialCommandError(KatibFlowsError):
    """A trial's command cannot be started (missing executable, bad working directory)."""
