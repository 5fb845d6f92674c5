"""Airflow's stable REST API (v2): trigger a DAG run and read it, for ``submit --engine airflow`` and the DSL.

``AirflowApi`` speaks the calls submitting needs: ``POST /auth/token`` (Airflow 3's auth managers hand out
a JWT for a user name and password), ``POST /api/v2/dags/{dag_id}/dagRuns`` with the Experiment as the
run's conf, and ``GET .../dagRuns/{run_id}`` for its state. A given token is used as it is. Standard
library only; every failure (unreachable server, refused credentials, unknown DAG, Airflow's own
``detail``) becomes a ``ClusterError`` naming the URL and the fix, which the CLI turns into exit code 6.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from katib_flows.cluster import Address, http_address
from katib_flows.errors import ClusterError, TemporaryClusterError, UnauthorizedError

URL_ENV = "AIRFLOW_URL"
TOKEN_ENV = "AIRFLOW_TOKEN"
USER_ENV = "AIRFLOW_USERNAME"
PASSWORD_ENV = "AIRFLOW_PASSWORD"
_TIMEOUT = 30.0
_ADDRESS = Address("the Airflow URL", "--airflow-url", URL_ENV, "http://localhost:8080")


@dataclass(frozen=True)
class DagRun:
    """A run Airflow created: what ``submit --engine airflow --output json`` prints."""

    dag_id: str
    run_id: str
    state: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "state": self.state, "url": self.url}


class AirflowApi:
    """A client of one Airflow api-server, authenticated once (a token, or a user name and password)."""

    def __init__(
        self, url: str, *, token: str | None = None, username: str | None = None, password: str | None = None
    ) -> None:
        parts = http_address(url, _ADDRESS, scheme="http")
        self.url = urllib.parse.urlunsplit(parts).rstrip("/")
        self._token = token.removeprefix("Bearer ").strip() if token else None
        self._login = (username, password) if username else None
        if self._token is None and self._login is None:
            raise ClusterError(
                f"no Airflow credentials: pass --airflow-token (or {TOKEN_ENV}), or --airflow-user and "
                f"--airflow-password (or {USER_ENV} and {PASSWORD_ENV})"
            )

    def token(self) -> str:
        if self._token is None:
            assert self._login is not None
            username, password = self._login
            answer = self._call("POST", "/auth/token", {"username": username, "password": password or ""}, auth=False)
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise ClusterError(f"{self.url}/auth/token answered without an access_token: {answer!r}")
            self._token = token
        return self._token

    def trigger(self, dag_id: str, conf: dict[str, Any], *, run_id: str | None = None) -> DagRun:
        """Start a run of ``dag_id`` with ``conf`` (its params); the run as Airflow created it."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        answer = self._call("POST", f"/api/v2/dags/{_quote(dag_id)}/dagRuns", body)
        return self._run(dag_id, answer)

    def dag_run(self, dag_id: str, run_id: str) -> DagRun:
        return self._run(dag_id, self._call("GET", f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run (mapped ones one by one), as Airflow lists them."""
        path = f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances?limit=1000"
        answer = self._call("GET", path)
        return list(answer.get("task_instances", [])) if isinstance(answer, dict) else []

    def _run(self, dag_id: str, answer: Any) -> DagRun:
        if not isinstance(answer, dict) or "dag_run_id" not in answer:
            raise ClusterError(f"{self.url}: unexpected answer for a DAG run of {dag_id}: {answer!r}")
        run_id = str(answer["dag_run_id"])
        link = f"{self.url}/dags/{_quote(dag_id)}/runs/{_quote(run_id)}"
        return DagRun(dag_id, run_id, str(answer.get("state") or ""), link)

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            error = UnauthorizedError if exc.code in (401, 403) else ClusterError
            raise error(self._refused(exc, path)) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TemporaryClusterError(
                f"cannot reach Airflow at {self.url}: {reason}; is its api-server running there "
                "(`airflow api-server --port PORT`)?"
            ) from exc
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ClusterError(f"{self.url}{path} did not answer JSON; is this Airflow's api-server?") from exc

    def _refused(self, exc: urllib.error.HTTPError, path: str) -> str:
        try:
            detail = json.loads(exc.read().decode("utf-8", "replace")).get("detail")
        except (ValueError, AttributeError, OSError):
            detail = None
        said = f": {detail}" if detail else ""
        if exc.code in (401, 403):
            return (
                f"Airflow at {self.url} refused the credentials (HTTP {exc.code}{said}); check the user name and "
                "password (or token) and that the user may trigger DAG runs"
            )
        if exc.code == 404 and "/dags/" in path:
            return (
                f"Airflow at {self.url} has no such DAG (HTTP 404{said}); put workflow_templates/airflow/"
                "katib_flows_experiment.py into its DAG folder, or pass --dag-id"
            )
        return f"Airflow at {self.url} answered HTTP {exc.code} to {path.split('?')[0]}{said}"


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")
