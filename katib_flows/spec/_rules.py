"""Katib's validating webhook as a list of rules over a defaulted Experiment, plus the checks Katib
leaves to run time (numbers that parse, min <= max, step > 0, lists not empty) so they fail at lint.

``check(experiment)`` returns every broken rule as a ``Problem``; it never raises for user input. The
trial template's rules are in ``_template_rules.py``. Where we differ from Katib on purpose, the
comment says so (DESIGN.md section 8).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from katib_flows_collector import FilterError, compile_filters
from katib_flows_suggestion import ALGORITHM_NAMES, MULTI_OBJECTIVE_ALGORITHMS, grid_size, validate_settings
from katib_flows_suggestion.early_stopping import EARLY_STOPPING_RULES, validate_early_stopping

from katib_flows.spec._models import Experiment, ExperimentSpec, MetricsCollectorSpec, ObjectiveSpec, ParameterSpec
from katib_flows.spec._problems import Problem, join_path, nearest, one_of
from katib_flows.spec._search import to_search_problem
from katib_flows.spec._template_rules import check_trial_template

API_VERSION = "kubeflow.org/v1beta1"
PARAMETER_TYPES = ("int", "double", "categorical", "discrete")
DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal")
OBJECTIVE_TYPES = ("minimize", "maximize")
METRIC_STRATEGIES = ("min", "max", "latest")
RESUME_POLICIES = ("Never", "LongRunning", "FromVolume")
COLLECTOR_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push", "None")
NAME_MAX = 40
# Katib applies this regex unanchored at the end; trial and Job names derive from the experiment's,
# so we require the whole name to be a DNS-1123 label.
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def check(experiment: Experiment) -> list[Problem]:
    problems = _check_envelope(experiment)
    spec = experiment.spec
    problems += _check_counts(spec)
    problems += _check_objective(spec)
    problems += _check_algorithm(spec)
    problems += _check_early_stopping(spec)
    problems += _check_parameters(spec)
    problems += _check_collector(spec.metrics_collector_spec)
    if spec.resume_policy not in RESUME_POLICIES:
        problems.append(_bad_choice("spec.resumePolicy", spec.resume_policy, RESUME_POLICIES, "resume-policy"))
    if spec.trial_template is None:
        problems.append(Problem("spec.trialTemplate", "is required", "add a trialTemplate", rule="required"))
    else:
        problems += check_trial_template(spec.trial_template, spec.parameters or [], bool(spec.nas_config))
    if not problems or all(not p.is_error for p in problems):
        problems += _check_search_space_size(spec)
    return problems


def _bad_choice(path: str, value: object, choices: tuple[str, ...], rule: str) -> Problem:
    guess = nearest(str(value), choices) if isinstance(value, str) else None
    fix = f"use {guess!r}" if guess else f"use one of: {one_of(choices)}"
    return Problem(path, f"must be one of {one_of(choices)}", fix, value=value, rule=rule)


def _check_envelope(exp: Experiment) -> list[Problem]:
    problems = []
    if exp.api_version is not None and exp.api_version != API_VERSION:
        problems.append(
            Problem(
                "apiVersion",
                f"must be {API_VERSION}",
                f"write apiVersion: {API_VERSION}",
                value=exp.api_version,
                rule="api-version",
            )
        )
    if exp.kind is not None and exp.kind != "Experiment":
        problems.append(Problem("kind", "must be Experiment", "write kind: Experiment", value=exp.kind, rule="kind"))
    name = exp.metadata.name
    if name is not None and (not _NAME.match(name) or len(name) > NAME_MAX):
        problems.append(
            Problem(
                "metadata.name",
                f"must be lowercase letters, digits and '-', start with a letter, end with a letter or digit, "
                f"at most {NAME_MAX} characters",
                "rename the experiment, e.g. 'random-search-1'",
                value=name,
                rule="experiment-name",
            )
        )
    namespace = exp.metadata.namespace
    if namespace is not None and not _NAME.match(namespace):
        problems.append(
            Problem(
                "metadata.namespace",
                "must be a DNS-1123 label",
                "use e.g. 'team-a'",
                value=namespace,
                rule="namespace",
            )
        )
    return problems


def _check_counts(spec: ExperimentSpec) -> list[Problem]:
    problems = []
    parallel, most, failed = spec.parallel_trial_count, spec.max_trial_count, spec.max_failed_trial_count
    if parallel is not None and parallel <= 0:
        problems.append(
            Problem(
                "spec.parallelTrialCount",
                "must be greater than 0",
                "set it to 1 or more",
                value=parallel,
                rule="positive",
            )
        )
    if most is not None and most <= 0:
        problems.append(
            Problem(
                "spec.maxTrialCount",
                "must be greater than 0",
                "set it to 1 or more, or leave it out for no limit",
                value=most,
                rule="positive",
            )
        )
    if failed is not None and failed < 0:
        problems.append(
            Problem(
                "spec.maxFailedTrialCount",
                "must be 0 or more",
                "set it to 0 or more",
                value=failed,
                rule="non-negative",
            )
        )
    if most is not None and most > 0:
        if parallel is not None and parallel > most:
            problems.append(
                Problem(
                    "spec.parallelTrialCount",
                    f"must not exceed spec.maxTrialCount ({most})",
                    f"lower it to {most} or raise maxTrialCount",
                    value=parallel,
                    rule="parallel-le-max",
                )
            )
        if failed is not None and failed > most:
            # Katib rejects this, yet its own simple-pbt.yaml example has it; it is harmless (the limit can
            # never be reached), so we warn.
            problems.append(
                Problem(
                    "spec.maxFailedTrialCount",
                    f"exceeds spec.maxTrialCount ({most}), so it can never be reached",
                    f"lower it to {most} or less",
                    value=failed,
                    severity="warning",
                    rule="failed-le-max",
                )
            )
    return problems


def _check_objective(spec: ExperimentSpec) -> list[Problem]:
    objective = spec.objective
    if objective is None:
        return [
            Problem(
                "spec.objective",
                "is required",
                "add objective: {type: maximize, objectiveMetricName: accuracy}",
                rule="required",
            )
        ]
    problems = []
    if objective.type not in OBJECTIVE_TYPES:
        problems.append(_bad_choice("spec.objective.type", objective.type, OBJECTIVE_TYPES, "objective-type"))
    metric = objective.objective_metric_name
    if not metric:
        problems.append(
            Problem(
                "spec.objective.objectiveMetricName",
                "is required",
                "name the metric your training prints, e.g. accuracy",
                rule="required",
            )
        )
    additional = objective.additional_metric_names or []
    if metric and metric in additional:
        index = additional.index(metric)
        problems.append(
            Problem(
                f"spec.objective.additionalMetricNames[{index}]",
                "must not repeat spec.objective.objectiveMetricName",
                "remove it from the list",
                value=metric,
                rule="objective-not-additional",
            )
        )
    if objective.goal is not None and not math.isfinite(objective.goal):
        problems.append(
            Problem(
                "spec.objective.goal",
                "must be a finite number",
                "write a number, or leave it out",
                value=objective.goal,
                rule="finite",
            )
        )
    problems += _check_additional_objectives(objective)
    known = set(objective.collected_metrics())
    for i, strategy in enumerate(objective.metric_strategies or []):
        path = f"spec.objective.metricStrategies[{i}]"
        if strategy.value not in METRIC_STRATEGIES:
            problems.append(_bad_choice(f"{path}.value", strategy.value, METRIC_STRATEGIES, "metric-strategy"))
        if strategy.name not in known:
            problems.append(
                Problem(
                    f"{path}.name",
                    "names no objective or additional metric",
                    f"use one of: {one_of(sorted(known))}",
                    value=strategy.name,
                    rule="metric-strategy-name",
                    severity="warning",
                )
            )
    return problems


def _check_additional_objectives(objective: ObjectiveSpec) -> list[Problem]:
    """Our multi-objective extension: each entry needs a type and a metric not already an objective; a goal
    cannot be reached by several objectives at once, so it is ignored (a warning)."""
    entries = objective.additional_objectives or []
    problems: list[Problem] = []
    seen = {objective.objective_metric_name} if objective.objective_metric_name else set()
    extra_metrics = objective.additional_metric_names or []
    for i, entry in enumerate(entries):
        path = f"spec.objective.additionalObjectives[{i}]"
        if entry.type is None:
            problems.append(
                Problem(f"{path}.type", "is required", "add type: minimize or type: maximize", rule="required")
            )
        elif entry.type not in OBJECTIVE_TYPES:
            problems.append(_bad_choice(f"{path}.type", entry.type, OBJECTIVE_TYPES, "objective-type"))
        metric = entry.objective_metric_name
        if not metric:
            problems.append(
                Problem(f"{path}.objectiveMetricName", "is required", "name the metric to optimise", rule="required")
            )
        elif metric in seen:
            problems.append(
                Problem(
                    f"{path}.objectiveMetricName",
                    "is already an objective of this experiment",
                    "optimise each metric once: remove this entry or name another metric",
                    value=metric,
                    rule="unique-objective",
                )
            )
        elif metric in extra_metrics:
            problems.append(
                Problem(
                    f"spec.objective.additionalMetricNames[{extra_metrics.index(metric)}]",
                    f"repeats spec.objective.additionalObjectives[{i}].objectiveMetricName; objectives are collected "
                    "anyway",
                    "remove it from additionalMetricNames",
                    value=metric,
                    rule="objective-not-additional",
                    severity="warning",
                )
            )
        seen.add(metric or "")
    if entries and objective.goal is not None:
        problems.append(
            Problem(
                "spec.objective.goal",
                "is ignored: the goal is disabled when there is more than one objective",
                "remove objective.goal or the additional objectives",
                value=objective.goal,
                rule="multi-objective-goal",
                severity="warning",
            )
        )
    return problems


def _check_algorithm(spec: ExperimentSpec) -> list[Problem]:
    algorithm = spec.algorithm
    if algorithm is None or not algorithm.algorithm_name:
        return [
            Problem(
                "spec.algorithm.algorithmName",
                "is required",
                f"choose one of: {one_of(ALGORITHM_NAMES)}",
                rule="required",
            )
        ]
    name = algorithm.algorithm_name
    if name not in ALGORITHM_NAMES:
        return [_bad_choice("spec.algorithm.algorithmName", name, ALGORITHM_NAMES, "algorithm")]
    if name in ("enas", "darts") and spec.nas_config is None:
        return [Problem("spec.nasConfig", f"is required by the NAS algorithm {name}", "add nasConfig", rule="required")]
    objectives = spec.objective.objectives() if spec.objective else []
    if len(objectives) > 1 and name not in MULTI_OBJECTIVE_ALGORITHMS:
        return [
            Problem(
                "spec.algorithm.algorithmName",
                f"optimises a single objective, but spec.objective has {len(objectives)} "
                f"({', '.join(m for m, _ in objectives)})",
                f"use one of: {one_of(MULTI_OBJECTIVE_ALGORITHMS)}; or remove spec.objective.additionalObjectives",
                value=name,
                rule="multi-objective-algorithm",
            )
        ]
    if spec.parameters is None or _parameter_problems(spec.parameters):
        return []  # settings are judged against the space; a broken space is reported on its own
    problems = []
    settings = algorithm.algorithm_settings or []
    index = {s.name: i for i, s in enumerate(settings)}
    for found in validate_settings(name, to_search_problem(spec)):
        fix = found.fix or "change this setting, or remove it to use the default"
        if found.setting in index:
            i = index[found.setting]
            path, value = f"spec.algorithm.algorithmSettings[{i}]", settings[i].value
        else:
            path, value = "spec.algorithm.algorithmSettings" if found.setting else "spec.algorithm", None
            fix = found.fix or ("add the setting" if found.setting else "change the search space or the algorithm")
        problem = Problem(path, found.message, fix, rule=f"{name}-settings")
        problems.append(problem if value is None or "got" in found.message else replace(problem, value=value))
    return problems


def _check_early_stopping(spec: ExperimentSpec) -> list[Problem]:
    early = spec.early_stopping
    if early is None:
        return []
    name = early.algorithm_name
    if not name:
        return [Problem("spec.earlyStopping.algorithmName", "is required", "use medianstop", rule="required")]
    if name not in EARLY_STOPPING_RULES:
        return [_bad_choice("spec.earlyStopping.algorithmName", name, EARLY_STOPPING_RULES, "early-stopping")]
    settings = early.algorithm_settings or []
    index = {s.name: i for i, s in enumerate(settings)}
    problems = []
    for found in validate_early_stopping(name, early.settings()):
        i = index.get(found.setting)
        path = f"spec.earlyStopping.algorithmSettings[{i}]" if i is not None else "spec.earlyStopping.algorithmSettings"
        problem = Problem(
            path, found.message, found.fix or "change or remove this setting", rule="early-stopping-settings"
        )
        problems.append(replace(problem, value=settings[i].value) if i is not None else problem)
    return problems


def _check_parameters(spec: ExperimentSpec) -> list[Problem]:
    if spec.parameters is None and spec.nas_config is None:
        return [
            Problem(
                "spec.parameters",
                "spec.parameters or spec.nasConfig must be specified",
                "add the parameters to search",
                rule="parameters-or-nas",
            )
        ]
    if spec.parameters is not None and spec.nas_config is not None:
        return [
            Problem(
                "spec.nasConfig",
                "only one of spec.parameters and spec.nasConfig can be specified",
                "remove one of them",
                rule="parameters-or-nas",
            )
        ]
    if spec.nas_config is not None:
        return _check_nas(spec)
    problems = _parameter_problems(spec.parameters or [])
    if not spec.parameters:
        problems.append(Problem("spec.parameters", "is empty", "add at least one parameter", rule="non-empty"))
    return problems


def _parameter_problems(parameters: list[ParameterSpec], prefix: str = "spec.parameters") -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, parameter in enumerate(parameters):
        path = join_path(prefix, i)
        if not parameter.name:
            problems.append(Problem(f"{path}.name", "is required", "give the parameter a name", rule="required"))
        elif parameter.name in seen:
            problems.append(
                Problem(
                    f"{path}.name",
                    "is used by an earlier parameter",
                    "give it a unique name",
                    value=parameter.name,
                    rule="unique-name",
                )
            )
        seen.add(parameter.name or "")
        problems += _check_feasible_space(parameter, path)
    return problems


def _check_feasible_space(parameter: ParameterSpec, path: str) -> list[Problem]:
    kind = parameter.parameter_type
    if kind not in PARAMETER_TYPES:
        return [_bad_choice(f"{path}.parameterType", kind, PARAMETER_TYPES, "parameter-type")]
    space = parameter.feasible_space
    if space is None or (space.min is None and space.max is None and space.list is None and space.step is None):
        return [
            Problem(
                f"{path}.feasibleSpace",
                "feasibleSpace must be specified",
                "give min and max, or a list",
                rule="required",
            )
        ]
    fs = f"{path}.feasibleSpace"
    problems: list[Problem] = []
    if space.distribution not in DISTRIBUTIONS:
        problems.append(_bad_choice(f"{fs}.distribution", space.distribution, DISTRIBUTIONS, "distribution"))
    if kind in ("categorical", "discrete"):
        for field in ("min", "max", "step"):
            if getattr(space, field) is not None:
                problems.append(
                    Problem(
                        f"{fs}.{field}",
                        f"is not allowed for a {kind} parameter",
                        "list the values under feasibleSpace.list instead",
                        rule="list-only",
                    )
                )
        if not space.list:
            problems.append(
                Problem(f"{fs}.list", "must list at least one value", "add the values to try", rule="non-empty")
            )
        elif kind == "discrete":
            for j, item in enumerate(space.list):
                if _number(item) is None:
                    problems.append(
                        Problem(
                            f"{fs}.list[{j}]",
                            "a discrete value must be a number",
                            "use parameterType: categorical for text values",
                            value=item,
                            rule="number",
                        )
                    )
        if space.list and len(set(space.list)) != len(space.list):
            problems.append(
                Problem(
                    f"{fs}.list",
                    "repeats a value",
                    "list each value once",
                    value=space.list,
                    rule="unique-values",
                    severity="warning",
                )
            )
        return problems
    if space.list is not None:
        problems.append(
            Problem(f"{fs}.list", f"is not allowed for a {kind} parameter", "use min and max", rule="range-only")
        )
    bounds: dict[str, float] = {}
    for field in ("min", "max", "step"):
        text = getattr(space, field)
        if text is None:
            if field != "step":
                problems.append(
                    Problem(
                        f"{fs}.{field}",
                        f"is required for a {kind} parameter",
                        f"add feasibleSpace.{field}",
                        rule="required",
                    )
                )
            continue
        number = _number(text)
        if number is None or (kind == "int" and not number.is_integer()):
            what = "an integer" if kind == "int" else "a number"
            problems.append(
                Problem(
                    f"{fs}.{field}",
                    f"must be {what}",
                    f"write {field} as {what}, quoted",
                    value=text,
                    rule="number",
                )
            )
        else:
            bounds[field] = number
    low, high, step = bounds.get("min"), bounds.get("max"), bounds.get("step")
    if low is not None and high is not None and low > high:
        problems.append(
            Problem(
                f"{fs}.max",
                f"must be >= feasibleSpace.min ({space.min})",
                "swap min and max",
                value=space.max,
                rule="min-le-max",
            )
        )
    if step is not None and step <= 0:
        problems.append(
            Problem(
                f"{fs}.step",
                "must be greater than 0",
                "use a positive step, or leave it out",
                value=space.step,
                rule="step-positive",
            )
        )
    elif step is not None and low is not None and high is not None and low <= high and step > high - low > 0:
        problems.append(
            Problem(
                f"{fs}.step",
                f"is larger than max - min ({high - low:g}); only min can be drawn",
                "use a smaller step",
                value=space.step,
                rule="step-in-range",
                severity="warning",
            )
        )
    if space.distribution in ("logUniform", "logNormal") and low is not None and low <= 0:
        problems.append(
            Problem(
                f"{fs}.min",
                f"must be greater than 0 for distribution {space.distribution}",
                "use a positive min, or distribution: uniform",
                value=space.min,
                rule="log-positive",
            )
        )
    return problems


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _check_nas(spec: ExperimentSpec) -> list[Problem]:
    """The rules Katib's NAS services apply (its webhook checks nothing here): graph, then operations."""
    nas = spec.nas_config
    assert nas is not None
    algorithm = spec.algorithm.algorithm_name if spec.algorithm else None
    problems = []
    graph = nas.graph_config
    needed = ("numLayers", "inputSizes", "outputSizes") if algorithm == "enas" else ("numLayers",)
    present = {
        "numLayers": graph is not None and graph.num_layers is not None,
        "inputSizes": graph is not None and bool(graph.input_sizes),
        "outputSizes": graph is not None and bool(graph.output_sizes),
    }
    for field in needed:
        if not present[field]:
            problems.append(
                Problem(
                    f"spec.nasConfig.graphConfig.{field}",
                    f"is required by {algorithm}",
                    f"add {field}",
                    rule="nas-graph",
                )
            )
    if not nas.operations:
        problems.append(
            Problem("spec.nasConfig.operations", "must list at least one operation", "add operations", rule="non-empty")
        )
    for i, operation in enumerate(nas.operations or []):
        path = f"spec.nasConfig.operations[{i}]"
        if not operation.operation_type:
            problems.append(Problem(f"{path}.operationType", "is required", "name the operation", rule="required"))
        if not operation.parameters and operation.operation_type != "skip_connection":  # DARTS takes it bare
            problems.append(
                Problem(f"{path}.parameters", "is required", "add the operation's parameters", rule="required")
            )
        for j, parameter in enumerate(operation.parameters or []):
            problems += _nas_parameter_problems(parameter, f"{path}.parameters[{j}]")
    return problems


