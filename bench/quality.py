"""Search quality: best value after N trials, median over seeds, ours against optuna and hyperopt side by side.

Every method runs one trial at a time on the same functions with the same seeds:

- ``branin`` (2-d, minimum 0.397887), 30 trials;
- ``hartmann6`` (6-d on the unit cube, minimum -3.32237), 50 trials;
- ``noisy10``: a 10-d quadratic with coupled coordinates on [-5, 5]^10, minimum 0 at a shifted point,
  observed with Gaussian noise (sd 0.5); the score of a run is the noise-free value of the trial it found
  best (what a user would pick), 50 trials.

Ours go through ``Algorithm.suggest`` with the growing history (the engine's call; the warm path of a
``SuggestionCache`` gives the same decisions, so it is not run separately); optuna through
``study.optimize``; hyperopt through ``fmin`` with ``rstate`` seeded. Multi-fidelity algorithms (hyperband,
asha, pbt) need a budget-aware function and grid a stepped space, so they are not in this table. A second
table sets each of ours against optuna's sampler doing the same search (``PEERS``; optuna's GPSampler for
``bayesianoptimization``) and against optuna's default sampler (``optuna:default``, ``TPESampler(seed=s)``:
what an optuna 5 user gets, the joint estimator): ours and optuna's draw different random numbers from the
same seeds, so a difference of medians is only a difference when a Mann-Whitney U test says it is beyond
noise.

    .venv/bin/pip install -e '.[bench]'               # hyperopt, and PyTorch for optuna's GPSampler
    nice -n 5 .venv/bin/python bench/quality.py       # every method, 20 seeds, 2 processes
    .venv/bin/python bench/quality.py --seeds 3 --only ours:tpe optuna:default
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import katib_flows_suggestion as sg
import numpy as np

P = sg.Parameter


@dataclass(frozen=True)
class Function:
    name: str
    parameters: tuple[sg.Parameter, ...]
    trials: int
    noise: float = 0.0

    def true(self, x: list[float]) -> float:
        return FUNCTIONS_TRUE[self.name](np.asarray(x))


def _branin(x: np.ndarray) -> float:
    a, b = x[0], x[1]
    return float(
        (b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10
    )


_H_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H_P = 1e-4 * np.array(
    [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
)  # fmt: skip
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann6(x: np.ndarray) -> float:
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1))))


_SHIFT = np.linspace(-2.0, 2.5, 10)


def _noisy10(x: np.ndarray) -> float:
    d = x - _SHIFT
    return float(np.sum(d**2) + 0.5 * np.sum(d[:-1] * d[1:]))


FUNCTIONS_TRUE: dict[str, Callable[[np.ndarray], float]] = {
    "branin": _branin,
    "hartmann6": _hartmann6,
    "noisy10": _noisy10,
}
FUNCTIONS = {
    "branin": Function("branin", (P("x0", "double", -5.0, 10.0), P("x1", "double", 0.0, 15.0)), 30),
    "hartmann6": Function("hartmann6", tuple(P(f"x{i}", "double", 0.0, 1.0) for i in range(6)), 50),
    "noisy10": Function("noisy10", tuple(P(f"x{i}", "double", -5.0, 5.0) for i in range(10)), 50, noise=0.5),
}
OURS = (
    "random",
    "tpe",
    "tpe/independent",
    "multivariate-tpe",
    "cmaes",
    "sobol",
    "bayesianoptimization",
    "bayesianoptimization/gp_hedge",
)
#: Variants of ours: an algorithm with settings.
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "tpe/independent": ("tpe", {"multivariate": "false"}),
    "bayesianoptimization/gp_hedge": ("bayesianoptimization", {"acq_func": "gp_hedge"}),
}
# "default" is ``TPESampler(seed=s)``, what an optuna 5 user gets (multivariate for one objective); "tpe" here
# is the independent one.
OPTUNA = ("random", "default", "tpe", "multivariate-tpe", "cmaes", "sobol", "gp")
HYPEROPT = ("random", "tpe")
METHODS = [f"ours:{n}" for n in OURS] + [f"optuna:{n}" for n in OPTUNA] + [f"hyperopt:{n}" for n in HYPEROPT]


def _observe(fn: Function, x: list[float], rng: np.random.Generator) -> float:
    return fn.true(x) + (float(rng.normal(0.0, fn.noise)) if fn.noise else 0.0)


def _run_ours(name: str, fn: Function, seed: int) -> list[tuple[list[float], float]]:
    name, settings = VARIANTS.get(name, (name, {}))
    problem = sg.Problem(fn.parameters, "y", "minimize", settings=settings)
    algorithm = sg.get_algorithm(name)
    rng = np.random.default_rng(seed + 1000)
    history: list[sg.Trial] = []
    points = []
    for i in range(fn.trials):
        decision = algorithm.suggest(problem, history, seed)
        assert isinstance(decision, sg.Suggestion)
        x = [float(decision.assignments[p.name]) for p in fn.parameters]
        y = _observe(fn, x, rng)
        points.append((x, y))
        history.append(sg.Trial(f"t{i}", decision.assignments, "Succeeded", y, labels=decision.labels))
    return points


def _run_optuna(name: str, fn: Function, seed: int) -> list[tuple[list[float], float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    samplers: dict[str, Callable[[], optuna.samplers.BaseSampler]] = {
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "default": lambda: optuna.samplers.TPESampler(seed=seed),
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed, multivariate=False),
        "multivariate-tpe": lambda: optuna.samplers.TPESampler(seed=seed, multivariate=True),
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed),
        # scrambled like ours (QMCSampler's default is not, which makes every seed the same sequence)
        "sobol": lambda: optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed),
        "gp": lambda: optuna.samplers.GPSampler(seed=seed),
    }
    rng = np.random.default_rng(seed + 1000)
    points = []

    def objective(trial: optuna.Trial) -> float:
        x = [trial.suggest_float(p.name, float(p.min or 0), float(p.max or 0)) for p in fn.parameters]
        y = _observe(fn, x, rng)
        points.append((x, y))
        return y

    optuna.create_study(sampler=samplers[name]()).optimize(objective, n_trials=fn.trials)
    return points


def _run_hyperopt(name: str, fn: Function, seed: int) -> list[tuple[list[float], float]]:
    import hyperopt

    logging.getLogger("hyperopt").setLevel(logging.ERROR)
    space = [hyperopt.hp.uniform(p.name, float(p.min or 0), float(p.max or 0)) for p in fn.parameters]
    rng = np.random.default_rng(seed + 1000)
    points = []

    def objective(x: list[float]) -> float:
        y = _observe(fn, list(x), rng)
        points.append((list(x), y))
        return y

    algo = hyperopt.tpe.suggest if name == "tpe" else hyperopt.rand.suggest
    hyperopt.fmin(
        objective, space, algo=algo, max_evals=fn.trials, rstate=np.random.default_rng(seed), show_progressbar=False
    )
    return points


def run(method: str, function: str, seed: int) -> tuple[str, str, int, float, float]:
    """(method, function, seed, true value of the best observed trial, seconds)."""
    warnings.simplefilter("ignore")
    library, name = method.split(":")
    fn = FUNCTIONS[function]
    runner = {"ours": _run_ours, "optuna": _run_optuna, "hyperopt": _run_hyperopt}[library]
    started = time.perf_counter()
    points = runner(name, fn, seed)
    elapsed = time.perf_counter() - started
    best_x, _ = min(points, key=lambda p: p[1])
    return method, function, seed, fn.true(best_x), elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", nargs="+", default=METHODS)
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    tasks = [(m, f, s) for f in args.functions for m in args.only for s in range(args.seeds)]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for method, function, _, best, seconds in pool.map(run, *zip(*tasks, strict=True)):
            results.setdefault((method, function), []).append((best, seconds))
    header = " | ".join(f"{f} (N={FUNCTIONS[f].trials})" for f in args.functions)
    print(f"median best value over {args.seeds} seeds (seconds per run in brackets)\n")
    print(f"| method | {header} |")
    print("|---|" + "---|" * len(args.functions))
    for method in args.only:
        cells = []
        for function in args.functions:
            rows = results[(method, function)]
            best = statistics.median(b for b, _ in rows)
            seconds = statistics.median(s for _, s in rows)
            cells.append(f"{best:.4g} ({seconds:.1f} s)")
        print(f"| {method} | " + " | ".join(cells) + " |")
    _print_against_peers(args.only, args.functions, {k: [b for b, _ in v] for k, v in results.items()})


#: Our algorithm -> optuna's sampler doing the same search. Every one is also set against ``DEFAULT``.
PEERS = {
    "ours:random": "optuna:random",
    "ours:tpe": "optuna:default",
    "ours:tpe/independent": "optuna:tpe",
    "ours:multivariate-tpe": "optuna:multivariate-tpe",
    "ours:cmaes": "optuna:cmaes",
    "ours:sobol": "optuna:sobol",
    "ours:bayesianoptimization": "optuna:gp",
}


#: Optuna's default sampler, the column every one of ours is also set against.
DEFAULT = "optuna:default"


def _versus(a: list[float], b: list[float]) -> str:
    """The medians' difference (negative is better, we minimise), the two-sided Mann-Whitney U p-value of the
    runs' best values, and "within" when ours' median is no worse or the difference is not beyond noise."""
    from scipy.stats import mannwhitneyu  # type: ignore[import-untyped]

    difference = statistics.median(a) - statistics.median(b)
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    verdict = "within" if difference <= 0 or p >= 0.05 else "WORSE"
    return f"{difference:+.3g} (p {p:.2f}, {verdict})"


def _print_against_peers(methods: list[str], functions: list[str], bests: dict[tuple[str, str], list[float]]) -> None:
    """Ours against optuna's peer and against optuna's default sampler (``_versus``), per function."""
    pairs = [(ours, peer) for ours, peer in PEERS.items() if ours in methods and peer in methods]
    if not pairs:
        return
    default = DEFAULT in methods
    print("\nours - optuna, median best value (Mann-Whitney p; within = no worse, or not beyond noise)\n")
    columns = [f"{f} vs peer" for f in functions] + ([f"{f} vs default" for f in functions] if default else [])
    print("| ours vs optuna's peer | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for ours, peer in pairs:
        cells = [_versus(bests[(ours, f)], bests[(peer, f)]) for f in functions]
        if default:
            cells += [_versus(bests[(ours, f)], bests[(DEFAULT, f)]) for f in functions]
        print(f"| {ours.removeprefix('ours:')} vs {peer.removeprefix('optuna:')} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
