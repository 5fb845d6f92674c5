"""What several sections' rules share: a value outside its choices, a number written as text, the
parameter types (of ``spec.parameters`` and of NAS operations alike).

Imported by the section modules of this package only.
"""

from __future__ import annotations

import math

from katib_flows.spec._problems import Problem, nearest, one_of

PARAMETER_TYPES = ("int", "double", "categorical", "discrete")


def bad_choice(path: str, value: object, choices: tuple[str, ...], rule: str) -> Problem:
    guess = nearest(str(value), choices) if isinstance(value, str) else None
    fix = f"use {guess!r}" if guess else f"use one of: {one_of(choices)}"
    return Problem(path, f"must be one of {one_of(choices)}", fix, value=value, rule=rule)


def as_number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
