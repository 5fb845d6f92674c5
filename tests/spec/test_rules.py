"""Each of Katib's validation rules (and ours) on a fixture broken in exactly one place.

Every case asserts the problem names the field path and the rule, so a user can find and fix it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from katib_flows.spec import check_document, check_text

FIXTURES = Path(__file__).parent / "fixtures"
VALID = yaml.safe_load((FIXTURES / "valid-minimal.yaml").read_text())

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return mutate


def _multi_objective(algorithm: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["spec"]["objective"]["additionalObjectives"] = [{"type": "minimize", "objectiveMetricName": "latency"}]
        doc["spec"]["algorithm"] = {"algorithmName": algorithm}

    return mutate


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]


CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "min > max",
        _set("spec.parameters.0.feasibleSpace.max", "0.0001"),
        "spec.parameters[0].feasibleSpace.max",
        "min-le-max",
    ),
    (
        "step <= 0",
        _set("spec.parameters.1.feasibleSpace.step", "0"),
        "spec.parameters[1].feasibleSpace.step",
        "step-positive",
    ),
    (
        "negative step",
        _set("spec.parameters.1.feasibleSpace.step", "-4"),
        "spec.parameters[1].feasibleSpace.step",
        "step-positive",
    ),
    (
        "empty list",
        _set("spec.parameters.2.feasibleSpace.list", []),
        "spec.parameters[2].feasibleSpace.list",
        "non-empty",
    ),
    (
        "min not a number",
        _set("spec.parameters.0.feasibleSpace.min", "tiny"),
        "spec.parameters[0].feasibleSpace.min",
        "number",
    ),
    (
        "int bound not an integer",
        _set("spec.parameters.1.feasibleSpace.max", "25.5"),
        "spec.parameters[1].feasibleSpace.max",
        "number",
    ),
    (
        "missing max",
        _delete("spec.parameters.1.feasibleSpace.max"),
        "spec.parameters[1].feasibleSpace.max",
        "required",
    ),
    (
        "list on a double",
        _set("spec.parameters.0.feasibleSpace.list", ["1"]),
        "spec.parameters[0].feasibleSpace.list",
        "range-only",
    ),
    (
        "min on a categorical",
        _set("spec.parameters.2.feasibleSpace.min", "1"),
        "spec.parameters[2].feasibleSpace.min",
        "list-only",
    ),
    (
        "unknown parameter type",
        _set("spec.parameters.0.parameterType", "float"),
        "spec.parameters[0].parameterType",
        "parameter-type",
    ),
    (
        "unknown distribution",
        _set("spec.parameters.0.feasibleSpace.distribution", "loguniform"),
        "spec.parameters[0].feasibleSpace.distribution",
        "distribution",
    ),
    (
        "log with min 0",
        _set("spec.parameters.0.feasibleSpace.min", "0"),
        "spec.parameters[0].feasibleSpace.min",
        "log-positive",
    ),
    ("duplicate parameter", _set("spec.parameters.1.name", "lr"), "spec.parameters[1].name", "unique-name"),
    (
        "no feasible space",
        _delete("spec.parameters.0.feasibleSpace"),
        "spec.parameters[0].feasibleSpace",
        "required",
    ),
    (
        "unknown algorithm",
        _set("spec.algorithm.algorithmName", "bayes"),
        "spec.algorithm.algorithmName",
        "algorithm",
    ),
    (
        "unsupported setting",
        _set("spec.algorithm.algorithmSettings", [{"name": "sigma", "value": "0.1"}]),
        "spec.algorithm.algorithmSettings[0]",
        "random-settings",
    ),
    (
        "bad random_state",
        _set("spec.algorithm.algorithmSettings", [{"name": "random_state", "value": "-1"}]),
        "spec.algorithm.algorithmSettings[0]",
        "random-settings",
    ),
    ("no algorithm", _delete("spec.algorithm"), "spec.algorithm.algorithmName", "required"),
    ("objective type", _set("spec.objective.type", "maximise"), "spec.objective.type", "objective-type"),
    (
        "no objective metric",
        _delete("spec.objective.objectiveMetricName"),
        "spec.objective.objectiveMetricName",
        "required",
    ),
    (
        "objective repeated",
        _set("spec.objective.additionalMetricNames", ["accuracy"]),
        "spec.objective.additionalMetricNames[0]",
        "objective-not-additional",
    ),
    (
        "bad metric strategy",
        _set("spec.objective.metricStrategies", [{"name": "accuracy", "value": "best"}]),
        "spec.objective.metricStrategies[0].value",
        "metric-strategy",
    ),
    ("no objective", _delete("spec.objective"), "spec.objective", "required"),
    ("parallel 0", _set("spec.parallelTrialCount", 0), "spec.parallelTrialCount", "positive"),
    ("max 0", _set("spec.maxTrialCount", 0), "spec.maxTrialCount", "positive"),
    ("parallel > max", _set("spec.parallelTrialCount", 7), "spec.parallelTrialCount", "parallel-le-max"),
    ("negative failed", _set("spec.maxFailedTrialCount", -1), "spec.maxFailedTrialCount", "non-negative"),
    ("parallel as text", _set("spec.parallelTrialCount", "3"), "spec.parallelTrialCount", "type:int_type"),
    ("resume policy", _set("spec.resumePolicy", "Always"), "spec.resumePolicy", "resume-policy"),
    ("name with capitals", _set("metadata.name", "MyExperiment"), "metadata.name", "experiment-name"),
    ("name too long", _set("metadata.name", "a" * 41), "metadata.name", "experiment-name"),
    ("wrong apiVersion", _set("apiVersion", "kubeflow.org/v1alpha3"), "apiVersion", "api-version"),
    ("wrong kind", _set("kind", "Trial"), "kind", "kind"),
    ("no parameters", _delete("spec.parameters"), "spec.parameters", "parameters-or-nas"),
    ("no trial template", _delete("spec.trialTemplate"), "spec.trialTemplate", "required"),
    (
        "placeholder without trial parameter",
        lambda d: _container(d)["command"].append("--seed=${trialParameters.seed}"),
        "spec.trialTemplate.trialSpec",
        "placeholder-defined",
    ),
    (
        "reference to a missing parameter",
        _set("spec.trialTemplate.trialParameters.2.reference", "activation"),
        "spec.trialTemplate.trialParameters[2].reference",
        "reference-exists",
    ),
    (
        "duplicate trial parameter name",
        _set("spec.trialTemplate.trialParameters.2.name", "units"),
        "spec.trialTemplate.trialParameters[2].name",
        "unique-name",
    ),
    (
        "braces in a trial parameter name",
        _set("spec.trialTemplate.trialParameters.0.name", "{lr}"),
        "spec.trialTemplate.trialParameters[0].name",
        "trial-parameter-name",
    ),
    (
        "no trial parameters",
        _delete("spec.trialTemplate.trialParameters"),
        "spec.trialTemplate.trialParameters",
        "required",
    ),
    (
        "bad meta reference",
        _set("spec.trialTemplate.trialParameters.2.reference", "${trialSpec.Uid}"),
        "spec.trialTemplate.trialParameters[2].reference",
        "meta-reference",
    ),
    (
        "primary container missing",
        _set("spec.trialTemplate.primaryContainerName", "trainer"),
        "spec.trialTemplate.primaryContainerName",
        "primary-container",
    ),
    (
        "object named in template",
        _set("spec.trialTemplate.trialSpec.metadata", {"name": "x"}),
        "spec.trialTemplate.trialSpec.metadata.name",
        "no-object-name",
    ),
    (
        "trialSpec without kind",
        _delete("spec.trialTemplate.trialSpec.kind"),
        "spec.trialTemplate.trialSpec.kind",
        "required",
    ),
    (
        "two template sources",
        _set("spec.trialTemplate.command", ["python"]),
        "spec.trialTemplate",
        "template-source",
    ),
    (
        "configMap incomplete",
        lambda d: d["spec"]["trialTemplate"].update(trialSpec=None, configMap={"configMapName": "templates"}),
        "spec.trialTemplate.configMap.templatePath",
        "required",
    ),
    (
        "collector kind",
        _set("spec.metricsCollectorSpec", {"collector": {"kind": "Stdout"}}),
        "spec.metricsCollectorSpec.collector.kind",
        "collector-kind",
    ),
    (
        "relative metrics file",
        _set(
            "spec.metricsCollectorSpec",
            {
                "collector": {"kind": "File"},
                "source": {"fileSystemPath": {"path": "metrics.log", "kind": "File"}},
            },
        ),
        "spec.metricsCollectorSpec.source.fileSystemPath.path",
        "absolute-path",
    ),
    (
        "filter with JSON",
        _set(
            "spec.metricsCollectorSpec",
            {
                "collector": {"kind": "File"},
                "source": {
                    "fileSystemPath": {"path": "/m.json", "kind": "File", "format": "JSON"},
                    "filter": {"metricsFormat": ["(a)=(b)"]},
                },
            },
        ),
        "spec.metricsCollectorSpec.source.filter",
        "json-no-filter",
    ),
    (
        "filter with one group",
        _set(
            "spec.metricsCollectorSpec",
            {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": ["accuracy=(.*)"]}}},
        ),
        "spec.metricsCollectorSpec.source.filter.metricsFormat[0]",
        "filter-groups",
    ),
    (
        "filter that does not compile",
        _set(
            "spec.metricsCollectorSpec",
            {"collector": {"kind": "StdOut"}, "source": {"filter": {"metricsFormat": ["(a)=(b"]}}},
        ),
        "spec.metricsCollectorSpec.source.filter.metricsFormat[0]",
        "filter-regex",
    ),
    (
        "tfevent with a format",
        _set(
            "spec.metricsCollectorSpec",
            {
                "collector": {"kind": "TensorFlowEvent"},
                "source": {"fileSystemPath": {"path": "/logs", "kind": "Directory", "format": "TEXT"}},
            },
        ),
        "spec.metricsCollectorSpec.source.fileSystemPath.format",
        "tfevent-no-format",
    ),
    (
        "early stopping name",
        _set("spec.earlyStopping", {"algorithmName": "median"}),
        "spec.earlyStopping.algorithmName",
        "early-stopping",
    ),
    (
        "early stopping setting",
        _set(
            "spec.earlyStopping",
            {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": "0"}]},
        ),
        "spec.earlyStopping.algorithmSettings[0]",
        "early-stopping-settings",
    ),
    ("list as a mapping", _set("spec.parameters", {"lr": 1}), "spec.parameters", "type:list_type"),
    (
        "additional objective without a type",
        _set("spec.objective.additionalObjectives", [{"objectiveMetricName": "latency"}]),
        "spec.objective.additionalObjectives[0].type",
        "required",
    ),
    (
        "additional objective with a bad type",
        _set("spec.objective.additionalObjectives", [{"type": "minimise", "objectiveMetricName": "latency"}]),
        "spec.objective.additionalObjectives[0].type",
        "objective-type",
    ),
    (
        "additional objective without a metric",
        _set("spec.objective.additionalObjectives", [{"type": "minimize"}]),
        "spec.objective.additionalObjectives[0].objectiveMetricName",
        "required",
    ),
    (
        "additional objective repeats the objective",
        _set("spec.objective.additionalObjectives", [{"type": "minimize", "objectiveMetricName": "accuracy"}]),
        "spec.objective.additionalObjectives[0].objectiveMetricName",
        "unique-objective",
    ),
    (
        "additional objectives repeat each other",
        _set(
            "spec.objective.additionalObjectives",
            [
                {"type": "minimize", "objectiveMetricName": "latency"},
                {"type": "maximize", "objectiveMetricName": "latency"},
            ],
        ),
        "spec.objective.additionalObjectives[1].objectiveMetricName",
        "unique-objective",
    ),
    (
        "single-objective algorithm with two objectives",
        _multi_objective("cmaes"),
        "spec.algorithm.algorithmName",
        "multi-objective-algorithm",
    ),
]


@pytest.mark.parametrize(("mutation", "path", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_the_field(mutation: Mutation, path: str, rule: str) -> None:
    document = copy.deepcopy(VALID)
    mutation(document)
    checked = check_document(document, "broken.yaml")
    errors = [p for p in checked.problems if p.is_error]
    assert any(p.path == path and p.rule == rule for p in errors), "\n".join(p.format() for p in checked.problems)
    for problem in errors:
        line = problem.format()
        assert line.startswith("broken.yaml: error: "), line
        assert problem.fix, f"no fix given: {line}"


def test_the_valid_fixture_is_clean() -> None:
    checked = check_document(copy.deepcopy(VALID), "valid.yaml")
    assert checked.ok and not checked.problems, [p.format() for p in checked.problems]


def test_unknown_field_warns_with_the_nearest_name() -> None:
    document = copy.deepcopy(VALID)
    document["spec"]["maxTrialCounts"] = 5
    document["spec"]["parameters"][0]["feasibleSpace"]["maximum"] = "1"
    checked = check_document(document, "typo.yaml")
    assert checked.ok
    messages = {p.path: p.format() for p in checked.warnings}
    assert "did you mean 'maxTrialCount'?" in messages["spec.maxTrialCounts"]
    assert "did you mean 'max'?" in messages["spec.parameters[0].feasibleSpace.maximum"]


def test_malformed_yaml_names_the_line() -> None:
    [checked] = check_text("spec:\n  objective: [unclosed\n", "bad.yaml")
    assert not checked.ok
    assert "line" in checked.problems[0].format() and "bad.yaml" in checked.problems[0].format()


def test_duplicate_keys_are_reported() -> None:
    text = (
        (FIXTURES / "valid-minimal.yaml")
        .read_text()
        .replace("  maxTrialCount: 6\n", "  maxTrialCount: 6\n  maxTrialCount: 7\n")
    )
    [checked] = check_text(text, "dup.yaml")
    assert any(p.rule == "duplicate-key" and "maxTrialCount" in p.message for p in checked.problems)


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    document = copy.deepcopy(VALID)
    document["spec"]["parallelTrialCount"] = 0
    document["spec"]["parameters"][0]["feasibleSpace"]["max"] = "0.0001"
    document["spec"]["objective"]["type"] = "up"
    rules = {p.rule for p in check_document(document, "x.yaml").problems if p.is_error}
    assert {"positive", "min-le-max", "objective-type"} <= rules


def test_bare_spec_and_command_form() -> None:
    [checked] = check_text((FIXTURES / "bare-spec-command.yaml").read_text(), "bare.yaml")
    assert checked.ok, [p.format() for p in checked.problems]
    assert checked.experiment is not None
    template = checked.experiment.spec.trial_template
    assert template is not None and template.trial_parameters is not None
    assert [(t.name, t.reference) for t in template.trial_parameters] == [("x", "x")]


def test_defaults_are_katibs() -> None:
    checked = check_document(copy.deepcopy(VALID), "valid.yaml")
    assert checked.experiment is not None
    spec = checked.experiment.dump()["spec"]
    assert spec["parallelTrialCount"] == 3
    assert spec["resumePolicy"] == "Never"
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert spec["objective"]["metricStrategies"] == [
        {"name": "accuracy", "value": "max"},
        {"name": "loss", "value": "max"},
    ]
    assert {p["feasibleSpace"]["distribution"] for p in spec["parameters"]} == {"logUniform", "uniform"}
    template = spec["trialTemplate"]
    assert template["successCondition"] == 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    assert template["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'


def test_file_collector_defaults() -> None:
    document = copy.deepcopy(VALID)
    document["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"}}
    checked = check_document(document, "file.yaml")
    assert checked.experiment is not None
    source = checked.experiment.dump()["spec"]["metricsCollectorSpec"]["source"]
    assert source == {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File", "format": "TEXT"}}


def test_max_failed_above_max_trials_is_a_warning() -> None:
    # Katib's webhook rejects it, but Katib's own simple-pbt.yaml has it: it can only never trigger.
    document = copy.deepcopy(VALID)
    document["spec"]["maxFailedTrialCount"] = 9
    checked = check_document(document, "x.yaml")
    assert checked.ok
    assert [p.rule for p in checked.warnings] == ["failed-le-max"]


def test_unused_trial_parameter_is_a_warning() -> None:
    # Katib rejects it, but Katib's own tekton/pipeline-run.yaml has it ($(...) instead of ${...}).
    document = copy.deepcopy(VALID)
    _container(document)["command"].pop()
    checked = check_document(document, "x.yaml")
    assert checked.ok
    [warning] = checked.warnings
    assert warning.path == "spec.trialTemplate.trialParameters[2].name"
    assert warning.rule == "placeholder-used"


def _two_objectives(**objective: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    document["spec"]["objective"].pop("goal")
    document["spec"]["objective"]["additionalObjectives"] = [{"type": "minimize", "objectiveMetricName": "latency"}]
    document["spec"]["objective"].update(objective)
    return document


@pytest.mark.parametrize("algorithm", ["random", "grid", "sobol", "tpe", "multivariate-tpe", "nsga2", "motpe"])
def test_multi_objective_experiments_are_valid_with_the_algorithms_that_take_them(algorithm: str) -> None:
    document = _two_objectives()
    document["spec"]["algorithm"] = {"algorithmName": algorithm}
    if algorithm == "grid":
        document["spec"]["parameters"][0]["feasibleSpace"]["step"] = "0.01"
        document["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "uniform"
        document["spec"]["maxTrialCount"] = 6
    checked = check_document(document, "mo.yaml")
    assert checked.ok and not checked.problems, [p.format() for p in checked.problems]


def test_multi_objective_defaults_collect_every_objective_with_its_direction() -> None:
    checked = check_document(_two_objectives(), "mo.yaml")
    assert checked.experiment is not None
    objective = checked.experiment.spec.objective
    assert objective is not None
    strategies = {s.name: s.value for s in objective.metric_strategies or []}
    assert strategies == {"accuracy": "max", "latency": "min", "loss": "max"}
    assert objective.collected_metrics() == ["accuracy", "latency", "loss"]
    assert checked.experiment.dump()["spec"]["objective"]["additionalObjectives"] == [
        {"type": "minimize", "objectiveMetricName": "latency"}
    ]


def test_a_goal_with_several_objectives_is_a_warning() -> None:
    checked = check_document(_two_objectives(goal=0.9), "mo.yaml")
    assert checked.ok
    [warning] = checked.warnings
    assert (warning.path, warning.rule) == ("spec.objective.goal", "multi-objective-goal")
    assert "the goal is disabled when there is more than one objective" in warning.format()
    assert "remove objective.goal or the additional objectives" in warning.format()


def test_an_objective_also_listed_as_additional_metric_is_a_warning() -> None:
    checked = check_document(_two_objectives(additionalMetricNames=["loss", "latency"]), "mo.yaml")
    assert checked.ok
    assert [(p.path, p.rule) for p in checked.warnings] == [
        ("spec.objective.additionalMetricNames[1]", "objective-not-additional")
    ]


def test_the_refused_algorithm_error_lists_the_ones_that_can() -> None:
    document = _two_objectives()
    document["spec"]["algorithm"] = {"algorithmName": "bayesianoptimization"}
    [error] = check_document(document, "mo.yaml").problems
    assert "use one of: random, grid, sobol, tpe, multivariate-tpe, nsga2, motpe" in error.format()
