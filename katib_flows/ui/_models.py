"""The ``/api/v1/`` shapes as pydantic models, so the OpenAPI document describes what the CLI prints.

They document, and check on the way out, the dictionaries ``katib_flows.report``'s views build for
``--output json`` (DESIGN.md section 10); the views stay the one place that builds them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Assignment(_Shape):
    name: str
    value: str


class Metric(_Shape):
    name: str
    min: str | None = None
    max: str | None = None
    latest: str | None = None


class ArchitectureLayer(_Shape):
    layer: int = Field(description="Katib's layer number (layer 0 is the input)")
    operation: int = Field(description="The operation's id in nn_config's embedding")
    type: str
    parameters: dict[str, str]
    skipConnections: list[int] = Field(description="Layers (0: the input) joined by skip connections")
    description: str


class Architecture(_Shape):
    """A NAS (ENAS) trial's ``architecture`` and ``nn_config`` read into layers and worded."""

    summary: str
    layers: list[ArchitectureLayer]


class Trial(_Shape):
    """One item of ``katib-flows trials NAME -o json``."""

    name: str
    status: str = Field(description="Created, Running, Succeeded, Failed, Killed, EarlyStopped, MetricsUnavailable")
    reason: str
    message: str
    parameterAssignments: list[Assignment]
    metrics: list[Metric]
    objectiveValue: float | None
    startTime: str | None
    completionTime: str | None
    architecture: Architecture | None = None


class Status(_Shape):
    condition: str = Field(description="Created, Running, Restarting, Succeeded, Failed")
    reason: str
    message: str


class Counters(_Shape):
    total: int
    succeeded: int
    failed: int
    killed: int
    earlyStopped: int
    metricsUnavailable: int
    running: int
    pending: int


class Observation(_Shape):
    metrics: list[Metric]


class ObjectiveValue(_Shape):
    name: str
    value: float


class OptimalTrial(_Shape):
    """``katib-flows best NAME -o json``: Katib's ``currentOptimalTrial`` (with ``objectiveValues`` on a front)."""

    bestTrialName: str
    parameterAssignments: list[Assignment]
    observation: Observation
    objectiveValue: float | None
    objectiveValues: list[ObjectiveValue] | None = None
    architecture: Architecture | None = None


class Experiment(_Shape):
    """One item of ``katib-flows experiments -o json``."""

    name: str
    namespace: str
    status: Status
    trials: Counters
    currentOptimalTrial: OptimalTrial | None
    startTime: str | None
    completionTime: str | None


class Summary(_Shape):
    """What an experiment page polls: ``version`` changes whenever a trial or the status does."""

    experiment: Experiment
    version: str
    stopRequested: bool


class MetricValue(_Shape):
    name: str
    value: str


class MetricLog(_Shape):
    """One row of Katib's ``GetObservationLog`` reply, with the step index katib-flows keeps too."""

    timeStamp: str
    metric: MetricValue
    step: int | None


class ObservationLog(_Shape):
    metricLogs: list[MetricLog]


class ObservationLogReply(_Shape):
    observationLog: ObservationLog


class Problem(_Shape):
    """Every error: what went wrong and, where there is one, the fix."""

    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all in the ``Problem`` shape."""
    return {code: {"model": Problem} for code in codes}
