"""ENAS against uniform random sampling on the ENAS example's space: does the controller learn? (issue 17)

The space is ``examples/nas-enas/experiment.yaml`` (Katib's enas-cpu.yaml on digits: 106 operations,
``numLayers: 1``). Arms:

- ``random``: architectures drawn by enas's own sampler with all-zero weights (every operation and skip bit
  equally likely), from the stream enas draws from (``generator(seed, trials so far)``): common random
  numbers, so while enas's controller is still uniform the two arms pick the same architectures and what
  differs afterwards is what the controller learnt. Our ``random`` algorithm does not search a
  ``nasConfig`` (nor does Katib's), hence this sampler; it answers in Katib's formats, in enas's place;
- ``enas``: the example as written: ``controller_learning_rate: 0.002`` and ``controller_baseline_decay:
  0.99``, a controller set to learn within a dozen trials;
- ``enas-katib``: the example without its ``algorithmSettings``, so Katib's defaults (learning rate 5e-5;
  the baseline starts at 0 and, at decay 0.999, stays far below the accuracies, so every trial looks good).

Two modes:

- real (default): ``katib-flows run`` of the example in this process, 2 trials at a time, SQLite store per
  run; the trial trains with a fixed seed, so an architecture always scores the same, and the bench counts
  the trials that scored exactly their operation's value in the table;
- ``--table``: the same searches replayed on ``bench/data/enas_digits_table.json`` (``bench/nas_table.py``
  trained each of the 106 operations once, exactly as the trial does), with enas called as the engine calls
  it (history, seed, stored state; 2 trials in flight, the older finishing first). Many seeds in seconds.

Per arm it prints the means over seeds of: the first 4 trials' mean accuracy (creation order), the last 4's,
the best of all, and the difference of last 4 against ``random`` paired by seed with a 95% interval.
Learning shows as the later trials scoring above the earlier ones where random's do not.

    .venv/bin/python bench/nas.py --table --seeds 200        # seconds per arm
    .venv/bin/python bench/nas.py --seeds 0 1 2              # real trials: torch==2.13.0, minutes per run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from unittest import mock

import katib_flows_suggestion as sg
import yaml
from katib_flows_suggestion import _enas_controller as ec
from katib_flows_suggestion._enas import Enas, assignments
from katib_flows_suggestion._seed import generator

from katib_flows.cli import main
from katib_flows.spec import load_file, to_search_problem
from katib_flows.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nas-enas" / "experiment.yaml"
TABLE = Path(__file__).resolve().parent / "data" / "enas_digits_table.json"
WINDOW = 4
PARALLEL = 2  # the example's parallelTrialCount
#: Each arm's algorithm settings: None keeps the example's, {} clears them (Katib's defaults).
ARMS: dict[str, dict[str, str] | None] = {"random": None, "enas": None, "enas-katib": {}}


class UniformArchitectures(sg.Algorithm):
    """enas's sampler with all-zero weights, on enas's stream: uniform architectures, common random numbers."""

    name = "enas"  # Katib's rules for enas (settings, nasConfig) apply to the spec it is given

    def suggest(self, problem: sg.Problem, history: Sequence[sg.Trial], seed: int) -> sg.Decision:
        config, _, operations = Enas().config(problem)
        architecture = ec.sample(config, ec.Weights.zeros(config), generator(seed, len(history)))
        return sg.Suggestion(assignments(architecture, problem, operations))


def replay(arm: str, problem: sg.Problem, accuracy: Sequence[float], seed: int, trials: int) -> list[float]:
    """One search on the lookup table, as the engine runs it: ``PARALLEL`` in flight, the older done first."""
    settings = ARMS[arm]
    problem = problem if settings is None else replace(problem, settings=settings)
    algorithm: sg.Algorithm = UniformArchitectures() if arm == "random" else Enas()
    history: list[sg.Trial] = []
    running: list[int] = []
    state = None
    while len(history) < trials or running:
        if len(history) < trials and len(running) < PARALLEL:
            decision = algorithm.suggest_with_state(problem, history, seed, state)
            assert isinstance(decision, sg.Suggestion)
            state = decision.state if decision.state is not None else state
            history.append(sg.Trial(f"t{len(history)}", decision.assignments, "Running"))
            running.append(len(history) - 1)
            continue
        index = running.pop(0)
        value = accuracy[operation(history[index].assignments)]
        history[index] = replace(history[index], status="Succeeded", value=value)
    return [float(t.value) for t in history if t.value is not None]


def experiment_file(arm: str, folder: Path) -> Path:
    """The example as written, or a copy with the arm's settings (its command pointed at the example's train.py)."""
    settings = ARMS[arm]
    if settings is None:
        return EXAMPLE
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["spec"]["algorithm"]["algorithmSettings"] = [{"name": k, "value": v} for k, v in settings.items()]
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["command"] = [str(EXAMPLE.parent / a) if a == "train.py" else a for a in container["command"]]
    path = folder / f"experiment-{arm}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run_arm(arm: str, seed: int, trials: int, folder: Path) -> list[tuple[int, float]]:
    """(operation, accuracy) of one real run's trials in creation order (failed ones left out)."""
    url = f"sqlite:///{folder / f'{arm}-{seed}.db'}"
    name = f"{arm}-{seed}"
    argv = ["run", str(experiment_file(arm, folder)), "--db", url, "-n", "bench", "--name", name]
    argv += ["--seed", str(seed), "--max-trials", str(trials), "-q"]
    if arm == "random":
        real = sg.get_algorithm
        with mock.patch.object(sg, "get_algorithm", lambda n: UniformArchitectures() if n == "enas" else real(n)):
            main(argv)
    else:
        main(argv)
    with Store(url) as store:
        records = sorted(store.list_trials("bench", name), key=lambda t: t.seq)
    return [(operation(t.assignments), t.objective_value) for t in records if t.objective_value is not None]


