"""schemathesis reads the UI's OpenAPI document and sends what it allows, and much it does not, to a real
server over a store with experiments: no answer may be a server error, and every answer must match the
document. Examples are bounded per operation so the test stays quick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from ui_helpers import populate, serving

from katib_flows.store import Store

EXAMPLES = 15  # per operation: about a minute on a busy machine


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    with Store(f"sqlite:///{folder / 'store.db'}", upgrade=True) as store:
        populate(store, "alpha", trials=6, running=1)
        populate(store, "beta", namespace="team-b", trials=2, seed=1)
        with serving(store) as url:
            yield schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")


@pytest.mark.slow
def test_the_api_never_fails_and_keeps_to_its_document(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exchange(case: Any) -> None:
            case.call_and_validate()

        exchange()
