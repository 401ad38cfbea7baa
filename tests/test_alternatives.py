"""Tests of mathcore.alternatives (Chapter 11's numerical helpers) and mathcore.symbolic.generative.

The helpers are checked against independent implementations (scikit-learn's LDA and liblinear, SciPy's
Gaussian densities, brute-force minimisation, a plain loop) and for the errors they raise on bad input.
"""

import doctest
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import multivariate_normal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from mathcore import alternatives as alt
from mathcore.symbolic import generative as gen
from mathcore.symbolic.derivations import Derivation


def gaussian_data(n=300, d=3, seed=0, prior=0.4):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    cov = A @ A.T + d * np.eye(d)
    t = (rng.random(n) < prior).astype(float)
    X = rng.normal(size=(n, d)) @ np.linalg.cholesky(cov).T + t[:, None] * rng.normal(size=d)
    return X, t


def small_logistic_data(n=120, d=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = np.r_[2.0, -1.0, 0.5, np.zeros(d)][:d]
    t = (rng.random(n) < expit(X @ w_true + 0.3)).astype(float)
    return X, t


def test_doctests_of_the_module_pass():
    result = doctest.testmod(alt)
    assert result.attempted >= 6 and result.failed == 0


# --------------------------------------------------------------------------------------------------
# LDA
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d,seed,prior", [(1, 0, 0.5), (2, 1, 0.3), (3, 2, 0.7)])
def test_lda_from_the_formula_matches_scikit_learn(d, seed, prior):
    X, t = gaussian_data(d=d, seed=seed, prior=prior)
    stats = alt.pooled_class_statistics(X, t)
    w, b = alt.lda_coefficients(*stats)
    sk = LinearDiscriminantAnalysis(solver="lsqr").fit(X, t)
    np.testing.assert_allclose(stats.covariance, sk.covariance_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w, sk.coef_[0], rtol=1e-10, atol=1e-12)
    assert abs(b - sk.intercept_[0]) < 1e-10
    assert stats.prior1 == pytest.approx(t.mean())


def test_lda_coefficients_give_the_bayes_log_odds():
    # Independent check: the log-ratio of SciPy's Gaussian densities plus the prior log-odds.
    rng = np.random.default_rng(3)
    mean0, mean1 = rng.normal(size=3), rng.normal(size=3)
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    prior1 = 0.25
    w, b = alt.lda_coefficients(mean0, mean1, cov, prior1)
    x = rng.normal(size=(10, 3))
    log_odds = (multivariate_normal(mean1, cov).logpdf(x) - multivariate_normal(mean0, cov).logpdf(x)
                + np.log(prior1 / (1 - prior1)))
    np.testing.assert_allclose(x @ w + b, log_odds, rtol=1e-10, atol=1e-10)


def test_pooled_covariance_divides_by_n():
    X = np.array([[0.0], [2.0], [10.0], [14.0]])
    stats = alt.pooled_class_statistics(X, [0, 0, 1, 1])
    # deviations from the class means: -1, 1, -2, 2 -> (1 + 1 + 4 + 4) / 4
    assert stats.covariance[0, 0] == pytest.approx(2.5)
    assert stats.mean0.tolist() == [1.0] and stats.mean1.tolist() == [12.0]


# --------------------------------------------------------------------------------------------------
# soft threshold and the L1 fit
# --------------------------------------------------------------------------------------------------


def test_soft_threshold_values_and_signed_zeros():
    out = alt.soft_threshold([3.0, -0.5, 1.2, -2.0, 0.8, 0.0], 1.0)
    np.testing.assert_allclose(out, [2.0, 0.0, 0.2, -1.0, 0.0, 0.0])
    assert not np.any(np.signbit(out[out == 0]))           # +0.0, never -0.0
    np.testing.assert_array_equal(alt.soft_threshold([1.5, -2.5], 0.0), [1.5, -2.5])
    assert alt.soft_threshold(-3.0, 1.0).shape == ()


@pytest.mark.parametrize("v", [-2.3, -0.7, 0.0, 0.4, 1.0, 3.1])
def test_soft_threshold_is_the_proximal_step(v):
    tau = 0.9
    grid = np.linspace(-5, 5, 200_001)
    brute = grid[np.argmin(0.5 * (grid - v) ** 2 + tau * np.abs(grid))]
    assert abs(float(alt.soft_threshold(v, tau)) - brute) < 1e-4


def kkt_violation(X, t, fit, alpha):
    r = expit(X @ fit.w + fit.b) - t
    g = X.T @ r
    on = fit.w != 0
    return max(np.abs(g[on] + alpha * np.sign(fit.w[on])).max(initial=0.0),
               np.max(np.abs(g[~on]) - alpha, initial=0.0), abs(r.sum()))


@pytest.mark.parametrize("alpha", [0.5, 3.0, 10.0])
def test_l1_fit_satisfies_the_optimality_conditions_and_matches_liblinear(alpha):
    X, t = small_logistic_data()
    fit = alt.fit_l1_logistic(X, t, alpha)
    assert fit.converged and kkt_violation(X, t, fit, alpha) < 1e-6
    sk = SkLogisticRegression(l1_ratio=1.0, solver="liblinear", C=1 / alpha, tol=1e-10,
                              intercept_scaling=1e5, max_iter=10_000, random_state=0).fit(X, t)
    np.testing.assert_array_equal(sk.coef_[0] != 0, fit.w != 0)
    np.testing.assert_allclose(fit.w, sk.coef_[0], atol=1e-4)
    assert abs(fit.b - sk.intercept_[0]) < 1e-4


def test_l1_fit_is_zero_above_alpha_max_and_warm_starts_agree():
    X, t = small_logistic_data()
    alpha_max = np.abs(X.T @ (t.mean() - t)).max()
    above = alt.fit_l1_logistic(X, t, 1.01 * alpha_max)
    assert not above.w.any() and above.b == pytest.approx(np.log(t.mean() / (1 - t.mean())))
    below = alt.fit_l1_logistic(X, t, 0.9 * alpha_max)
    assert np.count_nonzero(below.w) >= 1
    cold = alt.fit_l1_logistic(X, t, 1.0)
    warm = alt.fit_l1_logistic(X, t, 1.0, w0=below.w, b0=below.b)
    np.testing.assert_allclose(cold.w, warm.w, atol=1e-7)


def test_l1_fit_reports_when_it_stops_early():
    X, t = small_logistic_data()
    fit = alt.fit_l1_logistic(X, t, 1.0, max_iter=3)
    assert not fit.converged and fit.n_iter == 3


# --------------------------------------------------------------------------------------------------
# gradient descent on separable data and angles
# --------------------------------------------------------------------------------------------------

SEPARABLE = (np.array([[1.0, 2.0], [2.5, 2.5], [3.0, 1.5], [-2.0, -0.5], [-3.0, -2.0], [-1.5, -3.0]]),
             np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))


