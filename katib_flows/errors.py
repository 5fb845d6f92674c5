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


class SchemaOutdatedError(StoreError):
    """The database schema is older (or newer) than this release; ``katib-flows db upgrade`` fixes it."""


class NotFoundError(KatibFlowsError):
    """An experiment or trial does not exist in the namespace asked for."""


class AlreadyExistsError(KatibFlowsError):
    """An experiment with that name already exists in that namespace."""


class CompileError(KatibFlowsError):
    """An Experiment cannot be compiled into an Argo Workflow."""


class ClusterError(KatibFlowsError):
    """The Kubernetes or Argo API refused a request; ``temporary`` says whether a retry may help."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


class TrialCommandError(KatibFlowsError):
    """A trial's command cannot be started (missing executable, bad working directory)."""
