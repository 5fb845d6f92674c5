"""Search spaces and objectives for the Python DSL: ``search.double``, ``search.int``, ``search.maximize``...

``from katib_flows import search`` gives these builders; ``Experiment`` turns them into Katib's
``spec.parameters`` and ``spec.objective`` and ``Experiment.from_yaml`` turns a spec back into them.
Bounds keep the text they were read with (``"0.00001"`` stays ``"0.00001"``), so YAML -> DSL -> YAML gives
the same document; numbers given in Python are written the way Katib's trials receive them.
``categorical`` keeps the Python values too, so ``tune`` hands a trial function ``True`` or ``64``, not text.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def format_value(value: Any) -> str:
    """Katib's text of a value, as ``katib_flows.spec.format_value`` writes it (not imported: trial processes
    unpickle this module and must start fast, without pydantic)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


Number = builtins.int | float | str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else format_value(value)


def _literal(value: Number) -> str:
    """The bound as Python source: a bare number when that reads back to the same text, else the quoted text."""
    if not isinstance(value, str):
        return format_value(value)
    try:
        number: builtins.int | float = builtins.int(value) if value.lstrip("-").isdigit() else float(value)
    except ValueError:
        return repr(value)
    return value if format_value(number) == value else repr(value)


@dataclass(frozen=True)
class Param:
    """One parameter's feasible space, as Katib's ``parameterType`` and ``feasibleSpace``."""

    type: str
    min: Number | None = None
    max: Number | None = None
    step: Number | None = None
    values: tuple[Any, ...] = ()
    distribution: str | None = None

    def to_katib(self, name: str) -> dict[str, Any]:
        space: dict[str, Any] = {}
        if self.values:
            space["list"] = [_text(v) for v in self.values]
        else:
            if self.min is not None:
                space["min"] = _text(self.min)
            if self.max is not None:
                space["max"] = _text(self.max)
            if self.step is not None:
                space["step"] = _text(self.step)
        if self.distribution is not None:
            space["distribution"] = self.distribution
        return {"name": name, "parameterType": self.type, "feasibleSpace": space}

    @classmethod
    def from_katib(cls, spec: Mapping[str, Any]) -> Param:
        space = spec.get("feasibleSpace") or {}
        return cls(
            type=spec.get("parameterType") or "",
            min=space.get("min"),
            max=space.get("max"),
            step=space.get("step"),
            values=tuple(space.get("list") or ()),
            distribution=space.get("distribution"),
        )

    def typed(self, text: str) -> Any:
        """The value a trial function receives for the text Katib passes: a number, or the original choice."""
        for choice in self.values:
            if _text(choice) == text:
                return choice
        if self.type == "int":
            return builtins.int(float(text))
        if self.type == "double":
            return float(text)
        if self.type == "discrete":
            return builtins.int(text) if text.lstrip("-").isdigit() else float(text)
        return text

    def __repr__(self) -> str:
        if self.type == "categorical" or self.type == "discrete":
            return f"search.{self.type}([{', '.join(map(repr, self.values))}]{self._dist()})"
        name = "double" if self.type == "double" else "int"
        args = [_literal(self.min), _literal(self.max)] if self.min is not None and self.max is not None else []
        if self.distribution == "logUniform":
            args.append("log=True")
        if self.step is not None:
            args.append(f"step={_literal(self.step)}")
        text = ", ".join(args)
        if self.distribution not in (None, "uniform", "logUniform"):
            text += f", distribution={self.distribution!r}"
        return f"search.{name}({text})"

    def _dist(self) -> str:
        return "" if self.distribution in (None, "uniform") else f", distribution={self.distribution!r}"


def _space(log: bool, distribution: str | None) -> str | None:
    if distribution is not None:
        return distribution
    return "logUniform" if log else None


def double(
    min: Number, max: Number, *, log: bool = False, step: Number | None = None, distribution: str | None = None
) -> Param:
    """A real-valued parameter in [min, max]; ``log=True`` samples on a log scale (Katib's logUniform)."""
    return Param("double", min, max, step, distribution=_space(log, distribution))


