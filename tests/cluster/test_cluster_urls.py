"""One check of a server's address serves Argo Server and Airflow: same rules, errors that name each one's option."""

from __future__ import annotations

import pytest

from katib_flows.airflow import AirflowApi
from katib_flows.argo._server import server_url
from katib_flows.errors import ClusterError


def test_airflow_and_argo_read_addresses_alike() -> None:
    assert AirflowApi("localhost:8080", token="t").url == "http://localhost:8080"
    assert AirflowApi(" https://airflow.example.com/ ", token="t").url == "https://airflow.example.com"
    assert server_url("localhost:2746") == "https://localhost:2746/"


@pytest.mark.parametrize(
    ("make", "empty", "bad"),
    [
        (lambda a: AirflowApi(a, token="t"), "pass --airflow-url http://localhost:8080 or set AIRFLOW_URL",
         "e.g. --airflow-url http://localhost:8080"),
        (server_url, "pass --argo-server localhost:2746 or set ARGO_SERVER", "e.g. --argo-server localhost:2746"),
    ],
)  # fmt: skip
def test_a_bad_address_names_the_option_and_an_example(make, empty: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClusterError, match=f"is empty; {empty}"):
        make("  ")
    with pytest.raises(ClusterError, match=f"'ftp://host' is not host:port or an http\\(s\\) URL; {bad}"):
        make("ftp://host")
