"""Suggestion latency at 1,000 and 10,000 history trials: each of our algorithms against optuna's samplers.

Ours are stateless: every call gets the whole history (a list of ``Trial``) and rebuilds what it needs, so
the figure is the full cost of one suggestion from the history (reading the store is not included). Optuna
is timed two ways on the same history: ``warm``, one ``study.ask()`` on a study that already holds the
trials (a long-lived process), and, where it applies, ``cold``, creating the study, adding the trials and
asking once (a fresh process; our ``tpe`` does exactly this). Histories:

- random, grid, sobol, tpe, multivariate-tpe, bayesianoptimization: N random points of the space with the
  objective's values (the sampler's cost hardly depends on where the points are);
- cmaes: N trials run by our cmaes itself (its labels carry the generations to replay); optuna's
  CmaEsSampler gets N trials run by itself (its optimizer state sits in trial attributes);
- hyperband (r_l 6561, eta 3: 15,848 trials in 9 brackets), asha, pbt: N trials run by the algorithm
  itself, one lane; optuna has no sampler that drives a budget parameter, so they have no peer here.

    .venv/bin/python bench/latency.py                       # both sizes, every algorithm
    .venv/bin/python bench/latency.py --sizes 1000 --only tpe cmaes
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import katib_flows_suggestion as sg
import numpy as np
import optuna
from katib_flows_suggestion._optuna import distribution

P = sg.Parameter
SPACE = (
    P("x", "double", -5.0, 10.0),
    P("lr", "double", 1e-5, 1e-1, distribution="logUniform"),
    P("n", "int", 1, 64),
    P("c", "categorical", values=("a", "b", "c")),
)
STEPPED = (
    P("x", "double", -5.0, 10.0, 0.01),
    P("lr", "double", 1e-5, 1e-1, 1e-5, distribution="logUniform"),
    SPACE[2],
    SPACE[3],
)
EPOCHS = P("epochs", "int", 1, 6561)
SETTINGS: dict[str, dict[str, str]] = {
    "hyperband": {"resource_name": "epochs", "r_l": "6561", "eta": "3"},
    "asha": {"resource_name": "epochs", "r_l": "6561", "eta": "3"},
    "pbt": {"suggestion_trial_dir": "/tmp/pbt", "n_population": "20", "truncation_threshold": "0.2"},
}
SELF_RUN = ("cmaes", "hyperband", "asha", "pbt")


def objective(a: dict[str, sg.Value]) -> float:
    return (float(a["x"]) - 2.0) ** 2 / 10 + (math.log10(float(a["lr"])) + 3) ** 2 + abs(int(a["n"]) - 20) / 10


def problem_for(name: str) -> sg.Problem:
    if name == "grid":
        params: tuple[sg.Parameter, ...] = STEPPED
    elif name == "pbt":
        params = STEPPED
    elif name in ("hyperband", "asha"):
        params = (*SPACE, EPOCHS)
    else:
        params = SPACE
    return sg.Problem(params, "loss", "minimize", settings=SETTINGS.get(name, {}), parallel_trial_count=6561)


def random_history(problem: sg.Problem, n: int) -> list[sg.Trial]:
    rng = np.random.default_rng(0)
    random = sg.get_algorithm("random")
    trials = []
    for i in range(n):
        decision = random.suggest(problem, [], int(rng.integers(2**31)))
        assert isinstance(decision, sg.Suggestion)
        trials.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", objective(decision.assignments)))
    return trials


def self_history(name: str, problem: sg.Problem, n: int) -> list[sg.Trial]:
    algorithm = sg.get_algorithm(name)
    history: list[sg.Trial] = []
    while len(history) < n:
        decision = algorithm.suggest(problem, history, 0)
        assert isinstance(decision, sg.Suggestion), decision
        value = objective(decision.assignments) + 1.0 / float(decision.assignments.get("epochs", 1))
        history.append(sg.Trial(f"t{len(history)}", decision.assignments, "Succeeded", value, labels=decision.labels))
    return history


def timed(call: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``call`` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def optuna_peer(name: str) -> Callable[[], optuna.samplers.BaseSampler] | None:
    samplers: dict[str, Callable[[], optuna.samplers.BaseSampler]] = {
        "random": lambda: optuna.samplers.RandomSampler(seed=0),
        "sobol": lambda: optuna.samplers.QMCSampler(qmc_type="sobol", seed=0),
        "tpe": lambda: optuna.samplers.TPESampler(seed=0, constant_liar=True),
        "multivariate-tpe": lambda: optuna.samplers.TPESampler(seed=0, multivariate=True, constant_liar=True),
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=0, warn_independent_sampling=False),
    }
    if name == "bayesianoptimization":
        try:
            import torch  # noqa: F401
        except ImportError:
            return None
        return lambda: optuna.samplers.GPSampler(seed=0)
    return samplers.get(name)


def optuna_times(name: str, problem: sg.Problem, history: list[sg.Trial], repeat: int) -> tuple[float, float | None]:
    """(warm ask, cold build-and-ask) in ms for optuna's peer of ``name`` on ``history``."""
    make = optuna_peer(name)
    assert make is not None
    dists = {p.name: distribution(p) for p in problem.parameters}
    if name == "cmaes":  # its state lives in trial attributes: let it run its own N trials
        study = optuna.create_study(sampler=make())
        for _ in range(len(history)):
            trial = study.ask(dists)
            study.tell(trial, objective(trial.params))
        return timed(lambda: study.ask(dists), repeat), None
    frozen = [
        optuna.trial.create_trial(params=dict(t.assignments), distributions=dists, value=t.value) for t in history
    ]
    study = optuna.create_study(sampler=make())
    study.add_trials(frozen)
    warm = timed(lambda: study.ask(dists), repeat)

    def cold() -> None:
        fresh = optuna.create_study(sampler=make())
        fresh.add_trials(frozen)
        fresh.ask(dists)

    return warm, timed(cold, repeat)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--only", nargs="+", default=list(sg.IMPLEMENTED_ALGORITHMS))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")  # optuna's ExperimentalWarning for GPSampler, QMCSampler
    print(f"{'algorithm':22} {'N':>6} {'ours ms':>9} {'optuna warm':>12} {'optuna cold':>12} {'ours - warm':>12}")
    for n in args.sizes:
        for name in args.only:
            problem = problem_for(name)
            history = self_history(name, problem, n) if name in SELF_RUN else random_history(problem, n)
            algorithm = sg.get_algorithm(name)
            repeat = args.repeat if n <= 1000 or name != "bayesianoptimization" else 3
            ours = timed(lambda: algorithm.suggest(problem, history, 1), repeat)  # noqa: B023
            warm = cold = None
            if optuna_peer(name) is not None and not (name == "bayesianoptimization" and n > 1000):
                warm, cold = optuna_times(name, problem, history, 3 if name == "bayesianoptimization" else repeat)
            row = [f"{name:22}", f"{n:>6}", f"{ours:>9.1f}"]
            row += [f"{warm:>12.1f}" if warm is not None else f"{'-':>12}"]
            row += [f"{cold:>12.1f}" if cold is not None else f"{'-':>12}"]
            row += [f"{ours - warm:>+12.1f}" if warm is not None else f"{'-':>12}"]
            print(" ".join(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
