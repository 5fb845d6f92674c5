"""Throughput of 1, 2 and 3 runners joining one experiment on one MariaDB store, as a ratio to one runner.

Each configuration runs the same experiment afresh: N trivial trials (a Python one-liner printing its
metric), ``parallelTrialCount`` 6, each runner ``katib-flows run --join --parallel 2`` as its own process, all
started at once. Throughput is N over the span from the first trial created to the last one completed, read
from the store (so the runners' start-up is left out); every configuration also checks that exactly N
distinct trials succeeded and that every runner ran some. The configurations take turns (1, 2, 3, 1, 2,
3, ...) for ``--repeat`` rounds and the median span of each is reported, so that a shared machine's changing
load falls on all three alike.

    .venv/bin/python bench/runners.py --trials 120 --db mysql+pymysql://root@127.0.0.1:3306/test
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pymysql
import yaml

TRIAL = [sys.executable, "-c", "print('score=' + __import__('sys').argv[1])"]


def admin(url: str, statement: str) -> None:
    parts = urlsplit(url)
    connection = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
                                 password=parts.password or "", autocommit=True)  # fmt: skip
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def fresh_database(admin_url: str) -> tuple[str, str]:
    name = f"kfbench_{os.getpid()}_{secrets.token_hex(3)}"
    admin(admin_url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return name, urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def drop_database(admin_url: str, name: str) -> None:
    admin(admin_url, f"DROP DATABASE IF EXISTS `{name}`")


def run(runners: int, trials: int, admin_url: str, folder: Path) -> tuple[float, int]:
    """(seconds from first created to last completed, distinct runners) for one configuration."""
    from katib_flows.store import Store

    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 6,
        "maxTrialCount": trials,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": [*TRIAL, "${trialParameters.x}"]},
    }
    path = folder / "runners.yaml"
    path.write_text(yaml.safe_dump(spec))
    name, url = fresh_database(admin_url)
    try:
        Store(url, upgrade=True).close()
        env = {**os.environ, "KATIB_FLOWS_DB": url, "KATIB_FLOWS_LOGS": str(folder / "logs")}
        command = [sys.executable, "-m", "katib_flows", "run", str(path), "--join", "--parallel", "2", "-q"]
        started = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                   for _ in range(runners)]  # fmt: skip
        for process in started:
            _, err = process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"a runner exited {process.returncode}: {err.decode()[-2000:]}")
        with Store(url) as store:
            done = store.list_trials("default", "runners")
        assert len({t.name for t in done}) == trials and all(t.status.value == "Succeeded" for t in done)
        span = (max(t.completed_at for t in done) - min(t.created_at for t in done)).total_seconds()
        return span, len({t.runner for t in done})
    finally:
        drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three configurations")
    parser.add_argument("--db", default="mysql+pymysql://root@127.0.0.1:3306/test", help="admin URL of a MariaDB")
    args = parser.parse_args()
    print(f"{args.trials} trivial trials, parallelTrialCount 6, 2 lanes per runner, one MariaDB store, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")  # fmt: skip
    spans: dict[int, list[float]] = {1: [], 2: [], 3: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for runners in spans:
                span, ran = run(runners, args.trials, args.db, Path(tmp))
                assert ran == runners, f"only {ran} of {runners} runners ran trials"
                spans[runners].append(span)
    base = args.trials / statistics.median(spans[1])
    for runners, measured in spans.items():
        median = statistics.median(measured)
        rate = args.trials / median
        each = ", ".join(f"{m:.1f}" for m in measured)
        print(f"  {runners} runner{'s' if runners > 1 else ' '}  median {median:6.2f} s  {rate:5.1f} trials/s  "
              f"{rate / base:4.2f}x   (spans {each})")  # fmt: skip


if __name__ == "__main__":
    main()
