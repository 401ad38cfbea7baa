r"""Other roads to a linear boundary: the numerical helpers of Chapter 11.

- :func:`pooled_class_statistics` and :func:`lda_coefficients`: linear discriminant analysis from its
  formula, :math:`w = \Sigma^{-1}(\mu_1 - \mu_0)`, :math:`b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1 +
  \tfrac12\mu_0^\top\Sigma^{-1}\mu_0 + \log\frac{\pi}{1 - \pi}`;
- :func:`soft_threshold`: the proximal step of :math:`\alpha\lvert w\rvert`, which is what makes L1
  coefficients exactly zero;
- :func:`fit_l1_logistic`: L1-penalised logistic regression by accelerated proximal gradient (FISTA),
  with scikit-learn's scaling (:math:`\alpha = 1/C` on the summed loss, intercept not penalised);
- :func:`logistic_gd_iterates`: plain gradient descent on the unpenalised loss (no intercept),
  recording the iterates at chosen steps, for separable data;
- :func:`angle_between`: the angle between two vectors, accurate for tiny angles.

All functions take NumPy arrays (or anything ``numpy.asarray`` accepts), compute in float64 and raise
``TypeError``/``ValueError`` naming the argument, what was expected and what was received.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from scipy.special import expit

__all__ = [
    "ClassStatistics",
    "L1Fit",
    "angle_between",
    "fit_l1_logistic",
    "lda_coefficients",
    "logistic_gd_iterates",
    "pooled_class_statistics",
    "soft_threshold",
]


# --------------------------------------------------------------------------------------------------
# Input checks (local to this module)
# --------------------------------------------------------------------------------------------------


def _array(value, name: str, ndim: int) -> np.ndarray:
    if np.asarray(value).dtype == bool:  # True/False are labels or masks, not numbers
        raise TypeError(f"{name}: expected an array of real numbers, got booleans")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected an array of real numbers, got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got {int(np.sum(~np.isfinite(array)))} "
                         "NaN or infinite entries")
    return array


def _features(X) -> np.ndarray:
    X = _array(X, "X", 2)
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X: expected at least 2 samples and 1 feature, got shape {X.shape}")
    return X


def _labels(t, n: int) -> np.ndarray:
    t = _array(t, "t", 1)
    if t.shape != (n,):
        raise ValueError(f"t: expected shape ({n},) to match X, got shape {t.shape}")
    bad = np.setdiff1d(np.unique(t), [0.0, 1.0])
    if bad.size:
        raise ValueError(f"t: expected labels in {{0, 1}}, got the values {bad[:5].tolist()}")
    if np.all(t == t[0]):
        raise ValueError(f"t: expected both classes 0 and 1, got only class {t[0]:g}")
    return t


def _real(value, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name}: expected a positive number, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name}: expected a number >= 0, got {value}")
    return value


def _int(value, name: str, low: int) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {value!r} of type {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return int(value)


# --------------------------------------------------------------------------------------------------
# Linear discriminant analysis from the formula
# --------------------------------------------------------------------------------------------------


class ClassStatistics(NamedTuple):
    """Maximum-likelihood estimates of the two-Gaussian model with a shared covariance."""

    mean0: np.ndarray
    mean1: np.ndarray
    covariance: np.ndarray
    prior1: float


def pooled_class_statistics(X, t) -> ClassStatistics:
    r"""Class means, pooled within-class covariance and base rate, by maximum likelihood.

    The pooled covariance divides by :math:`N` (not :math:`N - 2`):
    :math:`\hat\Sigma = \frac1N\sum_i (x_i - \hat\mu_{t_i})(x_i - \hat\mu_{t_i})^\top`, the estimate
    scikit-learn's ``LinearDiscriminantAnalysis`` uses with its default (empirical) priors.

    Parameters
    ----------
    X : array of shape (N, D)
        Features.
    t : array of shape (N,)
        Labels in {0, 1}, both present.

    Returns
    -------
    ClassStatistics
        ``(mean0, mean1, covariance, prior1)`` with ``prior1`` the share of ``t = 1``.

    Examples
    --------
    >>> X = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]]
    >>> stats = pooled_class_statistics(X, [0, 0, 1, 1])
    >>> stats.mean1.tolist(), stats.covariance.tolist(), stats.prior1
    ([1.0, 2.0], [[1.0, 0.0], [0.0, 0.0]], 0.5)
    """
    X = _features(X)
    t = _labels(t, X.shape[0])
    mean0, mean1 = X[t == 0].mean(axis=0), X[t == 1].mean(axis=0)
    centred = X - np.where(t[:, None] == 1, mean1, mean0)
    covariance = centred.T @ centred / X.shape[0]
    return ClassStatistics(mean0, mean1, covariance, float(t.mean()))


def lda_coefficients(mean0, mean1, covariance, prior1: float) -> tuple[np.ndarray, float]:
    r"""Weights and intercept of the log-odds of two Gaussian classes with a shared covariance.

    :math:`\log\frac{p(t=1\mid x)}{p(t=0\mid x)} = w^\top x + b` with
    :math:`w = \Sigma^{-1}(\mu_1 - \mu_0)` and
    :math:`b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1 + \tfrac12\mu_0^\top\Sigma^{-1}\mu_0
    + \log\frac{\pi}{1-\pi}`, :math:`\pi = p(t = 1)`.

    Parameters
    ----------
    mean0, mean1 : array of shape (D,)
        Class means.
    covariance : array of shape (D, D)
        Shared covariance, symmetric positive definite.
    prior1 : float
        Prior probability of class 1, in (0, 1).

    Returns
    -------
    w : ndarray of shape (D,)
    b : float

    Examples
    --------
    >>> w, b = lda_coefficients([0.0], [2.0], [[4.0]], 0.5)
    >>> w.tolist(), b
    ([0.5], -0.5)
    """
    mean0, mean1 = _array(mean0, "mean0", 1), _array(mean1, "mean1", 1)
    covariance = _array(covariance, "covariance", 2)
    if mean1.shape != mean0.shape:
        raise ValueError(f"mean1: expected shape {mean0.shape} like mean0, got shape {mean1.shape}")
    if covariance.shape != (mean0.size, mean0.size):
        raise ValueError(f"covariance: expected shape {(mean0.size, mean0.size)}, got shape "
                         f"{covariance.shape}")
    if not np.allclose(covariance, covariance.T, rtol=1e-12, atol=0.0):
        raise ValueError("covariance: expected a symmetric matrix, got one that differs from its "
                         f"transpose by up to {np.abs(covariance - covariance.T).max():.3g}")
    try:
        np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        raise ValueError("covariance: expected a positive-definite matrix, got one with smallest "
                         f"eigenvalue {np.linalg.eigvalsh(covariance).min():.3g}") from None
    prior1 = _real(prior1, "prior1")
    if not 0 < prior1 < 1:
        raise ValueError(f"prior1: expected a probability strictly between 0 and 1, got {prior1}")
    w = np.linalg.solve(covariance, mean1 - mean0)
    b = -0.5 * (mean1 + mean0) @ w + np.log(prior1 / (1 - prior1))
    return w, float(b)


# --------------------------------------------------------------------------------------------------
# L1: the soft threshold and a proximal-gradient fit
# --------------------------------------------------------------------------------------------------


def soft_threshold(v, threshold: float) -> np.ndarray:
    r"""The soft threshold :math:`\operatorname{sign}(v)\max(\lvert v\rvert - \alpha, 0)`, the proximal step of L1.

    It solves :math:`\min_w \tfrac12(w - v)^2 + \alpha\lvert w\rvert` entry by entry, with
    :math:`\alpha` the ``threshold``: every entry with :math:`\lvert v\rvert \le \alpha` becomes
    exactly 0, the others move towards 0 by :math:`\alpha`.

    Parameters
    ----------
    v : float or array
        Point(s) to shrink (in proximal gradient descent, the result of a gradient step).
    threshold : float
        The threshold :math:`\alpha`, >= 0.

    Returns
    -------
    ndarray
        Same shape as ``v`` (a 0-d array for a scalar).

    Examples
    --------
    >>> soft_threshold([3.0, -0.5, 1.2], 1.0).tolist()
    [2.0, 0.0, 0.19999999999999996]
    """
    try:
        v = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"v: expected a number or an array of numbers, got {type(v).__name__}") from None
    if not np.all(np.isfinite(v)):
        raise ValueError(f"v: expected finite numbers, got {int(np.sum(~np.isfinite(v)))} NaN or "
                         "infinite entries")
    threshold = _real(threshold, "threshold", nonnegative=True)
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0) + 0.0   # + 0.0: no -0.0


class L1Fit(NamedTuple):
    """Result of :func:`fit_l1_logistic`."""

    w: np.ndarray
    b: float
    n_iter: int
    converged: bool


def fit_l1_logistic(X, t, alpha: float, *, tol: float = 1e-10, max_iter: int = 200_000,
                    w0=None, b0: float = 0.0) -> L1Fit:
    r"""L1-penalised logistic regression by FISTA (accelerated proximal gradient with restarts).

    Minimises :math:`\sum_i[\operatorname{softplus}(z_i) - t_i z_i] + \alpha\lVert w\rVert_1`,
    :math:`z_i = w^\top x_i + b`, with the intercept not penalised: scikit-learn's
    ``LogisticRegression(l1_ratio=1, C=1/alpha)``. The iteration works on the mean (the objective divided
    by :math:`N`), with the safe step :math:`1/M`, :math:`M = \lambda_{\max}(\tilde X^\top\tilde X)/(4N)`
    and :math:`\tilde X = [X, \mathbf 1]`. Each step is a gradient step on the smooth part followed by
    :func:`soft_threshold` of the weights.

    Parameters
    ----------
    X : array of shape (N, D)
    t : array of shape (N,), labels in {0, 1}
    alpha : float
        L1 strength (> 0) on the summed loss.
    tol : float, default 1e-10
        Stop when the largest entry of the proximal-gradient mapping (the step divided by the step size,
        zero exactly at the minimiser) is at most ``tol``.
    max_iter : int, default 200000
    w0 : array of shape (D,), optional
        Starting weights (warm start along a path); default zeros.
    b0 : float, default 0.0
        Starting intercept.

    Returns
    -------
    L1Fit
        ``(w, b, n_iter, converged)``.

    Examples
    --------
    >>> X = [[-2.0, 1.0], [-1.0, -1.0], [0.5, 1.0], [1.0, -1.0], [2.0, 0.5], [-0.5, 0.0]]
    >>> fit = fit_l1_logistic(X, [0, 0, 1, 1, 1, 0], alpha=1.0)
    >>> fit.converged, float(fit.w[1])            # the second feature is dropped
    (True, 0.0)
    """
    X = _features(X)
    N, D = X.shape
    t = _labels(t, N)
    alpha = _real(alpha, "alpha", positive=True)
    tol = _real(tol, "tol", positive=True)
    max_iter = _int(max_iter, "max_iter", 1)
    w = np.zeros(D) if w0 is None else _array(w0, "w0", 1).copy()
    if w.shape != (D,):
        raise ValueError(f"w0: expected shape ({D},) to match X, got shape {w.shape}")
    theta = np.append(w, _real(b0, "b0"))
    A = np.column_stack([X, np.ones(N)])
    step = 4.0 * N / np.linalg.eigvalsh(A.T @ A).max()
    shrink = step * alpha / N

    y, momentum = theta.copy(), 1.0
    for n_iter in range(1, max_iter + 1):
        trial = y - step * (A.T @ (expit(A @ y) - t)) / N
        trial[:D] = soft_threshold(trial[:D], shrink)
        if np.abs(y - trial).max() <= tol * step:   # the proximal-gradient mapping at y is ~0
            return L1Fit(trial[:D].copy(), float(trial[D]), n_iter, True)
        if (y - trial) @ (trial - theta) > 0:      # restart: the momentum points uphill
            momentum = 1.0
        next_momentum = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
        y = trial + (momentum - 1.0) / next_momentum * (trial - theta)
        theta, momentum = trial, next_momentum
    return L1Fit(theta[:D].copy(), float(theta[D]), max_iter, False)


# --------------------------------------------------------------------------------------------------
# Separable data: plain gradient descent and the angle to a direction
# --------------------------------------------------------------------------------------------------


def logistic_gd_iterates(X, t, record, *, step: float | None = None) -> np.ndarray:
    r"""Plain gradient descent on the unpenalised mean logistic loss, without an intercept.

    :math:`w_{n+1} = w_n - \eta\,\frac1N X^\top(\sigma(Xw_n) - t)` from :math:`w_0 = 0`, with
    :math:`\eta = 1/M`, :math:`M = \lambda_{\max}(X^\top X)/(4N)` unless ``step`` is given. For an
    intercept, append a column of ones to ``X``.

    Parameters
    ----------
    X : array of shape (N, D)
    t : array of shape (N,), labels in {0, 1}
    record : sequence of int
        Increasing iteration counts >= 1 at which to record :math:`w_n`; the last one is the number of
        iterations run.
    step : float, optional
        Step size :math:`\eta` > 0.

    Returns
    -------
    ndarray of shape (len(record), D)
        Row ``j`` is :math:`w_n` for ``n = record[j]``.

    Examples
    --------
    >>> W = logistic_gd_iterates([[-2.0], [-1.0], [1.0], [3.0]], [0, 0, 1, 1], [10, 100, 1000])
    >>> bool(W[0, 0] < W[1, 0] < W[2, 0])          # separable: the weight keeps growing
    True
    """
    X = _features(X)
    N, _ = X.shape
    t = _labels(t, N)
    record = np.asarray(record)
    if record.ndim != 1 or record.size == 0 or not np.issubdtype(record.dtype, np.integer):
        raise ValueError(f"record: expected a non-empty sequence of integers, got {record.tolist()!r}")
    if record[0] < 1 or np.any(np.diff(record) <= 0):
        raise ValueError(f"record: expected increasing iteration counts >= 1, got {record.tolist()}")
    if step is None:
        step = 4.0 * N / np.linalg.eigvalsh(X.T @ X).max()
    step = _real(step, "step", positive=True)
    negated = -(2.0 * t - 1.0)[:, None] * X    # rows -t~_i x_i: minus the margins, m_i = t~_i w.x_i
    scaled_T = -step / N * negated.T
    w = np.zeros(X.shape[1])
    out = np.empty((record.size, X.shape[1]))
    minus_m, increment = np.empty(N), np.empty(X.shape[1])    # buffers: no allocation per step
    k = 0
    for j, target in enumerate(record):
        for _ in range(int(target) - k):
            np.matmul(negated, w, out=minus_m)
            expit(minus_m, out=minus_m)               # sigma(-m_i)
            np.matmul(scaled_T, minus_m, out=increment)
            w += increment                            # -eta grad = (eta/N) sum_i sigma(-m_i) t~_i x_i
        k = int(target)
        out[j] = w
    return out


def angle_between(u, v) -> float:
    r"""The angle between two non-zero vectors, in radians, accurate also when it is tiny.

    Computed as :math:`2\arctan\big(\lVert\hat u - \hat v\rVert / \lVert\hat u + \hat v\rVert\big)`
    with unit vectors :math:`\hat u, \hat v`; ``arccos`` of the cosine loses half the digits near 0.

    Examples
    --------
    >>> round(angle_between([1.0, 0.0], [1.0, 1.0]) / np.pi * 180, 6)
    45.0
    """
    u, v = _array(u, "u", 1), _array(v, "v", 1)
    if u.shape != v.shape:
        raise ValueError(f"v: expected shape {u.shape} like u, got shape {v.shape}")
    for name, vec in (("u", u), ("v", v)):
        if not np.any(vec):
            raise ValueError(f"{name}: expected a non-zero vector, got all zeros")
    u_hat, v_hat = u / np.linalg.norm(u), v / np.linalg.norm(v)
    return float(2.0 * np.arctan2(np.linalg.norm(u_hat - v_hat), np.linalg.norm(u_hat + v_hat)))
