"""Tenants on one UI server, checked at the API: 401 without an accepted token, 404 across namespaces,
lists narrowed to one's own namespaces, ``--namespace`` for the whole server, the login cookie, and
ServiceAccount tokens reviewed by a FAKE Kubernetes API server (no cluster can run here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ui_helpers import populate, serving

from katib_flows.cli import _exit, main
from katib_flows.store import Store
from katib_flows.ui import Access, AccessConfigError, TokenReviewer

TOKENS = {"tokens": [
    {"token": "token-of-team-a", "namespaces": ["team-a"]},
    {"token": "token-of-team-b", "namespaces": ["team-b", "shared"]},
    {"token": "token-of-the-admin", "namespaces": ["*"]},
]}  # fmt: skip


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", upgrade=True) as store:
        populate(store, "model", namespace="team-a", trials=3)
        populate(store, "model", namespace="team-b", trials=3, seed=1)  # the same name in another namespace
        populate(store, "common", namespace="shared", trials=2, seed=2)
        yield store


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.yaml"
    path.write_text(yaml.safe_dump(TOKENS))
    return path


def _as(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_tokens_see_their_namespaces_only(tenants: Store, token_file: Path) -> None:
    with (
        serving(tenants, Access("token", token_file=token_file)) as url,
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        none = client.get("/api/v1/experiments")
        assert none.status_code == 401 and none.headers["WWW-Authenticate"] == "Bearer"
        assert client.get("/api/v1/experiments", headers=_as("not-a-token")).status_code == 401
        assert client.get("/api/v1/namespaces/team-a/experiments/model").status_code == 401

        def names(token: str) -> list[str]:
            reply = client.get("/api/v1/experiments", headers=_as(token))
            return sorted(f"{e['namespace']}/{e['name']}" for e in reply.json())

        assert names("token-of-team-a") == ["team-a/model"]
        assert names("token-of-team-b") == ["shared/common", "team-b/model"]
        assert names("token-of-the-admin") == ["shared/common", "team-a/model", "team-b/model"]
        assert client.get("/api/v1/namespaces", headers=_as("token-of-team-a")).json() == ["team-a"]

        a = _as("token-of-team-a")
        for path in ("/api/v1/namespaces/team-b/experiments/model",
                     "/api/v1/namespaces/team-b/experiments/model/trials",
                     "/api/v1/namespaces/team-b/experiments/model/figures",
                     "/api/v1/namespaces/team-b/experiments/model/figures/importance",
                     "/api/v1/namespaces/team-b/experiments/model/trials/model-00000/observations",
                     "/experiments/team-b/model"):  # fmt: skip
            assert client.get(path, headers=a).status_code == 404, path
        # Another tenant's experiment answers exactly as one that does not exist.
        hidden = client.get("/api/v1/namespaces/team-b/experiments/model", headers=a).json()
        missing = client.get("/api/v1/namespaces/team-a/experiments/other", headers=a).json()
        assert hidden["detail"].replace("'model'", "N").replace("'team-b'", "NS") == (
            missing["detail"].replace("'other'", "N").replace("'team-a'", "NS")
        )
        assert client.get("/api/v1/experiments", params={"namespace": "team-b"}, headers=a).json() == []
        stop = client.post("/api/v1/namespaces/team-b/experiments/model/stop", headers={**a, "X-Requested-With": "x"})
        gone = client.delete("/api/v1/namespaces/team-b/experiments/model", headers={**a, "X-Requested-With": "x"})
        assert stop.status_code == gone.status_code == 404
        assert len(tenants.list_experiments(None)) == 3
        assert client.get("/api/v1/namespaces/team-a/experiments/model", headers=a).status_code == 200


def test_the_server_namespace_restriction_holds_for_admins_too(tenants: Store, token_file: Path) -> None:
    access = Access("token", token_file=token_file, namespaces=["team-a", "shared"])
    with serving(tenants, access) as url, httpx.Client(base_url=url, timeout=120) as client:
        admin = _as("token-of-the-admin")
        listed = client.get("/api/v1/experiments", headers=admin).json()
        assert sorted(e["namespace"] for e in listed) == ["shared", "team-a"]
        assert client.get("/api/v1/namespaces/team-b/experiments/model", headers=admin).status_code == 404
        assert [e["namespace"] for e in client.get("/api/v1/experiments", headers=_as("token-of-team-b")).json()] == [
            "shared"
        ]
    with serving(tenants, Access(namespaces=["team-b"])) as url, httpx.Client(base_url=url, timeout=120) as client:
        assert [e["namespace"] for e in client.get("/api/v1/experiments").json()] == ["team-b"]
        assert client.get("/api/v1/namespaces/team-a/experiments/model").status_code == 404


def test_the_login_page_sets_a_cookie_the_pages_and_the_api_accept(tenants: Store, token_file: Path) -> None:
    with (
        serving(tenants, Access("token", token_file=token_file)) as url,
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        page = client.get("/experiments/team-a/model")
        assert page.status_code == 303 and page.headers["location"].endswith("/login")
        assert client.post("/login", data={"token": "wrong-token"}).status_code == 401
        logged = client.post("/login", data={"token": "token-of-team-a"})
        assert logged.status_code == 303 and "samesite=strict" in logged.headers["set-cookie"].lower()
        assert "httponly" in logged.headers["set-cookie"].lower()
        assert client.get("/experiments/team-a/model").status_code == 200
        assert client.get("/experiments/team-b/model").status_code == 404
        assert [e["namespace"] for e in client.get("/api/v1/experiments").json()] == ["team-a"]
        # A cookie alone cannot stop or delete: a form on another site could send the cookie, not the header.
        assert client.post("/api/v1/namespaces/team-a/experiments/model/stop").status_code == 403


@pytest.mark.parametrize(
    ("content", "fix"),
    [
        ("tokens: []", "must hold a list"),
        ("tokens: [{token: short, namespaces: [a]}]", "at least 8 characters"),
        ("tokens: [{token: long-enough, namespaces: []}]", "non-empty list"),
        ("tokens: [{token: long-enough, namespaces: [a]}, {token: long-enough, namespaces: [b]}]", "twice"),
        ("tokens: [", "is not YAML"),
    ],
)
def test_a_bad_token_file_is_named_with_the_fix(tmp_path: Path, content: str, fix: str) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(content)
    with pytest.raises(AccessConfigError, match=fix):
        Access("token", token_file=path)


def test_the_ui_command_refuses_bad_auth_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["ui", "--db", url, "--auth", "token", "--port", "0"]) == _exit.BAD_INPUT
    assert "--token-file" in capsys.readouterr().err
    missing = tmp_path / "nowhere.yaml"
    assert main(["ui", "--db", url, "--auth", "token", "--token-file", str(missing), "--port", "0"]) == _exit.BAD_INPUT
    assert "cannot read the token file" in capsys.readouterr().err


class _FakeTokenReviews:
    """A FAKE Kubernetes API server that answers TokenReviews from a table (token -> username)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.reviews: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.path == "/apis/authentication.k8s.io/v1/tokenreviews", self.path
                token = body["spec"]["token"]
                fake.reviews.append(token)
                user = users.get(token)
                status: dict[str, Any] = {"authenticated": True, "user": {"username": user}} if user else {}
                reply = json.dumps({**body, "status": status}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-tokenreviews", daemon=True)
        self.thread.start()

    def kubeconfig(self, path: Path) -> Path:
        server = f"http://127.0.0.1:{self.server.server_address[1]}"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": server}}],
            "users": [{"name": "ui", "user": {"token": "the-ui-own-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "ui"}}],
        }))  # fmt: skip
        return path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_serviceaccount_tokens_see_their_own_namespace(
    tenants: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeTokenReviews({
        "sa-token-a": "system:serviceaccount:team-a:katib-flows-workflow",
        "person-token": "alice@example.com",
    })  # fmt: skip
    try:
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig")))
        access = Access("serviceaccount", reviewer=TokenReviewer())
        with serving(tenants, access) as url, httpx.Client(base_url=url, timeout=120) as client:
            assert client.get("/api/v1/experiments").status_code == 401
            for _ in range(3):
                mine = client.get("/api/v1/experiments", headers=_as("sa-token-a"))
                assert [e["namespace"] for e in mine.json()] == ["team-a"]
            assert (
                client.get("/api/v1/namespaces/team-b/experiments/model", headers=_as("sa-token-a")).status_code == 404
            )
            assert client.get("/api/v1/experiments", headers=_as("person-token")).status_code == 401
            assert client.get("/api/v1/experiments", headers=_as("forged-token")).status_code == 401
        assert fake.reviews.count("sa-token-a") == 1  # answers are kept for a minute
    finally:
        fake.close()
