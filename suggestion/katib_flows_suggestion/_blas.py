"""One BLAS thread while an algorithm does its small dense algebra: ``one_blas_thread()``.

Used by ``_bayesopt`` around its GP fit and acquisition. Its matrices are at most ``MAX_POINTS`` square
(300 x 300), too small for OpenBLAS's threads to gain anything, and on a busy machine they lose much: the
threads spin-wait for each other while other processes hold the cores (2.45 s against 0.50 s per
suggestion at 1,000 trials and load average 4, BENCHMARKS.md). One thread also makes the suggestion the
same on every machine: OpenBLAS's threaded kernels sum in another order, which moved a suggestion from 200
points in its last digits.

The limit is process-wide while it holds (OpenBLAS has one pool per process), and a local run suggests from
several threads (lanes) of one process. So the limited blocks take turns, under one lock: the limit is set
and restored by the same thread, with nothing left behind when it leaves (threadpoolctl 3.8 also lets only
one thread at a time change OpenBLAS's pool: the others' calls do nothing). Taking turns costs a local run
nothing: its lanes suggest for one experiment under the store's lock of that experiment, one at a time
anyway. Other threads of the process get one BLAS thread while a suggestion is inside (trials run in
processes of their own); and if another thread holds threadpoolctl's control of OpenBLAS (inside its own
``threadpool_limits``), the limit here does nothing and the fit runs as before.

threadpoolctl's ``ThreadpoolController`` is made once, on first use (2 to 46 ms on the shared machine: it
scans the loaded libraries), and holds the BLAS libraries loaded then: numpy's and scipy's OpenBLAS, which
the callers import before they call. Entering and leaving then costs about 11 us.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

_turn = threading.RLock()  # re-entrant: a limited block may call another
_controller: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread, one such block at a time; the count before is restored after."""
    global _controller
    with _turn:
        if _controller is None:
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            yield
