"""A broken rule found in an Experiment document, and how the CLI prints it.

The loader and the rules produce ``Problem`` values instead of raising one at a time, so ``lint`` can
report everything wrong with a file in one pass. Each problem names the field path as Katib's users
write it (``spec.parameters[2].feasibleSpace.max``), the rule, the value found and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

#: An error fails the document; a warning fails only ``lint --strict``; a note says what was not checked.
Severity = Literal["error", "warning", "note"]

_NO_VALUE = object()


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str = ""
    value: Any = _NO_VALUE
    rule: str = ""
    severity: Severity = "error"
    file: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def in_file(self, file: str) -> Problem:
        return replace(self, file=file)

    def format(self) -> str:
        where = f"{self.file}: " if self.file else ""
        text = f"{where}{self.severity}: {self.path or '(document)'}: {self.message}"
        if self.value is not _NO_VALUE:
            text += f" (got {self.value!r})"
        if self.fix:
            text += f". Fix: {self.fix}"
        if self.rule:
            text += f" [{self.rule}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "path": self.path,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
        }
        if self.value is not _NO_VALUE:
            out["value"] = self.value if isinstance(self.value, str | int | float | bool) else repr(self.value)
        return out


def join_path(*parts: str | int) -> str:
    """``join_path("spec", "parameters", 2, "feasibleSpace")`` -> ``spec.parameters[2].feasibleSpace``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, or None when nothing is close."""
    pool = list(candidates)
    by_lower = {c.lower(): c for c in pool}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def one_of(values: Sequence[str]) -> str:
    return ", ".join(values)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]
