"""``bayesianoptimization`` fits on one BLAS thread (``_blas``): during the fit only, lanes taking turns, and the
suggestion is then the same whatever the machine's BLAS threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import katib_flows_suggestion as sg
import numpy as np
import pytest
from katib_flows_suggestion import _bayesopt, _blas
from katib_flows_suggestion._gp import GaussianProcess
from threadpoolctl import ThreadpoolController, threadpool_info, threadpool_limits  # type: ignore[import-untyped]

P = sg.Parameter
PROBLEM = sg.Problem(
    (P("x", "double", -5.0, 10.0), P("lr", "double", 1e-5, 1e-1, distribution="logUniform"), P("n", "int", 1, 64)),
    "loss",
    "minimize",
)


def _history(n: int) -> list[sg.Trial]:
    rng = np.random.default_rng(0)
    trials = []
    for i in range(n):
        x, lr, units = float(rng.uniform(-5, 10)), float(10 ** rng.uniform(-5, -1)), int(rng.integers(1, 65))
        value = (x - 2.0) ** 2 / 10 + (np.log10(lr) + 3) ** 2 + abs(units - 20) / 10
        trials.append(sg.Trial(f"t{i}", {"x": x, "lr": lr, "n": units}, "Succeeded", value))
    return trials


def _blas_threads() -> list[int]:
    return [int(info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas"]


def _in_a_thread_that_ends(call: Callable[[], object]) -> None:
    """``call`` in a thread of its own: threadpoolctl 3.8 gives control of OpenBLAS's pool to the first thread
    that sets it, until that thread ends or leaves its ``with``; a thread that ends leaves it to the next."""
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


@pytest.fixture
def two_blas_threads() -> Iterator[None]:
    """BLAS on two threads, as numpy starts on a 2-core machine, whatever the machine running the test."""
    controller = ThreadpoolController()
    limiters: list[Any] = []
    _in_a_thread_that_ends(lambda: limiters.append(controller.limit(limits=2, user_api="blas")))
    try:
        if set(_blas_threads()) != {2}:
            pytest.skip(f"this BLAS cannot be set to 2 threads: {threadpool_info()}")
        yield
    finally:
        _in_a_thread_that_ends(limiters[0].restore_original_limits)


def _suggest(history: list[sg.Trial]) -> dict[str, sg.Value]:
    decision = sg.get_algorithm("bayesianoptimization").suggest(PROBLEM, history, 1)
    assert isinstance(decision, sg.Suggestion)
    return dict(decision.assignments)


def test_the_gp_fits_and_maximises_on_one_blas_thread_and_the_count_comes_back(
    two_blas_threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[int]] = {}
    fit, maximise = _bayesopt.fit, _bayesopt._maximise

    def fit_watched(x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        seen["fit"] = _blas_threads()
        return fit(x, y)

    def maximise_watched(*args: object) -> np.ndarray:
        seen["maximise"] = _blas_threads()
        return maximise(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_bayesopt, "fit", fit_watched)
    monkeypatch.setattr(_bayesopt, "_maximise", maximise_watched)
    _suggest(_history(30))
    assert seen["fit"] and set(seen["fit"]) == {1}, seen
    assert set(seen["maximise"]) == {1}, seen
    assert set(_blas_threads()) == {2}
    controller = _blas._controller
    _suggest(_history(30))
    assert _blas._controller is controller, "the controller (6 ms to make) is made once"


def test_the_suggestion_does_not_depend_on_the_machines_blas_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200 points: there OpenBLAS's threaded kernels sum in another order, and two threads without the limit
    # moved the suggestion in its last digits. One thread, with or without the limit, is the same computation.
    history = _history(200)
    with threadpool_limits(1, user_api="blas"):
        limited_on_one = _suggest(history)
        with monkeypatch.context() as patch:
            patch.setattr(_bayesopt, "one_blas_thread", nullcontext)
            unlimited_on_one = _suggest(history)
    with threadpool_limits(2, user_api="blas"):
        if set(_blas_threads()) != {2}:
            pytest.skip(f"this BLAS cannot be set to 2 threads: {threadpool_info()}")
        limited_on_two = _suggest(history)
    assert limited_on_one == unlimited_on_one
    assert limited_on_two == limited_on_one


def test_lanes_take_turns_each_on_one_thread_and_the_count_comes_back(two_blas_threads: None) -> None:
    """Lane a is inside; lane b waits for it, then gets one thread too; after both, two threads again."""
    a_in, a_may_leave, b_in = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def lane_a() -> None:
        with _blas.one_blas_thread():
            seen["a"] = _blas_threads()
            a_in.set()
            assert a_may_leave.wait(10)

    def lane_b() -> None:
        assert a_in.wait(10)
        with _blas.one_blas_thread():
            b_in.set()
            seen["b"] = _blas_threads()

    def run(target: Callable[[], None]) -> threading.Thread:
        def guarded() -> None:
            try:
                target()
            except BaseException as exc:  # the test's thread asserts on it below
                errors.append(exc)

        thread = threading.Thread(target=guarded)
        thread.start()
        return thread

    lanes = [run(lane_a), run(lane_b)]
    assert a_in.wait(10)
    assert not b_in.wait(0.2), "lane b entered while lane a was inside"
    a_may_leave.set()
    for lane in lanes:
        lane.join(10)
    assert not errors, errors
    assert set(seen["a"]) == {1} and set(seen["b"]) == {1}, seen
    assert set(_blas_threads()) == {2}
