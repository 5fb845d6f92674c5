"""The trial template's Kubernetes object, checked offline against the Kubernetes API's own schema.

Called by the trial template's rules for an inline ``trialSpec``. Katib's webhook creates the rendered
object with dry-run, so the API server rejects what its schema does not allow: a field it does not know
(``spec.template.spec.container``), a list where a mapping goes, a missing required field. Here the same
object is checked against the strict JSON schemas that kubernetes-validate ships for the newest
Kubernetes it knows, so ``lint``, ``run`` and ``compile`` find it without a cluster. Placeholders are
strings before and after rendering, so the template is checked as written. Only Kubernetes' own groups
have a schema there; a custom resource (TFJob, PyTorchJob, TrainJob, an Argo Workflow, a Tekton
PipelineRun) is skipped with a note. jsonschema and the schema files load on first use only, so
``katib-flows --help`` and a ``command`` template never pay for them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from katib_flows.spec._problems import Problem, join_path, nearest

RULE = "kubernetes-schema"
#: Kubernetes' own API groups: the core group (apiVersion ``v1``), dot-less ones and ``*.k8s.io``.
_BUILT_IN_GROUP = re.compile(r"^([a-z0-9-]*|[a-z0-9.-]*\.k8s\.io)$")
_SHOWN_FIELDS = 12
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "integer": "an integer"}


def check_trial_object(obj: dict[str, Any], path: str) -> list[Problem]:
    """Every place where ``obj`` (at field path ``path``) breaks its kind's Kubernetes schema; a note when
    there is no schema for its kind."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []  # the template rules report a missing apiVersion or kind
    found = _validator(api_version, kind)
    if found is None:
        return [
            Problem(
                path,
                f"{kind} {api_version} is a custom resource without a schema here, so it is not checked "
                "offline; the API server checks it when each trial is created",
                severity="note",
                rule=RULE,
            )
        ]
    validator, version = found
    problems = [p for error in validator.iter_errors(obj) for p in _problems(error, path, kind, version)]
    return sorted(problems, key=lambda p: p.path)


@lru_cache(maxsize=32)
def _validator(api_version: str, kind: str) -> tuple[Any, str] | None:
    """A strict validator for the kind and the Kubernetes version of its schema, or None without one."""
    group = api_version.rpartition("/")[0]
    if not _BUILT_IN_GROUP.match(group):
        return None
    import jsonschema  # type: ignore[import-untyped]
    from kubernetes_validate import utils  # type: ignore[import-untyped]
    from referencing import Registry, Resource

    version = utils.latest_version()
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    # kubernetes-validate's file names: rbac.authorization.k8s.io/v1 -> rbac-v1, batch/v1 -> batch-v1, v1 -> v1
    name = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{name}.json", version)
    except FileNotFoundError:
        return None
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry), utils.major_minor(version)


def _problems(error: Any, base: str, kind: str, version: str) -> list[Problem]:
    """One jsonschema error as Problems at the fields it is about, with what to change."""
    where = join_path(base, *error.absolute_path)
    schema, instance = error.schema, error.instance
    said = f"(the Kubernetes {version} schema of {kind}; the API server would reject the trial)"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted((schema.get("properties") or {}).keys())
        listed = ", ".join(known[:_SHOWN_FIELDS]) + (", ..." if len(known) > _SHOWN_FIELDS else "")
        problems = []
        for field in sorted(str(k) for k in instance if k not in known):
            guess = nearest(field, known)
            fix = f"did you mean {guess!r}?" if guess else f"remove it; the fields here are: {listed}"
            problems.append(Problem(join_path(where, field), f"is not a field Kubernetes knows here {said}", fix,
                                    rule=RULE))  # fmt: skip
        return problems
    if error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        field = missing.group(1) if missing else "?"
        return [Problem(join_path(where, field), f"is required {said}", f"add {field}", rule=RULE)]
    if error.validator == "type":
        wanted = [t for t in _as_list(error.validator_value) if t != "null"]
        text = " or ".join(_TYPE_NAMES.get(t, f"a {t}") for t in wanted)
        return [Problem(where, f"must be {text} {said}", f"write {text} here", value=instance, rule=RULE)]
    if error.validator == "enum":
        choices = ", ".join(str(c) for c in error.validator_value if c is not None)
        return [Problem(where, f"must be one of {choices} {said}", "use one of those", value=instance, rule=RULE)]
    return [Problem(where, f"{error.message} {said}", "change the value to what the schema allows", rule=RULE)]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
