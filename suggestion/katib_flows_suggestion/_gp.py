"""A small Gaussian-process regressor on numpy and scipy, for ``bayesianoptimization``.

Matern 5/2 kernel with one inverse squared length scale per input (ARD), a kernel scale and a noise
variance, fitted by maximising the log marginal likelihood plus optuna GPSampler's priors (analytic
gradients, L-BFGS-B, starting from all ones as optuna does). Inputs live in the unit cube; targets are
standardised inside ``fit``. ``predict`` gives the posterior mean and standard deviation in the targets'
units, and ``predict_with_gradient`` their gradients too, so the acquisition function can be maximised
with L-BFGS-B. Nothing is cached between calls: the model is a pure function of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular  # type: ignore[import-untyped]
from scipy.optimize import minimize  # type: ignore[import-untyped]

_SQRT5 = math.sqrt(5.0)
_MIN_NOISE = 1e-6
_JITTER = 1e-9


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-dimension squared differences, shape (len(a), len(b), dims)."""
    diff = a[:, None, :] - b[None, :, :]
    return diff * diff


def _matern(r: np.ndarray) -> np.ndarray:
    return (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * np.exp(-_SQRT5 * r)


@dataclass(frozen=True)
class GaussianProcess:
    """A fitted GP: ``predict`` for the posterior at new inputs."""

    x: np.ndarray
    z: np.ndarray
    inv_sq_length: np.ndarray
    signal: float
    noise: float
    y_mean: float
    y_std: float
    chol: np.ndarray
    alpha: np.ndarray

    def _cross(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.sqrt(np.maximum(_sq_dists(points, self.x) @ self.inv_sq_length, 0.0))
        return self.signal * _matern(r), r

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``points`` (shape (m, dims)), in target units."""
        k, _ = self._cross(points)
        mean = k @ self.alpha
        v = solve_triangular(self.chol, k.T, lower=True, check_finite=False)
        var = np.maximum(self.signal - np.einsum("ij,ij->j", v, v), 1e-12)
        return mean * self.y_std + self.y_mean, np.sqrt(var) * self.y_std

    def predict_with_gradient(self, point: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Mean, standard deviation and their gradients with respect to ``point`` (one point), target units."""
        k, r = self._cross(point[None, :])
        k, r = k[0], r[0]
        # dk/dx = -signal * 5/3 (1 + sqrt5 r) e^(-sqrt5 r) * lambda * (x - x_i)
        dk = (-self.signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * np.exp(-_SQRT5 * r))[:, None] * (
            self.inv_sq_length * (point[None, :] - self.x)
        )
        mean = float(k @ self.alpha)
        d_mean = dk.T @ self.alpha
        w = cho_solve((self.chol, True), k, check_finite=False)
        var = max(self.signal - float(k @ w), 1e-12)
        sd = math.sqrt(var)
        d_sd = -(dk.T @ w) / sd
        return mean * self.y_std + self.y_mean, sd * self.y_std, d_mean * self.y_std, d_sd * self.y_std


def _objective(theta: np.ndarray, y: np.ndarray, sq: np.ndarray) -> tuple[float, np.ndarray]:
    """Minus (log marginal likelihood + log prior) and its gradient in theta = (log lambda..., log s, log noise)."""
    dims = sq.shape[2]
    inv_sq, signal = np.exp(theta[:dims]), math.exp(theta[dims])
    raw_noise = math.exp(theta[dims + 1])
    noise = raw_noise + _MIN_NOISE
    scaled = sq * inv_sq
    r = np.sqrt(scaled.sum(axis=2))
    e = np.exp(-_SQRT5 * r)
    kernel = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
    n = len(y)
    try:
        factor = cho_factor(kernel + (noise + _JITTER) * np.eye(n), lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve(factor, y, check_finite=False)
    nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(factor[0])).sum()) + 0.5 * n * math.log(2 * math.pi)
    w = cho_solve(factor, np.eye(n), check_finite=False) - np.outer(alpha, alpha)
    # d kernel / d log lambda_d = -signal * 5/6 (1 + sqrt5 r) e^(-sqrt5 r) * lambda_d (x_d - x'_d)^2
    g = -signal * 5.0 / 6.0 * (1.0 + _SQRT5 * r) * e
    grad = np.empty_like(theta)
    grad[:dims] = 0.5 * np.einsum("ij,ijd->d", w * g, scaled)
    grad[dims] = 0.5 * float((w * kernel).sum())
    grad[dims + 1] = 0.5 * float(np.trace(w)) * raw_noise
    # optuna's priors: -(0.1/lambda + 0.1 lambda) per input, Gamma(2, 1) on the scale, Gamma(1.1, 30) on the noise.
    nll += float(np.sum(0.1 / inv_sq + 0.1 * inv_sq)) - (math.log(signal) - signal)
    nll -= 0.1 * math.log(noise) - 30.0 * noise
    grad[:dims] += -0.1 / inv_sq + 0.1 * inv_sq
    grad[dims] -= 1.0 - signal
    grad[dims + 1] -= (0.1 / noise - 30.0) * raw_noise
    return nll, grad


def _posterior(
    x: np.ndarray, z: np.ndarray, inv_sq: np.ndarray, signal: float, noise: float, y_mean: float, y_std: float
) -> GaussianProcess:
    r = np.sqrt(_sq_dists(x, x) @ inv_sq)
    chol = np.linalg.cholesky(signal * _matern(r) + (noise + _JITTER) * np.eye(len(z)))
    alpha = cho_solve((chol, True), z, check_finite=False)
    return GaussianProcess(x, z, inv_sq, signal, noise, y_mean, y_std, chol, alpha)


def fit(x: np.ndarray, y: np.ndarray) -> GaussianProcess:
    """The GP of ``y`` over ``x`` (inputs in the unit cube), hyperparameters fitted to the data."""
    y_mean = float(np.mean(y))
    y_std = float(np.std(y)) or 1.0
    z = (y - y_mean) / y_std
    dims = x.shape[1]
    sq = _sq_dists(x, x)
    start = np.zeros(dims + 2)
    result = minimize(_objective, start, args=(z, sq), jac=True, method="L-BFGS-B", options={"gtol": 1e-2})
    theta = result.x if np.all(np.isfinite(result.x)) else start
    theta = np.clip(theta, -20.0, 20.0)
    noise = math.exp(theta[dims + 1]) + _MIN_NOISE
    return _posterior(x, z, np.exp(theta[:dims]), math.exp(theta[dims]), noise, y_mean, y_std)


def condition_on(gp: GaussianProcess, points: np.ndarray, lie: float) -> GaussianProcess:
    """The same GP told that ``points`` (trials still running) scored ``lie``: the constant liar.

    With ``lie`` the worst value seen (Ginsbourger's CL-max, what optuna's constant_liar does for TPE), the
    acquisition function sees no gain at and around running points, so parallel lanes spread out.
    Hyperparameters are kept: no refit.
    """
    if len(points) == 0:
        return gp
    x = np.vstack([gp.x, points])
    z = np.concatenate([gp.z, np.full(len(points), (lie - gp.y_mean) / gp.y_std)])
    return _posterior(x, z, gp.inv_sq_length, gp.signal, gp.noise, gp.y_mean, gp.y_std)
