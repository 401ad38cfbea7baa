"""mathcore.inference against statsmodels and SciPy, its docstring examples, its input checks, and the
SymPy derivations of mathcore.symbolic.statistics."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import proportion_confint

import mathcore.inference as inf
from mathcore.models import LogisticRegression
from mathcore.symbolic import statistics as mst


@pytest.fixture(scope="module")
def problem():
    """A well-conditioned, overlapping problem: 300 samples, 3 features, known coefficients."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    t = (rng.random(300) < stats.logistic.cdf(X @ [1.0, -0.5, 0.0] + 0.3)).astype(float)
    fit = LogisticRegression(penalty=None, tol=1e-12).fit(X, t)
    peer = sm.Logit(t, sm.add_constant(X, prepend=False)).fit(disp=0, tol=1e-12)
    return X, t, fit, peer


def test_docstring_examples():
    for module in (inf, mst):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- standard errors
def test_coefficient_table_matches_statsmodels(problem):
    X, t, fit, peer = problem
    table = inf.coefficient_table(fit, X, t)
    np.testing.assert_allclose(table.estimate, peer.params, atol=1e-8)
    np.testing.assert_allclose(table.se, peer.bse, rtol=1e-7)
    np.testing.assert_allclose(table.wald, peer.tvalues, rtol=1e-7)
    np.testing.assert_allclose(table.p_value, peer.pvalues, rtol=1e-6)
    np.testing.assert_allclose(np.c_[table.ci_low, table.ci_high], peer.conf_int(), atol=1e-7)
    np.testing.assert_allclose(table.information, -peer.model.hessian(peer.params), rtol=1e-8)
    np.testing.assert_allclose(table.cov @ table.information, np.eye(4), atol=1e-10)
    assert table.nll == pytest.approx(-peer.llf, rel=1e-10)
    odds, low, high = table.odds_ratios()
    np.testing.assert_allclose([odds, low, high], np.exp([table.estimate, table.ci_low, table.ci_high]))


def test_coefficient_table_accepts_scikit_learn_and_other_levels(problem):
    X, t, _, peer = problem
    sk = SkLogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, t)
    table = inf.coefficient_table(sk, X, t, level=0.9)
    np.testing.assert_allclose(np.c_[table.ci_low, table.ci_high], peer.conf_int(alpha=0.1), atol=1e-6)


def test_fisher_information_is_the_glm_weighted_gram_matrix(problem):
    X, t, fit, peer = problem
    info = inf.fisher_information(X, fit.coef_, fit.intercept_[0])
    glm = sm.GLM(t, sm.add_constant(X, prepend=False), family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(np.linalg.inv(info), glm.cov_params(), rtol=1e-6)
    assert inf.fisher_information(X, fit.coef_[0], fit.intercept_[0]).shape == (4, 4)


def test_coefficient_table_refuses_a_penalised_fit(problem):
    X, t, _, _ = problem
    with pytest.raises(ValueError, match=r"estimator: expected an unpenalised fit .* got penalty='l2', C=1.0"):
        inf.coefficient_table(LogisticRegression(C=1.0).fit(X, t), X, t)


def test_coefficient_table_refuses_data_that_are_not_the_training_data(problem):
    X, t, fit, _ = problem
    with pytest.raises(ValueError, match="estimator: expected the maximum-likelihood estimate"):
        inf.coefficient_table(fit, X, 1 - t)
    with pytest.raises(ValueError, match="X: expected 3 columns like the fitted coef_, got 2"):
        inf.coefficient_table(fit, X[:, :2], t)
    with pytest.raises(ValueError, match="t: expected 300 values"):
        inf.coefficient_table(fit, X, t[:-1])
    with pytest.raises(ValueError, match="t: expected binary targets 0/1, got the value 2.0"):
        inf.coefficient_table(fit, X, np.where(t == 1, 2.0, 0.0))


def test_coefficient_table_refuses_unfitted_and_singular():
    with pytest.raises(TypeError, match="estimator: expected a fitted classifier with coef_"):
        inf.coefficient_table(LogisticRegression(penalty=None), [[0.0], [1.0]], [0, 1])

    class Fitted:  # duck-typed estimator at a point where every p_i is 0 or 1 to machine precision
        coef_ = np.array([[1600.0, 0.0]])
        intercept_ = np.array([-800.0])

    X = np.c_[[0.0, 0.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]]
    with pytest.raises(ValueError, match="X: the Fisher information is singular"):
        inf.coefficient_table(Fitted(), X, [0, 0, 1, 1])


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, float("nan")])
def test_bad_level(problem, level):
    X, t, fit, _ = problem
    with pytest.raises(ValueError, match=r"level: expected a number in \(0, 1\)"):
        inf.coefficient_table(fit, X, t, level=level)


