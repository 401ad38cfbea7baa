"""Tests of mathcore.data: deterministic generators, documented label coding, clear errors."""

import numpy as np
import pytest

from mathcore import data


def test_height_weight_shape_balance_and_determinism():
    d = data.height_weight(n_per_class=50, seed=3)
    assert d.X.shape == (100, 2) and d.t.shape == (100,)
    assert d.class_counts() == {"group B": 50, "group A": 50}
    again = data.height_weight(n_per_class=50, seed=3)
    assert np.array_equal(d.X, again.X) and np.array_equal(d.t, again.t)
    other = data.height_weight(n_per_class=50, seed=4)
    assert not np.array_equal(d.X, other.X)


def test_height_weight_moments_match_parameters():
    d = data.height_weight(n_per_class=20000, seed=0)
    p = data.HEIGHT_WEIGHT_PARAMS
    for k, mean in ((1, p["mean_1"]), (0, p["mean_0"])):
        Xk = d.X[d.t == k]
        np.testing.assert_allclose(Xk.mean(axis=0), mean, atol=0.25)
        np.testing.assert_allclose(Xk.std(axis=0), p["std"], rtol=0.03)
        assert abs(np.corrcoef(Xk.T)[0, 1] - p["correlation"]) < 0.02


def test_bayes_posterior_is_logistic():
    """The shared-covariance Gaussian posterior equals sigmoid(w.x + b) with the returned (w, b)."""
    from scipy.special import expit
    from scipy.stats import multivariate_normal

    w, b = data.height_weight_bayes()
    p = data.HEIGHT_WEIGHT_PARAMS
    s, r = p["std"], p["correlation"]
    cov = np.array([[s[0] ** 2, r * s[0] * s[1]], [r * s[0] * s[1], s[1] ** 2]])
    x = np.random.default_rng(0).normal([168, 66], [10, 12], size=(200, 2))
    l1, l0 = multivariate_normal(p["mean_1"], cov).pdf(x), multivariate_normal(p["mean_0"], cov).pdf(x)
    np.testing.assert_allclose(l1 / (l1 + l0), expit(x @ w + b), rtol=1e-9, atol=1e-12)
    w2, b2 = data.height_weight_bayes(prior_1=0.8)
    np.testing.assert_allclose(w2, w)
    assert b2 == pytest.approx(b + np.log(4))


def test_add_far_points_does_not_modify_input_and_labels_class_1():
    d = data.height_weight(n_per_class=30)
    X_before = d.X.copy()
    far = data.add_far_points(d, n=7)
    assert np.array_equal(d.X, X_before)
    assert far.n_samples == 67 and np.all(far.t[-7:] == 1)
    assert np.all(far.X[-7:].mean(axis=0) > d.X[d.t == 1].mean(axis=0) + 10)


def test_breast_cancer_label_coding_is_explicit():
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer()
    mal = data.load_breast_cancer()
    assert mal.target_names == ("benign", "malignant")
    assert mal.class_counts() == {"benign": 357, "malignant": 212}
    np.testing.assert_array_equal(mal.t, (raw.target == 0).astype(float))
    ben = data.load_breast_cancer(positive="benign")
    np.testing.assert_array_equal(ben.t, raw.target.astype(float))
    assert "0 = malignant" in mal.description


def test_iris_binary_subsets():
    d = data.load_iris_binary()
    assert d.X.shape == (100, 2) and d.t.sum() == 50
    assert d.target_names == ("versicolor", "virginica")
    rest = data.load_iris_binary(negative="rest", positive="setosa")
    assert rest.X.shape == (150, 2) and rest.t.sum() == 50


def test_toys():
    x = data.xor(n=200, seed=1)
    assert x.X.shape == (200, 2) and set(np.unique(x.t)) == {0.0, 1.0}
    # label = opposite signs of the cluster centre: check on points close to their centres
    clean = data.xor(n=400, noise=0.0, seed=2)
    np.testing.assert_array_equal(clean.t, (np.sign(clean.X[:, 0]) != np.sign(clean.X[:, 1])).astype(float))
    m = data.moons(n=100, seed=0)
    assert m.X.shape == (100, 2)
    s = data.separable_1d()
    assert s.X.shape == (4, 1)
    assert data.load_digits().X.shape == (1797, 64)
    assert data.load_iris().target_names == ("setosa", "versicolor", "virginica")


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: data.height_weight(n_per_class=0), ValueError, "n_per_class"),
        (lambda: data.height_weight(n_per_class=2.5), TypeError, "n_per_class"),
        (lambda: data.height_weight(seed=-1), ValueError, "seed"),
        (lambda: data.height_weight_bayes(prior_1=1.0), ValueError, "prior_1"),
        (lambda: data.add_far_points("not a dataset"), TypeError, "data"),
        (lambda: data.add_far_points(data.separable_1d()), ValueError, "2 features"),
        (lambda: data.add_far_points(data.height_weight(10), shift=(1, np.nan)), ValueError, "shift"),
        (lambda: data.xor(noise=-1), ValueError, "noise"),
        (lambda: data.load_breast_cancer(positive="yes"), ValueError, "positive"),
        (lambda: data.load_iris_binary(positive="rose"), ValueError, "positive"),
        (lambda: data.load_iris_binary(negative="setosa", positive="setosa"), ValueError, "different"),
        (lambda: data.load_iris_binary(features=("petal area",)), ValueError, "features"),
    ],
)
def test_bad_input_names_the_argument(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
