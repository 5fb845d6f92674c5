"""Typed ``algorithmSettings``: how each setting's text is parsed, which values it allows, and the checks.

Katib sends every setting as a string. An algorithm declares its settings as a tuple of ``Setting`` and
``_rules`` checks a spec's settings against it (``check``); ``suggest`` reads the typed values with
``parse``. Messages follow the project's rule: the setting, the rule, the value that broke it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from katib_flows_suggestion._base import SettingProblem

Kind = Literal["int", "float", "choice", "text"]
Parsed = int | float | str | None


@dataclass(frozen=True)
class Setting:
    """One setting: its kind and allowed range. ``(low, high)`` bounds are open when ``*_open`` is set."""

    name: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False
    #: The literal "None" is accepted and means "no value" (Katib's NAS services allow it for some settings).
    none_allowed: bool = False

    def rule(self) -> str:
        """The allowed values in words, e.g. "an integer >= 0" or "a number in (0, 1)"."""
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        if self.kind == "text":
            return "a non-empty string"
        what = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"{what} in {left}{self.low:g}, {self.high:g}{right}"
        elif self.low is not None:
            text = f"{what} {'>' if self.low_open else '>='} {self.low:g}"
        elif self.high is not None:
            text = f"{what} {'<' if self.high_open else '<='} {self.high:g}"
        else:
            text = what
        return text + (', or "None"' if self.none_allowed else "")

    def parse(self, text: str) -> Parsed:
        """The typed value of ``text``; raises ``ValueError`` with a message naming the setting."""
        if self.none_allowed and text == "None":
            return None
        value: Parsed
        if self.kind == "choice":
            value = text if text in self.choices else None
        elif self.kind == "text":
            value = text if text.strip() else None
        elif self.kind == "int":
            value = _int(text)
        else:
            value = _float(text)
        if value is None or (isinstance(value, (int, float)) and not self._in_range(value)):
            raise ValueError(f"{self.name} must be {self.rule()}, got {text!r}")
        return value

    def _in_range(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return not (self.high is not None and (x >= self.high if self.high_open else x > self.high))


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check(
    algorithm: str,
    settings: Mapping[str, str],
    schema: Sequence[Setting],
    *,
    reject_unknown: bool = True,
) -> list[SettingProblem]:
    """Every unknown, missing or malformed setting of ``algorithm``, one ``SettingProblem`` each."""
    known = {s.name: s for s in schema}
    problems = []
    for name, text in settings.items():
        setting = known.get(name)
        if setting is None:
            if reject_unknown:
                problems.append(_unknown(algorithm, name, known))
            continue
        try:
            setting.parse(text)
        except ValueError as error:
            problems.append(SettingProblem(name, str(error), f"set {name} to {setting.rule()}"))
    for setting in schema:
        if setting.required and setting.name not in settings:
            problems.append(
                SettingProblem(
                    setting.name,
                    f"{setting.name} is required for algorithm {algorithm}",
                    f"add the setting {setting.name}: {setting.rule()}",
                )
            )
    return problems


def _unknown(algorithm: str, name: str, known: Mapping[str, Setting]) -> SettingProblem:
    if not known:
        return SettingProblem(
            name,
            f"unknown setting {name} for algorithm {algorithm}; valid settings: none, it takes no settings",
            f"remove {name}",
        )
    close = difflib.get_close_matches(name, known, n=1)
    return SettingProblem(
        name,
        f"unknown setting {name} for algorithm {algorithm}; valid settings: {', '.join(known)}",
        f"rename it to {close[0]}" if close else f"remove {name}, or use one of: {', '.join(known)}",
    )


def parse(settings: Mapping[str, str], schema: Sequence[Setting]) -> dict[str, Parsed]:
    """The typed values of the known settings that are set; call ``check`` first (this raises ``ValueError``)."""
    known = {s.name: s for s in schema}
    return {name: known[name].parse(text) for name, text in settings.items() if name in known}
