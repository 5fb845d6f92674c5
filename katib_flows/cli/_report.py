"""``katib-flows report NAME``: the experiment's results as one HTML file, or its figures as PNG images.

A pipeline: open the store, read the history once, render, write, say where. HTML is self-contained
(plotly.js inlined) so it opens offline; ``-o png`` needs kaleido and a Chromium and says so
when either is missing.
"""

from __future__ import annotations

from pathlib import Path

import click

from katib_flows.cli._common import db_option, namespace_option, open_store
from katib_flows.cli._output import output_options


@click.command("report")
@click.argument("name")
@db_option
@namespace_option
@output_options(
    ("html", "png"),
    default="html",
    help="html: one self-contained page; png: one image per figure (needs kaleido and a Chromium).",
    out_help="File to write (html), or folder for the images (png). Default: NAME.html, or the current folder.",
    out_folder=True,
    old_format=True,
)
def report(name: str, db_url: str | None, namespace: str, output: str, out: Path | None) -> None:
    """Write an experiment's report: status, history, parallel coordinates, importance, curves, trials."""
    from katib_flows.errors import KatibFlowsError
    from katib_flows.report import check_image_support, load_history, write_html, write_images

    if output == "png":
        try:  # before reading anything: the fix is an install, not a different experiment (exit BAD_INPUT)
            check_image_support()
        except KatibFlowsError as exc:
            raise click.UsageError(str(exc)) from exc
    with open_store(db_url) as store:
        history = load_history(store, namespace, name)
    if output == "png":
        for path in write_images(history, out or Path.cwd()):
            click.echo(f"wrote {path}")
        return
    path = write_html(history, out or Path(f"{name}.html"))
    click.echo(f"wrote {path} ({len(history.trials)} trials)")
