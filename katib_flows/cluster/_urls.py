"""The address of a server katib-flows talks to over HTTP (Argo Server, Airflow's api-server), checked once.

Both take ``host:port`` or an http(s) URL, from an option or an environment variable; a bad one is a
``ClusterError`` that names the option, the variable and an address that would work.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from katib_flows.errors import ClusterError


@dataclass(frozen=True)
class Address:
    """How to talk about one server's address in errors: what it is, its option, its variable, an example."""

    what: str  # "the Argo Server address"
    option: str  # "--argo-server"
    env: str  # "ARGO_SERVER"
    example: str  # "localhost:2746"


def http_address(address: str, about: Address, *, scheme: str = "https") -> urllib.parse.SplitResult:
    """``address`` (``host:port`` or an http(s) URL) split into its parts, ``scheme`` where it names none;
    ``ClusterError`` when it is empty or not http(s)."""
    address = address.strip()
    if not address:
        raise ClusterError(f"{about.what} is empty; pass {about.option} {about.example} or set {about.env}")
    if "://" not in address:
        address = f"{scheme}://{address}"
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClusterError(
            f"{about.what} {address!r} is not host:port or an http(s) URL; e.g. {about.option} {about.example}"
        )
    return parts
