"""Tests of mathcore.gradcheck: one gradient three ways (generated code, autograd, FD)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mathcore.gradcheck as gc
from mathcore.gradcheck import check_gradient, finite_difference_gradient, relative_error

N, D, K, H = 40, 4, 3, 5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    t = (rng.random(N) < 0.5).astype(float)
    Y = np.eye(K)[rng.integers(0, K, N)]
    return {
        "X": X,
        "t": t,
        "w": rng.normal(size=D),
        "Y": Y,
        "W": rng.normal(size=(D, K)),
        "mlp": rng.normal(size=D * H + 2 * H + 1),
    }


def _arguments(loss, data):
    if loss == "softmax_ce":
        return (data["X"], data["Y"], data["W"]), {}
    if loss == "relu_mlp":
        return (data["X"], data["t"], data["mlp"]), {}
    if loss == "logistic_l2":
        return (data["X"], data["t"], data["w"]), {"lam": 0.7}
    return (data["X"], data["t"], data["w"]), {}


@pytest.mark.parametrize("mean", [True, False])
@pytest.mark.parametrize("loss", gc.GRADCHECK_LOSSES)
def test_three_gradients_agree(loss, mean, data):
    args, kwargs = _arguments(loss, data)
    result = check_gradient(loss, *args, mean=mean, **kwargs)
    assert result.loss == loss
    assert result.max_rel_error <= 1e-8, result.max_rel_error
    assert result.agrees(1e-8)
    w = args[2]
    for gradient in (result.symbolic, result.autograd, result.finite_diff):
        assert gradient.shape == w.shape and gradient.dtype == np.float64
    # the gradient is not trivially zero
    assert np.abs(result.autograd).max() > 1e-3


def test_mean_is_sum_divided_by_n(data):
    summed = check_gradient("logistic", data["X"], data["t"], data["w"], mean=False)
    mean = check_gradient("logistic", data["X"], data["t"], data["w"], mean=True)
    assert np.allclose(mean.symbolic * N, summed.symbolic, rtol=1e-14, atol=0)


def test_brief_d5_package_checks(data):
    # torch.autograd.grad of BCEWithLogitsLoss(reduction='sum') equals X^T (sigmoid(Xw) - t)
    X, t = torch.tensor(data["X"]), torch.tensor(data["t"])
    w = torch.tensor(data["w"], requires_grad=True)
    loss = torch.nn.BCEWithLogitsLoss(reduction="sum")(X @ w, t)
    (autograd,) = torch.autograd.grad(loss, w)
    closed_form = X.T @ (torch.sigmoid(X @ w.detach()) - t)
    assert torch.allclose(autograd, closed_form, atol=1e-10, rtol=0)
    # and a finite-difference check of the same gradient
    def numpy_loss(v):
        z = data["X"] @ v
        return np.sum(np.logaddexp(0.0, z) - data["t"] * z)

    fd = finite_difference_gradient(numpy_loss, data["w"])
    assert relative_error(fd, closed_form.numpy()) < 1e-8


def test_a_wrong_gradient_is_caught(monkeypatch, data):
    original = gc._symbolic_gradient

    def off_by_a_bit(loss, X, t, w, lam):
        return original(loss, X, t, w, lam) * (1 + 1e-6)

    monkeypatch.setattr(gc, "_symbolic_gradient", off_by_a_bit)
    result = check_gradient("logistic", data["X"], data["t"], data["w"])
    assert not result.agrees(1e-8)
    assert 5e-7 < result.max_rel_error < 2e-6


def test_mse_gradient_differs_from_cross_entropy(data):
    mse = check_gradient("mse_sigmoid", data["X"], data["t"], data["w"])
    ce = check_gradient("logistic", data["X"], data["t"], data["w"])
    assert relative_error(mse.symbolic, ce.symbolic) > 0.1


def test_relu_convention_matches_torch_at_zero():
    # the generated ReLU derivative pins the kink to 0 like torch.relu's backward
    import sympy as sp

    import mathcore.symbolic as ms

    a = sp.Symbol("a", real=True)
    slope = sp.diff(ms.relu(a), a).subs(sp.Heaviside(a), sp.Heaviside(a, 0))
    f = ms.to_numpy(slope, [a])
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.relu(x).sum().backward()
    assert np.array_equal(f(np.array([-1.0, 0.0, 2.0])), x.grad.numpy())


def test_finite_difference_gradient_of_known_functions():
    w = np.array([1.0, -2.0, 0.5])
    assert np.allclose(finite_difference_gradient(lambda v: float(np.sum(v**2)), w), 2 * w, rtol=1e-9)
    W = np.arange(6.0).reshape(2, 3) / 10
    g = finite_difference_gradient(lambda v: float(np.sum(np.sin(v))), W)
    assert g.shape == W.shape and np.allclose(g, np.cos(W), rtol=1e-9)
    # w itself is not modified
    assert np.array_equal(w, [1.0, -2.0, 0.5])


def test_relative_error():
    a = np.array([1.0, 0.0, -2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a + np.array([0.0, 2e-6, 0.0])) == pytest.approx(1e-6)
    with pytest.raises(ValueError, match="b: expected shape"):
        relative_error(a, np.zeros(2))


def test_finite_difference_bad_input():
    w = np.zeros(2)
    with pytest.raises(TypeError, match="f: expected a callable"):
        finite_difference_gradient("loss", w)
    with pytest.raises(TypeError, match="w: expected a numpy.ndarray"):
        finite_difference_gradient(np.sum, [0.0, 0.0])
    with pytest.raises(TypeError, match="w: expected dtype float64, got int64"):
        finite_difference_gradient(np.sum, np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="eps: expected a positive number"):
        finite_difference_gradient(np.sum, w, eps=0)
    with pytest.raises(ValueError, match="f: expected a finite scalar"):
        finite_difference_gradient(lambda v: np.nan, w)


def test_check_gradient_bad_input(data):
    X, t, w = data["X"], data["t"], data["w"]
    with pytest.raises(ValueError, match="loss: expected one of"):
        check_gradient("hinge", X, t, w)
    with pytest.raises(TypeError, match="X: expected dtype float64, got float32"):
        check_gradient("logistic", X.astype(np.float32), t, w)
    with pytest.raises(TypeError, match="X: expected a numpy.ndarray"):
        check_gradient("logistic", torch.tensor(X), t, w)
    with pytest.raises(ValueError, match=r"X: expected a 2-D array"):
        check_gradient("logistic", X[:, 0].copy(), t, w)
    with pytest.raises(ValueError, match=r"t: expected shape \(40,\)"):
        check_gradient("logistic", X, t[:-1], w)
    with pytest.raises(ValueError, match=r"w: expected shape \(4,\)"):
        check_gradient("logistic", X, t, w[:-1])
    with pytest.raises(ValueError, match="X: expected finite values"):
        check_gradient("logistic", np.full_like(X, np.nan), t, w)
    with pytest.raises(ValueError, match="lam: expected a non-negative number"):
        check_gradient("logistic_l2", X, t, w)
    with pytest.raises(ValueError, match="lam: only used by loss 'logistic_l2'"):
        check_gradient("logistic", X, t, w, lam=1.0)
    with pytest.raises(ValueError, match=r"t: expected one-hot shape \(40, 3\)"):
        check_gradient("softmax_ce", X, data["Y"][:, :2].copy(), data["W"])
    with pytest.raises(ValueError, match="t: expected a 2-D array"):
        check_gradient("softmax_ce", X, t, data["W"])
    with pytest.raises(ValueError, match="w: expected length D\\*H"):
        check_gradient("relu_mlp", X, t, np.zeros(8))


def test_relu_mlp_refuses_points_at_the_kink(data):
    X, t = data["X"], data["t"]
    params = data["mlp"].copy()
    W1 = params[: D * H].reshape(D, H)
    # put the first hidden pre-activation of sample 0 exactly on the kink
    params[D * H] = -(X[0] @ W1[:, 0])
    with pytest.raises(ValueError, match="kink"):
        check_gradient("relu_mlp", X, t, params)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_logistic_gradient_agrees_on_random_data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    t = rng.random(n)  # soft labels work too
    w = rng.normal(size=d)
    result = check_gradient("logistic", X, t, w)
    # Symbolic code and autograd evaluate the same formula: they agree to rounding.
    assert relative_error(result.symbolic, result.autograd) < 1e-12
    # Central differences carry an absolute error of about eps**2 * f''' + ulp / eps (~1e-11 here), so
    # near a stationary point (tiny gradient) a *relative* error can exceed 1e-8 without anything being
    # wrong: measure it against max(1, |gradient|).
    scale = max(1.0, float(np.abs(result.autograd).max()))
    assert np.abs(result.finite_diff - result.autograd).max() <= 1e-8 * scale, result.max_rel_error
    expected = X.T @ (scipy.special.expit(X @ w) - t) / n
    assert np.allclose(result.symbolic, expected, rtol=1e-13, atol=1e-15)
