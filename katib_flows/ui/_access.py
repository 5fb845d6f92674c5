"""Who may see which namespaces: the server's ``--namespace`` restriction and each request's token.

``Access`` is built once by ``katib-flows ui`` from its options and asked on every request. A request's
namespaces are the server's allowed ones, narrowed by what its token grants. Three modes: ``none`` (no
token; everything the server allows), ``token`` (a token file mapping tokens to namespaces) and
``serviceaccount`` (a Kubernetes ServiceAccount token, checked by a TokenReview: it sees its own namespace).
A namespace a request may not see is answered exactly as one that does not exist (404), so names do not
leak across tenants. Tokens come as ``Authorization: Bearer ...`` or from the login page's cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from katib_flows.errors import KatibFlowsError

AUTH_MODES = ("none", "token", "serviceaccount")
ALL = "*"
COOKIE = "katib_flows_token"


class AccessConfigError(KatibFlowsError):
    """The token file or the auth options are wrong; the message names the file and the fix."""


@dataclass(frozen=True)
class Scope:
    """What one request may see: ``None`` means every namespace (an admin, or no restriction at all)."""

    namespaces: frozenset[str] | None

    def allows(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def narrow(self, namespace: str | None) -> list[str] | None:
        """The namespaces to list: ``[namespace]`` (empty when not allowed), or every allowed one (None: all)."""
        if namespace is not None:
            return [namespace] if self.allows(namespace) else []
        return None if self.namespaces is None else sorted(self.namespaces)


class Unauthorized(Exception):
    """No token, or one nobody knows: 401."""


Reviewer = Callable[[str], "str | None"]
"""A ServiceAccount token to the namespace it belongs to, None when the cluster does not accept it."""


class Access:
    """The server's namespace restriction and the way it tells who is asking."""

    def __init__(
        self,
        mode: str = "none",
        *,
        namespaces: Sequence[str] = (),
        token_file: Path | None = None,
        reviewer: Reviewer | None = None,
    ) -> None:
        if mode not in AUTH_MODES:
            raise AccessConfigError(f"--auth must be one of {', '.join(AUTH_MODES)}, got {mode!r}")
        if mode == "token" and token_file is None:
            raise AccessConfigError("--auth token needs --token-file FILE (a YAML list of tokens and namespaces)")
        self.mode = mode
        self.server = Scope(frozenset(namespaces) if namespaces else None)
        self._tokens = load_tokens(token_file) if mode == "token" and token_file is not None else {}
        self._reviewer = reviewer

    @property
    def needs_token(self) -> bool:
        return self.mode != "none"

    def scope(self, token: str | None) -> Scope:
        """The request's scope; ``Unauthorized`` when a token is needed and missing or unknown."""
        if not self.needs_token:
            return self.server
        if not token:
            raise Unauthorized("this server needs a token: send `Authorization: Bearer TOKEN`, or log in at /login")
        granted = self._granted(token)
        if self.server.namespaces is None:
            return Scope(granted)
        return Scope(self.server.namespaces if granted is None else self.server.namespaces & granted)

    def _granted(self, token: str) -> frozenset[str] | None:
        """The namespaces a token grants (None: all of them); ``Unauthorized`` for a token nobody knows."""
        if self.mode == "serviceaccount":
            assert self._reviewer is not None
            namespace = self._reviewer(token)
            if namespace is None:
                raise Unauthorized("the cluster did not accept this ServiceAccount token")
            return frozenset({namespace})
        for known, namespaces in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return None if ALL in namespaces else namespaces
        raise Unauthorized("the token is not accepted by this server")


def load_tokens(path: Path) -> dict[str, frozenset[str]]:
    """Read a token file: a YAML list of ``{token: ..., namespaces: [...]}`` (``"*"`` grants every namespace)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccessConfigError(f"cannot read the token file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise AccessConfigError(f"the token file {path} is not YAML: {exc}") from exc
    entries = document.get("tokens") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise AccessConfigError(
            f"the token file {path} must hold a list `tokens:` of entries `{{token: TEXT, namespaces: [NS, ...]}}`"
        )
    tokens: dict[str, frozenset[str]] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: tokens[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str) or len(entry["token"]) < 8:
            raise AccessConfigError(f"{where}.token must be a string of at least 8 characters")
        namespaces = entry.get("namespaces")
        if not isinstance(namespaces, list) or not namespaces or not all(isinstance(n, str) for n in namespaces):
            raise AccessConfigError(f'{where}.namespaces must be a non-empty list of namespace names (or "*")')
        if entry["token"] in tokens:
            raise AccessConfigError(f"{where}.token appears twice in the file; give each tenant its own token")
        tokens[entry["token"]] = frozenset(namespaces)
    return tokens
