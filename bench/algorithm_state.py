"""What a NAS experiment's stored algorithm state costs the reads that do not need it.

enas keeps its LSTM controller as the experiment's algorithm state (about 1.8 MB of JSON for Katib's
enas-cpu.yaml): a row of the ``algorithm_states`` table since schema revision 0003, a column of the
experiment's row before. This times, in one process and interleaved, the same operations on two
experiments with the same spec: one holding a real enas state (from one controller update on one finished
trial), its peer holding none. A ratio near 1 means the state costs those reads nothing.

- ``locked read``: ``locked_experiment`` and its ``experiment`` (what every claim, finish and lease renewal pays);
- ``get``: ``get_experiment``;
- ``list``: ``list_experiments`` of a namespace holding only that experiment;
- ``state``: ``algorithm_state`` (only the suggest path pays this; the peer has none).

    .venv/bin/python bench/algorithm_state.py                               # SQLite in a temporary folder
    .venv/bin/python bench/algorithm_state.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import katib_flows_suggestion as sg
import yaml
from katib_flows_suggestion._enas import Enas

from katib_flows.spec import check_document, to_search_problem
from katib_flows.store import Store

NAS = Path(__file__).resolve().parents[3] / "shared" / "katib-examples" / "nas"


def enas_experiment() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the spec of Katib's enas-cpu.yaml as the store keeps it, a real enas state for it)."""
    document = yaml.safe_load((NAS / "enas-cpu.yaml").read_text(encoding="utf-8"))
    checked = check_document(document, "enas-cpu.yaml")
    assert checked.ok and checked.experiment is not None, checked
    problem = to_search_problem(checked.experiment.spec)
    first = Enas().suggest(problem, [], 0)
    assert isinstance(first, sg.Suggestion)
    decision = Enas().suggest(problem, [sg.Trial("t0", first.assignments, "Succeeded", 0.7)], 0)
    assert isinstance(decision, sg.Suggestion) and decision.state is not None
    return checked.experiment.dump(), decision.state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=60, help="timed calls of each operation on each side")
    args = parser.parse_args(argv)

    spec, state = enas_experiment()
    size = len(json.dumps(state))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        with Store(url, upgrade=True) as store:
            for namespace in ("bench-nas", "bench-peer"):
                if namespace in {e.namespace for e in store.list_experiments(None)}:
                    store.delete_experiment(namespace, "enas")
                store.create_experiment(namespace, "enas", spec, seed=0)
            store.save_algorithm_state("bench-nas", "enas", state)
            try:
                report(store, size, args.repeat)
            finally:
                for namespace in ("bench-nas", "bench-peer"):
                    store.delete_experiment(namespace, "enas")
    return 0


def report(store: Store, size: int, repeat: int) -> None:
    def locked(namespace: str) -> None:
        with store.locked_experiment(namespace, "enas") as txn:
            txn.experiment  # noqa: B018 - the read is what is timed

    operations: dict[str, Callable[[str], object]] = {
        "locked read": locked,
        "get": lambda ns: store.get_experiment(ns, "enas"),
        "list": store.list_experiments,
        "state": lambda ns: store.algorithm_state(ns, "enas"),
    }
    print(f"{store.safe_url}: enas state {size / 1e6:.2f} MB of JSON; median of {repeat} calls, ms")
    print(f"{'operation':<12} {'with state':>10} {'peer':>8} {'ratio':>7}")
    for label, operation in operations.items():
        times: dict[str, list[float]] = {"bench-nas": [], "bench-peer": []}
        for _ in range(repeat):
            for namespace, spent in times.items():
                start = time.perf_counter()
                operation(namespace)
                spent.append((time.perf_counter() - start) * 1000)
        nas, peer = statistics.median(times["bench-nas"]), statistics.median(times["bench-peer"])
        print(f"{label:<12} {nas:>10.2f} {peer:>8.2f} {nas / peer:>6.2f}x")


if __name__ == "__main__":
    sys.exit(main())
