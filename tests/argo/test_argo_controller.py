"""What Argo v4.1.2's controller does that the harness used to skip (issue 18), each shown on a compiled Workflow.

Every test here failed before the compiler or the harness learnt the behaviour it names: retry backoff
with ``maxDuration`` (``processNodeRetries``), the Experiment's ``{{...}}`` tags on the template path
(``SubstituteParams`` and validation), the stored status size (``workflow/packer``), ``when`` as
govaluate reads it, recursion depth, output files, ``workflowMetadata`` labels and values Go's quoting
breaks. ``StepsFake`` (named a fake) stands in for the step commands where only the Workflow's shape is
under test; the others run the real ``katib-flows step`` verbs in process against a SQLite store.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_harness import Clock, Harness, HarnessError, InProcess, Run, evaluate_when, run_chain
from argo_helpers import KATIB_EXAMPLES, REPO
from argo_model import MAX_WORKFLOW_SIZE, go_quote, stored_size
from test_argo_conformance import trivial

from katib_flows.argo import _names as n
from katib_flows.argo import compile_template, compile_workflow
from katib_flows.errors import CompileError
from katib_flows.spec import Experiment, load_file, load_text
from katib_flows.store import Store, TrialStatus

SECRET = ("katib-flows-db", "url")


class StepsFake:
    """A fake of the step commands: suggest always claims (``next`` by its own iteration arguments), trial
    succeeds, finish hands nothing off; init runs for real unless ``lanes`` is given. ``status`` overrides
    what suggest writes, ``fail_trial`` makes the first trial attempt fail after that many virtual seconds."""

    def __init__(self, cwd: Path, env: dict[str, str], clock: Clock, **behaviour: Any) -> None:
        self.real = InProcess(cwd, env)
        self.clock = clock
        self.behaviour = behaviour
        self.calls: list[tuple[str, Path]] = []

    def __call__(self, argv: list[str], env: dict[str, str], sandbox: Path) -> tuple[int, str]:
        verb = argv[2]
        self.calls.append((verb, sandbox))
        option = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1) if argv[i].startswith("--")}
        out = Path(option.get("--outputs", sandbox))
        out.mkdir(parents=True, exist_ok=True)
        if verb == "init" and "lanes" in self.behaviour:
            lanes, iterations = self.behaviour["lanes"]
            _files(out, lanes=json.dumps(list(range(lanes))), iterations=str(iterations))
        elif verb == "suggest":
            more = int(option["--iteration"]) + 1 < int(option["--iterations"])
            _files(out, status=self.behaviour.get("status", "trial"), trial="t", next="continue" if more else "stop",
                   **{"next-iteration": str(int(option["--iteration"]) + 1)})  # fmt: skip
        elif verb == "trial":
            failing = self.behaviour.get("fail_trial")
            if failing is not None and [v for v, _ in self.calls].count("trial") == 1:
                self.clock.advance(failing)
                return 1, "a transient API error"
            return 0, "trial done"
        elif verb == "finish":
            _files(out, condition="Running", **{"next-workflow": "none"})
        else:
            return self.real(argv, env, sandbox)
        return 0, ""


def _files(folder: Path, **values: str) -> None:
    for name, value in values.items():
        (folder / name).write_text(value, encoding="utf-8")


class Cluster:
    """A store, a folder standing in for the API server, a virtual clock, and a way to run Workflows."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.url = f"sqlite:///{tmp_path / 'store.db'}"
        self.workflows = tmp_path / "workflows"
        self.env = {"KATIB_FLOWS_TRIAL_RUNNER": "local", "KATIB_FLOWS_WORKFLOWS_DIR": str(self.workflows)}
        self.clock = Clock()

    def run(self, workflow: dict[str, Any], *, executor: Any = None, **templates: dict[str, Any]) -> list[Run]:
        return run_chain(
            workflow,
            executor=executor or InProcess(self.tmp_path, self.env),
            secrets={SECRET: self.url},
            scratch=self.tmp_path / "nodes",
            workflows_dir=self.workflows,
            templates=templates,
            clock=self.clock,
        )

    def fake(self, **behaviour: Any) -> StepsFake:
        return StepsFake(self.tmp_path, self.env, self.clock, **behaviour)


def _retry_nodes(run: Run, template: str) -> list[Any]:
    return [node for node in run.nodes if node.template == template and node.type == "Retry"]


# -- 1. backoff: cap, not maxDuration ------------------------------------------------------------------------


def test_a_trial_step_failing_after_five_minutes_is_retried(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(1, 1), name="slow", namespace="ns")
    [run] = cluster.run(workflow, executor=cluster.fake(lanes=(1, 1), fail_trial=6 * 60))
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    [trial] = _retry_nodes(run, "trial")
    assert [pod.phase for pod in trial.children] == ["Failed", "Succeeded"]
    backoff = next(t for t in workflow["spec"]["templates"] if t["name"] == "trial")["retryStrategy"]["backoff"]
    assert "maxDuration" not in backoff and backoff["cap"] == "5m"