def test_gd_iterates_match_a_plain_loop():
    X, t = SEPARABLE
    step = 0.3
    W = alt.logistic_gd_iterates(X, t, [1, 5, 40], step=step)
    w = np.zeros(2)
    seen = {}
    for k in range(1, 41):
        w = w - step * X.T @ (expit(X @ w) - t) / len(t)
        seen[k] = w.copy()
    np.testing.assert_allclose(W, [seen[1], seen[5], seen[40]], rtol=1e-12, atol=1e-14)


def test_gd_on_separable_data_grows_and_turns_towards_the_max_margin_direction():
    X, t = SEPARABLE
    signs = 2 * t - 1
    qp = minimize(lambda w: 0.5 * w @ w, np.ones(2), jac=lambda w: w, method="SLSQP",
                  constraints=[{"type": "ineq", "fun": lambda w: signs * (X @ w) - 1}],
                  options={"ftol": 1e-14})
    W = alt.logistic_gd_iterates(X, t, [10, 100, 1000, 10_000])
    norms = np.linalg.norm(W, axis=1)
    angles = [alt.angle_between(w, qp.x) for w in W]
    assert np.all(np.diff(norms) > 0) and np.all(np.diff(angles) < 0)


def test_angle_between():
    assert alt.angle_between([1.0, 0.0], [0.0, 2.0]) == pytest.approx(np.pi / 2)
    assert alt.angle_between([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(np.pi)
    assert alt.angle_between([3.0, 4.0], [6.0, 8.0]) == 0.0
    tiny = 1e-10
    assert alt.angle_between([1.0, 0.0], [np.cos(tiny), np.sin(tiny)]) == pytest.approx(tiny, rel=1e-6)


# --------------------------------------------------------------------------------------------------
# bad input: the error names the argument, what was expected and what was received
# --------------------------------------------------------------------------------------------------

X_OK, T_OK = small_logistic_data(n=20, d=2)
BAD_CALLS = [
    (lambda: alt.pooled_class_statistics([1.0, 2.0], [0, 1]), ValueError, "X: expected a 2-D"),
    (lambda: alt.pooled_class_statistics(X_OK, T_OK[:5]), ValueError, "t: expected shape (20,)"),
    (lambda: alt.pooled_class_statistics(X_OK, 2 * T_OK), ValueError, "t: expected labels in {0, 1}"),
    (lambda: alt.pooled_class_statistics(X_OK, np.zeros(20)), ValueError, "t: expected both classes"),
    (lambda: alt.pooled_class_statistics(np.full((3, 2), np.nan), [0, 1, 1]), ValueError,
     "X: expected finite numbers"),
    (lambda: alt.pooled_class_statistics("abc", [0, 1]), TypeError, "X: expected an array"),
    (lambda: alt.lda_coefficients([0.0], [1.0, 2.0], [[1.0]], 0.5), ValueError, "mean1: expected shape"),
    (lambda: alt.lda_coefficients([0.0, 0.0], [1.0, 1.0], [[1.0]], 0.5), ValueError,
     "covariance: expected shape (2, 2)"),
    (lambda: alt.lda_coefficients([0.0, 0.0], [1.0, 1.0], [[1.0, 0.5], [0.0, 1.0]], 0.5), ValueError,
     "covariance: expected a symmetric matrix"),
    (lambda: alt.lda_coefficients([0.0, 0.0], [1.0, 1.0], [[1.0, 2.0], [2.0, 1.0]], 0.5), ValueError,
     "covariance: expected a positive-definite matrix"),
    (lambda: alt.lda_coefficients([0.0], [1.0], [[1.0]], 1.0), ValueError, "prior1: expected a probability"),
    (lambda: alt.lda_coefficients([0.0], [1.0], [[1.0]], "half"), TypeError, "prior1: expected a real"),
    (lambda: alt.soft_threshold([1.0], -1.0), ValueError, "threshold: expected a number >= 0, got -1.0"),
    (lambda: alt.soft_threshold([np.inf], 1.0), ValueError, "v: expected finite numbers"),
    (lambda: alt.soft_threshold("x", 1.0), TypeError, "v: expected a number or an array"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, 0.0), ValueError, "alpha: expected a positive number, got 0.0"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, True), TypeError, "alpha: expected a real number, got True"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, 1.0, max_iter=0), ValueError, "max_iter: expected an integer >= 1"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, 1.0, max_iter=2.5), TypeError, "max_iter: expected an integer"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, 1.0, w0=[0.0]), ValueError, "w0: expected shape (2,)"),
    (lambda: alt.fit_l1_logistic(X_OK, T_OK, 1.0, tol=-1.0), ValueError, "tol: expected a positive number"),
    (lambda: alt.logistic_gd_iterates(X_OK, T_OK, [5, 3]), ValueError, "record: expected increasing"),
    (lambda: alt.logistic_gd_iterates(X_OK, T_OK, [0, 3]), ValueError, "record: expected increasing"),
    (lambda: alt.logistic_gd_iterates(X_OK, T_OK, [1.5]), ValueError, "record: expected a non-empty"),
    (lambda: alt.logistic_gd_iterates(X_OK, T_OK, [3], step=-0.1), ValueError, "step: expected a positive"),
    (lambda: alt.angle_between([0.0, 0.0], [1.0, 0.0]), ValueError, "u: expected a non-zero vector"),
    (lambda: alt.angle_between([1.0, 0.0], [1.0, 0.0, 0.0]), ValueError, "v: expected shape (2,)"),
]


