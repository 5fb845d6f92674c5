"""Early-stopping rules: decide, at each report of a running trial, whether to stop it. Pure functions.

The caller (the local runner, the Kubernetes trial step) keeps each trial's learning curve (step ->
objective value) and calls ``should_stop`` after every report with the curves of the completed trials,
the running trial's name and its curve so far; a ``Verdict(stop=True, reason)`` means stop it and mark it
``EarlyStopped``. ``validate_early_stopping`` checks ``spec.earlyStopping.algorithmSettings`` with Katib's
names and defaults (``medianstop``: ``min_trials_required`` 3, ``start_step`` 4). ``successivehalving``
and ``hyperband`` are extensions after optuna's pruners; see ``_rules`` for each rule's exact semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from katib_flows_suggestion._base import Direction, SettingProblem
from katib_flows_suggestion._errors import InvalidSettingsError, UnknownAlgorithmError
from katib_flows_suggestion._settings import Parsed, check, parse
from katib_flows_suggestion.early_stopping._curves import Curve, CurveLike, as_curve, curve
from katib_flows_suggestion.early_stopping._rules import (
    DEFAULTS,
    SCHEMAS,
    Verdict,
    hyperband,
    medianstop,
    successivehalving,
)

#: Katib's rule first, then the extensions.
EARLY_STOPPING_RULES: tuple[str, ...] = ("medianstop", "successivehalving", "hyperband")

_Rule = Callable[[Mapping[str, Parsed], Direction, Mapping[str, Curve], str, Curve], Verdict]
_RULES: dict[str, _Rule] = {"medianstop": medianstop, "successivehalving": successivehalving, "hyperband": hyperband}


def _known(name: str) -> None:
    if name not in _RULES:
        raise UnknownAlgorithmError(
            f"unknown early stopping algorithm {name!r}; valid ones: {', '.join(EARLY_STOPPING_RULES)}"
        )


def validate_early_stopping(name: str, settings: Mapping[str, str]) -> list[SettingProblem]:
    """Every unknown, missing or malformed setting of early-stopping rule ``name``; [] if fine."""
    _known(name)
    problems = check(name, settings, SCHEMAS[name])
    if name == "hyperband" and not problems:
        low = int(settings.get("min_resource", "1"))
        if int(settings["max_resource"]) < low:
            problems.append(
                SettingProblem(
                    "max_resource",
                    f"max_resource must be >= min_resource ({low}), got {settings['max_resource']}",
                    f"set max_resource to at least {low}",
                )
            )
    return problems


def read_early_stopping(name: str, settings: Mapping[str, str]) -> dict[str, Parsed]:
    """The typed settings with defaults filled in; raises ``InvalidSettingsError`` when they are broken."""
    problems = validate_early_stopping(name, settings)
    if problems:
        raise InvalidSettingsError(name, problems)
    return {**DEFAULTS.get(name, {}), **parse(settings, SCHEMAS[name])}


def should_stop(
    name: str,
    settings: Mapping[str, str],
    direction: Direction,
    completed: Mapping[str, CurveLike],
    trial: str,
    running: CurveLike,
) -> Verdict:
    """Whether rule ``name`` stops ``trial`` (its ``running`` curve so far) given the ``completed`` curves."""
    values = read_early_stopping(name, settings)
    others = {key: as_curve(points) for key, points in completed.items() if key != trial}
    return _RULES[name](values, direction, others, trial, as_curve(running))


__all__ = [
    "EARLY_STOPPING_RULES",
    "Curve",
    "CurveLike",
    "Verdict",
    "curve",
    "read_early_stopping",
    "should_stop",
    "validate_early_stopping",
]
