"""``bayesianoptimization``: Gaussian-process Bayesian optimisation on numpy and scipy (``_gp``), no PyTorch.

Stands in for Katib's scikit-optimize service (``katib-v1beta1.md`` 3.7). scikit-optimize is archived and
optuna's GPSampler needs PyTorch, which would make this package and its slim image hundreds of megabytes;
BENCHMARKS.md compares the three on quality and speed. Each call: the first ``n_initial_points`` finished
trials are random draws (``random``'s distributions); then a GP is fitted to every trial that finished with
a value (at most ``MAX_POINTS``: the best third and a seeded sample of the rest), told that running trials
scored the worst value seen (constant liar, so parallel lanes spread out), and the acquisition function
is maximised over 2,048 scrambled Sobol' points, then polished by L-BFGS-B with analytic gradients from up to 10
starts: the best point, others drawn by their score, and the best trial (optuna GPSampler's recipe; its
priors too, see ``_gp``).

Inputs: int/double parameters in the unit cube (``_scale``); categorical and discrete lists one-hot.
Settings: ``base_estimator`` GP only (RF, ET, GBRT are refused by the rules); ``n_initial_points``
(default 10); ``acq_func`` EI (log EI, as optuna), PI, LCB (kappa 1.96) or gp_hedge, EIps/PIps refused (no
trial durations reach algorithms); ``acq_optimizer`` ``sampling`` (random points only), ``lbfgs`` or
``auto`` (= lbfgs); ``random_state``. Unset ``acq_func`` means EI, where Katib's skopt defaults to
gp_hedge: skopt's portfolio keeps running gains between calls, and our stateless rebuild of it (each
suggestion labels the function that chose it; each function is picked with probability proportional to
exp(mean standardised gain of the trials it chose)) measured worse than EI on hartmann6 (BENCHMARKS.md),
so gp_hedge runs only when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import log_ndtr, ndtr  # type: ignore[import-untyped]

from katib_flows_suggestion._algorithm import Algorithm
from katib_flows_suggestion._base import (
    ACTIVE,
    FINISHED_WITH_VALUE,
    Decision,
    Problem,
    Suggestion,
    Trial,
    Value,
)
from katib_flows_suggestion._blas import one_blas_thread
from katib_flows_suggestion._fresh import fresh
from katib_flows_suggestion._gp import GaussianProcess, condition_on, fit
from katib_flows_suggestion._rules import base_seed
from katib_flows_suggestion._scale import UnitScale
from katib_flows_suggestion._seed import generator
from katib_flows_suggestion._sobol import _engine as sobol_engine
from katib_flows_suggestion._space import canonical, choices, from_unit

LABEL_ACQUISITION = "bayesianoptimization.suggestion.katib.kubeflow.org/acquisition"
MAX_POINTS = 300
_RANDOM_CANDIDATES = 2048
_POLISH_STARTS = 10
_SQRT_2PI = math.sqrt(2 * math.pi)
_XI = 0.01
_KAPPA = 1.96
_PORTFOLIO = ("EI", "PI", "LCB")


class _Encoding:
    """Assignments to model inputs: numeric coordinates first, then one one-hot block per list parameter."""

    def __init__(self, problem: Problem) -> None:
        self.scale = UnitScale([p for p in problem.parameters if p.type in ("int", "double")])
        self.lists = [(p, choices(p)) for p in problem.parameters if p.type in ("categorical", "discrete")]
        self.dim = self.scale.dim + sum(len(values) for _, values in self.lists)

    def encode(self, assignments: Mapping[str, object]) -> np.ndarray | None:
        numeric = self.scale.to_unit(assignments)
        if numeric is None:
            return None
        blocks = [numeric]
        for p, values in self.lists:
            value = canonical(p, assignments.get(p.name))
            if value is None:
                return None
            blocks.append(np.asarray([1.0 if v == value else 0.0 for v in values]))
        return np.concatenate(blocks)

    def decode(self, x: np.ndarray) -> dict[str, Value]:
        result = self.scale.from_unit(x[: self.scale.dim])
        start = self.scale.dim
        for p, values in self.lists:
            result[p.name] = values[int(np.argmax(x[start : start + len(values)]))]
            start += len(values)
        return result

    def candidates(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` (a power of 2) points of a scrambled Sobol' sequence, one coordinate per parameter (a list
        parameter's value is the coordinate's bucket), as optuna's GPSampler draws its preliminary points:
        they cover the cube more evenly than random draws, which measured better on noisy10 (BENCHMARKS.md)."""
        u = sobol_engine(self.scale.dim + len(self.lists), rng).random(count)
        blocks = [u[:, : self.scale.dim]]
        for i, (_, values) in enumerate(self.lists):
            index = np.minimum((u[:, self.scale.dim + i] * len(values)).astype(int), len(values) - 1)
            blocks.append(np.eye(len(values))[index])
        return np.hstack(blocks)


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(z Phi(z) + phi(z)); far in the tail it is log(phi(z) / z^2), which keeps ranking where h underflows."""
    tail = z < -5.0
    safe = np.where(tail, 0.0, z)
    h = np.log(np.maximum(safe * ndtr(safe) + np.exp(-0.5 * safe * safe) / _SQRT_2PI, 1e-300))
    z_tail = np.where(tail, z, -5.0)
    h_tail = -0.5 * z_tail * z_tail - math.log(_SQRT_2PI) - 2.0 * np.log(-z_tail)
    return np.asarray(np.where(tail, h_tail, h))


def _z(name: str, gp: GaussianProcess, mean: np.ndarray | float, sd: np.ndarray | float, best: float) -> np.ndarray:
    margin = _XI * gp.y_std if name == "PI" else 0.0
    return np.asarray((best - margin - mean) / sd)


def acquisition(name: str, gp: GaussianProcess, points: np.ndarray, best: float) -> np.ndarray:
    """The score to maximise at ``points`` (minimising the target): log EI, log PI, or minus the lower bound."""
    mean, sd = gp.predict(points)
    if name == "LCB":
        return np.asarray(-(mean - _KAPPA * sd))
    z = _z(name, gp, mean, sd, best)
    if name == "PI":
        return np.asarray(log_ndtr(z))
    return np.asarray(np.log(sd) + _log_h(z))


def acquisition_with_gradient(
    name: str, gp: GaussianProcess, point: np.ndarray, best: float
) -> tuple[float, np.ndarray]:
    """The score at one point and its gradient, for L-BFGS-B."""
    mean, sd, d_mean, d_sd = gp.predict_with_gradient(point)
    if name == "LCB":
        return -(mean - _KAPPA * sd), -d_mean + _KAPPA * d_sd
    z = float(_z(name, gp, mean, sd, best))
    d_z = (-d_mean - z * d_sd) / sd
    if name == "PI":
        log_pi = float(log_ndtr(z))
        return log_pi, math.exp(-0.5 * z * z - math.log(_SQRT_2PI) - log_pi) * d_z
    log_h = float(_log_h(np.asarray([z]))[0])
    # d log h / dz = Phi(z) / h(z); in the tail, the derivative of the tail formula.
    ratio = float(ndtr(z)) / math.exp(log_h) if z >= -5.0 else -z - 2.0 / z
    return math.log(sd) + log_h, d_sd / sd + ratio * d_z


def _choose_acquisition(name: str, history: Sequence[Trial], rng: np.random.Generator, maximize: bool) -> str:
    if name != "gp_hedge":
        return name
    scored = [(t.labels.get(LABEL_ACQUISITION), _target(t, maximize)) for t in _finished(history)]
    values = np.asarray([y for _, y in scored])
    if len(values) < 2 or float(np.std(values)) == 0.0:
        return _PORTFOLIO[int(rng.integers(len(_PORTFOLIO)))]
    gains = (float(np.mean(values)) - values) / float(np.std(values))
    mean_gain = [
        float(np.mean([g for (label, _), g in zip(scored, gains, strict=True) if label == a] or [0.0]))
        for a in _PORTFOLIO
    ]
    weights = np.exp(np.asarray(mean_gain) - max(mean_gain))
    return _PORTFOLIO[int(rng.choice(len(_PORTFOLIO), p=weights / weights.sum()))]


def _target(trial: Trial, maximize: bool) -> float:
    """The value to minimise."""
    value = float(trial.value if trial.value is not None else math.nan)
    return -value if maximize else value


def _finished(history: Sequence[Trial]) -> list[Trial]:
    return [t for t in history if t.status in FINISHED_WITH_VALUE and t.value is not None and math.isfinite(t.value)]


def _training_set(
    encoding: _Encoding, history: Sequence[Trial], maximize: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    rows, targets = [], []
    for trial in _finished(history):
        x = encoding.encode(trial.assignments)
        if x is not None:
            rows.append(x)
            targets.append(_target(trial, maximize))
    x_all, y_all = np.asarray(rows).reshape(len(rows), encoding.dim), np.asarray(targets)
    if len(y_all) <= MAX_POINTS:
        return x_all, y_all
    order = np.argsort(y_all, kind="stable")
    keep_best = MAX_POINTS // 3
    rest = rng.choice(order[keep_best:], size=MAX_POINTS - keep_best, replace=False)
    chosen = np.concatenate([order[:keep_best], np.sort(rest)])
    return x_all[chosen], y_all[chosen]


def _maximise(
    name: str,
    gp: GaussianProcess,
    encoding: _Encoding,
    best_x: np.ndarray,
    best: float,
    rng: np.random.Generator,
    polish: bool,
) -> np.ndarray:
    """The best of random candidates, polished by L-BFGS-B from a few starts.

    Starts follow optuna's GPSampler: the best candidate, others drawn with probability exp(score - best
    score), and the best trial itself. Only int/double coordinates move; list parameters stay as drawn.
    """
    candidates = encoding.candidates(rng, _RANDOM_CANDIDATES)
    numeric = encoding.scale.dim
    scores = acquisition(name, gp, candidates, best)
    top = int(np.argmax(scores))
    winner, winner_score = candidates[top], float(scores[top])
    if not polish or numeric == 0:
        return winner
    weights = np.exp(scores - scores[top])
    weights[top] = 0.0
    others = min(_POLISH_STARTS - 2, int(np.count_nonzero(weights > 0)))
    starts = [candidates[top], best_x]
    if others > 0:
        chosen = rng.choice(len(candidates), size=others, replace=False, p=weights / weights.sum())
        starts += [candidates[i] for i in chosen]
    for start in starts:

        def negative(u: np.ndarray, start: np.ndarray = start) -> tuple[float, np.ndarray]:
            value, gradient = acquisition_with_gradient(name, gp, np.concatenate([u, start[numeric:]]), best)
            return -value, -gradient[:numeric]

        result = minimize(negative, start[:numeric], jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * numeric)
        if np.all(np.isfinite(result.x)) and -float(result.fun) > winner_score:
            winner, winner_score = np.concatenate([result.x, start[numeric:]]), -float(result.fun)
    return winner


class BayesianOptimization(Algorithm):
    """GP-based Bayesian optimisation; see the module docstring for the settings."""

    name = "bayesianoptimization"

    def suggest(self, problem: Problem, history: Sequence[Trial], seed: int) -> Decision:
        values = self.read_settings(problem)
        seed = base_seed(values, seed)
        rng = generator(seed, len(history))
        n_initial = values.get("n_initial_points")
        n_initial = n_initial if isinstance(n_initial, int) else 10
        maximize = problem.direction == "maximize"
        encoding = _Encoding(problem)
        x, y = _training_set(encoding, history, maximize, rng)
        if len(y) < max(n_initial, 1) or encoding.dim == 0:
            draws = rng.random(len(problem.parameters))
            point = {p.name: from_unit(p, float(u)) for p, u in zip(problem.parameters, draws, strict=True)}
            return fresh(problem.parameters, history, seed, point)
        name = _choose_acquisition(str(values.get("acq_func") or "EI"), history, rng, maximize)
        pending = [encoding.encode(t.assignments) for t in history if t.status in ACTIVE]
        best_index = int(np.argmin(y))
        polish = values.get("acq_optimizer") != "sampling"
        with one_blas_thread():  # small matrices: BLAS threads only wait for each other (``_blas``)
            gp = fit(x, y)
            gp = condition_on(
                gp, np.asarray([p for p in pending if p is not None]).reshape(-1, encoding.dim), float(np.max(y))
            )
            winner = _maximise(name, gp, encoding, x[best_index], float(y[best_index]), rng, polish)
        point = encoding.decode(winner)
        ordered = {p.name: point[p.name] for p in problem.parameters}
        labels = {LABEL_ACQUISITION: name}
        return fresh(problem.parameters, history, seed, ordered, wrap=lambda a: Suggestion(a, labels=labels))