def int(  # the DSL reads search.int(16, 256), like Katib's parameterType
    min: Number, max: Number, *, step: Number | None = None, log: bool = False, distribution: str | None = None
) -> Param:
    """An integer parameter in [min, max], every ``step`` from min when given."""
    return Param("int", min, max, step, distribution=_space(log, distribution))


def categorical(values: Sequence[Any], *, distribution: str | None = None) -> Param:
    """One of ``values``; trials of ``tune`` receive the Python value itself, Katib trials its text."""
    if not values:
        raise ValueError("search.categorical needs at least one value")
    return Param("categorical", values=tuple(values), distribution=distribution)


def discrete(values: Sequence[Number], *, distribution: str | None = None) -> Param:
    """One of a list of numbers (Katib's ``discrete``)."""
    if not values:
        raise ValueError("search.discrete needs at least one value")
    return Param("discrete", values=tuple(values), distribution=distribution)


@dataclass(frozen=True)
class Objective:
    """Katib's ``spec.objective``: the metric to optimise, its direction and goal, and what else to collect.

    ``also`` holds further objectives (type, metric) of a multi-objective experiment
    (``objective.additionalObjectives``): ``search.maximize("accuracy", also=[search.minimize("seconds")])``.
    """

    type: str
    metric: str
    goal: float | None = None
    additional: tuple[str, ...] = ()
    strategies: Mapping[str, str] = field(default_factory=dict)
    also: tuple[tuple[str, str], ...] = ()

    def to_katib(self) -> dict[str, Any]:
        objective: dict[str, Any] = {"type": self.type, "objectiveMetricName": self.metric}
        if self.goal is not None:
            objective["goal"] = self.goal
        if self.additional:
            objective["additionalMetricNames"] = list(self.additional)
        if self.strategies:
            objective["metricStrategies"] = [{"name": k, "value": v} for k, v in self.strategies.items()]
        if self.also:
            objective["additionalObjectives"] = [{"type": t, "objectiveMetricName": m} for t, m in self.also]
        return objective

    @classmethod
    def from_katib(cls, spec: Mapping[str, Any]) -> Objective:
        return cls(
            type=spec.get("type") or "",
            metric=spec.get("objectiveMetricName") or "",
            goal=spec.get("goal"),
            additional=tuple(spec.get("additionalMetricNames") or ()),
            strategies={s["name"]: s["value"] for s in spec.get("metricStrategies") or [] if "name" in s},
            also=tuple(
                (o.get("type") or "", o.get("objectiveMetricName") or "")
                for o in spec.get("additionalObjectives") or ()
            ),
        )

    def __repr__(self) -> str:
        args = [repr(self.metric)]
        if self.goal is not None:
            args.append(f"goal={self.goal!r}")
        if self.additional:
            args.append(f"additional={list(self.additional)!r}")
        if self.strategies:
            args.append(f"strategies={dict(self.strategies)!r}")
        if self.also:
            args.append(f"also=[{', '.join(f'search.{t}({m!r})' for t, m in self.also)}]")
        return f"search.{self.type}({', '.join(args)})"


def maximize(
    metric: str,
    *,
    goal: float | None = None,
    additional: Sequence[str] = (),
    strategies: Mapping[str, str] | None = None,
    also: Sequence[Objective] = (),
) -> Objective:
    """Maximise ``metric``; stop at ``goal``; also collect ``additional`` metrics (Katib's metricStrategies too).

    ``also``: further objectives (``search.minimize("seconds")``), making the experiment multi-objective.
    """
    return Objective("maximize", metric, goal, tuple(additional), dict(strategies or {}), _also(also))


def minimize(
    metric: str,
    *,
    goal: float | None = None,
    additional: Sequence[str] = (),
    strategies: Mapping[str, str] | None = None,
    also: Sequence[Objective] = (),
) -> Objective:
    """Minimise ``metric``; stop at ``goal``; also collect ``additional`` metrics; ``also``: more objectives."""
    return Objective("minimize", metric, goal, tuple(additional), dict(strategies or {}), _also(also))


def _also(objectives: Sequence[Objective]) -> tuple[tuple[str, str], ...]:
    return tuple((o.type, o.metric) for o in objectives)


__all__ = ["Objective", "Param", "categorical", "discrete", "double", "int", "maximize", "minimize"]
