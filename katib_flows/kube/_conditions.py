"""Katib's ``successCondition`` / ``failureCondition``: the GJSON subset its examples use, over an object's JSON.

The Kubernetes runner parses both conditions once (``Condition.parse``, so a bad query is bad input before
anything is created) and evaluates them on every poll of the trial's object, failure first, as Katib does.
A condition is met when its result is an object or a non-empty array (Katib's ``GetDeployedJobStatus``);
the first element's ``reason`` and ``message`` describe the outcome.

Supported GJSON: keys (``\\`` escapes, ``*``/``?`` wildcards), array indexes, ``#`` (length; ``#.path`` maps
``path`` over the elements), queries ``#(path op value)`` (first match) and ``#(path op value)#`` (all
matches) with ``== != < <= > >= % !%`` and JSON literals, ``.`` and ``|`` (after ``#`` or ``#(...)#`` a
``.`` maps the rest over the elements, a ``|`` applies it to the array), ``[a,b]`` multipaths and the
``@this`` modifier. That covers Katib's defaults and every condition in its examples
(``status.conditions.#(type=="Complete")#|#(status=="True")#``, ``status.[@this].#(phase=="Failed")#``).

Why not the ``gjson`` package on PyPI: it evaluates all of these, but it is GPL-3.0-or-later (this project
and its step image are Apache-2.0), and it raises the same exception for "the object has no such key"
(not met yet, the normal state of a running trial) as for several malformed queries. The tests check
this evaluator against it on Katib's conditions.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any

from katib_flows.errors import SpecError

#: What a path yields where GJSON's result "does not exist".
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

_OPERATORS = ("==", "!=", "<=", ">=", "!%", "<", ">", "%")
_MODIFIERS = ("@this",)


class ConditionError(SpecError):
    """A success or failure condition that is not valid in the GJSON subset we evaluate."""


@dataclass(frozen=True)
class ConditionMet:
    """A met condition: the workload's own reason and message, when its condition element carries them."""

    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class _Step:
    separator: str  # "" for the first step, else "." or "|"
    kind: str  # key, index, count, query, multipath, this
    key: str = ""
    pattern: str | None = None  # the key as an fnmatch pattern, when it has wildcards
    query: tuple[Path | None, str, Any] | None = None  # (path, operator or "", literal)
    all_matches: bool = False
    paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Path:
    """A parsed GJSON path of the supported subset."""

    steps: tuple[_Step, ...]

    @classmethod
    def parse(cls, text: str) -> Path:
        if not text:
            raise _Syntax("the query is empty")
        return cls(tuple(_steps(text)))

    def get(self, document: Any) -> Any:
        """The result of the path on ``document`` (parsed JSON), or ``MISSING``."""
        return _evaluate(self.steps, 0, document)


class Condition:
    """One of a trial template's conditions, parsed; ``check`` says whether an object meets it."""

    def __init__(self, text: str, field: str) -> None:
        self.text, self.field = text, field
        try:
            self.path = Path.parse(text)
        except _Syntax as exc:
            raise ConditionError(
                f"{field}: {text!r} is not a GJSON query katib-flows can evaluate: {exc}. Supported: keys, indexes, "
                "#, #(key==value), #(key==value)#, '.' and '|', [a,b] and @this, as in Katib's defaults such as "
                'status.conditions.#(type=="Complete")#|#(status=="True")#'
            ) from None

    def check(self, document: Any) -> ConditionMet | None:
        """A ``ConditionMet`` when ``document`` meets the condition, else None."""
        result = self.path.get(document)
        if isinstance(result, list) and result:
            first = result[0]
        elif isinstance(result, dict):
            first = result
        else:
            return None
        if not isinstance(first, dict):
            return ConditionMet()
        return ConditionMet(str(first.get("reason") or ""), str(first.get("message") or ""))


class _Syntax(Exception):
    pass


# Parsing --------------------------------------------------------------------------------------------------


def _split(text: str, separators: str) -> list[tuple[str, str]]:
    """(separator before, part) at nesting depth 0, honouring escapes, brackets, parentheses and quotes."""
    parts: list[tuple[str, str]] = []
    depth, quoted, start, sep, i = 0, False, 0, "", 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if quoted:
            quoted = char != '"'
        elif char == '"' and depth:
            quoted = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise _Syntax(f"unbalanced {char!r} at position {i}")
        elif depth == 0 and char in separators:
            parts.append((sep, text[start:i]))
            sep, start = char, i + 1
        i += 1
    if depth or quoted:
        raise _Syntax("unbalanced brackets, parentheses or quotes")
    parts.append((sep, text[start:]))
    return parts


def _steps(text: str) -> list[_Step]:
    steps = []
    for separator, part in _split(text, ".|"):
        if not part:
            raise _Syntax(f"an empty path component (two separators in a row, or one at an end) in {text!r}")
        steps.append(_step(separator, part))
    return steps


