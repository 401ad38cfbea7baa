r"""What a fitted logistic regression tells you: standard errors, tests, intervals and decisions.

* **Standard errors**: ``fisher_information`` (:math:`\mathcal I(\theta) = X^\top SX`, with ``X``'s last
  column of ones for the intercept, :math:`\theta = (w, b)`) and ``coefficient_table`` (SEs, Wald
  statistics :math:`\hat w_d/\operatorname{SE}(\hat w_d)`, p-values, intervals of an **unpenalised** fit).
* **Tests**: ``wald_test`` (one coefficient or a group) and ``likelihood_ratio_test`` (nested models).
* **Fit**: ``bernoulli_nll``, ``deviance`` (:math:`2\ell` for 0/1 targets), ``null_deviance``, ``mcfadden_r2``.
* **Test metrics**: ``bootstrap_interval`` (any metric) and ``wilson_interval`` (a proportion).
* **Decisions**: ``cost_threshold``, ``expected_cost`` and ``prior_shift`` (a new base rate).

Every function checks its arguments and raises ``TypeError``/``ValueError`` naming the argument, what
was expected and what was received. NumPy and SciPy only; the tests compare with statsmodels and SciPy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "BootstrapResult", "CoefficientTable", "ChiSquaredTest", "add_intercept", "bernoulli_nll",
    "bootstrap_interval", "coefficient_table", "cost_threshold", "deviance", "expected_cost",
    "fisher_information", "likelihood_ratio_test", "mcfadden_r2", "null_deviance", "prior_shift",
    "wald_test", "wilson_interval",
]


# --------------------------------------------------------------------------- input checks (private)
def _array(value, name: str, ndim: int) -> np.ndarray:
    try:
        if isinstance(value, str | bytes) or value is None:
            raise TypeError
        if np.asarray(value).dtype == bool:  # True/False are labels or masks, not numbers
            raise TypeError
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected an array of numbers, got {type(value).__name__}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one value, got an empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got {int(np.sum(~np.isfinite(arr)))} nan/inf")
    return arr


def _targets(t, name: str = "t", n: int | None = None) -> np.ndarray:
    t = _array(t, name, 1)
    if not np.all((t == 0) | (t == 1)):
        bad = float(t[(t != 0) & (t != 1)][0])
        raise ValueError(f"{name}: expected binary targets 0/1, got the value {bad!r}")
    if n is not None and len(t) != n:
        raise ValueError(f"{name}: expected {n} values (one per row of X), got {len(t)}")
    return t


def _number(value, name: str, low: float = -np.inf, high: float = np.inf, open_low: bool = True,
            open_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if not np.isfinite(value) or below or above:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name}: expected a number in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return value


def _count(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an integer >= {low}, got {value!r} of type {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- standard errors
@dataclass(frozen=True)
class CoefficientTable:
    """Wald inference for the coefficients ``theta = (w_1, ..., w_D, b)``, intercept last.

    ``estimate``, ``se``, ``wald`` (estimate / se), ``p_value``, ``ci_low``, ``ci_high`` have length ``D + 1``;
    ``cov`` is the inverse of ``information``; ``nll`` the summed NLL at the estimate; ``level`` the
    confidence level. ``odds_ratios()`` gives ``exp`` of the estimates and of the interval ends.
    """

    estimate: np.ndarray
    se: np.ndarray
    wald: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    cov: np.ndarray
    information: np.ndarray
    nll: float
    level: float

    def odds_ratios(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(exp(estimate), exp(ci_low), exp(ci_high))``: exp is increasing, so the ends map to ends."""
        return np.exp(self.estimate), np.exp(self.ci_low), np.exp(self.ci_high)


def add_intercept(X) -> np.ndarray:
    """``X`` with a last column of ones for the intercept, ``[X, 1]`` (the order of ``theta = (w, b)``).

    >>> add_intercept([[2.0], [3.0]]).tolist()
    [[2.0, 1.0], [3.0, 1.0]]
    """
    X = _array(X, "X", 2)
    return np.column_stack([X, np.ones(len(X))])