def test_the_harness_applies_max_duration_as_argo_does(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(1, 1), name="deadline", namespace="ns")
    for template in workflow["spec"]["templates"]:
        if "retryStrategy" in template:
            template["retryStrategy"]["backoff"] = {"duration": "10s", "factor": "2", "maxDuration": "5m"}
    [run] = cluster.run(workflow, executor=cluster.fake(lanes=(1, 1), fail_trial=6 * 60))
    [trial] = _retry_nodes(run, "trial")
    assert run.phase == "Failed" and trial.message == "Max duration limit exceeded"
    assert len(trial.children) == 1, "Argo never retries a step that failed past maxDuration"


# -- 2. the Experiment is never substituted into a template ---------------------------------------------------


def _argo_trial_experiment() -> tuple[str, Experiment]:
    path = KATIB_EXAMPLES / "argo" / "argo-workflow.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{{inputs.parameters.epochs}}" in text and "{{steps.data-preprocessing.outputs.result}}" in text
    experiment = load_file(path).experiment
    assert experiment is not None
    return text, experiment


def _from_template(name: str, spec_text: str) -> dict[str, Any]:
    """A Workflow as the Argo UI's form (or ``argo submit --from``) creates it."""
    arguments = [{"name": "experiment", "value": name}, {"name": "experiment-spec", "value": spec_text}]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"workflowTemplateRef": {"name": "katib-flows"}, "arguments": {"parameters": arguments}},
    }


def _registered_spec(cluster: Cluster, name: str) -> dict[str, Any]:
    with Store(cluster.url) as store:
        return store.get_experiment("ns", name).spec["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", ["template", "inline"])
def test_an_argo_workflow_trial_reaches_the_store_with_its_tags(tmp_path: Path, path: str) -> None:
    """The pasted Experiment holds Argo tags; init registers it unchanged (both ways of submitting)."""
    text, experiment = _argo_trial_experiment()
    cluster = Cluster(tmp_path)
    fake = cluster.fake(status="done")  # init and finish run for real; the trials are not under test
    if path == "template":
        template = compile_template(name="katib-flows", namespace="ns")
        [run] = cluster.run(_from_template("argo-trial", text), executor=fake, **{"katib-flows": template})
    else:
        [run] = cluster.run(compile_workflow(experiment, name="argo-trial", namespace="ns"), executor=fake)
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    registered = _registered_spec(cluster, "argo-trial")
    assert "{{steps.data-preprocessing.outputs.result}}" in json.dumps(registered)
    assert registered == experiment.dump()["spec"]


def test_a_known_tag_in_a_pasted_experiment_is_not_replaced(tmp_path: Path) -> None:
    document = trivial(1, 1).dump()
    document["spec"]["trialTemplate"]["command"][2] = "print('loss=0.5')  # {{workflow.name}} {{workflow.uid}}"
    cluster = Cluster(tmp_path)
    template = compile_template(name="katib-flows", namespace="ns")
    [run] = cluster.run(_from_template("tags", yaml.safe_dump(document)), **{"katib-flows": template})
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    command = _registered_spec(cluster, "tags")["trialTemplate"]["command"]
    assert command[2].endswith("# {{workflow.name}} {{workflow.uid}}")


def test_the_harness_refuses_an_experiment_substituted_into_a_template(tmp_path: Path) -> None:
    """What Argo's validation does to the template as it was: the tags of the pasted spec must resolve."""
    text, _ = _argo_trial_experiment()
    template = compile_template(name="katib-flows", namespace="ns")
    init = next(t for t in template["spec"]["templates"] if t["name"] == "init")
    init["container"]["env"].append({"name": "SPEC", "value": "{{workflow.parameters.experiment-spec}}"})
    with pytest.raises(HarnessError, match=r"templates.init: failed to resolve \{\{inputs.parameters.epochs\}\}"):
        Cluster(tmp_path).run(_from_template("argo-trial", text), **{"katib-flows": template})


# -- 3. the stored status stays far below Argo's limit ---------------------------------------------------------


def test_a_wide_experiment_runs_fewer_iterations_per_generation(tmp_path: Path) -> None:
    """40 lanes x 90 iterations would not fit in a Workflow even gzipped; init gives each lane its share."""
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(100_000, 40), name="wide", namespace="ns")
    [run] = cluster.run(workflow, executor=cluster.fake())
    assert run.phase == "Succeeded"
    iterations = sum(1 for node in run.nodes if node.template == "suggest" and node.type == "Retry")
    assert iterations == 40 * n.iterations_for(40, n.DEFAULT_GENERATION_ITERATIONS) <= n.MAX_LANE_ITERATIONS
    assert run.stored_bytes < MAX_WORKFLOW_SIZE // 4


