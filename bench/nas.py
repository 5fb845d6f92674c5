"""ENAS against uniform random sampling on the ENAS example's space: does the controller learn? (issue 17)

Every arm runs ``examples/nas-enas/experiment.yaml`` (Katib's enas-cpu.yaml on digits: 106 operations,
``numLayers: 1``) for 12 trials, 2 at a time, through ``katib-flows run`` in this process, one arm after the
other for each seed, each with a SQLite store of its own under a temporary folder:

- ``enas``: the experiment as written (the LSTM controller, Katib's default settings), ``--seed S``;
- ``enas-lr``: the same with ``controller_learning_rate: 0.005`` (Katib's default, 5e-5, barely moves the
  controller in a dozen trials: README's NAS section);
- ``random``: the same experiment and trial command, with ``UniformArchitectures`` below answering in
  enas's place for that run only: every layer's operation uniform over Katib's operation list, every skip
  bit 0 or 1 with probability 1/2, in Katib's formats (so the trials cannot tell the two apart). Our
  ``random`` algorithm does not search a ``nasConfig`` (nor does Katib's), hence this bench-side sampler.

Per seed and arm it prints the mean of the first 4 trials' accuracies (by creation order), the best of all
12, and the gap between the two; the trial trains with a fixed seed, so one architecture always scores the
same and the gap comes from the search alone. The load average before and after is printed too (the machine
is shared); accuracies do not depend on load, run times do.

    .venv/bin/pip install torch==2.13.0            # the trial's CPU build
    .venv/bin/python bench/nas.py                   # seeds 0 1 2, 12 trials
    .venv/bin/python bench/nas.py --seeds 0 --trials 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import katib_flows_suggestion as sg
import numpy as np
import yaml

from katib_flows.cli import main
from katib_flows.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nas-enas" / "experiment.yaml"
FIRST = 4
ARMS = ("enas", "random", "enas-lr")


class UniformArchitectures(sg.Algorithm):
    """Architectures drawn uniformly from a ``nasConfig``, answered as enas answers (``architecture``, ``nn_config``).

    Stateless: the draw of the k-th trial depends on the seed and k only.
    """

    name = "enas"  # Katib's rules for enas (settings, nasConfig) apply to the spec it is given

    def suggest(self, problem: sg.Problem, history: Sequence[sg.Trial], seed: int) -> sg.Decision:
        assert problem.nas is not None and problem.nas.num_layers is not None
        operations = sg.expand_operations(problem.nas)
        rng = np.random.default_rng([seed, len(history)])
        architecture = [
            [int(rng.integers(len(operations)))] + [int(b) for b in rng.integers(0, 2, size=layer)]
            for layer in range(problem.nas.num_layers)
        ]
        nn_config = {
            "num_layers": problem.nas.num_layers,
            "input_sizes": list(problem.nas.input_sizes),
            "output_sizes": list(problem.nas.output_sizes),
            "embedding": {layer[0]: operations[layer[0]].as_dict() for layer in architecture},
        }
        return sg.Suggestion({"architecture": sg.katib_json(architecture), "nn_config": sg.katib_json(nn_config)})


def experiment_file(arm: str, folder: Path) -> Path:
    """The example as written, or for ``enas-lr`` a copy with ``controller_learning_rate: 0.005`` (its trial
    command pointed at the example's train.py, since the copy lives elsewhere)."""
    if arm != "enas-lr":
        return EXAMPLE
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["spec"]["algorithm"]["algorithmSettings"] = [{"name": "controller_learning_rate", "value": "0.005"}]
    [container] = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"]
    container["command"] = [str(EXAMPLE.parent / a) if a == "train.py" else a for a in container["command"]]
    path = folder / "experiment-lr.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run_arm(arm: str, seed: int, trials: int, folder: Path) -> tuple[list[float], float]:
    """The accuracies of one run's trials in creation order (failed ones left out), and its wall time."""
    url = f"sqlite:///{folder / f'{arm}-{seed}.db'}"
    name = f"{arm}-{seed}"
    argv = [
        "run",
        str(experiment_file(arm, folder)),
        "--db",
        url,
        "-n",
        "bench",
        "--name",
        name,
        "--seed",
        str(seed),
        "--max-trials",
        str(trials),
        "-q",
    ]
    started = time.perf_counter()
    if arm == "random":
        real = sg.get_algorithm
        with mock.patch.object(sg, "get_algorithm", lambda n: UniformArchitectures() if n == "enas" else real(n)):
            main(argv)
    else:
        main(argv)
    seconds = time.perf_counter() - started
    with Store(url) as store:
        records = sorted(store.list_trials("bench", name), key=lambda t: t.seq)
    return [t.objective_value for t in records if t.objective_value is not None], seconds


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-nas-") as tmp:
        for seed in args.seeds:
            for arm in args.arms:
                values, seconds = run_arm(arm, seed, args.trials, Path(tmp))
                first = statistics.mean(values[:FIRST]) if values else float("nan")
                best = max(values) if values else float("nan")
                rows.append((seed, arm, len(values), first, best, seconds))
                print(
                    f"seed {seed} {arm:7}: {len(values)} trials, first {FIRST} mean {first:.4f}, best {best:.4f}, "
                    f"gap {best - first:+.4f}, {seconds:.0f}s; accuracies {' '.join(f'{v:.3f}' for v in values)}",
                    flush=True,
                )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"\n| seed | arm | trials | mean of first {FIRST} | best | best - first {FIRST} | wall time |")
    print("|---|---|---|---|---|---|---|")
    for seed, arm, n, first, best, seconds in rows:
        print(f"| {seed} | {arm} | {n} | {first:.4f} | {best:.4f} | {best - first:+.4f} | {seconds:.0f} s |")
    for arm in args.arms:
        gaps = [best - first for _, a, _, first, best, _ in rows if a == arm]
        bests = [best for _, a, _, _, best, _ in rows if a == arm]
        print(f"| mean | {arm} | | | {statistics.mean(bests):.4f} | {statistics.mean(gaps):+.4f} | |")


if __name__ == "__main__":
    main_bench()
