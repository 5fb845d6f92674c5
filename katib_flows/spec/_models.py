"""Pydantic models of Katib's ``kubeflow.org/v1beta1`` Experiment, field for field.

These models only check shapes and types; Katib's rules (what is required, what may not be combined,
ranges) live in ``_rules/`` and Katib's defaults in ``_defaults.py``, so that a document can be read
first and then judged as a whole, every problem reported at once. Field names are snake_case in Python
and Katib's camelCase on the wire. Unknown fields are kept (``extra="allow"``) so the loader can warn
about them with the nearest valid name, as Katib's CRD ignores them silently.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _to_katib_string(value: Any) -> Any:
    """Katib keeps feasible-space values and settings as strings; YAML users often write bare numbers."""
    if isinstance(value, bool):
        return value  # left for pydantic to reject: `true` is not a number written without quotes
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value


#: A string field that also accepts a YAML number and keeps its text.
KatibString = Annotated[str, BeforeValidator(_to_katib_string)]


class KatibModel(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        validate_assignment=False,
        strict=False,
    )

    def dump(self) -> dict[str, Any]:
        """The document as Katib writes it: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


_StringList = list[KatibString]  # the field below is named ``list``, which hides the builtin in the class


class FeasibleSpace(KatibModel):
    min: KatibString | None = None
    max: KatibString | None = None
    list: _StringList | None = None
    step: KatibString | None = None
    distribution: str | None = None


class ParameterSpec(KatibModel):
    name: str | None = None
    parameter_type: str | None = None
    feasible_space: FeasibleSpace | None = None


class MetricStrategy(KatibModel):
    name: str | None = None
    value: str | None = None


class AdditionalObjective(KatibModel):
    """Extension: one more objective to optimise, with its own direction (``objective.additionalObjectives``)."""

    type: str | None = None
    objective_metric_name: str | None = None


class ObjectiveSpec(KatibModel):
    type: str | None = None
    goal: float | None = None
    objective_metric_name: str | None = None
    additional_metric_names: list[str] | None = None
    metric_strategies: list[MetricStrategy] | None = None
    #: Extension: the other objectives of a multi-objective experiment; Katib's fields keep the first one.
    additional_objectives: list[AdditionalObjective] | None = None

    def objectives(self) -> list[tuple[str, str]]:
        """(metric, type) of every objective, Katib's first; entries without a metric name are left out."""
        first = [(self.objective_metric_name or "", self.type or "")]
        more = [(o.objective_metric_name, o.type or "") for o in self.additional_objectives or []]
        return [(metric, kind) for metric, kind in first + more if metric]

    @property
    def multi_objective(self) -> bool:
        return bool(self.additional_objectives)

    def collected_metrics(self) -> list[str]:
        """Every metric to collect: the objectives in order, then additionalMetricNames, each once."""
        names = [metric for metric, _ in self.objectives()] + list(self.additional_metric_names or [])
        return list(dict.fromkeys(n for n in names if n))


class AlgorithmSetting(KatibModel):
    name: str | None = None
    value: KatibString | None = None


class AlgorithmSpec(KatibModel):
    algorithm_name: str | None = None
    algorithm_settings: list[AlgorithmSetting] | None = None

    def settings(self) -> dict[str, str]:
        return {s.name: s.value or "" for s in self.algorithm_settings or [] if s.name is not None}


class EarlyStoppingSpec(AlgorithmSpec):
    pass


class TrialParameterSpec(KatibModel):
    name: str | None = None
    description: str | None = None
    reference: str | None = None


class ConfigMapSource(KatibModel):
    config_map_name: str | None = None
    config_map_namespace: str | None = None
    template_path: str | None = None


class TrialTemplate(KatibModel):
    retain: bool = False
    trial_spec: dict[str, Any] | None = None
    config_map: ConfigMapSource | None = None
    trial_parameters: list[TrialParameterSpec] | None = None
    primary_pod_labels: dict[str, str] | None = None
    primary_container_name: str | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    #: Extension: a local command (argument list) instead of a Kubernetes object.
    command: list[KatibString] | None = None


class FileSystemPath(KatibModel):
    path: str | None = None
    kind: str | None = None
    format: str | None = None


class FilterSpec(KatibModel):
    metrics_format: list[str] | None = None


class SourceSpec(KatibModel):
    http_get: dict[str, Any] | None = None
    file_system_path: FileSystemPath | None = None
    filter: FilterSpec | None = None


class CollectorSpec(KatibModel):
    kind: str | None = None
    custom_collector: dict[str, Any] | None = None


class MetricsCollectorSpec(KatibModel):
    source: SourceSpec | None = None
    collector: CollectorSpec | None = None


class GraphConfig(KatibModel):
    num_layers: int | None = None
    input_sizes: list[int] | None = None
    output_sizes: list[int] | None = None


class Operation(KatibModel):
    operation_type: str | None = None
    parameters: list[ParameterSpec] | None = None


class NasConfig(KatibModel):
    graph_config: GraphConfig | None = None
    operations: list[Operation] | None = None


class ExperimentSpec(KatibModel):
    parameters: list[ParameterSpec] | None = None
    objective: ObjectiveSpec | None = None
    algorithm: AlgorithmSpec | None = None
    early_stopping: EarlyStoppingSpec | None = None
    trial_template: TrialTemplate | None = None
    parallel_trial_count: int | None = Field(default=None, strict=True)
    max_trial_count: int | None = Field(default=None, strict=True)
    max_failed_trial_count: int | None = Field(default=None, strict=True)
    metrics_collector_spec: MetricsCollectorSpec | None = None
    nas_config: NasConfig | None = None
    resume_policy: str | None = None


class ObjectMeta(KatibModel):
    name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


#: The algorithm setting that names the checkpoint path inside a trial (Katib's PBT setting).
CHECKPOINT_SETTING = "suggestion_trial_dir"


class Experiment(KatibModel):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str | None:
        return self.metadata.namespace

    @property
    def checkpoint_path(self) -> str | None:
        """Where a trial finds its checkpoint directory (the algorithm's ``suggestion_trial_dir``, Katib's PBT
        setting), or None when trials get none."""
        settings = self.spec.algorithm.settings() if self.spec.algorithm else {}
        return settings.get(CHECKPOINT_SETTING) or None