def _nas_parameter_problems(parameter: ParameterSpec, path: str) -> list[Problem]:
    kind, space = parameter.parameter_type, parameter.feasible_space
    if kind not in PARAMETER_TYPES:
        return [_bad_choice(f"{path}.parameterType", kind, PARAMETER_TYPES, "parameter-type")]
    if space is None:
        return [Problem(f"{path}.feasibleSpace", "is required", "give a list, or min and max", rule="required")]
    if kind in ("categorical", "discrete"):
        if not space.list:
            return [
                Problem(
                    f"{path}.feasibleSpace.list", "must list at least one value", "add the values", rule="non-empty"
                )
            ]
        return []
    if space.min is None and space.max is None:
        return [Problem(f"{path}.feasibleSpace", "needs min or max", "add min and max", rule="required")]
    step = _number(space.step) if space.step is not None else None
    if kind == "double" and (step is None or step <= 0):
        return [
            Problem(
                f"{path}.feasibleSpace.step",
                "must be a number greater than 0 for a double NAS parameter",
                "add a positive step",
                value=space.step,
                rule="step-positive",
            )
        ]
    return []


def _check_collector(mc: MetricsCollectorSpec | None) -> list[Problem]:
    if mc is None or mc.collector is None:
        return []
    kind = mc.collector.kind
    path = "spec.metricsCollectorSpec"
    if kind not in COLLECTOR_KINDS:
        return [_bad_choice(f"{path}.collector.kind", kind, COLLECTOR_KINDS, "collector-kind")]
    problems: list[Problem] = []
    source = mc.source
    fsp = source.file_system_path if source else None
    fsp_path = f"{path}.source.fileSystemPath"
    if kind in ("File", "TensorFlowEvent") or (kind == "Custom" and fsp is not None):
        assert fsp is not None or kind == "Custom"
        wanted = {"File": ("File",), "TensorFlowEvent": ("Directory",)}.get(kind or "", ("File", "Directory"))
        if fsp is not None and fsp.kind not in wanted:
            problems.append(_bad_choice(f"{fsp_path}.kind", fsp.kind, wanted, "file-system-kind"))
        if fsp is not None and not (fsp.path or "").startswith("/"):
            problems.append(
                Problem(
                    f"{fsp_path}.path",
                    "must be an absolute path",
                    "write a path starting with /",
                    value=fsp.path,
                    rule="absolute-path",
                )
            )
    if kind == "File" and fsp is not None:
        if fsp.format not in ("TEXT", "JSON"):
            problems.append(_bad_choice(f"{fsp_path}.format", fsp.format, ("TEXT", "JSON"), "file-format"))
        if fsp.format == "JSON" and source is not None and source.filter is not None:
            problems.append(
                Problem(
                    f"{path}.source.filter",
                    "must be left out when the metrics file is JSON",
                    "remove the filter",
                    rule="json-no-filter",
                )
            )
    if kind == "TensorFlowEvent" and fsp is not None and fsp.format:
        problems.append(
            Problem(
                f"{fsp_path}.format",
                "must be left out for TensorFlowEvent",
                "remove it",
                value=fsp.format,
                rule="tfevent-no-format",
            )
        )
    if kind == "Custom" and not mc.collector.custom_collector:
        problems.append(
            Problem(
                f"{path}.collector.customCollector",
                "is required for kind Custom",
                "give the collector container",
                rule="required",
            )
        )
    if kind in ("Custom", "PrometheusMetric"):
        problems.append(
            Problem(
                f"{path}.collector.kind",
                f"{kind} collectors are accepted but katib-flows does not "
                "run them; trials will end MetricsUnavailable unless they report with Push",
                "use StdOut, File, TensorFlowEvent or Push",
                value=kind,
                rule="collector-not-run",
                severity="warning",
            )
        )
    if kind == "PrometheusMetric" and source is not None and source.http_get is not None:
        problems += _check_http_get(source.http_get, f"{path}.source.httpGet")
    if source is not None and source.filter is not None:
        for i, pattern in enumerate(source.filter.metrics_format or []):
            problems += _check_filter(pattern, f"{path}.source.filter.metricsFormat[{i}]")
    return problems


