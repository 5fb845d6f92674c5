"""``katib-flows lint FILE...``: check Experiment files and print them defaulted, or every problem.

Load, check, report: problems go to stderr as one line each (file, field path, rule, value, fix);
``--output yaml|json`` prints the defaulted Experiments on stdout for other tools.
"""

from __future__ import annotations

from pathlib import Path

import click

from katib_flows.cli import _exit
from katib_flows.cli._output import dump, format_option


@click.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option(
    ("text", "yaml", "json"),
    default="text",
    help="text: a verdict per file; yaml/json: the defaulted Experiments (json also lists problems).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too (unknown fields, unused values).")
def lint(files: tuple[Path, ...], output: str, strict: bool) -> None:
    """Check Katib v1beta1 Experiment files; print every problem with its field path and fix."""
    from katib_flows.spec import check_file

    failed = False
    documents = []
    for path in files:
        for checked in check_file(path):
            bad = not checked.ok or (strict and checked.warnings)
            failed = failed or bool(bad)
            for problem in checked.problems:
                click.echo(problem.format(), err=True)
            if output == "text":
                verdict = "invalid" if bad else "ok"
                note = f" ({len(checked.warnings)} warnings)" if checked.warnings else ""
                click.echo(f"{checked.source}: {verdict}{note}")
            elif output == "json":
                documents.append(
                    {
                        "file": checked.source,
                        "ok": not bad,
                        "problems": [p.to_dict() for p in checked.problems],
                        "experiment": checked.experiment.dump() if checked.experiment and checked.ok else None,
                    }
                )
            elif checked.experiment is not None and checked.ok:
                documents.append(checked.experiment.dump())
    if output == "json":
        click.echo(dump(documents, "json"))
    elif output == "yaml" and documents:
        import yaml

        click.echo(yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True).rstrip("\n"))
    if failed:
        raise SystemExit(_exit.BAD_INPUT)