@pytest.mark.parametrize("call,error,message", BAD_CALLS, ids=[m for _, _, m in BAD_CALLS])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error) as info:
        call()
    text = str(info.value)
    assert message in text and "expected" in text


def test_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"got shape \(5,\)"):
        alt.pooled_class_statistics(X_OK, T_OK[:5])
    with pytest.raises(ValueError, match=r"got the values \[2\.0\]"):
        alt.pooled_class_statistics(X_OK, np.where(T_OK == 1, 2.0, 0.0))
    with pytest.raises(ValueError, match="smallest eigenvalue -1"):
        alt.lda_coefficients([0.0, 0.0], [1.0, 1.0], [[1.0, 2.0], [2.0, 1.0]], 0.5)


# --------------------------------------------------------------------------------------------------
# mathcore.symbolic.generative
# --------------------------------------------------------------------------------------------------

BUILDERS = [getattr(gen, name) for name in gen.__all__]


@pytest.mark.parametrize("build", BUILDERS, ids=gen.__all__)
def test_every_generative_derivation_holds_and_renders(build):
    derivation = build()
    result = derivation.verify()
    assert result, result.how
    latex = derivation.latex()
    assert isinstance(latex, str) and latex


def test_proved_claims_say_so_and_fixed_size_ones_give_their_scope():
    assert gen.lda_log_odds()["G1b"].verify().how == "proved symbolically"
    assert gen.lda_log_odds()["G1c"].verify().how.endswith("for D = 2 only")
    assert "evidence" in gen.soft_threshold_prox()["G4d"].verify().how


