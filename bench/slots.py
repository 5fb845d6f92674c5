"""Slot use of parallel lanes: heterogeneous trials at P slots, against the best any scheduler can do.

N trials sleep for durations drawn once (0.2 to 2.0 s) and run P at a time through ``katib-flows run``
(grid over the durations, so each runs exactly once, in an order the seed shuffles). The ideal is L, the
makespan of the trials in the order they were issued, each placed on the first free slot, each lasting
its sleep plus this machine's cost of starting one Python process. Slot use = L / wall. A batch-synchronous
loop (wait for the slowest of each batch of P) scores about 0.8. Optuna ``n_jobs=P`` runs the same
processes in the same order next to it.

    .venv/bin/python bench/slots.py --trials 40 --parallel 4
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

SLEEP = [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1])); print('score=1')"]


def process_start_cost(samples: int = 10) -> float:
    started = time.perf_counter()
    for _ in range(samples):
        subprocess.run([*SLEEP, "0"], check=True, capture_output=True)
    return (time.perf_counter() - started) / samples


def makespan(durations: list[float], slots: int) -> float:
    """Each trial, in order, on the first free slot."""
    free = [0.0] * slots
    for duration in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + duration)
    return max(free)


def katib_flows(durations: list[str], slots: int, folder: Path) -> tuple[float, list[float]]:
    spec = {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "grid", "algorithmSettings": [{"name": "random_state", "value": "1"}]},
        "parallelTrialCount": slots,
        "maxTrialCount": len(durations),
        "parameters": [{"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": durations}}],
        "trialTemplate": {"command": [*SLEEP, "${trialParameters.d}"]},
    }
    path = folder / "slots.yaml"
    path.write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{folder / 'katib-flows.db'}"
    env = {**os.environ, "KATIB_FLOWS_DB": url, "KATIB_FLOWS_LOGS": str(folder / "logs")}
    subprocess.run([str(Path(sys.executable).parent / "katib-flows"), "run", str(path), "-q"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    from katib_flows.store import Store

    with Store(url) as store:
        trials = store.list_trials("default", "slots")
    wall = (max(t.completed_at for t in trials) - min(t.created_at for t in trials)).total_seconds()
    return wall, [float(t.assignments["d"]) for t in trials]


def optuna_jobs(order: list[float], slots: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        subprocess.run([*SLEEP, str(order[trial.number])], check=True, capture_output=True)
        with lock:
            spans.append((started, time.perf_counter()))
        return 1.0

    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=len(order), n_jobs=slots)
    return max(end for _, end in spans) - min(start for start, _ in spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    durations = [f"{rng.uniform(0.2, 2.0):.3f}" for _ in range(args.trials)]
    cost = process_start_cost()
    with tempfile.TemporaryDirectory() as tmp:
        wall, order = katib_flows(durations, args.parallel, Path(tmp))
    ideal = makespan([d + cost for d in order], args.parallel)
    theirs = optuna_jobs(order, args.parallel)
    batches = sum(max(order[i : i + args.parallel]) + cost for i in range(0, len(order), args.parallel))
    print(f"{args.trials} trials of 0.2-2.0 s at P={args.parallel} on {os.cpu_count()} CPUs; "
          f"process start {cost * 1000:.0f} ms; ideal makespan L = {ideal:.2f} s")  # fmt: skip
    print(f"  katib-flows run      wall {wall:6.2f} s   slot use {ideal / wall:.3f}")
    print(f"  optuna n_jobs={args.parallel}      wall {theirs:6.2f} s   slot use {ideal / theirs:.3f}")
    print(f"  batch-synchronous    wall {batches:6.2f} s   slot use {ideal / batches:.3f}  (computed)")


if __name__ == "__main__":
    main()