@pytest.mark.parametrize("X, message", [
    ("abc", "X: expected an array of numbers, got str"),
    ([1.0, 2.0], r"X: expected a 2-D array, got shape \(2,\)"),
    ([[1.0], [np.nan]], "X: expected finite numbers, got 1 nan/inf"),
    (np.empty((0, 2)), "X: expected at least one value"),
])
def test_add_intercept_bad_input(X, message):
    with pytest.raises((TypeError, ValueError), match=message):
        inf.add_intercept(X)


def test_fisher_information_bad_coef():
    with pytest.raises(ValueError, match="coef: expected 2 weights .* got 3"):
        inf.fisher_information([[0.0, 1.0]], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="intercept: expected a number, got str"):
        inf.fisher_information([[0.0, 1.0]], [1.0, 2.0], intercept="0")


# --------------------------------------------------------------------------- tests
def test_wald_test_matches_statsmodels(problem):
    X, t, fit, peer = problem
    table = inf.coefficient_table(fit, X, t)
    for index in ([1], [2, 3], [1, 2, 3]):
        ours = inf.wald_test(table.estimate, table.cov, index)
        theirs = peer.wald_test(np.eye(4)[index], scalar=True)
        assert ours.statistic == pytest.approx(float(theirs.statistic), rel=1e-6)
        assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-5, abs=1e-300)
        assert ours.df == len(index)
    single = inf.wald_test(table.estimate, table.cov, 1)
    assert single.statistic == pytest.approx(table.wald[1] ** 2) and single.p_value == pytest.approx(table.p_value[1])


def test_likelihood_ratio_test_matches_statsmodels(problem):
    X, t, fit, peer = problem
    table = inf.coefficient_table(fit, X, t)
    small = sm.Logit(t, sm.add_constant(X[:, :1], prepend=False)).fit(disp=0, tol=1e-12)
    lr = inf.likelihood_ratio_test(-small.llf, table.nll, df=2)
    assert lr.statistic == pytest.approx(2 * (peer.llf - small.llf), rel=1e-8)
    assert lr.p_value == pytest.approx(stats.chi2.sf(2 * (peer.llf - small.llf), 2), rel=1e-6)
    null = inf.likelihood_ratio_test(-peer.llnull, table.nll, df=3)
    assert null.statistic == pytest.approx(peer.llr, rel=1e-8)
    assert null.p_value == pytest.approx(peer.llr_pvalue, rel=1e-6)


def test_bad_test_input():
    with pytest.raises(ValueError, match=r"cov: expected shape \(2, 2\), got \(3, 3\)"):
        inf.wald_test([1.0, 2.0], np.eye(3), 0)
    for index in (2, [0, 0], [], True, [1.5]):
        with pytest.raises(ValueError, match="index: expected distinct positions in 0..1"):
            inf.wald_test([1.0, 2.0], np.eye(2), index)
    with pytest.raises(ValueError, match="nll_small: expected at least nll_big"):
        inf.likelihood_ratio_test(5.0, 8.0, 1)
    with pytest.raises(ValueError, match="df: expected an integer >= 1, got 0"):
        inf.likelihood_ratio_test(8.0, 5.0, 0)
    with pytest.raises(ValueError, match=r"nll_big: expected a number in \[0, inf\)"):
        inf.likelihood_ratio_test(8.0, -1.0, 1)


# --------------------------------------------------------------------------- deviance
def test_deviance_matches_statsmodels_glm(problem):
    X, t, fit, peer = problem
    z = fit.decision_function(X)
    glm = sm.GLM(t, sm.add_constant(X, prepend=False), family=sm.families.Binomial()).fit(tol=1e-12)
    assert inf.deviance(t, z) == pytest.approx(glm.deviance, rel=1e-9)
    assert inf.null_deviance(t) == pytest.approx(glm.null_deviance, rel=1e-9)
    assert inf.mcfadden_r2(t, z) == pytest.approx(peer.prsquared, rel=1e-8)
    assert inf.null_deviance(t) - inf.deviance(t, z) == pytest.approx(peer.llr * 1, rel=1e-8)


