"""Katib's defaulting webhook, applied to a parsed Experiment before its rules are checked.

Called by the loader on every document. The values are Katib's (``katib-v1beta1.md`` 1.1-1.6); the one
addition is ours: the ``trialTemplate.command`` short form gets one trial parameter per search
parameter when it lists none, so ``${trialParameters.lr}`` works without boilerplate.
"""

from __future__ import annotations

from katib_flows.spec._kinds import PRIMARY_POD_LABELS, SUCCESS_FAILURE_CONDITIONS
from katib_flows.spec._models import (
    CollectorSpec,
    Experiment,
    FileSystemPath,
    MetricsCollectorSpec,
    MetricStrategy,
    SourceSpec,
    TrialParameterSpec,
)

DEFAULT_PARALLEL_TRIAL_COUNT = 3
DEFAULT_RESUME_POLICY = "Never"
DEFAULT_DISTRIBUTION = "uniform"
DEFAULT_METRICS_FILE = "/var/log/katib/metrics.log"
DEFAULT_TFEVENT_DIR = "/var/log/katib/tfevent/"


def apply_defaults(experiment: Experiment) -> Experiment:
    """Return a defaulted deep copy; the input is left as it was."""
    exp = experiment.model_copy(deep=True)
    spec = exp.spec
    if spec.parallel_trial_count is None:
        spec.parallel_trial_count = DEFAULT_PARALLEL_TRIAL_COUNT
    if not spec.resume_policy:
        spec.resume_policy = DEFAULT_RESUME_POLICY
    for parameter in spec.parameters or []:
        if parameter.feasible_space is not None and not parameter.feasible_space.distribution:
            parameter.feasible_space.distribution = DEFAULT_DISTRIBUTION
    _default_metric_strategies(exp)
    _default_collector(exp)
    _default_trial_template(exp)
    return exp


def _default_metric_strategies(exp: Experiment) -> None:
    objective = exp.spec.objective
    if objective is None or objective.type not in ("minimize", "maximize"):
        return
    # Katib's comment says "latest" for additional metrics, its code uses the objective's direction.
    strategy = "min" if objective.type == "minimize" else "max"
    strategies = list(objective.metric_strategies or [])
    named = {s.name for s in strategies}
    # Each additional objective (our extension) takes its own direction's strategy.
    own = {o.objective_metric_name: o.type for o in objective.additional_objectives or []}
    for metric in objective.collected_metrics():
        if metric not in named:
            kind = own.get(metric)
            value = strategy if kind not in ("minimize", "maximize") else ("min" if kind == "minimize" else "max")
            strategies.append(MetricStrategy(name=metric, value=value))
            named.add(metric)
    objective.metric_strategies = strategies


def _default_collector(exp: Experiment) -> None:
    spec = exp.spec
    if spec.metrics_collector_spec is None:
        spec.metrics_collector_spec = MetricsCollectorSpec()
    mc = spec.metrics_collector_spec
    if mc.collector is None:
        mc.collector = CollectorSpec()
    if not mc.collector.kind:
        mc.collector.kind = "StdOut"
    kind = mc.collector.kind
    if kind == "File":
        fsp = _file_system_path(mc)
        fsp.kind = fsp.kind or "File"
        fsp.path = fsp.path or DEFAULT_METRICS_FILE
        fsp.format = fsp.format or "TEXT"
    elif kind == "TensorFlowEvent":
        fsp = _file_system_path(mc)
        fsp.kind = fsp.kind or "Directory"
        fsp.path = fsp.path or DEFAULT_TFEVENT_DIR
    elif kind == "PrometheusMetric":
        source = mc.source = mc.source or SourceSpec()
        http_get = dict(source.http_get or {})
        http_get.setdefault("path", "/metrics")
        http_get.setdefault("port", 8080)
        source.http_get = http_get


def _file_system_path(mc: MetricsCollectorSpec) -> FileSystemPath:
    source = mc.source = mc.source or SourceSpec()
    if source.file_system_path is None:
        source.file_system_path = FileSystemPath()
    return source.file_system_path


def _default_trial_template(exp: Experiment) -> None:
    template = exp.spec.trial_template
    if template is None:
        return
    if template.command is not None and not template.trial_parameters:
        template.trial_parameters = [
            TrialParameterSpec(name=p.name, reference=p.name) for p in exp.spec.parameters or [] if p.name
        ]
    if template.trial_spec is None:
        return
    kind = template.trial_spec.get("kind")
    if not isinstance(kind, str):
        return
    conditions = SUCCESS_FAILURE_CONDITIONS.get(kind)
    if conditions is not None:
        template.success_condition = template.success_condition or conditions[0]
        template.failure_condition = template.failure_condition or conditions[1]
    labels = PRIMARY_POD_LABELS.get(kind)
    if labels is not None and template.primary_pod_labels is None:
        template.primary_pod_labels = dict(labels)