def _check_http_get(http_get: dict[str, object], path: str) -> list[Problem]:
    problems = []
    port = http_get.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or port <= 0:
        problems.append(Problem(f"{path}.port", "must be a positive integer", "e.g. 8080", value=port, rule="port"))
    if not str(http_get.get("path", "")).startswith("/"):
        problems.append(
            Problem(
                f"{path}.path",
                "must start with /",
                "e.g. /metrics",
                value=http_get.get("path"),
                rule="http-path",
            )
        )
    return problems


def _check_filter(pattern: str, path: str) -> list[Problem]:
    """Compiled as the collector will compile it (Go syntax), so lint and collection agree."""
    try:
        compile_filters([pattern])
    except FilterError as exc:
        rule = "filter-groups" if "capturing groups" in str(exc) else "filter-regex"
        return [Problem(path, str(exc), r"e.g. ([\w|-]+)\s*=\s*(\S+)", value=pattern, rule=rule)]
    return []


def _check_search_space_size(spec: ExperimentSpec) -> list[Problem]:
    algorithm = spec.algorithm.algorithm_name if spec.algorithm else None
    if algorithm != "grid" or spec.max_trial_count is None or not spec.parameters:
        return []
    size = grid_size(to_search_problem(spec))
    if size is None or spec.max_trial_count <= size:
        return []
    # Katib rejects this; we run the whole grid and end with "search space exhausted".
    return [
        Problem(
            "spec.maxTrialCount",
            f"is larger than the grid ({size} combinations); the experiment will end when the grid is exhausted",
            f"lower it to {size}",
            value=spec.max_trial_count,
            rule="grid-size",
            severity="warning",
        )
    ]