def test_bernoulli_nll_is_stable_and_matches_log_loss():
    z = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = inf.bernoulli_nll(t, z)
    p = stats.logistic.cdf(z[1:4])
    assert value == pytest.approx(-np.sum(t[1:4] * np.log(p) + (1 - t[1:4]) * np.log(1 - p)), rel=1e-12)


def test_bad_deviance_input():
    with pytest.raises(ValueError, match="z: expected 2 logits .* got 3"):
        inf.deviance([0, 1], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="t: expected both classes"):
        inf.null_deviance([1, 1, 1])


# --------------------------------------------------------------------------- test metrics
def test_wilson_interval_matches_statsmodels():
    for successes, n, level in [(162, 171, 0.95), (0, 20, 0.95), (20, 20, 0.9), (7, 30, 0.99)]:
        ours = inf.wilson_interval(successes, n, level)
        theirs = proportion_confint(successes, n, alpha=1 - level, method="wilson")
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_bootstrap_interval_percentiles_and_pairing():
    rng = np.random.default_rng(3)
    t = (rng.random(200) < 0.4).astype(float)
    s = t + rng.normal(size=200)
    result = inf.bootstrap_interval(roc_auc_score, t, s, n_resamples=300, seed=5)
    assert result.estimate == pytest.approx(roc_auc_score(t, s))
    assert result.replicates.shape == (300,)
    assert result.low == pytest.approx(np.percentile(result.replicates, 2.5))
    assert result.high == pytest.approx(np.percentile(result.replicates, 97.5))
    # the replicates are the metric on resamples drawn with numpy's Generator(seed)
    idx = np.random.default_rng(5).integers(0, 200, 200)
    assert result.replicates[0] == pytest.approx(roc_auc_score(t[idx], s[idx]))
    # same seed, same answer; a paired difference of a score with itself is exactly 0
    again = inf.bootstrap_interval(roc_auc_score, t, s, n_resamples=300, seed=5)
    np.testing.assert_array_equal(result.replicates, again.replicates)
    diff = inf.bootstrap_interval(lambda t_, a, b: roc_auc_score(t_, a) - roc_auc_score(t_, b),
                                  t, [s, s], n_resamples=50)
    assert diff.low == diff.high == diff.estimate == 0.0


def test_bootstrap_redraws_resamples_with_one_class():
    t = np.r_[1.0, np.zeros(9)]
    result = inf.bootstrap_interval(roc_auc_score, t, np.arange(10.0), n_resamples=50)
    assert np.all(np.isfinite(result.replicates))


def test_bad_metric_input():
    with pytest.raises(TypeError, match="metric: expected a callable"):
        inf.bootstrap_interval("auc", [0, 1], [0.1, 0.9])
    with pytest.raises(ValueError, match=r"scores\[1\]: expected 2 values"):
        inf.bootstrap_interval(roc_auc_score, [0, 1], [[0.1, 0.9], [0.1, 0.9, 0.5]])
    with pytest.raises(ValueError, match="t: expected both classes"):
        inf.bootstrap_interval(roc_auc_score, [1, 1], [0.1, 0.9])
    with pytest.raises(TypeError, match="scores: expected an array or a sequence of arrays, got str"):
        inf.bootstrap_interval(roc_auc_score, [0, 1], "0.1 0.9")
    with pytest.raises(ValueError, match="n_resamples: expected an integer >= 10, got 5"):
        inf.bootstrap_interval(roc_auc_score, [0, 1], [0.1, 0.9], n_resamples=5)
    with pytest.raises(ValueError, match="successes: expected at most n = 10, got 11"):
        inf.wilson_interval(11, 10)
    with pytest.raises(ValueError, match="n: expected an integer >= 1, got 0"):
        inf.wilson_interval(0, 0)