def fisher_information(X, coef, intercept: float = 0.0) -> np.ndarray:
    r"""Fisher information :math:`\mathcal I(\theta) = X^\top SX` (the Hessian of the summed NLL), order ``(w, b)``.

    Parameters
    ----------
    X : array-like of shape (N, D)
        Features, without the column of ones.
    coef, intercept : array-like of shape (D,) or (1, D), and float (default 0.0)
        Weights ``w`` and intercept ``b``.

    Examples
    --------
    >>> fisher_information([[0.0], [2.0]], [0.0]).tolist()   # p = 1/2: S = diag(1/4, 1/4)
    [[1.0, 0.5], [0.5, 0.5]]
    """
    X1 = add_intercept(X)
    w = _array(np.ravel(coef) if np.ndim(coef) == 2 else coef, "coef", 1)
    if len(w) != X1.shape[1] - 1:
        raise ValueError(f"coef: expected {X1.shape[1] - 1} weights (one per column of X), got {len(w)}")
    z = X1 @ np.r_[w, _number(intercept, "intercept")]
    p = stats.logistic.cdf(z)
    return X1.T @ (X1 * (p * (1 - p))[:, None])


def coefficient_table(estimator, X, t, level: float = 0.95, gradient_tol: float = 1e-6) -> CoefficientTable:
    r"""Estimates, standard errors, Wald statistics, p-values and intervals of an unpenalised logistic fit.

    Covariance :math:`\mathcal I(\hat\theta)^{-1}`; :math:`\operatorname{SE}(\hat w_d)` the square root of its
    diagonal; Wald statistic :math:`\hat w_d/\operatorname{SE}(\hat w_d)`; two-sided normal p-value;
    interval :math:`\hat w_d \pm q\operatorname{SE}(\hat w_d)`, ``q`` the ``(1 + level)/2`` quantile of
    :math:`\mathcal N(0, 1)`. Rows ``(w_1, ..., w_D, b)``.

    Parameters
    ----------
    estimator : fitted binary classifier
        With public ``coef_`` (shape ``(1, D)``) and ``intercept_``, e.g. ``LogisticRegression(penalty=None)``.
        A penalised fit is refused: its inverse Hessian is not the covariance of its (biased) estimate.
    X, t : array-like of shapes (N, D) and (N,)
        The training features and 0/1 targets the estimator was fitted on.
    level : float, default 0.95
        Confidence level of the intervals, in (0, 1).
    gradient_tol : float, default 1e-6
        Largest mean gradient :math:`X^\top(p - t)/N` accepted at an MLE of ``(X, t)``.

    Returns
    -------
    CoefficientTable

    Examples
    --------
    >>> from mathcore.models import LogisticRegression
    >>> X, t = [[0.0], [1.0], [2.0], [3.0], [4.0]], [0, 1, 0, 1, 1]
    >>> fit = LogisticRegression(penalty=None, tol=1e-12).fit(X, t)
    >>> table = coefficient_table(fit, X, t)
    >>> table.se.round(3).tolist()   # w, then b
    [0.975, 1.952]
    """
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    penalty, C = params.get("penalty", None), params.get("C", np.inf)
    if penalty not in (None, "none", "deprecated") and np.isfinite(C):
        raise ValueError(f"estimator: expected an unpenalised fit (penalty=None or C=inf), got penalty="
                         f"{penalty!r}, C={C!r}; a penalised fit's inverse Hessian is not a covariance")
    if not hasattr(estimator, "coef_") or not hasattr(estimator, "intercept_"):
        raise TypeError(f"estimator: expected a fitted classifier with coef_ and intercept_, got "
                        f"{type(estimator).__name__} without them (call fit first)")
    coef = np.asarray(estimator.coef_, dtype=float)
    if coef.ndim != 2 or coef.shape[0] != 1:
        raise ValueError(f"estimator: expected a binary fit with coef_ of shape (1, D), got {coef.shape}")
    X1 = add_intercept(X)
    if X1.shape[1] - 1 != coef.shape[1]:
        raise ValueError(f"X: expected {coef.shape[1]} columns like the fitted coef_, got {X1.shape[1] - 1}")
    t = _targets(t, "t", len(X1))
    level = _number(level, "level", 0.0, 1.0)
    theta = np.r_[coef[0], np.ravel(estimator.intercept_)[0]]
    z_scores = X1 @ theta
    gradient = X1.T @ (stats.logistic.cdf(z_scores) - t) / len(t)
    if np.abs(gradient).max() > gradient_tol:
        raise ValueError(f"estimator: expected the maximum-likelihood estimate of (X, t) (mean gradient "
                         f"<= {gradient_tol:g}), got a mean gradient of {np.abs(gradient).max():.3g}; "
                         "pass the training data, and fit with a small tol")
    information = fisher_information(X1[:, :-1], theta[:-1], theta[-1])
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError as exc:
        raise ValueError("X: the Fisher information is singular (collinear features or separated "
                         "classes); standard errors do not exist") from exc
    cov = np.linalg.inv(information)
    se = np.sqrt(np.diag(cov))
    wald = theta / se
    half = stats.norm.ppf((1 + level) / 2) * se
    return CoefficientTable(theta, se, wald, 2 * stats.norm.sf(np.abs(wald)), theta - half, theta + half,
                            cov, information, bernoulli_nll(t, z_scores), level)


