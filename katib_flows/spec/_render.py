"""Rendering a trial: Katib's placeholders substituted inside the string values of the parsed template.

Katib pastes values into the serialized template and parses the result, so a value with a quote, a
newline or a YAML fragment can change the document. Here the template is already a tree of dicts and
lists; only string leaves are touched, and each placeholder becomes the value's text, so a value always
ends up as exactly one unchanged string. Called by the runners (local and Kubernetes) and the rules
(to find placeholders that nothing defines).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from katib_flows.spec._models import Experiment

#: ``${trialParameters.NAME}``; NAME is anything up to the closing brace.
TRIAL_PARAMETER = re.compile(r"\$\{trialParameters\.([^{}]+)\}")
#: ``${trialSpec.Name}`` and friends, as a trial parameter's ``reference`` or directly in the template.
TRIAL_SPEC = re.compile(r"\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[([^\]]*)\]|Annotations\[([^\]]*)\])\}")
META_REFERENCE = re.compile(r"^\$\{trialSpec\.[^{}]*\}$")
_ANY_PLACEHOLDER = re.compile(
    r"\$\{(?:trialParameters\.(?P<parameter>[^{}]+)"
    r"|trialSpec\.(?P<meta>Name|Namespace|Kind|APIVersion|Labels\[[^\]]*\]|Annotations\[[^\]]*\]))\}"
)


def format_value(value: Any) -> str:
    """A suggested value as the text a trial receives: ints plainly, floats shortest round-trip."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def meta_values(template_object: Mapping[str, Any], *, trial_name: str, namespace: str) -> dict[str, str]:
    """Values for ``${trialSpec.*}``: name and namespace of the trial, the rest read from the template."""
    metadata = template_object.get("metadata") or {}
    values = {
        "Name": trial_name,
        "Namespace": namespace,
        "Kind": str(template_object.get("kind", "")),
        "APIVersion": str(template_object.get("apiVersion", "")),
    }
    for field, key in (("labels", "Labels"), ("annotations", "Annotations")):
        for k, v in (metadata.get(field) or {}).items():
            values[f"{key}[{k}]"] = str(v)
    return values


def substitute(text: str, parameters: Mapping[str, str], meta: Mapping[str, str]) -> str:
    """Replace every known placeholder in one string in a single pass; unknown ones are left as written.

    One pass matters: a value that itself contains ``${trialSpec.Name}`` must come out unchanged.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group("parameter") is not None:
            return parameters.get(match.group("parameter"), match.group(0))
        return meta.get(match.group("meta"), match.group(0))

    return _ANY_PLACEHOLDER.sub(replace, text)


def substitute_tree(node: Any, parameters: Mapping[str, str], meta: Mapping[str, str]) -> Any:
    """A copy of ``node`` with placeholders replaced in string values (keys are left alone)."""
    if isinstance(node, str):
        return substitute(node, parameters, meta)
    if isinstance(node, dict):
        return {k: substitute_tree(v, parameters, meta) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute_tree(v, parameters, meta) for v in node]
    return node


def trial_parameters(experiment: Experiment) -> list[tuple[str, str]]:
    """The template's ``trialParameters`` as (name, reference) pairs, what the render functions take."""
    template = experiment.spec.trial_template
    assert template is not None
    return [(tp.name, tp.reference) for tp in template.trial_parameters or [] if tp.name and tp.reference]


def trial_parameter_values(
    trial_parameters: list[tuple[str, str]], assignments: Mapping[str, Any], meta: Mapping[str, str]
) -> dict[str, str]:
    """``trialParameters`` name -> text, from (name, reference) pairs: a parameter's value or a meta value."""
    values: dict[str, str] = {}
    for name, reference in trial_parameters:
        if META_REFERENCE.match(reference):
            values[name] = substitute(reference, {}, meta)
        elif reference in assignments:
            values[name] = format_value(assignments[reference])
    return values


def render_object(
    template_object: Mapping[str, Any],
    trial_parameters: list[tuple[str, str]],
    assignments: Mapping[str, Any],
    *,
    trial_name: str,
    namespace: str,
) -> dict[str, Any]:
    """The trial's workload: the template with every placeholder filled, named after the trial."""
    meta = meta_values(template_object, trial_name=trial_name, namespace=namespace)
    values = trial_parameter_values(trial_parameters, assignments, meta)
    rendered: dict[str, Any] = substitute_tree(dict(template_object), values, meta)
    metadata = dict(rendered.get("metadata") or {})
    metadata["name"] = trial_name
    metadata["namespace"] = namespace
    rendered["metadata"] = metadata
    return rendered


def render_command(
    command: list[str],
    trial_parameters: list[tuple[str, str]],
    assignments: Mapping[str, Any],
    *,
    trial_name: str,
    namespace: str,
) -> list[str]:
    """The ``trialTemplate.command`` short form, rendered: one argv element per template element."""
    meta = {"Name": trial_name, "Namespace": namespace, "Kind": "", "APIVersion": ""}
    values = trial_parameter_values(trial_parameters, assignments, meta)
    return [substitute(arg, values, meta) for arg in command]


def placeholders(node: Any) -> set[str]:
    """Every ``trialParameters`` name that a template mentions in its string values."""
    found: set[str] = set()
    if isinstance(node, str):
        found.update(TRIAL_PARAMETER.findall(node))
    elif isinstance(node, dict):
        for v in node.values():
            found |= placeholders(v)
    elif isinstance(node, list):
        for v in node:
            found |= placeholders(v)
    return found
