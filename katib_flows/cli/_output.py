"""Printing results for people (tables) and for scripts (``--output json|yaml``).

Every command that a script may read takes ``--output``; this module owns the formats so they stay
the same across commands. rich is imported only when a table is printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

FORMATS = ("table", "json", "yaml")

output_option = click.option(
    "--output",
    "-o",
    "output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people, json or yaml for scripts.",
)


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def emit(data: Any, fmt: str) -> None:
    click.echo(dump(data, fmt).rstrip("\n"))


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns, title=title, show_lines=False)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    Console(file=sys.stdout, soft_wrap=True).print(t)
