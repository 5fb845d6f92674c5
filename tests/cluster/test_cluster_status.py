"""One status-to-error mapping for the Kubernetes API and Argo Server: each status, its type, its advice.

The unit half calls ``status_error`` and the real ``kubernetes`` client's ``ApiException`` and urllib3's
connection errors through ``api_call`` (no server needed: the exception objects are the real ones); the
fake servers of tests/kube and tests/argo check the same mapping end to end.
"""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, ProtocolError

from katib_flows.cluster import Access, api_call, status_error
from katib_flows.errors import (
    AlreadyExistsError,
    ClusterError,
    ConflictError,
    InvalidObjectError,
    NotFoundError,
    ObjectNotFoundError,
    TemporaryClusterError,
    UnauthorizedError,
)

ACCESS = Access(credentials="the test's token", needs="get on widgets.example.com")

#: status -> the error type every caller gets for it (None: no HTTP answer at all).
EXPECTED: dict[int | None, type[ClusterError]] = {
    400: InvalidObjectError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: ObjectNotFoundError,
    409: ConflictError,
    418: ClusterError,
    422: InvalidObjectError,
    429: TemporaryClusterError,
    500: TemporaryClusterError,
    503: TemporaryClusterError,
    None: TemporaryClusterError,
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_each_status_has_one_error_type(status: int | None) -> None:
    error = status_error(status, "reading Widget ns/w", "the server said no", ACCESS)
    assert type(error) is EXPECTED[status]
    assert str(error).startswith("reading Widget ns/w: the server said no")
    assert error.temporary is (EXPECTED[status] is TemporaryClusterError)


def test_not_found_and_conflict_are_also_the_store_side_errors() -> None:
    """So callers that handle a missing experiment or a taken name handle a missing Workflow the same way."""
    assert isinstance(status_error(404, "d", "s", ACCESS), NotFoundError)
    assert isinstance(status_error(409, "d", "s", ACCESS), AlreadyExistsError)
    assert not isinstance(status_error(403, "d", "s", ACCESS), NotFoundError | AlreadyExistsError)


@pytest.mark.parametrize("status", [401, 403])
def test_unauthorized_names_the_credentials_and_the_rbac_to_grant(status: int) -> None:
    message = str(status_error(status, "reading Widget ns/w", f"answered {status}", ACCESS))
    assert "Check the test's token" in message
    assert "its ServiceAccount needs get on widgets.example.com (RBAC)" in message


def _api_exception(status: int, reason: str, message: str) -> ApiException:
    exc = ApiException(status=status, reason=reason)
    exc.body = f'{{"kind": "Status", "message": "{message}"}}'
    return exc


@pytest.mark.parametrize("status", [s for s in EXPECTED if s is not None])
def test_an_api_exception_leaves_api_call_as_the_typed_error_with_the_status_message(status: int) -> None:
    with pytest.raises(ClusterError) as caught, api_call("creating Job ns/j", ACCESS):
        raise _api_exception(status, "Reason", "jobs.batch is bad")
    assert type(caught.value) is EXPECTED[status]
    assert f"creating Job ns/j: the API server refused ({status} Reason): jobs.batch is bad" in str(caught.value)
    assert isinstance(caught.value.__cause__, ApiException)


@pytest.mark.parametrize(
    "exc", [ProtocolError("Connection aborted."), MaxRetryError(None, "/api", "refused"), ConnectionResetError()]
)
def test_a_lost_connection_is_temporary(exc: Exception) -> None:
    with pytest.raises(TemporaryClusterError, match="the API server cannot be reached"), api_call("d", ACCESS):
        raise exc


def test_a_missing_or_taken_object_may_be_let_through() -> None:
    with api_call("reading", ACCESS, missing_ok=True) as answer:
        raise _api_exception(404, "NotFound", "gone")
    assert answer.value is None
    with api_call("creating", ACCESS, conflict_ok=True) as answer:
        raise _api_exception(409, "AlreadyExists", "taken")
    assert answer.value is None
    with pytest.raises(ObjectNotFoundError), api_call("creating", ACCESS, conflict_ok=True):
        raise _api_exception(404, "NotFound", "gone")


def test_other_exceptions_pass_untouched() -> None:
    with pytest.raises(KeyError), api_call("d", ACCESS):
        raise KeyError("mine")
