"""The compiler: a checked Experiment -> an Argo ``Workflow`` (a plain dict), built with hera.

A pure function, called by ``katib-flows compile`` and by the generator of ``workflow_templates/``;
submitting is someone else's job. The Workflow is the lane loop of DESIGN.md section 6::

    main:   init ──> lane × N (withParam: the lane ids init printed)
    lane:   suggest ──> trial (when status == trial) ──> n: lane again (when next == continue)
    onExit: finish

Every step is ``katib-flows step <verb>`` in the project's image, with the store URL from a Secret.
Parameters carry ids (experiment name, lane, iteration, trial name, generation), never manifests: the
Experiment itself travels once, as the Workflow parameter ``experiment-spec``, which no template
references. Argo substitutes a referenced parameter into the template's JSON and runs its tag
replacement over the result again (``SubstituteParams``), and validation resolves every tag in it, so a
pasted Experiment holding ``{{...}}`` (an Argo Workflow trial does) would be refused or altered. The init
step reads it from its own Workflow object through the API instead, and from then on it lives in the
store. A lane stops after the iterations init chose for this generation (``_names.iterations_for``: below
Argo's recursion limit, and fewer as lanes grow so the node status stays small); the exit step then
submits the next generation of the same Workflow (``_handoff.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hera.workflows import (
    ClusterWorkflowTemplate,
    Container,
    Env,
    ExistingVolume,
    Parameter,
    Resources,
    RetryStrategy,
    SecretEnv,
    Step,
    Steps,
    Workflow,
    WorkflowTemplate,
)
from hera.workflows.models import Backoff, IntOrString, PodGC, ValueFrom, WorkflowMetadata

from katib_flows.argo import _names as n
from katib_flows.argo._options import StepOptions
from katib_flows.errors import CompileError
from katib_flows.paths import CHECKPOINTS_ENV
from katib_flows.spec import Experiment

#: Retry a step that failed for a reason other than bad input (exit code 2): every verb is idempotent.
#: The waits are 10s, 20s, 40s, each at most ``cap``. Not ``maxDuration``: Argo reads it as a deadline from the
#: first attempt's start (``processNodeRetries``) and as the retry pod's activeDeadlineSeconds, so a trial step
#: that failed after it would never be retried.
_RETRY = RetryStrategy(
    limit="3",
    retry_policy="Always",
    expression="lastRetry.exitCode != '2'",
    backoff=Backoff(duration="10s", factor=IntOrString(root="2"), cap="5m"),
)
_RESOURCES = Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")


def spec_json(experiment: Experiment, *, name: str, namespace: str | None) -> str:
    """The defaulted Experiment as compact JSON with sorted keys: what the init step registers."""
    document = experiment.dump()
    metadata = document.setdefault("metadata", {})
    metadata["name"] = name
    if namespace:
        metadata["namespace"] = namespace
    # ASCII only: Argo writes a substituted value through Go's strconv.Quote, whose \\x7f, \\a or \\U000e0001
    # escapes are not JSON ("cannot finish template replacement"); \\uXXXX escapes are both.
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # Argo reads `{{...}}` as its own placeholders, and substitutes the Workflow's own arguments once
    # (``substituteGlobalVariables``, saved into the object); a template may hold some (an Argo Workflow trial
    # does). Compact JSON never opens two objects in a row, so every `{{` is inside a string: escape it there.
    return text.replace("{{", "\\u007b\\u007b")


def compile_workflow(
    experiment: Experiment,
    *,
    name: str,
    namespace: str | None = None,
    options: StepOptions | None = None,
    generate_name: bool = False,
) -> dict[str, Any]:
    """The Argo ``Workflow`` that runs ``experiment`` under ``name`` (a plain dict, ready to dump).

    ``namespace`` None leaves ``metadata.namespace`` out (kustomize or ``kubectl -n`` sets it); the steps
    always use the namespace the Workflow runs in. ``generate_name`` writes ``generateName: NAME-`` so
    the same file can be submitted many times; by default the name is fixed, as GitOps needs.
    """
    options = options or StepOptions()
    options.check()
    if experiment.spec.trial_template is None:
        raise CompileError("spec.trialTemplate is missing: a Workflow needs a trial to run")
    if (experiment.spec.parallel_trial_count or 1) > n.MAX_LANES:
        raise CompileError(
            f"spec.parallelTrialCount {experiment.spec.parallel_trial_count} is above {n.MAX_LANES}, the widest "
            "experiment one Argo Workflow keeps status for (README: Running on a cluster); lower it"
        )
    spec = spec_json(experiment, name=name, namespace=namespace)
    too_large = n.spec_too_large(len(spec.encode()))
    if too_large:
        raise CompileError(too_large)
    arguments = [
        Parameter(name=n.P_EXPERIMENT, value=name, description="Name of the experiment in the store."),
        Parameter(
            name=n.P_SPEC,
            value=spec,
            description="The Katib v1beta1 Experiment (JSON or YAML); read once, by the init step.",
        ),
        Parameter(
            name=n.P_GENERATION,
            value="0",
            description="Which generation of this experiment's Workflows this is (set by the hand-off).",
        ),
    ]
    labels = {**options.labels, n.L_MANAGED_BY: n.MANAGED_BY, n.L_EXPERIMENT: name, n.L_GENERATION: "0"}
    workflow = Workflow(
        name=None if generate_name else name,
        generate_name=f"{name}-" if generate_name else None,
        namespace=namespace,
        labels=labels,
        **_spec_fields(options, arguments),
    )
    with workflow:
        _templates(options, checkpoints=experiment.checkpoint_path is not None)
    built: dict[str, Any] = workflow.to_dict()
    return built


def compile_template(
    *, name: str, namespace: str | None = None, cluster: bool = False, options: StepOptions | None = None
) -> dict[str, Any]:
    """A ``(Cluster)WorkflowTemplate`` running any Experiment given as parameters: the Argo UI's form."""
    options = options or StepOptions()
    options.check()
    arguments = [
        Parameter(
            name=n.P_EXPERIMENT,
            value="",
            description="Name of the experiment: a DNS-1123 label of at most 40 characters (required).",
        ),
        Parameter(
            name=n.P_SPEC,
            value="",
            description="The Katib v1beta1 Experiment as YAML or JSON (kind: Experiment, or just its spec).",
        ),
        Parameter(name=n.P_GENERATION, value="0", description="Leave at 0; later generations are submitted for you."),
    ]
    labels = {**options.labels, n.L_MANAGED_BY: n.MANAGED_BY}
    annotations = {
        "workflows.argoproj.io/title": "katib-flows experiment",
        "workflows.argoproj.io/description": (
            "Runs a Katib v1beta1 Experiment: paste it into `experiment-spec`, name it in `experiment`."
        ),
    }
    fields = _spec_fields(options, arguments)
    # Workflows submitted from the template carry the labels `watch` and the README's selectors use; Argo
    # substitutes the Workflow's parameters into workflowMetadata before it copies the labels.
    fields["workflow_metadata"] = WorkflowMetadata(
        labels={
            n.L_MANAGED_BY: n.MANAGED_BY,
            n.L_EXPERIMENT: f"{{{{workflow.parameters.{n.P_EXPERIMENT}}}}}",
            n.L_GENERATION: f"{{{{workflow.parameters.{n.P_GENERATION}}}}}",
        }
    )
    template: WorkflowTemplate = (
        ClusterWorkflowTemplate(name=name, labels=labels, annotations=annotations, **fields)
        if cluster
        else WorkflowTemplate(name=name, namespace=namespace, labels=labels, annotations=annotations, **fields)
    )
    with template:
        _templates(options, checkpoints=False)
    built: dict[str, Any] = template.to_dict()
    return built


