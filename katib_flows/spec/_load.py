"""Reading Experiment documents: YAML text -> parsed, defaulted, checked ``Experiment``.

The one entry point for every user of a spec file (``lint``, ``run``, ``compile``, the DSL). It never
lets a YAML or pydantic exception escape: malformed YAML, wrong types and broken rules all come back as
``Problem`` values that name the file and the field path; ``load_*`` raise them together as one
``SpecError``. A document without the ``apiVersion/kind/metadata`` envelope is read as the spec itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from katib_flows.errors import SpecError
from katib_flows.spec._defaults import apply_defaults
from katib_flows.spec._models import Experiment, KatibModel
from katib_flows.spec._problems import Problem, join_path, nearest
from katib_flows.spec._rules import check

ENVELOPE_KEYS = {"apiVersion", "kind", "metadata", "spec"}


@dataclass
class Checked:
    """One document's outcome: the defaulted experiment when it parsed, and everything found wrong."""

    source: str
    experiment: Experiment | None
    problems: list[Problem] = field(default_factory=list)
    base_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return self.experiment is not None and not any(p.is_error for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def experiment_or_raise(self) -> Experiment:
        """The experiment of a check that passed; ``SpecError`` listing every error of one that did not."""
        if not self.ok or self.experiment is None:
            errors = [p for p in self.problems if p.is_error]
            raise SpecError("\n".join(p.format() for p in errors), errors)
        return self.experiment


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that remembers duplicate mapping keys, which plain YAML silently overwrites."""

    duplicates: list[str]


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str) and key in seen:
            loader.duplicates.append(f"key {key!r} appears twice (line {key_node.start_mark.line + 1})")
        if isinstance(key, str):
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> tuple[list[Any], list[Problem]]:
    """All non-empty documents of a YAML stream, or a problem saying where the YAML breaks."""
    duplicates: list[str] = []
    documents = []
    try:
        loader = _StrictLoader(text)  # reads the first chunk: may already fail on a control character
        loader.duplicates = duplicates
        try:
            while loader.check_data():
                document = loader.get_data()
                if document is not None:
                    documents.append(document)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return [], [Problem("", f"is not valid YAML{where}: {reason}", "fix the YAML syntax", rule="yaml", file=source)]
    problems = [
        Problem("", d, "keep one of them", rule="duplicate-key", severity="warning", file=source) for d in duplicates
    ]
    return documents, problems


def check_document(document: Any, source: str, base_dir: Path | None = None) -> Checked:
    """Parse, default and check one document (a dict from YAML or JSON)."""
    if not isinstance(document, dict):
        return Checked(
            source,
            None,
            [
                Problem(
                    "",
                    "must be a mapping (an Experiment or its spec)",
                    "start the file with apiVersion/kind/spec or with the spec's fields",
                    value=type(document).__name__,
                    rule="document",
                    file=source,
                )
            ],
        )
    if not ENVELOPE_KEYS & document.keys():
        document = {"spec": document}
    try:
        parsed = Experiment.model_validate(document)
    except ValidationError as exc:
        return Checked(source, None, [p.in_file(source) for p in _type_problems(exc)], base_dir)
    experiment = apply_defaults(parsed)
    problems = _unknown_fields(parsed, "") + check(experiment)
    return Checked(source, experiment, [p.in_file(source) for p in problems], base_dir)


def check_text(text: str, source: str = "<string>", base_dir: Path | None = None) -> list[Checked]:
    documents, problems = parse_yaml(text, source)
    if not documents:
        return [
            Checked(
                source,
                None,
                problems or [Problem("", "holds no document", "write an Experiment", rule="empty", file=source)],
            )
        ]
    checked = [check_document(d, source, base_dir) for d in documents]
    checked[0].problems[:0] = problems
    return checked


def check_file(path: str | Path) -> list[Checked]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return [
            Checked(
                str(path),
                None,
                [Problem("", f"cannot be read: {reason}", "check the file path", rule="file", file=str(path))],
            )
        ]
    return check_text(text, str(path), path.resolve().parent)


def load_file(path: str | Path) -> Checked:
    """The one Experiment in a file, or SpecError listing every problem."""
    return _only(check_file(path), str(path))


def load_text(text: str, source: str = "<string>") -> Checked:
    return _only(check_text(text, source), source)


def _only(checked: list[Checked], source: str) -> Checked:
    if len(checked) != 1:
        problem = Problem(
            "",
            f"holds {len(checked)} documents; one Experiment is expected",
            "put each Experiment in its own file",
            rule="one-document",
            file=source,
        )
        raise SpecError(problem.format(), [problem])
    result = checked[0]
    result.experiment_or_raise()
    return result


def _type_problems(exc: ValidationError) -> Iterator[Problem]:
    for error in exc.errors():
        path = join_path(*error["loc"])
        kind = error["type"]
        if kind in ("int_type", "int_parsing", "int_from_float"):
            message, fix = "must be an integer", "write a whole number without quotes"
        elif kind in ("float_type", "float_parsing"):
            message, fix = "must be a number", "write a number without quotes"
        elif kind in ("string_type",):
            message, fix = "must be a string", "quote the value"
        elif kind in ("list_type",):
            message, fix = "must be a list", "write it as a YAML list (- item)"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            message, fix = "must be a mapping", "write it as key: value pairs"
        elif kind in ("bool_type", "bool_parsing"):
            message, fix = "must be true or false", "write true or false"
        else:
            message, fix = error["msg"], "correct the value"
        yield Problem(path, message, fix, value=error.get("input"), rule=f"type:{kind}")


def _unknown_fields(model: BaseModel, path: str) -> list[Problem]:
    """Warn about every field Katib does not define, with the nearest valid name."""
    problems: list[Problem] = []
    valid = [f.alias or name for name, f in type(model).model_fields.items()]
    for key in model.model_extra or {}:
        guess = nearest(key, valid)
        problems.append(
            Problem(
                join_path(path, key) if path else key,
                "is not a field Katib knows; it is ignored",
                f"did you mean {guess!r}?" if guess else f"known fields: {', '.join(valid)}",
                rule="unknown-field",
                severity="warning",
            )
        )
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        child = join_path(path, info.alias or name) if path else (info.alias or name)
        if isinstance(value, KatibModel):
            problems += _unknown_fields(value, child)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, KatibModel):
                    problems += _unknown_fields(item, join_path(child, i))
    return problems
