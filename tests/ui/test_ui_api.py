"""``/api/v1/`` over a real server on a free port, on SQLite, MariaDB and PostgreSQL: the CLI's JSON shapes,
pages of trials, filters, sorting, observation logs, and stop and delete through the engine."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from ui_helpers import populate, serving

from katib_flows.cli import _exit, main
from katib_flows.engine import stop_requested
from katib_flows.store import Store


@pytest.fixture
def served(store: Store) -> Iterator[tuple[Store, httpx.Client]]:
    populate(store, "alpha", trials=12, running=2)
    populate(store, "beta", namespace="team-b", trials=3, seed=1)
    with serving(store) as url, httpx.Client(base_url=url, timeout=300) as client:
        yield store, client


def test_experiments_and_trials_are_the_cli_json(
    served: tuple[Store, httpx.Client], store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, client = served
    assert main(["experiments", "-A", "-o", "json", "--db", store_url]) == 0
    assert client.get("/api/v1/experiments").json() == json.loads(capsys.readouterr().out)
    assert main(["trials", "alpha", "-o", "json", "--db", store_url]) == 0
    cli_trials = json.loads(capsys.readouterr().out)
    reply = client.get("/api/v1/namespaces/default/experiments/alpha/trials", params={"limit": 1000})
    assert reply.json() == cli_trials and reply.headers["X-Total-Count"] == "14"
    assert [e["name"] for e in client.get("/api/v1/experiments", params={"namespace": "team-b"}).json()] == ["beta"]
    assert client.get("/api/v1/namespaces").json() == ["default", "team-b"]
    one = client.get("/api/v1/namespaces/default/experiments/alpha/trials/alpha-00003").json()
    assert one == next(t for t in cli_trials if t["name"] == "alpha-00003")


def test_trials_come_in_pages_filtered_and_sorted(served: tuple[Store, httpx.Client]) -> None:
    _, client = served
    base = "/api/v1/namespaces/default/experiments/alpha/trials"
    first = client.get(base, params={"limit": 5})
    second = client.get(base, params={"limit": 5, "offset": 5})
    assert first.headers["X-Total-Count"] == "14" and len(first.json()) == 5
    assert {t["name"] for t in first.json()}.isdisjoint(t["name"] for t in second.json())
    failed = client.get(base, params={"status": "Failed"})
    assert failed.headers["X-Total-Count"] == "2" and {t["status"] for t in failed.json()} == {"Failed"}
    found = client.get(base, params={"q": "alpha-0001"}).json()
    assert sorted(t["name"] for t in found) == [f"alpha-000{i}" for i in range(10, 14)]
    best_first = [t["objectiveValue"] for t in client.get(base, params={"sort": "objective", "order": "desc"}).json()]
    valued = [v for v in best_first if v is not None]
    assert valued == sorted(valued, reverse=True) and best_first[: len(valued)] == valued  # no value: last
    units = [int(a["value"]) for t in client.get(base, params={"sort": "param:units", "limit": 100}).json()
             for a in t["parameterAssignments"] if a["name"] == "units"]  # fmt: skip
    assert units == sorted(units)
    assert client.get(base, params={"sort": "nonsense"}).status_code == 422
    assert client.get(base, params={"limit": 5000}).status_code == 422


def test_observations_figures_and_curves(served: tuple[Store, httpx.Client]) -> None:
    _, client = served
    base = "/api/v1/namespaces/default/experiments/alpha"
    log = client.get(f"{base}/trials/alpha-00000/observations").json()["observationLog"]["metricLogs"]
    assert [row["step"] for row in log] == [0, 1, 2] and {row["metric"]["name"] for row in log} == {"score"}
    figures = client.get(f"{base}/figures").json()
    assert figures["completed"] == figures["drawn"] == 10  # 12 finished, 2 of them failed
    assert list(figures["figures"]) == ["history", "parallel-coordinates"]  # importance is asked on its own
    lines = figures["figures"]["parallel-coordinates"]["data"][0]["dimensions"][0]["values"]
    assert len(lines) == 10
    importance = client.get(f"{base}/figures/importance").json()
    assert importance["completed"] == 10
    assert sorted(importance["figure"]["data"][0]["y"]) == ["act", "lr", "units"]
    assert "importance" in importance["figure"]["layout"]["title"]["text"]
    curves = client.get(f"{base}/curves", params=[("trial", "alpha-00000"), ("trial", "alpha-00001")]).json()
    assert sorted(trace["name"] for trace in curves["data"]) == ["alpha-00000", "alpha-00001"]
    assert "score" in client.get(f"{base}/spec", params={"format": "yaml"}).text


def test_unknown_names_are_404_and_the_trial_must_belong_to_the_experiment(served: tuple[Store, httpx.Client]) -> None:
    store, client = served
    populate(store, "gamma", trials=1)
    assert client.get("/api/v1/namespaces/default/experiments/nobody").status_code == 404
    assert client.get("/api/v1/namespaces/default/experiments/alpha/trials/nobody").status_code == 404
    assert client.get("/api/v1/namespaces/team-b/experiments/beta/trials/alpha-00000").status_code == 404
    wrong = client.get("/api/v1/namespaces/default/experiments/gamma/trials/alpha-00000")
    assert wrong.status_code == 404 and "does not belong" in wrong.json()["detail"]
    assert client.get("/experiments/default/nobody").status_code == 404  # the page too


def test_stop_and_delete_go_through_the_engine_and_need_the_header(served: tuple[Store, httpx.Client]) -> None:
    store, client = served
    base = "/api/v1/namespaces/default/experiments/alpha"
    ui_header = {"X-Requested-With": "test"}
    assert client.post(f"{base}/stop").status_code == 403  # no header: not from the UI's script
    assert not stop_requested(store.get_experiment("default", "alpha"))
    reply = client.post(f"{base}/stop", headers=ui_header)
    assert reply.status_code == 200 and reply.json()["stopRequested"] is True
    assert stop_requested(store.get_experiment("default", "alpha"))
    assert main(["stop", "alpha", "--db", store.safe_url]) == _exit.SUCCEEDED  # asking twice is harmless

    assert client.delete("/api/v1/namespaces/team-b/experiments/beta").status_code == 403
    assert client.delete("/api/v1/namespaces/team-b/experiments/beta", headers=ui_header).status_code == 204
    assert client.get("/api/v1/namespaces/team-b/experiments/beta").status_code == 404
    assert [e.name for e in store.list_experiments(None)] == ["alpha"]
    done = client.delete("/api/v1/namespaces/team-b/experiments/beta", headers=ui_header)
    assert done.status_code == 404