def test_wrong_lda_weights_are_rejected():
    # Dropping Sigma^{-1} from w is a common slip; the check must catch it.
    correct = gen.lda_log_odds()["G1b"]
    D = correct.lhs.shape[0]
    mu0, mu1 = sp.MatrixSymbol("mu_0", D, 1), sp.MatrixSymbol("mu_1", D, 1)
    wrong = Derivation("x", "wrong", "w = mu1 - mu0", lhs=correct.lhs, rhs=mu1 - mu0)
    assert not wrong.verify()


def test_a_hard_threshold_is_not_the_l1_proximal_step():
    claim = gen.soft_threshold_prox()["G4d"]
    w, w_step = sp.Symbol("w", real=True), sp.Symbol("w'", real=True)
    alpha = sp.Symbol("alpha", positive=True)
    hard = sp.Piecewise((w_step, sp.Abs(w_step) > alpha), (0, True))
    wrong = Derivation("x", "hard threshold", "", lhs=claim.lhs, rhs=claim.lhs.subs(w, hard),
                       relation=">=")
    assert not wrong.verify(n_points=40)
    assert claim.lhs.free_symbols == {w, w_step, alpha}      # the substitution above did bite


@pytest.mark.parametrize("d,degree", [(1, 1), (2, 2), (3, 3), (4, 2), (6, 3)])
def test_polynomial_feature_count(d, degree):
    assert gen.polynomial_feature_count(d, degree).verify()


@pytest.mark.parametrize("d,degree", [(0, 2), (2, 7), (True, 2), (2.0, 2)])
def test_polynomial_feature_count_refuses_bad_sizes(d, degree):
    with pytest.raises(ValueError, match="expected an integer from 1 to 6"):
        gen.polynomial_feature_count(d, degree)


def test_naive_bayes_doubling_is_also_what_scikit_learn_does():
    from sklearn.naive_bayes import GaussianNB

    X, t = gaussian_data(d=1, seed=4)
    x_te = np.linspace(-3, 3, 7)[:, None]
    one, two = GaussianNB().fit(X, t), GaussianNB().fit(np.repeat(X, 2, axis=1), t)
    prior = np.log(one.class_prior_[1] / one.class_prior_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e1 = np.diff(one.predict_log_proba(x_te), axis=1)[:, 0] - prior
        e2 = np.diff(two.predict_log_proba(np.repeat(x_te, 2, axis=1)), axis=1)[:, 0] - prior
    np.testing.assert_allclose(e2, 2 * e1, rtol=1e-12, atol=1e-12)


def test_boolean_features_are_refused():
    """True/False arrays are not silently read as 0/1 features."""
    with pytest.raises(TypeError, match=r"^X: expected an array of real numbers, got booleans"):
        alt.pooled_class_statistics(np.array([[True, False], [False, True], [True, True]]), np.array([0, 1, 1]))