def _spec_fields(options: StepOptions, arguments: list[Parameter]) -> dict[str, Any]:
    return {
        "entrypoint": n.T_MAIN,
        "on_exit": n.T_FINISH,
        "arguments": arguments,
        "service_account_name": options.service_account,
        "pod_gc": PodGC(strategy="OnPodSuccess"),
    }


def _templates(options: StepOptions, *, checkpoints: bool) -> None:
    """Declare every template inside the current hera Workflow context; ``checkpoints``: the trial step
    mounts the claim of PBT checkpoints."""
    common = _Common(options)
    init = common.container(
        n.T_INIT,
        "init",
        ["--generation", f"{{{{workflow.parameters.{n.P_GENERATION}}}}}", "--workflow", "{{workflow.name}}",
         "--iterations", str(options.generation_iterations)],
        outputs=[n.O_LANES, n.O_ITERATIONS],
    )  # fmt: skip
    suggest = common.container(
        n.T_SUGGEST,
        "suggest",
        ["--lane", "{{inputs.parameters.lane}}", "--iteration", "{{inputs.parameters.iteration}}",
         "--iterations", "{{inputs.parameters.iterations}}", "--workflow", "{{workflow.name}}"],
        inputs=["lane", "iteration", "iterations"],
        outputs=[n.O_STATUS, n.O_TRIAL, n.O_NEXT, n.O_NEXT_ITERATION],
    )  # fmt: skip
    trial = common.container(
        n.T_TRIAL,
        "trial",
        ["--trial", "{{inputs.parameters.trial}}", "--workflow", "{{workflow.name}}",
         "--workflow-uid", "{{workflow.uid}}"],
        inputs=["trial"],
        env=_trial_env(options, checkpoints),
        volumes=[ExistingVolume(name="checkpoints", claim_name=options.checkpoints_claim,
                                mount_path=n.CHECKPOINTS_MOUNT)] if checkpoints else [],
    )  # fmt: skip
    common.container(
        n.T_FINISH,
        "finish",
        ["--workflow", "{{workflow.name}}", "--workflow-status", "{{workflow.status}}",
         "--generation", "{{workflow.parameters.generation}}"],
        outputs=[n.O_CONDITION, n.O_NEXT_WORKFLOW],
    )  # fmt: skip
    lane_inputs = [Parameter(name="lane"), Parameter(name="iteration"), Parameter(name="iterations")]
    with Steps(name=n.T_LANE, inputs=lane_inputs) as lane:
        Step(
            name=n.T_SUGGEST,
            template=suggest,
            arguments={p: f"{{{{inputs.parameters.{p}}}}}" for p in ("lane", "iteration", "iterations")},
        )
        Step(
            name=n.T_TRIAL,
            template=trial,
            arguments={"trial": _output(n.T_SUGGEST, n.O_TRIAL)},
            when=_equals(_output(n.T_SUGGEST, n.O_STATUS), n.STATUS_TRIAL),
        )
        Step(
            name=n.S_AGAIN,
            template=lane,
            arguments={
                "lane": "{{inputs.parameters.lane}}",
                "iteration": _output(n.T_SUGGEST, n.O_NEXT_ITERATION),
                "iterations": "{{inputs.parameters.iterations}}",
            },
            when=_equals(_output(n.T_SUGGEST, n.O_NEXT), n.NEXT_CONTINUE),
        )
    with Steps(name=n.T_MAIN):
        Step(name=n.T_INIT, template=init)
        Step(
            name=n.T_LANE,
            template=lane,
            with_param=_output(n.T_INIT, n.O_LANES),
            arguments={"lane": "{{item}}", "iteration": "0", "iterations": _output(n.T_INIT, n.O_ITERATIONS)},
        )