@pytest.mark.slow
@pytest.mark.parametrize(("lanes", "iterations"), [(3, 90), (12, 30), (n.MAX_LANES, 1)])
def test_the_status_of_a_full_generation_has_room_to_spare(tmp_path: Path, lanes: int, iterations: int) -> None:
    assert n.iterations_for(lanes, n.DEFAULT_GENERATION_ITERATIONS) == iterations
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(
        trivial(100_000, lanes), name="experiment-name-of-40-characters-long-ab", namespace="ns"
    )
    [run] = cluster.run(workflow, executor=cluster.fake(lanes=(lanes, iterations)))
    assert run.phase == "Succeeded"
    assert run.stored_bytes < MAX_WORKFLOW_SIZE // 4, run.stored_bytes


@pytest.mark.slow
def test_the_harness_fails_a_workflow_longer_than_argo_stores(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(100_000, 40), name="wide", namespace="ns")
    with pytest.raises(HarnessError, match="workflow is longer than maximum allowed size"):
        cluster.run(workflow, executor=cluster.fake(lanes=(40, 90)))


def test_stored_size_compresses_then_refuses() -> None:
    small = {"metadata": {}, "spec": {}, "status": {"nodes": {"a": "x" * 100}}}
    assert stored_size(small) == (len(json.dumps(small, separators=(",", ":"))), False)
    repetitive = {"metadata": {}, "spec": {}, "status": {"nodes": {"a": "node" * 300_000}}}
    size, compressed = stored_size(repetitive)
    assert compressed and size < MAX_WORKFLOW_SIZE
    noise = {"metadata": {}, "spec": {}, "status": {"nodes": {"a": secrets.token_hex(1_000_000)}}}
    with pytest.raises(HarnessError, match="node status offload"):
        stored_size(noise)


# -- 4. when, as govaluate reads it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [("'trial' == 'trial'", True), ("'' == 'trial'", False), ("'a b' != 'trial'", True), ("trial == trial", True),
     ("'x' == 'x' && ('y' == 'z' || true)", True)],
)  # fmt: skip
def test_when_is_evaluated_as_govaluate_does(expression: str, value: bool) -> None:
    assert evaluate_when(expression) is value


@pytest.mark.parametrize("expression", [" == trial", "a b == trial", "wait-list == trial", "'a' == ", "'a'"])
def test_when_that_govaluate_cannot_parse_is_an_error(expression: str) -> None:
    with pytest.raises(HarnessError):
        evaluate_when(expression)


def test_an_empty_suggest_status_skips_the_trial_instead_of_erroring(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(1, 1), name="empty", namespace="ns")
    [run] = cluster.run(workflow, executor=cluster.fake(lanes=(1, 1), status=""))
    assert run.phase == "Succeeded"
    assert {node.type for node in run.nodes if node.template == "trial"} == {"Skipped"}


# -- 5. recursion ------------------------------------------------------------------------------------------------


def test_recursion_fails_at_depth_100(tmp_path: Path) -> None:
    workflow = compile_workflow(trivial(1, 1), name="deep", namespace="ns")
    harness = Harness(workflow, executor=Cluster(tmp_path).fake(), secrets={SECRET: ""}, scratch=tmp_path / "nodes")
    lane = {"lane": "0", "iteration": "0", "iterations": "1"}
    harness.execute("lane", lane, depth=98, node_name="x", boundary="")  # its steps at depth 99
    with pytest.raises(HarnessError, match=r"y\[2\].n\[0\].suggest: Maximum recursion depth exceeded"):
        harness.execute("lane", {**lane, "iterations": "2"}, depth=98, node_name="y", boundary="")


# -- 6. outputs ---------------------------------------------------------------------------------------------------


