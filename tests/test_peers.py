"""mathcore's fits against peers: statsmodels (unpenalised MLE) and scikit-learn (L2, multinomial).

Both sides run with tight tolerances, so the comparisons are between optima, not
between stopping points. The objectives are the same: scikit-learn minimises
``C * sum(loss) + 0.5 * ||w||^2``, mathcore the same divided by ``C * N``.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from mathcore.models import LogisticRegression, SoftmaxRegression


@pytest.fixture(scope="module")
def synthetic():
    """Overlapping classes (not separable), features on different scales."""
    rng = np.random.default_rng(42)
    n, d = 500, 4
    X = rng.standard_normal((n, d)) * np.array([1.0, 3.0, 0.5, 2.0]) + np.array([0.0, 1.0, -1.0, 0.5])
    w = np.array([0.8, -0.3, 1.5, 0.2])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 0.4)))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_unpenalised_fit_equals_statsmodels_logit(synthetic, solver):
    X, y = synthetic
    res = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    ref = np.asarray(res.params)  # [intercept, w...]
    clf = LogisticRegression(penalty=None, solver=solver, tol=1e-10, max_iter=500).fit(X, y)
    np.testing.assert_allclose(clf.coef_[0], ref[1:], rtol=1e-6)
    np.testing.assert_allclose(clf.intercept_[0], ref[0], rtol=1e-6)
    # and the optimum: the mean log-likelihood
    assert clf.history_.loss[-1] == pytest.approx(-res.llf / len(y), rel=1e-12)


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_l2_fit_equals_scikit_learn(synthetic, C, solver):
    X, y = synthetic
    ref = SkLogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    clf = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=500).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-6)


def test_l2_fit_without_intercept_equals_scikit_learn(synthetic):
    X, y = synthetic
    ref = SkLogisticRegression(C=0.5, fit_intercept=False, solver="newton-cholesky", tol=1e-12).fit(X, y)
    clf = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_multinomial_fit_equals_scikit_learn_on_iris(iris, solver):
    X, y = iris
    ref = SkLogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    clf = SoftmaxRegression(C=1.0, solver=solver, tol=1e-8, max_iter=1000).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_newton_irls_on_iris_versicolor_vs_virginica(iris):
    """The textbook example: petal length and width, unpenalised, Newton/IRLS."""
    X, y = iris
    keep = y > 0
    clf = LogisticRegression(penalty=None, solver="newton", tol=1e-10).fit(X[keep][:, 2:4], y[keep])
    assert list(clf.classes_) == [1, 2]  # virginica (2) is the positive class
    np.testing.assert_allclose(clf.coef_[0], [5.7545, 10.4467], atol=1e-4)
    np.testing.assert_allclose(clf.intercept_[0], -45.2723, atol=1e-4)
    assert clf.n_iter_ <= 12


def test_every_solver_reaches_the_same_optimum():
    """Well-conditioned problem: Newton and L-BFGS to 1e-8; gradient descent to 1e-6; SGD to 2e-2.

    Gradient descent needs about ``L/mu`` times as many iterations (here a few hundred);
    SGD with steps ``eta_0 / (1 + epoch)`` converges like ``1/epoch``, hence its looser
    tolerance after 100 epochs.
    """
    rng = np.random.default_rng(7)
    X = rng.standard_normal((400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.25] + 0.3)))).astype(int)
    ref = SkLogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12).fit(X, y)
    expected = {"newton": 1e-8, "lbfgs": 1e-8, "gd": 1e-6, "sgd": 2e-2}
    for solver, atol in expected.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # sgd runs to max_iter
            clf = LogisticRegression(C=1.0, solver=solver, tol=1e-10 if atol < 1e-6 else 1e-7,
                                     max_iter=100 if solver == "sgd" else 2000,
                                     batch_size=40, random_state=0).fit(X, y)
        np.testing.assert_allclose(clf.coef_, ref.coef_, atol=atol, err_msg=solver)
        np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=atol, err_msg=solver)