def _step(separator: str, part: str) -> _Step:
    if part == "#":
        return _Step(separator, "count")
    if part.startswith("#("):
        all_matches = part.endswith(")#")
        if not (all_matches or part.endswith(")")):
            raise _Syntax(f"{part!r}: a query is #(...) or #(...)#")
        inner = part[2 : -2 if all_matches else -1]
        return _Step(separator, "query", query=_query(inner), all_matches=all_matches)
    if part.startswith("["):
        if not part.endswith("]"):
            raise _Syntax(f"{part!r}: a multipath is [path,path,...]")
        paths = tuple(Path.parse(p) for _, p in _split(part[1:-1], ","))
        return _Step(separator, "multipath", paths=paths)
    if part.startswith("@"):
        if part not in _MODIFIERS:
            raise _Syntax(f"modifier {part!r} is not supported (only {', '.join(_MODIFIERS)})")
        return _Step(separator, "this")
    if part[0] in "{!":
        raise _Syntax(f"{part!r}: object multipaths and literals are not supported")
    key, pattern = _unescape(part)
    if key.isdigit():
        return _Step(separator, "index", key=key)
    return _Step(separator, "key", key=key, pattern=pattern)


def _unescape(part: str) -> tuple[str, str | None]:
    """The key with escapes removed, and an fnmatch pattern when it has unescaped ``*`` or ``?``."""
    key, pattern, wild, i = [], [], False, 0
    while i < len(part):
        char = part[i]
        if char == "\\" and i + 1 < len(part):
            key.append(part[i + 1])
            pattern.append(f"[{part[i + 1]}]" if part[i + 1] in "*?[" else part[i + 1])
            i += 2
            continue
        wild = wild or char in "*?"
        key.append(char)
        pattern.append("[[]" if char == "[" else char)
        i += 1
    return "".join(key), "".join(pattern) if wild else None


def _query(inner: str) -> tuple[Path | None, str, Any]:
    depth, quoted, i = 0, False, 0
    while i < len(inner):
        char = inner[i]
        if char == "\\":
            i += 2
            continue
        if quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0:
            for op in _OPERATORS:
                if inner.startswith(op, i):
                    return _subpath(inner[:i]), op, _literal(inner[i + len(op) :].strip())
        i += 1
    return _subpath(inner), "", None


def _subpath(text: str) -> Path | None:
    """The path a query compares (None: the element itself, as in ``#(=="x")``)."""
    text = text.strip()
    return Path.parse(text) if text else None


def _literal(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Syntax(f"{text!r} is not a JSON value (write strings in double quotes)") from None
    if isinstance(value, list | dict):
        raise _Syntax(f"{text!r}: a query compares with a string, number, true, false or null")
    return value


# Evaluation -----------------------------------------------------------------------------------------------


def _evaluate(steps: tuple[_Step, ...], index: int, value: Any) -> Any:
    while index < len(steps):
        if value is MISSING:
            return MISSING
        step = steps[index]
        maps = step.kind == "count" or (step.kind == "query" and step.all_matches)
        following = steps[index + 1] if index + 1 < len(steps) else None
        if maps and isinstance(value, list) and following is not None and following.separator == ".":
            elements = value if step.kind == "count" else [v for v in value if _matches(step.query, v)]
            rest = steps[index + 1 :]
            mapped = (_evaluate(rest, 0, element) for element in elements)
            return [m for m in mapped if m is not MISSING]
        value = _apply(step, value)
        index += 1
    return value


def _apply(step: _Step, value: Any) -> Any:
    if step.kind == "this":
        return value
    if step.kind == "multipath":
        found = (path.get(value) for path in step.paths)
        return [f for f in found if f is not MISSING]
    if step.kind in ("key", "index"):
        if isinstance(value, dict):
            if step.key in value:
                return value[step.key]
            if step.pattern is not None:
                pattern = step.pattern
                return next((v for k, v in value.items() if fnmatch.fnmatchcase(k, pattern)), MISSING)
            return MISSING
        if isinstance(value, list) and step.kind == "index":
            position = int(step.key)
            return value[position] if position < len(value) else MISSING
        return MISSING
    if not isinstance(value, list):
        return MISSING
    if step.kind == "count":
        return len(value)
    matched = [v for v in value if _matches(step.query, v)]
    if step.all_matches:
        return matched
    return matched[0] if matched else MISSING


def _matches(query: tuple[Path | None, str, Any] | None, element: Any) -> bool:
    assert query is not None
    path, op, literal = query
    value = path.get(element) if path is not None else element
    if not op:
        return value is not MISSING
    if value is MISSING:
        return False
    if isinstance(literal, str):
        if not isinstance(value, str):
            return False
        if op in ("%", "!%"):
            return fnmatch.fnmatchcase(value, literal) == (op == "%")
        return _compare(value, op, literal)
    if isinstance(literal, bool) or literal is None:
        if op not in ("==", "!=") or type(value) is not type(literal):
            return False
        return (value == literal) == (op == "==")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _compare(float(value), op, float(literal))


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    return False