# --------------------------------------------------------------------------- tests
@dataclass(frozen=True)
class ChiSquaredTest:
    """A test statistic, its chi-squared degrees of freedom and its p-value."""

    statistic: float
    df: int
    p_value: float


def wald_test(estimate, cov, index) -> ChiSquaredTest:
    r"""Wald test that the coefficients at ``index`` are all 0.

    The statistic is ``g @ inv(cov[index, index]) @ g`` with ``g = estimate[index]``, approximately
    :math:`\chi^2` with ``len(index)`` degrees of freedom; for one index it is
    :math:`(\hat w_d/\operatorname{SE}(\hat w_d))^2`. ``estimate`` and ``cov`` as in a ``CoefficientTable``.

    Examples
    --------
    >>> r = wald_test([2.0, 1.0], [[4.0, 0.0], [0.0, 1.0]], 0)
    >>> r.statistic, r.df
    (1.0, 1)
    """
    estimate, cov = _array(estimate, "estimate", 1), _array(cov, "cov", 2)
    if cov.shape != (len(estimate), len(estimate)):
        raise ValueError(f"cov: expected shape {(len(estimate),) * 2}, got {cov.shape}")
    idx = [index] if isinstance(index, int | np.integer) else list(index)
    if not idx or any(isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < len(estimate)
                      for i in idx) or len(set(idx)) != len(idx):
        raise ValueError(f"index: expected distinct positions in 0..{len(estimate) - 1}, got {index!r}")
    g = estimate[idx]
    statistic = float(g @ np.linalg.solve(cov[np.ix_(idx, idx)], g))
    return ChiSquaredTest(statistic, len(idx), float(stats.chi2.sf(statistic, len(idx))))


def likelihood_ratio_test(nll_small: float, nll_big: float, df: int) -> ChiSquaredTest:
    r"""Likelihood-ratio test of nested models: :math:`2(\ell_{\text{small}} - \ell_{\text{big}})`, :math:`\chi^2` with ``df``.

    ``nll_small`` and ``nll_big`` are the summed NLLs at the two maximum-likelihood fits; ``df`` is
    the number of parameters the big model adds.

    Examples
    --------
    >>> r = likelihood_ratio_test(10.0, 8.0, 1)
    >>> r.statistic, round(r.p_value, 4)
    (4.0, 0.0455)
    """
    small = _number(nll_small, "nll_small", 0, open_low=False)
    big = _number(nll_big, "nll_big", 0, open_low=False)
    df = _count(df, "df")
    if small < big - 1e-9 * max(1.0, big):
        raise ValueError(f"nll_small: expected at least nll_big ({big:g}), since the small model is "
                         f"nested in the big one, got {small:g}; were the fits swapped or unfinished?")
    statistic = max(2.0 * (small - big), 0.0)
    return ChiSquaredTest(statistic, df, float(stats.chi2.sf(statistic, df)))


