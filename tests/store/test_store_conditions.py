"""Katib's condition rule as a pure function (the store tests check it end to end)."""

from __future__ import annotations

import datetime as dt

from katib_flows.store import ExperimentCondition as C
from katib_flows.store._conditions import apply

T1 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
T2 = T1 + dt.timedelta(seconds=5)


def _short(conditions: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in conditions]


def test_same_type_status_and_reason_is_a_no_op() -> None:
    first = apply([], C.CREATED, "ExperimentCreated", "Experiment is created", T1)
    assert apply(first, C.CREATED, "ExperimentCreated", "another message", T2) == first


def test_a_new_reason_replaces_the_entry_and_keeps_the_transition_time() -> None:
    first = apply([], C.RUNNING, "ExperimentRunning", "m", T1)
    second = apply(first, C.RUNNING, "OtherReason", "m2", T2)
    assert _short(second) == [("Running", "True", "OtherReason")]
    assert second[0]["lastTransitionTime"] == "2024-01-01T00:00:00.000000Z"
    assert second[0]["lastUpdateTime"] == "2024-01-01T00:00:05.000000Z"


def test_terminal_flips_running_and_restarting_removes_terminal() -> None:
    conditions = apply([], C.CREATED, "ExperimentCreated", "c", T1)
    conditions = apply(conditions, C.RUNNING, "ExperimentRunning", "r", T1)
    done = apply(conditions, C.FAILED, "ExperimentFailed", "f", T2)
    assert _short(done) == [
        ("Created", "True", "ExperimentCreated"),
        ("Running", "False", "ExperimentRunning"),
        ("Failed", "True", "ExperimentFailed"),
    ]
    assert done[1]["message"] == "r" and done[1]["lastTransitionTime"] == "2024-01-01T00:00:05.000000Z"
    restarted = apply(done, C.RESTARTING, "ExperimentRestarting", "x", T2)
    assert _short(restarted) == [
        ("Created", "True", "ExperimentCreated"),
        ("Running", "False", "ExperimentRunning"),
        ("Restarting", "True", "ExperimentRestarting"),
    ]


def test_the_input_list_is_not_changed() -> None:
    conditions = apply([], C.RUNNING, "ExperimentRunning", "r", T1)
    snapshot = [dict(c) for c in conditions]
    apply(conditions, C.SUCCEEDED, "ExperimentGoalReached", "g", T2)
    assert conditions == snapshot
