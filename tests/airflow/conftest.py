"""One real Airflow for the tests in this folder (``airflow``), and two Celery workers on it when a test asks
(``celery``).

Starting Airflow costs a minute or two on this machine, so every Airflow test shares one deployment;
each test uses experiment and DAG names of its own. The store is a PostgreSQL schema of its own. The
fixtures are package-scoped: the scheduler, dag-processor and workers stop once this folder's tests are done,
instead of polling beside the rest of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airflow_deployment import Deployment

from katib_flows.store import Store


@pytest.fixture(scope="package")
def airflow_store(postgresql_server: object) -> Iterator[str]:
    name, url = postgresql_server.create()  # type: ignore[attr-defined]
    with Store(url, upgrade=True):
        pass
    try:
        yield url
    finally:
        postgresql_server.drop(name)  # type: ignore[attr-defined]


@pytest.fixture(scope="package")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, postgresql_server: object, airflow_store: str
) -> Iterator[Deployment]:
    admin = postgresql_server.admin_url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    deployment = Deployment(home=tmp_path_factory.mktemp("airflow"), admin_url=admin, store_url=airflow_store)
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="package")
def celery(airflow: Deployment) -> Deployment:
    """The same Airflow with two ``airflow celery worker`` processes over Redis (stopped with it)."""
    airflow.start_celery_workers(2)
    return airflow
