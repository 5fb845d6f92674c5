"""Katib's rules for ``spec.trialTemplate``, in the webhook's order, plus two it leaves to trial creation.

Called by ``check`` in ``__init__.py``. A ConfigMap-sourced template cannot be read at lint time (it lives in the
cluster), so only its reference is checked here; the runners check the template itself when they load it.
"""

from __future__ import annotations

from typing import Any

from katib_flows.spec._kinds import KINDS_WITH_CONTAINERS, SUCCESS_FAILURE_CONDITIONS, find_container
from katib_flows.spec._models import ParameterSpec, TrialTemplate
from katib_flows.spec._problems import Problem
from katib_flows.spec._render import META_REFERENCE, TRIAL_SPEC, placeholders
from katib_flows.spec._rules._trial_object import check_trial_object

T = "spec.trialTemplate"


def check_trial_template(
    template: TrialTemplate, parameters: list[ParameterSpec], nas: tuple[str, ...] | None = None
) -> list[Problem]:
    """``nas``: for a ``spec.nasConfig`` experiment, the assignments its NAS algorithm gives each trial
    (``NAS_ASSIGNMENTS``; empty when unknown, as for a plug-in), which trial parameters may reference."""
    sources = [s for s in ("trialSpec", "configMap", "command") if _source(template, s) is not None]
    if len(sources) != 1:
        return [
            Problem(
                T,
                "needs exactly one of trialSpec, configMap or command"
                + (f", found {' and '.join(sources)}" if sources else ""),
                "keep one template source",
                rule="template-source",
            )
        ]
    problems = _check_source(template, sources[0])
    if template.command is None and not template.trial_parameters:
        problems.append(
            Problem(
                f"{T}.trialParameters",
                "is required",
                "list the parameters the template uses",
                rule="required",
            )
        )
        return problems
    problems += _check_trial_parameters(template, {p.name for p in parameters if p.name}, nas)
    return problems


def _source(template: TrialTemplate, name: str) -> Any:
    return {"trialSpec": template.trial_spec, "configMap": template.config_map, "command": template.command}[name]


def _check_source(template: TrialTemplate, source: str) -> list[Problem]:
    problems: list[Problem] = []
    if source == "command":
        if not template.command:
            problems.append(
                Problem(
                    f"{T}.command",
                    "must not be empty",
                    "write the command as a list of arguments",
                    rule="non-empty",
                )
            )
        return problems
    if source == "configMap":
        cm = template.config_map
        assert cm is not None
        for field, value in (
            ("configMapName", cm.config_map_name),
            ("configMapNamespace", cm.config_map_namespace),
            ("templatePath", cm.template_path),
        ):
            if not value:
                problems.append(Problem(f"{T}.configMap.{field}", "is required", f"add {field}", rule="required"))
    else:
        problems += _check_trial_spec(template)
    if not template.success_condition or not template.failure_condition:
        problems.append(
            Problem(
                f"{T}.successCondition",
                "successCondition and failureCondition must be specified",
                'give both as GJSON queries over the trial object, e.g. status.[@this].#(phase=="Succeeded")#',
                rule="conditions",
            )
        )
    if not template.primary_container_name:
        problems.append(
            Problem(
                f"{T}.primaryContainerName",
                "is required",
                "name the container that runs the training code",
                rule="required",
            )
        )
    return problems


def _check_trial_spec(template: TrialTemplate) -> list[Problem]:
    obj = template.trial_spec
    assert obj is not None
    path = f"{T}.trialSpec"
    problems = []
    for field in ("apiVersion", "kind"):
        if not isinstance(obj.get(field), str) or not obj.get(field):
            problems.append(
                Problem(f"{path}.{field}", "is required", f"add {field} to the trial object", rule="required")
            )
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        for field in ("name", "namespace"):
            if field in metadata:
                problems.append(
                    Problem(
                        f"{path}.metadata.{field}",
                        "must be left out: each trial sets it",
                        f"remove metadata.{field}",
                        value=metadata[field],
                        rule="no-object-name",
                    )
                )
    kind = obj.get("kind")
    primary = template.primary_container_name
    if kind in KINDS_WITH_CONTAINERS and primary and find_container(obj, primary) is None:
        problems.append(
            Problem(
                f"{T}.primaryContainerName",
                f"names no container of the {kind}",
                "use the name of the container that runs the training code",
                value=template.primary_container_name,
                rule="primary-container",
            )
        )
    if isinstance(kind, str) and kind not in SUCCESS_FAILURE_CONDITIONS and not template.success_condition:
        problems.append(
            Problem(
                f"{T}.successCondition",
                f"has no default for kind {kind}",
                "give successCondition and failureCondition",
                rule="conditions",
            )
        )
    return problems + check_trial_object(obj, path)