def _output(step: str, name: str) -> str:
    return f"{{{{steps.{step}.outputs.parameters.{name}}}}}"


def _equals(reference: str, word: str) -> str:
    """A ``when`` comparing a substituted value with a word, both quoted: govaluate reads an unquoted empty
    value, or one with a space, hyphen or operator, as a parse error that errors the node."""
    return f"'{reference}' == '{word}'"


def _trial_env(options: StepOptions, checkpoints: bool) -> list[Env]:
    env = [Env(name=n.IMAGE_ENV, value=options.image)]
    if options.trial_runner:
        env.append(Env(name=n.TRIAL_RUNNER_ENV, value=options.trial_runner))
    if checkpoints:
        env += [Env(name=n.CHECKPOINTS_CLAIM_ENV, value=options.checkpoints_claim),
                Env(name=CHECKPOINTS_ENV, value=n.CHECKPOINTS_MOUNT)]  # fmt: skip
    return env


@dataclass(frozen=True)
class _Common:
    options: StepOptions

    def container(
        self,
        name: str,
        verb: str,
        args: list[str],
        *,
        inputs: list[str] = (),  # type: ignore[assignment]
        outputs: list[str] = (),  # type: ignore[assignment]
        env: list[Env] = (),  # type: ignore[assignment]
        volumes: list[ExistingVolume] = (),  # type: ignore[assignment]
    ) -> Container:
        """A step container: ``katib-flows step VERB --experiment E --namespace NS ... --outputs DIR``."""
        return Container(
            name=name,
            image=self.options.image,
            image_pull_policy=self.options.image_pull_policy,
            command=["katib-flows"],
            args=[
                "step",
                verb,
                "--experiment",
                f"{{{{workflow.parameters.{n.P_EXPERIMENT}}}}}",
                "--namespace",
                "{{workflow.namespace}}",
                *args,
                *(["--outputs", n.OUTPUTS_DIR] if outputs else []),
            ],
            env=[SecretEnv(name=n.DB_ENV, secret_name=self.options.db_secret, secret_key=n.DB_SECRET_KEY), *env],
            inputs=[Parameter(name=i) for i in inputs] or None,
            outputs=[Parameter(name=o, value_from=ValueFrom(path=f"{n.OUTPUTS_DIR}/{o}")) for o in outputs] or None,
            resources=_RESOURCES,
            retry_strategy=_RETRY,
            volumes=volumes or None,
        )
