"""Checking a compiled document before anyone applies it: unknown fields, and Argo's JSON schema.

Two checks, because Argo's published JSON schema (``api/jsonschema/schema.json``) has no
``additionalProperties: false`` anywhere, so a misspelt field passes it (and a non-strict API server
drops it silently):

- ``unknown_fields``: walks the document alongside hera's generated pydantic models, which ship with hera
  and are generated from Argo's own API definition, and reports every key no model declares. It needs
  no file, so ``katib-flows compile`` runs it on everything it writes.
- ``schema_problems``: validates against the JSON schema file (jsonschema, Draft 2020-12) and walks the
  document alongside the schema's ``properties`` for the same unknown-field check. The schema is a data
  file the project does not ship; tests read it from ``../shared/argo/schema.json`` and
  ``katib-flows compile --validate-schema PATH`` takes it from the user.

Both return messages naming the field path; an empty list means clean.
"""

from __future__ import annotations

import difflib
import functools
import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from katib_flows.errors import CompileError

_ARGO_PREFIX = "io.argoproj.workflow.v1alpha1."
_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def _model_for(kind: str) -> type[BaseModel]:
    from hera.workflows import models

    if kind not in _KINDS:
        raise CompileError(f"cannot check a document of kind {kind!r}; expected one of {', '.join(_KINDS)}")
    model: type[BaseModel] = getattr(models, kind)
    return model


def unknown_fields(document: dict[str, Any]) -> list[str]:
    """Every key of ``document`` that hera's Argo models do not declare, as ``path: message`` lines."""
    found: list[str] = []
    _walk_model(document, _model_for(str(document.get("kind"))), "", found)
    return found


def nearest(name: str, candidates: Any) -> str | None:
    """The closest declared field to a misspelt one, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _walk_model(value: Any, annotation: Any, path: str, found: list[str]) -> None:
    annotation = _unwrap(annotation, value)
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        _walk_model(value, annotation.model_fields["root"].annotation, path, found)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return  # a wrong type is the schema's business
        fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
        for key, item in value.items():
            if key in fields:
                _walk_model(item, fields[key].annotation, _join(path, key), found)
            else:
                guess = nearest(str(key), fields)
                hint = f"did you mean {guess!r}?" if guess else f"known fields: {', '.join(sorted(fields))}"
                found.append(f"{_join(path, key)}: unknown field of {annotation.__name__} ({hint})")
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and isinstance(value, list) and args:
        for index, item in enumerate(value):
            _walk_model(item, args[0], _join(path, index), found)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _walk_model(item, args[1], _join(path, str(key)), found)


def _unwrap(annotation: Any, value: Any) -> Any:
    """Strip ``Annotated`` and pick the member of a union that fits the value's JSON type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = next((m for m in members if _fits(m, value)), members[0] if members else Any)
        else:
            return annotation


def _fits(annotation: Any, value: Any) -> bool:
    """Whether a union member can hold a JSON value of this type (an object, an array, or a scalar)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    base = typing.get_origin(annotation) or annotation
    is_model = isinstance(base, type) and issubclass(base, BaseModel)
    if isinstance(value, dict):
        return base is dict or is_model
    if isinstance(value, list):
        return base is list or (is_model and issubclass(base, RootModel))
    return not (base in (list, dict) or is_model)


# -- the JSON schema file -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _load_schema(path: str) -> dict[str, Any]:
    try:
        schema: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CompileError(f"cannot read the Argo JSON schema {path}: {exc}") from exc
    if "definitions" not in schema:
        raise CompileError(f"{path} is not Argo's JSON schema (api/jsonschema/schema.json): it has no definitions")
    return schema


@functools.lru_cache(maxsize=16)
def _validator(path: str, kind: str) -> Any:
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError as exc:  # a dev dependency: the step image does not need it
        raise CompileError("validating against a JSON schema needs jsonschema: pip install jsonschema") from exc
    schema = _load_schema(path)
    root = {"$schema": schema.get("$schema"), "definitions": schema["definitions"], "$ref": _ref(kind)}
    return jsonschema.Draft202012Validator(root)


def _ref(kind: str) -> str:
    return f"#/definitions/{_ARGO_PREFIX}{kind}"


def schema_problems(document: dict[str, Any], schema_path: str | Path) -> list[str]:
    """Errors of ``document`` against Argo's JSON schema, then every field the schema does not declare."""
    kind = str(document.get("kind"))
    if kind not in _KINDS:
        return [f"kind: {kind!r} is not one of {', '.join(_KINDS)}"]
    path = str(schema_path)
    problems = [
        f"{_pointer(error.absolute_path)}: {error.message}"
        for error in sorted(_validator(path, kind).iter_errors(document), key=lambda e: list(map(str, e.path)))
    ]
    definitions = _load_schema(path)["definitions"]
    _walk_schema(document, {"$ref": _ref(kind)}, definitions, "", problems)
    return problems


def _pointer(parts: Any) -> str:
    path = ""
    for part in parts:
        path = _join(path, part)
    return path or "(document)"


def _walk_schema(value: Any, node: dict[str, Any], definitions: dict[str, Any], path: str, found: list[str]) -> None:
    seen = 0
    while "$ref" in node and seen < 64:  # a chain of references, never a cycle in Argo's schema
        node = definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    if isinstance(value, dict):
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        if isinstance(properties, dict):
            for key, item in value.items():
                if key in properties:
                    _walk_schema(item, properties[key], definitions, _join(path, key), found)
                else:
                    guess = nearest(str(key), properties)
                    hint = f" (did you mean {guess!r}?)" if guess else ""
                    found.append(f"{_join(path, key)}: unknown field{hint}")
        elif isinstance(extra, dict):
            for key, item in value.items():
                _walk_schema(item, extra, definitions, _join(path, str(key)), found)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            _walk_schema(item, node["items"], definitions, _join(path, index), found)
