"""``katib-flows ui``: serve the web UI and its JSON API over a store, with uvicorn, until Ctrl-C.

Load the options, build the access rules, open the store, serve. Everything heavy (FastAPI, uvicorn,
plotly) is imported inside the command, so ``katib-flows --help`` stays fast.
"""

from __future__ import annotations

import socket
from pathlib import Path

import click

from katib_flows.cli._common import db_option, open_store

_LOCAL = ("127.0.0.1", "localhost", "::1")


@click.command("ui")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free).")
@click.option(
    "--namespace", "-n", "namespaces", multiple=True, metavar="NS",
    help="Show only these namespaces (repeat the option); default: every namespace.",
)  # fmt: skip
@click.option(
    "--auth", type=click.Choice(["none", "token", "serviceaccount"]), default="none", show_default=True,
    help="token: each request shows a token from --token-file and sees its namespaces; serviceaccount: a "
    "Kubernetes ServiceAccount token, checked by the cluster's TokenReview, sees its own namespace.",
)  # fmt: skip
@click.option(
    "--token-file", type=click.Path(path_type=Path, dir_okay=False), envvar="KATIB_FLOWS_UI_TOKENS",
    help="YAML: `tokens: [{token: ..., namespaces: [ns, ...]}]` (\"*\" for every namespace).",
)  # fmt: skip
@click.option("--root-path", default="", help="URL prefix when served behind a proxy under a path (e.g. /katib).")
def ui(
    db_url: str | None,
    host: str,
    port: int,
    namespaces: tuple[str, ...],
    auth: str,
    token_file: Path | None,
    root_path: str,
) -> None:
    """Serve a live web UI and a JSON API (/api/v1/) over the store, until Ctrl-C."""
    try:
        import uvicorn

        from katib_flows.ui import Access, TokenReviewer, create_app, preload
    except ImportError as exc:
        raise click.UsageError(f"the UI needs its extra: pip install 'katib-flows[ui]' ({exc})") from exc
    from katib_flows.ui import AccessConfigError

    reviewer = TokenReviewer() if auth == "serviceaccount" else None
    try:
        access = Access(auth, namespaces=namespaces, token_file=token_file, reviewer=reviewer)
    except AccessConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if auth == "none" and host not in _LOCAL:
        click.echo(f"warning: serving {host} without --auth: anyone who can reach it may stop and delete", err=True)
    preload()  # before serving, not by the first page

    with open_store(db_url) as store, _listen(host, port) as sock:
        app = create_app(store, access, root_path=root_path.rstrip("/"))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}{root_path.rstrip('/')}/"
        click.echo(f"katib-flows UI over {store.safe_url} at {url} (Ctrl-C stops)")
        server.run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket, so that --port 0 gets a free port and the line printed names it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from exc
    return sock