def _check_trial_parameters(
    template: TrialTemplate, parameter_names: set[str], nas: tuple[str, ...] | None
) -> list[Problem]:
    problems: list[Problem] = []
    body: Any = template.trial_spec if template.trial_spec is not None else template.command
    used = placeholders(body) if body is not None else None  # None: a ConfigMap template, read later
    names: set[str] = set()
    references: set[str] = set()
    for i, tp in enumerate(template.trial_parameters or []):
        path = f"{T}.trialParameters[{i}]"
        if not tp.name or not tp.reference:
            problems.append(Problem(path, "needs both name and reference", "add the missing field", rule="required"))
            continue
        if "{" in tp.name or "}" in tp.name:
            problems.append(
                Problem(
                    f"{path}.name",
                    "must not contain { or }",
                    "use a plain name like learningRate",
                    value=tp.name,
                    rule="trial-parameter-name",
                )
            )
        if tp.name in names:
            problems.append(
                Problem(
                    f"{path}.name",
                    "is used by an earlier trial parameter",
                    "give it a unique name",
                    value=tp.name,
                    rule="unique-name",
                )
            )
        if tp.reference in references:
            problems.append(
                Problem(
                    f"{path}.reference",
                    "is used by an earlier trial parameter",
                    "reference each parameter once",
                    value=tp.reference,
                    rule="unique-reference",
                )
            )
        names.add(tp.name)
        references.add(tp.reference)
        if META_REFERENCE.match(tp.reference):
            if not TRIAL_SPEC.fullmatch(tp.reference):
                problems.append(
                    Problem(
                        f"{path}.reference",
                        "is not a trial metadata reference Katib knows",
                        "use ${trialSpec.Name}, Namespace, Kind, APIVersion, Labels[key] or Annotations[key]",
                        value=tp.reference,
                        rule="meta-reference",
                    )
                )
        elif nas and tp.reference not in nas:
            # Katib fails at trial creation: no assignment of that name comes from the NAS service.
            problems.append(
                Problem(
                    f"{path}.reference",
                    "names nothing the NAS algorithm gives a trial",
                    f"use one of: {', '.join(nas)}",
                    value=tp.reference,
                    rule="reference-exists",
                )
            )
        elif parameter_names and tp.reference not in parameter_names:
            problems.append(
                Problem(
                    f"{path}.reference",
                    "names no parameter in spec.parameters",
                    f"use one of: {', '.join(sorted(parameter_names))}",
                    value=tp.reference,
                    rule="reference-exists",
                )
            )
        if used is not None and tp.name not in used:
            # Katib rejects this; we warn, because Katib's own tekton/pipeline-run.yaml example has it
            # (it writes $(trialParameters.lr)), and an unused entry breaks nothing but its own value.
            problems.append(
                Problem(
                    f"{path}.name",
                    f"${{trialParameters.{tp.name}}} is not used in the template, so this value reaches no trial",
                    f"write ${{trialParameters.{tp.name}}} (with braces) in the template, or remove this entry",
                    value=tp.name,
                    severity="warning",
                    rule="placeholder-used",
                )
            )
    if used is not None:
        for name in sorted(used - names):
            problems.append(
                Problem(
                    _where(template),
                    f"${{trialParameters.{name}}} is not defined in {T}.trialParameters",
                    f"add a trial parameter named {name!r}",
                    value=name,
                    rule="placeholder-defined",
                )
            )
    if nas is None:
        # Katib fails at trial creation when an assignment has no trial parameter; we fail at lint.
        for name in sorted(parameter_names - references):
            problems.append(
                Problem(
                    f"{T}.trialParameters",
                    f"no trial parameter references parameter {name!r}, so its value could not reach the trial",
                    f"add {{name: ..., reference: {name}}} and use it in the template",
                    value=name,
                    rule="parameter-used",
                )
            )
    return problems


def _where(template: TrialTemplate) -> str:
    return f"{T}.trialSpec" if template.trial_spec is not None else f"{T}.command"
