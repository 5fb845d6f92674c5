"""Per-trial overhead of ``katib-flows run`` against a bare loop and Optuna with SQLite, side by side.

Runs the same N trivial trial processes (a Python one-liner printing its metric) one at a time three ways
in one go: a bare ``subprocess.run`` loop (the floor), ``katib-flows run`` on a SQLite store (the whole
command, start-up included), and an Optuna study on a SQLite storage whose objective starts the same
process. Prints the wall times and the ratios to the bare loop; then, from the store, the bookkeeping per
trial over the first and the last 10% of the trials, to show it does not grow with the history.

    .venv/bin/python bench/overhead.py --trials 500
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TRIAL = [sys.executable, "-c", "import sys; print('score=' + sys.argv[1])"]


def bare_loop(n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        out = subprocess.run([*TRIAL, str(i / n)], capture_output=True, text=True, check=True).stdout
        float(out.strip().split("=")[1])
    return time.perf_counter() - started


def katib_flows(n: int, folder: Path) -> tuple[float, str]:
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 1,
        "maxTrialCount": n,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"command": [*TRIAL, "${trialParameters.x}"]},
    }
    path = folder / "overhead.yaml"
    path.write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{folder / 'katib-flows.db'}"
    env = {**os.environ, "KATIB_FLOWS_DB": url, "KATIB_FLOWS_LOGS": str(folder / "logs")}
    cli = Path(sys.executable).parent / "katib-flows"
    started = time.perf_counter()
    subprocess.run([str(cli), "run", str(path), "-q"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started, url


def optuna_sqlite(n: int, folder: Path) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        out = subprocess.run([*TRIAL, str(x)], capture_output=True, text=True, check=True).stdout
        return float(out.strip().split("=")[1])

    started = time.perf_counter()
    storage = f"sqlite:///{folder / 'optuna.db'}"
    study = optuna.create_study(storage=storage, direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(objective, n_trials=n)
    return time.perf_counter() - started


def bookkeeping(url: str, n: int) -> tuple[float, float]:
    """Mean time per trial spent outside the trial process, over the first and the last 10% of trials."""
    from katib_flows.store import Store

    with Store(url) as store:
        trials = store.list_trials("default", "overhead")
    tenth = max(n // 10, 2)

    def gap(part: list) -> float:  # from one trial's end to the next one's start: claim, finish, evaluate
        gaps = [(b.started_at - a.completed_at).total_seconds() for a, b in itertools.pairwise(part)]
        return sum(gaps) / len(gaps) * 1000

    return gap(trials[:tenth]), gap(trials[-tenth:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    args = parser.parse_args()
    n = args.trials
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = bare_loop(n)
        ours, url = katib_flows(n, folder)
        theirs = optuna_sqlite(n, folder)
        first, last = bookkeeping(url, n)
    print(f"{n} trivial trials, one at a time, on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"  bare subprocess loop      {bare:7.2f} s   1.00x   ({bare / n * 1000:.1f} ms per trial)")
    print(f"  katib-flows run (SQLite)  {ours:7.2f} s   {ours / bare:.2f}x")
    print(f"  optuna + SQLite storage   {theirs:7.2f} s   {theirs / bare:.2f}x")
    print(f"  katib-flows bookkeeping between trials: {first:.2f} ms (first 10%), {last:.2f} ms (last 10%)")


if __name__ == "__main__":
    main()