# --------------------------------------------------------------------------- deviance
def bernoulli_nll(t, z) -> float:
    r"""Summed NLL :math:`\ell = \sum_i[\operatorname{softplus}(z_i) - t_i z_i]` from logits, without overflow.

    >>> round(bernoulli_nll([1, 0], [0.0, 0.0]), 6)   # 2 log 2
    1.386294
    """
    t = _targets(t)
    z = _array(z, "z", 1)
    if len(z) != len(t):
        raise ValueError(f"z: expected {len(t)} logits (one per target), got {len(z)}")
    return float(np.sum(np.logaddexp(0.0, z) - t * z))


def deviance(t, z) -> float:
    r"""Residual deviance :math:`\operatorname{Dev} = 2\ell` (for 0/1 targets the saturated model has :math:`\ell = 0`).

    >>> round(deviance([1, 0], [0.0, 0.0]), 6)
    2.772589
    """
    return 2.0 * bernoulli_nll(t, z)


def null_deviance(t) -> float:
    r"""Deviance of the intercept-only model, whose fitted probability is the base rate :math:`\bar t`.

    >>> round(null_deviance([1, 0, 0, 0]), 4)
    4.4987
    """
    t = _targets(t)
    rate = t.mean()
    if rate in (0.0, 1.0):
        raise ValueError("t: expected both classes, got only one (the null deviance is 0)")
    return deviance(t, np.full(len(t), np.log(rate / (1 - rate))))


def mcfadden_r2(t, z) -> float:
    r"""McFadden's pseudo-R², :math:`1 - \operatorname{Dev}/\operatorname{Dev}_{\mathrm{null}} = 1 - \ell/\ell_{\mathrm{null}}`.

    >>> mcfadden_r2([1, 0], [0.0, 0.0])   # no better than the base rate
    0.0
    """
    return 1.0 - deviance(t, z) / null_deviance(t)


# --------------------------------------------------------------------------- test metrics
@dataclass(frozen=True)
class BootstrapResult:
    """The metric on the data, a percentile interval, and every bootstrap replicate."""

    estimate: float
    low: float
    high: float
    replicates: np.ndarray


def bootstrap_interval(metric: Callable, t, scores, n_resamples: int = 2000, level: float = 0.95,
                       seed: int = 0) -> BootstrapResult:
    """Percentile bootstrap interval of ``metric(t, *scores)``, resampling cases with replacement.

    Parameters
    ----------
    metric : callable
        ``metric(t, s)``, or ``metric(t, s1, s2, ...)`` for a paired comparison, e.g. ``roc_auc_score``.
    t : array-like of shape (N,)
        Targets, 0/1. A resample that holds only one class is drawn again.
    scores : array-like of shape (N,), or a sequence of them
        Resampled together with ``t`` (paired).
    n_resamples, level, seed : int, float, int (defaults 2000, 0.95, 0)
        ``seed`` seeds ``numpy.random.default_rng``.

    Examples
    --------
    >>> acc = lambda t, pred: float(np.mean(t == pred))
    >>> r = bootstrap_interval(acc, [0, 1] * 50, [0, 1] * 45 + [1, 0] * 5, n_resamples=200)
    >>> r.estimate, r.low < 0.9 < r.high
    (0.9, True)
    """
    if not callable(metric):
        raise TypeError(f"metric: expected a callable metric(t, scores), got {type(metric).__name__}")
    t = _targets(t)
    if t.min() == t.max():
        raise ValueError("t: expected both classes (resamples with one class are redrawn), got one")
    if isinstance(scores, str | bytes) or not isinstance(scores, Sequence | np.ndarray) or not len(scores):
        raise TypeError(f"scores: expected an array or a sequence of arrays, got {type(scores).__name__}")
    if np.ndim(scores[0]) == 0:
        scores = [scores]
    arrays = [_array(s, f"scores[{k}]", 1) for k, s in enumerate(scores)]
    for k, s in enumerate(arrays):
        if len(s) != len(t):
            raise ValueError(f"scores[{k}]: expected {len(t)} values (one per target), got {len(s)}")
    n_resamples = _count(n_resamples, "n_resamples", 10)
    level = _number(level, "level", 0.0, 1.0)
    rng = np.random.default_rng(_count(seed, "seed", 0))
    replicates = np.empty(n_resamples)
    for k in range(n_resamples):
        idx = rng.integers(0, len(t), len(t))
        while t[idx].min() == t[idx].max():
            idx = rng.integers(0, len(t), len(t))
        replicates[k] = metric(t[idx], *(s[idx] for s in arrays))
    low, high = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapResult(float(metric(t, *arrays)), float(low), float(high), replicates)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    r"""Wilson interval of a proportion: every ``a`` with ``(successes/n - a)**2 <= q**2 a (1 - a) / n``.

    ``q`` is the ``(1 + level)/2`` quantile of :math:`\mathcal N(0, 1)`; the ends are the two roots of
    that quadratic in ``a`` (``mathcore.symbolic.statistics.wilson_endpoints``).

    >>> [round(v, 3) for v in wilson_interval(162, 171)]
    [0.903, 0.972]
    """
    n = _count(n, "n")
    successes = _count(successes, "successes", 0)
    if successes > n:
        raise ValueError(f"successes: expected at most n = {n}, got {successes}")
    z = stats.norm.ppf((1 + _number(level, "level", 0.0, 1.0)) / 2)
    p_hat = successes / n
    centre = p_hat + z**2 / (2 * n)
    half = z * np.sqrt(p_hat * (1 - p_hat) / n + z**2 / (4 * n**2))
    return float((centre - half) / (1 + z**2 / n)), float((centre + half) / (1 + z**2 / n))