def test_one_trailing_newline_of_an_output_file_is_trimmed(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    [run] = cluster.run(
        compile_workflow(trivial(1, 1), name="nl", namespace="ns"),
        executor=cluster.fake(lanes=(1, 1), status="trial\n"),
    )
    assert [node.phase for node in run.nodes if node.template == "trial" and node.type == "Retry"] == ["Succeeded"]


def test_each_attempt_gets_a_fresh_filesystem(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    fake = cluster.fake(lanes=(1, 1), fail_trial=1)
    cluster.run(compile_workflow(trivial(1, 1), name="fresh", namespace="ns"), executor=fake)
    attempts = [sandbox for verb, sandbox in fake.calls if verb == "trial"]
    assert len(attempts) == 2 and attempts[0] != attempts[1]


def test_the_pbt_example_runs_with_its_checkpoint_claim(tmp_path: Path) -> None:
    """Template-level volumes: the trial step's claim is a folder the harness shares between pods."""
    experiment = load_file(REPO / "examples" / "pbt" / "experiment.yaml").experiment
    assert experiment is not None
    cluster = Cluster(tmp_path)
    [run] = cluster.run(compile_workflow(experiment, name="pbt", namespace="ns"), executor=cluster.fake(lanes=(1, 1)))
    assert run.phase == "Succeeded"
    assert (tmp_path / "nodes" / "claims" / n.DEFAULT_CHECKPOINTS_CLAIM).is_dir()


# -- 7. labels of Workflows submitted from the template -------------------------------------------------------------


def test_a_workflow_from_the_template_carries_the_experiment_label(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    template = compile_template(name="katib-flows", namespace="ns")
    spec = json.dumps(trivial(1, 1).dump())
    cluster.run(_from_template("labelled", spec), executor=cluster.fake(status="done"), **{"katib-flows": template})
    stored = json.loads((cluster.workflows / "ns" / "labelled.json").read_text())
    labels = stored["metadata"]["labels"]
    assert labels[n.L_EXPERIMENT] == "labelled" and labels[n.L_GENERATION] == "0"
    assert stored["status"]["phase"] == "Succeeded"


# -- 8. values Go's quoting breaks, and long values ------------------------------------------------------------------


def _with_description(text: str) -> Experiment:
    document = trivial(1, 1).dump()
    document["spec"]["trialTemplate"]["trialParameters"] = [{"name": "x", "reference": "x", "description": text}]
    document["spec"]["trialTemplate"]["command"][3] = "${trialParameters.x}"
    experiment = load_text(json.dumps(document)).experiment
    assert experiment is not None
    return experiment


def test_go_quote_escapes_what_json_does_not_read() -> None:
    assert go_quote('a"b\\c\n') == 'a\\"b\\\\c\\n'
    assert go_quote("\x7f\x01\u200b\U000e0001😀é") == "\\x7f\\x01\\u200b\\U000e0001😀é"


@pytest.mark.parametrize("text", ["DEL \x7f", "bell \a", "tag \U000e0001", "zero width \u200b", "emoji 😀"])
def test_control_and_unprintable_characters_reach_the_store(tmp_path: Path, text: str) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(_with_description(text), name="odd", namespace="ns")
    assert workflow["spec"]["arguments"]["parameters"][1]["value"].isascii()
    [run] = cluster.run(workflow, executor=cluster.fake(status="done"))
    assert run.phase == "Succeeded", [n.message for n in run.nodes if n.phase == "Failed"]
    assert _registered_spec(cluster, "odd")["trialTemplate"]["trialParameters"][0]["description"] == text


def test_an_experiment_over_128_kib_still_starts(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(_with_description("x" * 140_000), name="big", namespace="ns")
    [run] = cluster.run(workflow, executor=cluster.fake(status="done"))
    assert run.phase == "Succeeded", [n.message[:200] for n in run.nodes if n.phase == "Failed"]


def test_the_harness_fails_exec_of_an_env_value_over_128_kib(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    workflow = compile_workflow(trivial(1, 1), name="env", namespace="ns")
    init = next(t for t in workflow["spec"]["templates"] if t["name"] == "init")
    init["container"]["env"].append({"name": "BIG", "value": "x" * 140_000})
    [run] = cluster.run(workflow, executor=cluster.fake(lanes=(1, 1)))
    assert run.phase == "Failed"
    assert "argument list too long" in next(n.message for n in run.nodes if n.type == "Retry" and n.phase == "Failed")


def test_trials_of_the_real_steps_still_succeed_after_a_retried_trial_step(tmp_path: Path) -> None:
    """The cap keeps retries short; a real chain with a first failing trial attempt ends with the budget."""
    cluster = Cluster(tmp_path)
    [run] = cluster.run(compile_workflow(trivial(2, 1), name="real", namespace="ns"))
    assert run.phase == "Succeeded"
    with Store(cluster.url) as store:
        trials = store.list_trials("ns", "real")
    assert len(trials) == 2 and all(t.status is TrialStatus.SUCCEEDED for t in trials)


def test_an_experiment_over_256_kib_is_refused_naming_its_size(tmp_path: Path) -> None:
    big = _with_description("x" * 300_000)
    with pytest.raises(CompileError, match=r"the Experiment is 29\d KiB as JSON, above the 256 KiB"):
        compile_workflow(big, name="big", namespace="ns")
    cluster = Cluster(tmp_path)
    template = compile_template(name="katib-flows", namespace="ns")
    workflow = _from_template("big", json.dumps(big.dump()))
    [run] = cluster.run(workflow, executor=cluster.fake(), **{"katib-flows": template})
    [init] = [node for node in run.nodes if node.template == "init" and node.type == "Retry"]
    assert run.phase == "Failed" and len(init.children) == 1, "bad input (exit 2) is not retried"
    assert "above the 256 KiB" in init.message
