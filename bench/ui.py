"""The UI's experiment page at 10,000 trials, server side, against ``katib-flows trials NAME -o json``.

Both read the same store. The page is timed as its script loads it: the HTML shell, the summary, the
first page of the trial table (50 rows) and the figures, on a fresh server (nothing cached: ``cold``);
then parameter importance, which the page asks for on its own once the rest is drawn (its first fit);
then a poll while nothing changed (``poll``: the summary alone) and a redraw after a trial finished
(``changed``: summary, table, figures and importance, kept from the first fit). The peer is the CLI's
JSON listing of every trial, run in process (start-up not included). Also printed: the bytes each sends,
since the page must never ship 10,000 rows.

The store is written once, with multi-row INSERTs (``populate(bulk=True)``), and reused when ``--db``
names one that already holds the experiment; each repeat adds one running trial and finishes it.

    .venv/bin/python bench/ui.py                       # 10,000 trials on a new SQLite file
    .venv/bin/python bench/ui.py --db sqlite:////tmp/bench-ui.db   # written once, reused by the next run
    .venv/bin/python bench/ui.py --trials 2000 --db mysql+pymysql://root@127.0.0.1:3306/bench_ui
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))
from ui_helpers import populate, serving  # the same experiment the UI tests use

from katib_flows.cli import main
from katib_flows.engine import finish_trial
from katib_flows.store import Store, TrialStatus

NAME = "bench"
PAGE = [
    "/experiments/default/bench",
    "/api/v1/namespaces/default/experiments/bench/summary",
    "/api/v1/namespaces/default/experiments/bench/trials?offset=0&limit=50&sort=seq&order=asc",
    "/api/v1/namespaces/default/experiments/bench/figures",
]
IMPORTANCE = ["/api/v1/namespaces/default/experiments/bench/figures/importance"]


def _load(client: httpx.Client, paths: list[str]) -> tuple[float, int]:
    started, size = time.perf_counter(), 0
    for path in paths:
        reply = client.get(path)
        reply.raise_for_status()
        size += len(reply.content)
    return time.perf_counter() - started, size


def _cli(url: str) -> tuple[float, int]:
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        assert main(["trials", NAME, "--db", url, "-o", "json"]) == 0
    return time.perf_counter() - started, len(out.getvalue().encode())


def run(url: str, trials: int, repeats: int) -> None:
    with Store(url, upgrade=True) as store:
        if not store.list_experiments("default"):
            started = time.perf_counter()
            populate(store, NAME, trials=trials, bulk=True)
            print(f"wrote {trials} trials in {time.perf_counter() - started:.1f} s")
        trials = len(store.list_trials("default", NAME))
        cold, importance, poll, changed, cli = [], [], [], [], []
        for _ in range(repeats):
            with store.locked_experiment("default", NAME) as tx:
                added = tx.add_trial(f"{NAME}-{uuid.uuid4().hex[:10]}", {"lr": 0.01, "units": 8, "act": "relu"},
                                     status=TrialStatus.RUNNING, runner="bench:0")  # fmt: skip
            with serving(store) as base, httpx.Client(base_url=base, timeout=600) as client:
                cold.append(_load(client, PAGE))
                importance.append(_load(client, IMPORTANCE))
                time.sleep(1.1)  # past the snapshot's second: the poll reads the store again
                poll.append(_load(client, PAGE[1:2]))
                finish_trial(store, "default", added.name, TrialStatus.FAILED)
                time.sleep(1.1)
                changed.append(_load(client, PAGE[1:] + IMPORTANCE))
            cli.append(_cli(url))
    peer = statistics.median(t for t, _ in cli)
    print(f"{trials} trials, median of {repeats}; peer `katib-flows trials -o json`: {peer:.3f} s, "
          f"{cli[0][1] / 1e6:.1f} MB")  # fmt: skip
    rows = (("page, cold", cold), ("importance, first fit", importance), ("poll, unchanged", poll),
            ("page, a trial finished", changed))  # fmt: skip
    for label, runs in rows:
        seconds = statistics.median(t for t, _ in runs)
        print(f"  {label:24s} {seconds:7.3f} s  ratio {seconds / peer:5.2f}  {runs[0][1] / 1e3:8.1f} kB")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", help="store URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.db or f"sqlite:///{Path(folder) / 'bench.db'}", args.trials, args.repeats)


if __name__ == "__main__":
    cli()