def operation(assignments: Mapping[str, object]) -> int:
    """The operation of a one-layer architecture (``[[op]]``)."""
    [[op, *_]] = json.loads(str(assignments["architecture"]))
    return int(op)


def interval(values: Sequence[float]) -> str:
    """Mean and a 95% normal interval half-width."""
    mean = statistics.mean(values)
    half = 1.96 * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return f"{mean:+.3f} ± {half:.3f}"


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true", help="replay on bench/data/enas_digits_table.json")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds, or with --table a count")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--verbose", action="store_true", help="print every run's accuracies")
    args = parser.parse_args()
    seeds = list(range(args.seeds[0])) if args.table and len(args.seeds) == 1 else args.seeds
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    runs: dict[str, list[list[float]]] = {arm: [] for arm in args.arms}
    with tempfile.TemporaryDirectory(prefix="bench-nas-") as tmp:
        problem = to_search_problem(load_file(EXAMPLE).experiment_or_raise().spec)
        accuracy = [row["accuracy"] for row in json.loads(TABLE.read_text())["operations"]]
        agree = total = 0
        for seed in seeds:
            for arm in args.arms:
                started = time.perf_counter()
                if args.table:
                    values = replay(arm, problem, accuracy, seed, args.trials)
                else:
                    scored = run_arm(arm, seed, args.trials, Path(tmp))
                    values = [value for _, value in scored]
                    total += len(scored)
                    agree += sum(abs(accuracy[op] - value) < 1e-6 for op, value in scored)
                runs[arm].append(values)
                if args.verbose or not args.table:
                    print(
                        f"seed {seed} {arm:9}: {time.perf_counter() - started:.0f}s; "
                        f"accuracies {' '.join(f'{v:.3f}' for v in values)}",
                        flush=True,
                    )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not args.table:
        print(f"trials scoring their operation's value in {TABLE.name}: {agree} of {total}")

    def first(values: list[float]) -> float:
        return statistics.mean(values[:WINDOW])

    def last(values: list[float]) -> float:
        return statistics.mean(values[-WINDOW:])

    print(f"\n{len(seeds)} seeds, {args.trials} trials" + (" (table)" if args.table else ""))
    w = WINDOW
    print(f"| arm | first {w} | last {w} | best | last {w} - first {w} | last {w} against random |")
    print("|---|---|---|---|---|---|")
    for arm, arm_runs in runs.items():
        paired = ""
        if "random" in runs and arm != "random":
            paired = interval([last(a) - last(r) for a, r in zip(arm_runs, runs["random"], strict=True)])
        gain = interval([last(v) - first(v) for v in arm_runs])
        means = [statistics.mean(map(f, arm_runs)) for f in (first, last, max)]
        print(f"| {arm} | {' | '.join(f'{m:.3f}' for m in means)} | {gain} | {paired} |")


if __name__ == "__main__":
    main_bench()