# --------------------------------------------------------------------------- decisions
def test_cost_threshold_minimises_expected_cost():
    rng = np.random.default_rng(4)
    p = rng.random(20_000)
    t = (rng.random(20_000) < p).astype(float)   # calibrated by construction
    taus = np.linspace(0, 1, 101)
    for c_fp, c_fn, away in [(1.0, 1.0, 0.25), (1.0, 9.0, 0.25), (3.0, 1.0, -0.25)]:
        p_star = inf.cost_threshold(c_fp, c_fn)
        at_star, far = inf.expected_cost(t, p, [p_star, p_star + away], c_fp, c_fn)
        # the expected cost is flat at its minimum, so compare values, not locations
        assert at_star <= inf.expected_cost(t, p, taus, c_fp, c_fn).min() + 0.003
        assert far > at_star + 0.01


def test_expected_cost_by_hand():
    t = np.array([1, 1, 0, 0, 1.0])
    p = np.array([0.9, 0.2, 0.6, 0.1, 0.5])
    cost = inf.expected_cost(t, p, [0.5], c_fp=2.0, c_fn=7.0)
    assert cost.tolist() == [(7.0 * 1 + 2.0 * 1) / 5]


def test_prior_shift_is_bayes_rule():
    # posterior from class densities f1, f0 under two priors
    f1, f0 = np.array([0.3, 2.0, 0.01]), np.array([1.0, 0.5, 0.2])
    def post(pi):
        return pi * f1 / (pi * f1 + (1 - pi) * f0)
    z = np.log(post(0.6) / (1 - post(0.6)))
    np.testing.assert_allclose(stats.logistic.cdf(inf.prior_shift(z, 0.6, 0.05)), post(0.05), rtol=1e-12)


def test_bad_decision_input():
    with pytest.raises(ValueError, match="c_fn: expected c_fp \\+ c_fn > 0"):
        inf.cost_threshold(0.0, 0.0)
    with pytest.raises(ValueError, match=r"c_fp: expected a number in \[0, inf\), got -1.0"):
        inf.cost_threshold(-1.0, 1.0)
    with pytest.raises(ValueError, match=r"p: expected probabilities in \[0, 1\]"):
        inf.expected_cost([0, 1], [0.5, 1.5], [0.5], 1.0, 1.0)
    with pytest.raises(ValueError, match=r"prior_new: expected a number in \(0, 1\), got 1.0"):
        inf.prior_shift([0.0], 0.5, 1.0)
    with pytest.raises(TypeError, match="prior_train: expected a number, got str"):
        inf.prior_shift([0.0], "0.5", 0.1)


# --------------------------------------------------------------------------- symbolic
@pytest.mark.parametrize("key", sorted(mst.STATISTICS))
def test_statistics_derivations_hold(key):
    derivation = mst.STATISTICS[key]()
    result = derivation.verify()
    assert result, (key, result)
    assert derivation.latex()


def test_fisher_information_derivation_sizes_and_scope():
    assert mst.bernoulli_fisher_information(d=1).verify()
    assert "D = 3 only" in mst.bernoulli_fisher_information(d=3).verify().how
    with pytest.raises(ValueError, match="d: expected an int in"):
        mst.bernoulli_fisher_information(d=0)


def test_a_wrong_threshold_fails():
    """The check is not vacuous: the swapped threshold c_FN/(c_FP + c_FN) does not pass."""
    import sympy as sp

    from mathcore.symbolic import verify

    item = mst.bayes_threshold()["S6a"]
    p = sp.Symbol("p", real=True)
    c_fp, c_fn = sp.symbols(r"c_{\mathrm{FP}} c_{\mathrm{FN}}", positive=True)
    assert verify(item.lhs, (c_fp + c_fn) * (c_fp / (c_fp + c_fn) - p))
    assert not verify(item.lhs, (c_fp + c_fn) * (c_fn / (c_fp + c_fn) - p))


def test_booleans_and_non_integer_counts_are_refused():
    """True/False arrays are not silently read as 0/1, and a float count is a type error."""
    with pytest.raises(TypeError, match=r"^t: expected an array of numbers, got ndarray"):
        inf.bernoulli_nll(np.array([True, False]), np.array([0.3, -0.2]))
    with pytest.raises(TypeError, match=r"^n: expected an integer >= 1, got 2.5 of type float"):
        inf.wilson_interval(1, 2.5)