# --------------------------------------------------------------------------- decisions
def cost_threshold(c_fp: float, c_fn: float) -> float:
    r"""Bayes-optimal threshold :math:`\tau_{\mathrm{Bayes}} = c_{\mathrm{FP}}/(c_{\mathrm{FP}} + c_{\mathrm{FN}})`: predict 1 when :math:`p \ge \tau_{\mathrm{Bayes}}`.

    >>> cost_threshold(1.0, 9.0)
    0.1
    """
    c_fp, c_fn = _number(c_fp, "c_fp", 0.0, open_low=False), _number(c_fn, "c_fn", 0.0, open_low=False)
    if c_fp + c_fn == 0:
        raise ValueError("c_fn: expected c_fp + c_fn > 0, got two zero costs")
    return c_fp / (c_fp + c_fn)


def expected_cost(t, p, thresholds, c_fp: float, c_fn: float) -> np.ndarray:
    r"""Mean cost per case of "predict 1 when :math:`p \ge \tau`", for each threshold :math:`\tau`.

    Cost :math:`c_{\mathrm{FN}}` for a missed positive, :math:`c_{\mathrm{FP}}` for a false alarm, 0 otherwise.

    >>> expected_cost([1, 0], [0.8, 0.3], [0.5, 0.9], c_fp=1.0, c_fn=5.0).tolist()
    [0.0, 2.5]
    """
    t = _targets(t)
    p = _array(p, "p", 1)
    if len(p) != len(t):
        raise ValueError(f"p: expected {len(t)} probabilities (one per target), got {len(p)}")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"p: expected probabilities in [0, 1], got values from {p.min():g} to {p.max():g}")
    tau = _array(np.atleast_1d(thresholds), "thresholds", 1)
    c_fp, c_fn = _number(c_fp, "c_fp", 0.0, open_low=False), _number(c_fn, "c_fn", 0.0, open_low=False)
    flagged = p[None, :] >= tau[:, None]
    return (c_fn * (~flagged & (t == 1)) + c_fp * (flagged & (t == 0))).mean(axis=1)


def prior_shift(z, prior_train: float, prior_new: float) -> np.ndarray:
    r"""Logits corrected for a new base rate: :math:`z + \operatorname{logit}\pi_{\mathrm{new}} - \operatorname{logit}\pi`.

    Valid when only the base rate changes and the class-conditional distributions :math:`p(x\mid t)`
    stay the same (prior shift).

    >>> prior_shift([0.0], prior_train=0.5, prior_new=0.2).round(4).tolist()
    [-1.3863]
    """
    z = _array(np.atleast_1d(z), "z", 1)
    pi, pi_new = _number(prior_train, "prior_train", 0.0, 1.0), _number(prior_new, "prior_new", 0.0, 1.0)
    return z + np.log(pi_new / (1 - pi_new)) - np.log(pi / (1 - pi))
