"""Printing results for people (tables) and for scripts (``--output json|yaml``), and the options that say so.

One spelling across commands: ``-o/--output`` is always a format, ``-O/--out`` always a file (or folder).
``format_option`` makes the first; ``output_options`` makes both for the commands that write files
(``compile``, ``export``, ``report``), where ``-o FILE``, ``--output FILE`` and ``--format FORMAT`` were the
old spellings: they still work, with a deprecation warning on stderr. rich is imported only when a table
is printed.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

FORMATS = ("table", "json", "yaml")


def format_option(formats: Sequence[str], *, default: str, help: str) -> Callable[[Any], Any]:
    """``-o/--output FORMAT`` of a command that writes to stdout only."""
    return click.option(
        "--output", "-o", "output", type=click.Choice(formats), default=default, show_default=True, help=help
    )


output_option = format_option(FORMATS, default="table", help="table for people, json or yaml for scripts.")


def output_options(
    formats: Sequence[str],
    *,
    default: str | None,
    help: str,
    out_help: str,
    out_folder: bool = False,
    old_format: bool = False,
) -> Callable[[Any], Any]:
    """``-o/--output FORMAT`` and ``-O/--out PATH``; the command receives ``output: str`` and ``out: Path | None``.

    An ``-o``/``--output`` value that is not a format is the old spelling of ``--out`` (the file); with
    ``old_format``, ``--format FORMAT`` is kept as the old spelling of ``-o``. ``default`` None makes the
    format required; ``out_folder`` lets ``--out`` name a folder.
    """
    choices = "|".join(formats)
    options = [
        click.option(
            "--output",
            "-o",
            "output",
            multiple=True,  # the old spellings allowed `-o FILE --output FORMAT` on one command line
            metavar=f"[{choices}]",
            help=f"{help}" + (f"  [default: {default}]" if default else "  [required]"),
        ),
        click.option("--out", "-O", "out", type=click.Path(path_type=Path, dir_okay=out_folder), help=out_help),
    ]
    if old_format:
        options.append(
            click.option("--format", "old_format", type=click.Choice(formats), hidden=True, help="Old -o/--output.")
        )

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)  # keeps the options below this one (click keeps them in fn.__dict__)
        def command(*args: Any, output: tuple[str, ...], out: Path | None, **kwargs: Any) -> Any:
            given = kwargs.pop("old_format", None) if old_format else None
            fmt, out = _resolve(output, out, given, formats=formats, default=default)
            return fn(*args, output=fmt, out=out, **kwargs)

        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _resolve(
    values: tuple[str, ...], out: Path | None, old_format: str | None, *, formats: Sequence[str], default: str | None
) -> tuple[str, Path | None]:
    """The format and the file of ``-o`` values, ``--out`` and ``--format``, saying which spellings are old."""
    fmts = [v for v in values if v in formats]
    files = [v for v in values if v not in formats]
    if len(fmts) > 1 or len(files) > 1:
        raise click.UsageError("-o/--output names one format; give the file with -O/--out")
    if files:
        _deprecated(f"-o/--output {files[0]}", f"-O/--out {files[0]} (-o/--output names the format now)")
        if out is not None:
            raise click.UsageError(f"two files given: -O/--out {out} and -o/--output {files[0]}; keep -O/--out")
        out = Path(files[0])
    if old_format is not None:
        _deprecated(f"--format {old_format}", f"-o/--output {old_format}")
        if fmts and fmts[0] != old_format:
            raise click.UsageError(f"two formats given: -o/--output {fmts[0]} and --format {old_format}; keep -o")
        fmts = [old_format]
    fmt = fmts[0] if fmts else default
    if fmt is None:
        raise click.UsageError(f"give the format: -o/--output {'|'.join(formats)}")
    return fmt, out


def _deprecated(old: str, new: str) -> None:
    click.echo(f"warning: `{old}` is deprecated; write `{new}`", err=True)


def write(text: str, out: Path | None, *, detail: str = "") -> None:
    """``text`` on stdout, or into the file ``out`` (its folder made) with a line on stderr saying so."""
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}{detail}", err=True)


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def emit(data: Any, fmt: str) -> None:
    click.echo(dump(data, fmt).rstrip("\n"))


def emit_optimal(view: dict[str, Any] | None) -> None:
    """The optimal trial for people (``best``, the end of ``run``): its view as YAML; for a NAS trial without
    the JSON assignments, then its architecture layer by layer (``-o json`` keeps the assignments)."""
    if view is None or "architecture" not in view:
        emit(view, "yaml")
        return
    layers = view["architecture"]["layers"]
    emit({k: v for k, v in view.items() if k not in ("parameterAssignments", "architecture")}, "yaml")
    plural = "s" if len(layers) != 1 else ""
    click.echo(
        f"architecture ({len(layers)} layer{plural}; `best -o json` gives the assignments as the trial got them):"
    )
    for layer in layers:
        click.echo(f"  {layer['description']}")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns, title=title, show_lines=False)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    Console(file=sys.stdout, soft_wrap=True).print(t)
