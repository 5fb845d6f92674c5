"""Click options generated from a typed options dataclass, so each knob is spelled out once.

Called by ``compile`` and ``submit`` for ``katib_flows.argo.StepOptions`` (nox's idea: one typed config
object generates the command line). A field with ``help`` in its metadata becomes ``--field-name``; its
value arrives as None when not given, and ``from_values`` builds the dataclass from what was given, so the
defaults live in the dataclass alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

T = TypeVar("T")


def click_options(cls: type[Any]) -> Callable[[Any], Any]:
    """A decorator adding one option per documented field of the dataclass ``cls``, in field order."""
    options = []
    for item in dataclasses.fields(cls):
        meta = item.metadata
        if "help" not in meta:
            continue
        kind: Any = None
        if "choices" in meta:
            kind = click.Choice(meta["choices"])
        elif "range" in meta:
            kind = click.IntRange(*meta["range"])
        flag = "--" + item.name.replace("_", "-")
        options.append(click.option(flag, item.name, type=kind, metavar=meta.get("metavar"), help=meta["help"]))

    def apply(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


def from_values(cls: type[T], values: Mapping[str, Any]) -> T:
    """``cls`` built from the command line's values of its options; what was not given (or given empty, as
    ``--image ""``) keeps its default."""
    names = {item.name for item in dataclasses.fields(cls) if "help" in item.metadata}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in names and v not in (None, "")})
