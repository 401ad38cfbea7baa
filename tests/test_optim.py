"""Tests of mathcore.optim: objectives (values, gradients, Hessians) and the four solvers."""

import os
import signal
import threading

import numpy as np
import pytest
import scipy.special
import torch

import mathcore.symbolic as ms
from mathcore import optim
from mathcore.optim import _blocked, _fused, solvers, workers

F64 = torch.float64


def make_binary(n=300, d=4, seed=0, scale=1.0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64) * scale
    w = torch.randn(d, generator=g, dtype=F64)
    t = (torch.rand(n, generator=g, dtype=F64) < torch.sigmoid(X @ w - 0.3)).to(F64)
    return X.to(dtype), t.to(dtype)


def make_multiclass(n=300, d=3, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    W = torch.randn(k, d, generator=g, dtype=F64)
    y = torch.multinomial(torch.softmax(X @ W.T, dim=1), 1, generator=g)[:, 0]
    return X, y


def reference_binary(theta, X, t, lam, fit_intercept):
    """The documented objective, written with autograd-friendly torch ops."""
    d = X.shape[1]
    w = theta[:d]
    z = X @ w + (theta[d] if fit_intercept else 0.0)
    n = X.shape[0]
    return (torch.nn.functional.softplus(z) - t * z).mean() + lam / (2 * n) * (w @ w)


def reference_softmax(theta, X, y, k, lam, fit_intercept):
    n, d = X.shape
    M = theta.view(k, d + int(fit_intercept))
    W = M[:, :d]
    Z = X @ W.T + (M[:, d] if fit_intercept else 0.0)
    return torch.nn.functional.cross_entropy(Z, y) + lam / (2 * n) * (W * W).sum()


# --------------------------------------------------------------------------- #
# Objectives
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("d", [4, 40], ids=["narrow", "wide (prefetched blocks)"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("lam", [0.0, 2.5])
def test_logistic_value_grad_hessian_match_autograd(fit_intercept, lam, d):
    X, t = make_binary(d=d)
    obj = optim.LogisticObjective(X, t, lam=lam, fit_intercept=fit_intercept, block_rows=64)
    theta = torch.randn(obj.n_params, dtype=F64, generator=torch.Generator().manual_seed(1))
    f, g = obj.value_grad(theta)
    H = obj.hessian(theta)

    th = theta.clone().requires_grad_(True)
    f_ref = reference_binary(th, X, t, lam, fit_intercept)
    (g_ref,) = torch.autograd.grad(f_ref, th)
    H_ref = torch.autograd.functional.hessian(lambda v: reference_binary(v, X, t, lam, fit_intercept), theta)

    torch.testing.assert_close(f, f_ref.detach(), rtol=1e-13, atol=0)
    torch.testing.assert_close(obj.value(theta), f_ref.detach(), rtol=1e-13, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=1e-11, atol=1e-14)
    torch.testing.assert_close(H, H_ref, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("lam", [0.0, 2.5])
def test_softmax_value_grad_hessian_match_autograd(fit_intercept, lam):
    X, y = make_multiclass()
    k = 4
    obj = optim.SoftmaxObjective(X, y, k, lam=lam, fit_intercept=fit_intercept, block_rows=50)
    theta = torch.randn(obj.n_params, dtype=F64, generator=torch.Generator().manual_seed(2))
    f, g = obj.value_grad(theta)

    def ref(v):
        return reference_softmax(v, X, y, k, lam, fit_intercept)

    th = theta.clone().requires_grad_(True)
    f_ref = ref(th)
    (g_ref,) = torch.autograd.grad(f_ref, th)
    torch.testing.assert_close(f, f_ref.detach(), rtol=1e-13, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=1e-11, atol=1e-14)

    # The Hessian equals autograd's on directions that change the model (orthogonal
    # to "same vector added to every class" on unpenalised coordinates); those null
    # directions get a positive curvature so Newton's system is solvable.
    H = obj.hessian(theta)
    H_ref = torch.autograd.functional.hessian(ref, theta)
    C = obj.n_cols
    free = torch.ones(C, dtype=F64)
    if lam > 0:
        free[:] = 0.0
        if fit_intercept:
            free[-1] = 1.0
    P = torch.kron(torch.full((k, k), 1.0 / k, dtype=F64), torch.diag(free))
    Q = torch.eye(k * C, dtype=F64) - P
    torch.testing.assert_close(Q @ H @ Q, Q @ H_ref @ Q, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(H, H.T)
    assert torch.linalg.eigvalsh(H)[0] > 0
    # the gradient never has a component along the null directions
    assert float((P @ g).abs().max()) < 1e-14


def test_blocked_equals_unblocked_and_minibatch_of_all_rows():
    X, t = make_binary(n=1001, d=5)
    theta = torch.linspace(-1, 1, 6, dtype=F64)
    one = optim.LogisticObjective(X, t, lam=1.0, block_rows=10_000)
    many = optim.LogisticObjective(X, t, lam=1.0, block_rows=7)
    f1, g1 = one.value_grad(theta)
    f2, g2 = many.value_grad(theta)
    torch.testing.assert_close(f1, f2, rtol=1e-14, atol=0)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-15)
    f3, g3 = many.value_grad(theta, rows=torch.arange(1001))
    torch.testing.assert_close(f1, f3, rtol=1e-14, atol=0)
    torch.testing.assert_close(g1, g3, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(one.hessian(theta), many.hessian(theta), rtol=1e-12, atol=1e-15)


def test_minibatch_keeps_full_data_penalty_weight():
    X, t = make_binary(n=100, d=3)
    obj = optim.LogisticObjective(X, t, lam=4.0)
    theta = torch.tensor([0.5, -1.0, 2.0, 0.3], dtype=F64)
    rows = torch.tensor([3, 17, 42])
    f = obj.value(theta, rows=rows)
    sub = optim.LogisticObjective(X[rows], t[rows], lam=4.0 * 3 / 100)  # same lam/N
    torch.testing.assert_close(f, sub.value(theta), rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_stay_finite_and_exact(dtype):
    X = torch.tensor([[1.0], [1.0], [-1.0], [-1.0]], dtype=dtype)
    t = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    obj = optim.LogisticObjective(X, t, fit_intercept=False)
    w = torch.tensor([1000.0], dtype=dtype)  # z = +-1000
    f, g = obj.value_grad(w)
    # rows 2 and 3 are wrong by a margin of 1000: loss 1000 each, the others 0
    torch.testing.assert_close(f, torch.tensor(500.0, dtype=dtype))
    assert torch.isfinite(g).all()
    torch.testing.assert_close(g, torch.tensor([0.5], dtype=dtype))  # (0 + 1 + 1 + 0) / 4
    H = obj.hessian(w)
    assert torch.isfinite(H).all()


def test_lipschitz_bounds_the_hessian():
    X, t = make_binary(n=200, d=3, scale=3.0)
    obj = optim.LogisticObjective(X, t, lam=2.0)
    L = obj.lipschitz()
    for seed in range(5):
        theta = torch.randn(4, dtype=F64, generator=torch.Generator().manual_seed(seed)) * 0.1
        assert float(torch.linalg.eigvalsh(obj.hessian(theta))[-1]) <= L * (1 + 1e-12)
    # without penalty, at theta = 0 every s_i = 1/4, so the bound is attained
    obj0 = optim.LogisticObjective(X, t)
    lam_max = float(torch.linalg.eigvalsh(obj0.hessian(torch.zeros(4, dtype=F64)))[-1])
    assert lam_max == pytest.approx(obj0.lipschitz(), rel=1e-10)

    Xm, y = make_multiclass()
    sobj = optim.SoftmaxObjective(Xm, y, 4, lam=1.0)
    Lm = sobj.lipschitz()
    theta = torch.zeros(sobj.n_params, dtype=F64)
    # compare with the real Hessian (without the null-space term): Q H Q
    H = sobj.hessian(theta)
    P = torch.kron(torch.full((4, 4), 0.25, dtype=F64), torch.diag(torch.tensor([0, 0, 0, 1.0], dtype=F64)))
    Q = torch.eye(16, dtype=F64) - P
    assert float(torch.linalg.eigvalsh(Q @ H @ Q)[-1]) <= Lm


def test_separation_certificates():
    X = torch.tensor([[-2.0], [-1.0], [1.0], [2.0]], dtype=F64)
    t = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=F64)
    obj = optim.LogisticObjective(X, t)
    assert obj.min_margin(torch.tensor([1.0, 0.0], dtype=F64)) == pytest.approx(1.0)
    assert obj.min_margin(torch.tensor([-1.0, 0.0], dtype=F64)) < 0
    assert obj.separates(torch.tensor([1.0, 0.0], dtype=F64))
    # the scores rank the classes correctly; only the intercept is off: still a proof
    assert obj.separates(torch.tensor([1.0, 5.0], dtype=F64))
    assert not obj.separates(torch.tensor([-1.0, 0.0], dtype=F64))
    # without intercept the threshold is 0
    no_b = optim.LogisticObjective(X, t, fit_intercept=False)
    assert no_b.separates(torch.tensor([1.0], dtype=F64))
    overlap = optim.LogisticObjective(X, torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64))
    assert not overlap.separates(torch.tensor([1.0, 0.0], dtype=F64))

    # three classes on a line: class 0 (left) is cut off, classes 1 and 2 overlap
    Xm = torch.tensor([[-5.0], [-4.0], [0.0], [1.0], [0.5], [1.5]], dtype=F64)
    y = torch.tensor([0, 0, 1, 2, 2, 1])
    sobj = optim.SoftmaxObjective(Xm, y, 3)
    theta = torch.tensor([-2.0, 0.0, 1.0, 0.0, 1.0, 0.0], dtype=F64)  # rows [w_k, b_k]
    assert sobj.separated_classes(theta) == [0]
    assert sobj.separated_classes(torch.zeros(6, dtype=F64)) == []


def test_objective_rejects_bad_arguments():
    X, t = make_binary(n=10, d=2)
    with pytest.raises(ValueError, match="lam"):
        optim.LogisticObjective(X, t, lam=-1.0)
    with pytest.raises(ValueError, match="shapes"):
        optim.LogisticObjective(X, t[:-1])
    with pytest.raises(TypeError, match="t: expected dtype"):
        optim.LogisticObjective(X, t.float())
    with pytest.raises(TypeError, match="int64"):
        optim.SoftmaxObjective(X, t, 2)
    with pytest.raises(ValueError, match="n_classes"):
        optim.SoftmaxObjective(X, t.long(), 1)
    with pytest.raises(ValueError, match="theta0"):
        optim.lbfgs(optim.LogisticObjective(X, t), theta0=torch.zeros(5, dtype=F64))


# --------------------------------------------------------------------------- #
# Solvers
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def problem():
    X, t = make_binary(n=400, d=5, seed=3)
    obj = optim.LogisticObjective(X, t, lam=1.0)
    theta_star, hist = optim.newton(obj, tol=1e-13)
    assert hist.converged
    return obj, theta_star, hist.loss[-1]


def test_newton_and_lbfgs_reach_the_optimum(problem):
    obj, theta_star, f_star = problem
    for solver in (optim.newton, optim.lbfgs):
        theta, hist = solver(obj, tol=1e-10)
        assert hist.converged, hist.message
        assert hist.grad_norm[-1] <= 1e-10 or "machine precision" in hist.message
        torch.testing.assert_close(theta, theta_star, rtol=1e-8, atol=1e-9)
        assert hist.loss[-1] - f_star < 1e-14


def test_newton_converges_quadratically(problem):
    obj, _, _ = problem
    _, hist = optim.newton(obj, tol=1e-12)
    assert hist.n_iter <= 8
    g = hist.grad_norm
    # once close, each step roughly squares the gradient norm
    k = next(i for i, v in enumerate(g) if v < 1e-3)
    if k + 1 < len(g) and g[k + 1] > 1e-15:
        assert g[k + 1] < 10 * g[k] ** 1.5


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_newton_solve_through_lapack_equals_the_torch_path(dtype):
    """On the CPU the Newton step calls LAPACK's posv directly (``solvers._solve_spd``): the same
    solution as the torch Cholesky path, inputs untouched, and for a singular Hessian the torch
    path's regularised fallback."""
    rng = np.random.default_rng(7)
    A = rng.standard_normal((40, 31))
    H = torch.from_numpy(A.T @ A + 0.1 * np.eye(31)).to(dtype)  # condition number ~ 300
    rhs = torch.from_numpy(rng.standard_normal(31)).to(dtype)
    H0, rhs0 = H.clone(), rhs.clone()
    x = solvers._solve_spd(H, rhs)
    assert x.dtype == dtype and x.shape == (31,)
    tol = 1e-12 if dtype == torch.float64 else 1e-3
    torch.testing.assert_close(x, solvers._solve_spd_torch(H, rhs), rtol=tol, atol=0)
    torch.testing.assert_close(H @ x, rhs, rtol=0, atol=100 * tol)
    assert torch.equal(H, H0) and torch.equal(rhs, rhs0)
    singular = torch.eye(3, dtype=dtype)
    singular[2, 2] = 0.0  # posv stops at the zero pivot; the torch path adds a small multiple of I
    ones = torch.ones(3, dtype=dtype)
    x = solvers._solve_spd(singular, ones)
    torch.testing.assert_close(x, solvers._solve_spd_torch(singular, ones), rtol=1e-6, atol=0)
    assert torch.isfinite(x).all() and x[2] > 1e6  # a long step along the flat direction


def test_gradient_descent_reaches_the_optimum(problem):
    obj, theta_star, f_star = problem
    theta, hist = optim.gradient_descent(obj, tol=1e-7, max_iter=5000)
    assert hist.converged
    assert hist.loss[-1] - f_star < 1e-12
    torch.testing.assert_close(theta, theta_star, rtol=0, atol=1e-5)
    # with the step 1/L the loss never increases
    assert all(b <= a + 1e-15 for a, b in zip(hist.loss, hist.loss[1:], strict=False))


def test_sgd_reaches_the_optimum_to_a_looser_tolerance(problem):
    obj, theta_star, f_star = problem
    theta, hist = optim.sgd(obj, batch_size=50, max_iter=200, tol=0.0, lr_decay=0.1, seed=0)
    assert not hist.converged and hist.n_iter == 200
    assert hist.loss[-1] - f_star < 1e-5
    torch.testing.assert_close(theta, theta_star, rtol=0, atol=1e-2)


def test_sgd_is_reproducible_with_a_seed(problem):
    obj, _, _ = problem
    a, _ = optim.sgd(obj, batch_size=32, max_iter=3, seed=7)
    b, _ = optim.sgd(obj, batch_size=32, max_iter=3, seed=7)
    c, _ = optim.sgd(obj, batch_size=32, max_iter=3, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_fixed_learning_rate_too_large_diverges_but_stays_finite():
    X, t = make_binary(n=200, d=2, seed=4)
    obj = optim.LogisticObjective(X, t, lam=1.0)
    L = obj.lipschitz()
    _, good = optim.gradient_descent(obj, learning_rate=1.0 / L, max_iter=30, tol=0.0)
    _, bad = optim.gradient_descent(obj, learning_rate=50.0 / L, max_iter=30, tol=0.0)
    assert good.loss[-1] < bad.loss[-1]
    assert np.isfinite(bad.loss).all()


def test_history_is_consistent(problem):
    obj, _, _ = problem
    seen = []
    theta, hist = optim.lbfgs(obj, tol=1e-8, callback=lambda h: seen.append(len(h.loss)))
    n = hist.n_iter
    assert len(hist.loss) == len(hist.grad_norm) == len(hist.time) == len(hist.coef_norm) == n + 1
    assert seen == list(range(1, n + 2))
    assert all(b >= a for a, b in zip(hist.time, hist.time[1:], strict=False))
    assert hist.coef_norm[0] == 0.0
    assert hist.coef_norm[-1] == pytest.approx(float(obj.coef_norm(theta)))
    assert hist.loss[0] == pytest.approx(np.log(2))  # theta = 0: p = 1/2 everywhere


def test_max_iter_stops_and_reports_not_converged(problem):
    obj, _, _ = problem
    for solver in (optim.newton, optim.lbfgs, optim.gradient_descent):
        _, hist = solver(obj, tol=1e-12, max_iter=1)
        assert not hist.converged
        assert hist.n_iter == 1
        assert "max_iter" in hist.message


def test_theta0_and_data_are_not_modified(problem):
    obj, theta_star, _ = problem
    X0, t0 = obj.X.clone(), obj.t.clone()
    start = torch.full((obj.n_params,), 0.1, dtype=F64)
    start0 = start.clone()
    for solver in (optim.newton, optim.lbfgs, optim.gradient_descent):
        theta, _ = solver(obj, theta0=start, max_iter=3)
        assert theta.data_ptr() != start.data_ptr()
    optim.sgd(obj, theta0=start, max_iter=1)
    assert torch.equal(start, start0)
    assert torch.equal(obj.X, X0) and torch.equal(obj.t, t0)


def test_newton_on_separable_data_stays_finite_while_norm_grows():
    X = torch.tensor([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]], dtype=F64)
    t = torch.tensor([0, 0, 0, 1, 1, 1], dtype=F64)
    obj = optim.LogisticObjective(X, t)
    theta, hist = optim.newton(obj, tol=1e-30, max_iter=40)
    assert torch.isfinite(theta).all()
    assert np.isfinite(hist.loss).all() and np.isfinite(hist.grad_norm).all()
    assert all(b <= a for a, b in zip(hist.loss, hist.loss[1:], strict=False))
    assert hist.coef_norm[-1] > 10 * hist.coef_norm[2]
    assert obj.min_margin(theta) > 0


def test_solvers_work_in_float32():
    X, t = make_binary(n=300, d=4, dtype=torch.float32)
    obj32 = optim.LogisticObjective(X, t, lam=1.0)
    obj64 = optim.LogisticObjective(X.double(), t.double(), lam=1.0)
    ref, _ = optim.newton(obj64, tol=1e-12)
    for solver in (optim.newton, optim.lbfgs):
        theta, hist = solver(obj32, tol=1e-6)
        assert theta.dtype == torch.float32
        assert hist.converged, hist.message
        torch.testing.assert_close(theta.double(), ref, rtol=0, atol=2e-5)


def test_softmax_solvers_agree():
    X, y = make_multiclass(n=300, d=3, k=3, seed=5)
    obj = optim.SoftmaxObjective(X, y, 3, lam=1.0)
    ref, hist = optim.newton(obj, tol=1e-12)
    assert hist.converged and hist.n_iter <= 10
    theta, hist = optim.lbfgs(obj, tol=1e-9)
    assert hist.converged
    torch.testing.assert_close(theta, ref, rtol=0, atol=1e-7)
    # rows of [W, b] sum to zero over the classes: the intercepts because they are
    # unpenalised and start at zero, the weights because the penalty prefers it
    torch.testing.assert_close(ref.view(3, 4).sum(0), torch.zeros(4, dtype=F64), rtol=0, atol=1e-12)


def test_unpenalised_softmax_newton_handles_the_singular_hessian():
    X, y = make_multiclass(n=300, d=2, k=3, seed=6)
    obj = optim.SoftmaxObjective(X, y, 3, lam=0.0)
    theta, hist = optim.newton(obj, tol=1e-11)
    assert hist.converged
    theta2, hist2 = optim.lbfgs(obj, tol=1e-9)
    assert hist2.converged
    torch.testing.assert_close(theta, theta2, rtol=0, atol=1e-6)
    torch.testing.assert_close(theta.view(3, 3).sum(0), torch.zeros(3, dtype=F64), rtol=0, atol=1e-12)


def _both_paths(monkeypatch, make, threads, path="blocked"):
    """(reference, fast) results of ``make()``: the plain one-expression path first, then X forced onto a
    fast path (``"blocked"``: the torch blocks; ``"fused"``: the numba kernel; ``"small"``: NumPy)."""
    from mathcore.optim import logistic

    monkeypatch.setattr(logistic, "SMALL_MAX_ENTRIES", -1)
    reference = make()
    if path == "small":
        monkeypatch.setattr(logistic, "SMALL_MAX_ENTRIES", 2**40)
    else:
        monkeypatch.setattr(_blocked, "PARALLEL_MIN_ENTRIES", 0)
    if path == "blocked":
        monkeypatch.setattr(_fused, "numba", None)
    elif path == "fused" and not _fused.available():
        pytest.skip("numba is not installed")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with workers.solver_threads():
            fast = make()
        assert torch.get_num_threads() == threads  # the caller's setting is restored
        if threads > 1 and path == "blocked":  # the block workers run single-threaded operations
            assert set(workers.pool(threads).map(lambda _: torch.get_num_threads(), range(6))) == {1}
    finally:
        torch.set_num_threads(before)
    return reference, fast


@pytest.mark.parametrize("path", ["blocked", "fused", "small"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("shape", [(2001, 40), (50, 1), (7, 3), (3000, 5)], ids=str)
@pytest.mark.parametrize("intercept", [True, False])
def test_fast_path_equals_reference_path(monkeypatch, shape, intercept, threads, weighted, path):
    """The fast paths (torch blocks in threads; the fused numba kernel; NumPy for small X) give the plain
    one-expression result.

    Shapes include N smaller than one block, D = 1 and wide data (prefetched blocks);
    X is a non-contiguous view in half of the cases.
    """
    n, d = shape
    X, t = make_binary(n=n, d=d, seed=9)
    if n % 2:  # a column-strided view of a wider matrix
        X = torch.cat([X, X], dim=1)[:, ::2]
    theta = torch.linspace(-0.2, 0.2, d + intercept, dtype=F64)
    s = torch.linspace(0.0, 2.0, n, dtype=F64) if weighted else None

    def logistic():
        obj = optim.LogisticObjective(X, t, lam=0.5, fit_intercept=intercept, block_rows=16, sample_weight=s)
        return (*obj.value_grad(theta), obj.value(theta), obj.hessian(theta))

    ref, fast = _both_paths(monkeypatch, logistic, threads, path)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)

    Xm, y = make_multiclass(n=n, d=d, k=3, seed=4)
    th = torch.linspace(-0.3, 0.3, 3 * (d + intercept), dtype=F64)

    def softmax():
        obj = optim.SoftmaxObjective(Xm, y, 3, lam=0.5, fit_intercept=intercept, block_rows=16,
                                     sample_weight=s)
        return (*obj.value_grad(th), obj.value(th), obj.hessian(th))

    ref, fast = _both_paths(monkeypatch, softmax, threads, path)
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_the_fit_trains_on_the_generated_functions(monkeypatch):
    """The objectives' loss and dl/dz are the functions mathcore.symbolic generates (same objects): for
    torch on the reference path, for NumPy on the small-problem path."""
    from mathcore.optim import logistic

    X, t = make_binary(n=30, d=2)
    generated = ms.objective_functions("logistic", "torch")
    small = optim.LogisticObjective(X, t)  # 60 entries: the NumPy path
    assert small.np_fns is ms.objective_functions("logistic", "numpy")
    monkeypatch.setattr(logistic, "SMALL_MAX_ENTRIES", -1)
    obj = optim.LogisticObjective(X, t)
    assert obj.fns is generated
    assert ms.gradient_function("logistic", "torch").generated[0] is generated.dloss_dz
    assert optim.SoftmaxObjective(*make_multiclass(n=30, d=2, k=3), 3).fns is ms.objective_functions(
        "softmax_ce", "torch")
    # and the gradient is X^T dloss_dz(X w + b, t) / N, bitwise
    theta = torch.tensor([0.3, -0.2, 0.1], dtype=F64)
    _, g = obj.value_grad(theta)
    r = generated.dloss_dz(X @ theta[:2] + theta[2], t)
    assert torch.equal(g[:2], (X.T @ r) / len(t))
    Xn, tn, thn = X.numpy(), t.numpy(), theta.numpy()
    r_np = small.np_fns.dloss_dz(Xn @ thn[:2] + thn[2], tn)
    assert np.array_equal(small.value_grad(theta)[1].numpy()[:2], Xn.T @ r_np / len(t))
    # with sample weights, the generated weighted dl/dz
    s = torch.linspace(0.5, 1.5, len(t), dtype=F64)
    _, g = optim.LogisticObjective(X, t, sample_weight=s).value_grad(theta)
    r = generated.weighted_dloss_dz(X @ theta[:2] + theta[2], t, s)
    assert torch.equal(g[:2], (X.T @ r) / len(t))


def test_cpu_solvers_run_in_the_callers_thread_with_single_threaded_torch():
    """A profiler sees the solver's own frames: no hidden worker thread; torch's setting is restored."""
    X, t = make_binary(n=300, d=4, seed=11)
    obj = optim.LogisticObjective(X, t, lam=1.0)
    before = torch.get_num_threads()
    seen = []
    torch.set_num_threads(2)
    try:
        theta_2, hist = optim.newton(
            obj, tol=1e-10, callback=lambda h: seen.append((threading.current_thread(), torch.get_num_threads())))
        assert torch.get_num_threads() == 2  # the caller's setting is back
        torch.set_num_threads(1)
        theta_1, _ = optim.newton(obj, tol=1e-10)
    finally:
        torch.set_num_threads(before)
    assert seen and all(entry == (threading.current_thread(), 1) for entry in seen)
    assert torch.equal(theta_2, theta_1)  # the same single-threaded arithmetic
    assert hist.converged


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_stops_a_solver_and_restores_the_thread_setting():
    X, t = make_binary(n=2000, d=5, seed=12)
    obj = optim.LogisticObjective(X, t, lam=1.0)
    iterations = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the solver limits it to 1 while it runs
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    # A process started in the background by a non-interactive shell ignores SIGINT: restore Python's
    # handler, or the signal would never arrive and the solver would run for ever.
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            optim.gradient_descent(obj, tol=0.0, max_iter=10**9, callback=lambda h: iterations.append(1))
        assert torch.get_num_threads() == 2
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
        torch.set_num_threads(before)
    assert iterations


def test_worker_threads_leave_torch_thread_settings_alone():
    X, t = make_binary(n=20_000, d=40, seed=13)  # large enough for parallel passes
    obj = optim.LogisticObjective(X, t, lam=1.0)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        optim.lbfgs(obj, max_iter=3)
        assert torch.get_num_threads() == 2
        # a thread started afterwards gets the caller's setting, not the workers' 1
        seen = []
        thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert seen == [2]
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("block_rows,error,match", [
    (0, ValueError, r"^block_rows: expected an integer >= 1, got 0"),
    (-5, ValueError, r"^block_rows: expected an integer >= 1, got -5"),
    (2.5, TypeError, r"^block_rows: expected an integer, got 2.5 of type float"),
    (True, TypeError, r"^block_rows: expected an integer, got True"),
])
def test_bad_block_rows_is_an_error_not_a_silent_rounding(block_rows, error, match):
    X, t = make_binary(n=50, d=3)
    with pytest.raises(error, match=match):
        optim.LogisticObjective(X, t, block_rows=block_rows)
    y = torch.zeros(50, dtype=torch.int64)
    with pytest.raises(error, match=match):
        optim.SoftmaxObjective(X, y, 2, block_rows=block_rows)


def test_weighted_objectives_match_autograd():
    """Sample weights: value, gradient and Hessian against the weighted loss written out for autograd."""
    X, t = make_binary(d=4)
    s = torch.rand(len(t), dtype=F64, generator=torch.Generator().manual_seed(3)) * 2
    obj = optim.LogisticObjective(X, t, lam=1.5, sample_weight=s)
    theta = torch.randn(obj.n_params, dtype=F64, generator=torch.Generator().manual_seed(4))

    def ref(v):
        z = X @ v[:4] + v[4]
        return (s * (torch.nn.functional.softplus(z) - t * z)).mean() + 1.5 / (2 * len(t)) * (v[:4] @ v[:4])

    th = theta.clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad(ref(th), th)
    f, g = obj.value_grad(theta)
    torch.testing.assert_close(f, ref(theta), rtol=1e-13, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=1e-11, atol=1e-14)
    torch.testing.assert_close(obj.hessian(theta), torch.autograd.functional.hessian(ref, theta),
                               rtol=1e-11, atol=1e-14)

    Xm, y = make_multiclass()
    sm = torch.rand(len(y), dtype=F64, generator=torch.Generator().manual_seed(5))
    objm = optim.SoftmaxObjective(Xm, y, 4, lam=0.0, sample_weight=sm)
    thm = torch.randn(objm.n_params, dtype=F64, generator=torch.Generator().manual_seed(6))

    def refm(v):
        M = v.view(4, Xm.shape[1] + 1)
        Z = Xm @ M[:, :-1].T + M[:, -1]
        return (sm * torch.nn.functional.cross_entropy(Z, y, reduction="none")).mean()

    th = thm.clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad(refm(th), th)
    f, g = objm.value_grad(thm)
    torch.testing.assert_close(f, refm(thm), rtol=1e-13, atol=0)
    torch.testing.assert_close(g, g_ref, rtol=1e-11, atol=1e-14)


@pytest.mark.skipif(not _fused.available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_kernel_gives_the_same_bits_for_any_thread_count(dtype):
    """Fixed blocks whose partial sums are added in block order: 1, 2 or 3 threads, identical results;
    float32 input agrees with the float64 reference to float32 precision."""
    rng = np.random.default_rng(3)
    N, D, K = 70_001, 13, 4  # many blocks, the last one partial
    X = rng.standard_normal((N, D)).astype(dtype)
    t = (rng.random(N) < 0.4).astype(dtype)
    y = rng.integers(0, K, N)
    w, W, b = (0.1 * rng.standard_normal(D)).astype(dtype), (0.1 * rng.standard_normal((K, D))).astype(dtype), \
        np.zeros(K, dtype)
    runs = []
    for threads in (1, 2, 3):
        z, Z = np.empty(N, dtype), np.empty((N, K), dtype)
        runs.append((_fused.logistic_sums(X, t, w, 0.25, z, threads=threads),
                     _fused.softmax_sums(X, y, W, b, Z, threads=threads), z, Z))
    for other in runs[1:]:
        for a, c in zip(runs[0][:2], other[:2], strict=True):
            assert a[0] == c[0] and np.array_equal(a[1], c[1]) and np.array_equal(a[2], c[2])
        assert np.array_equal(runs[0][2], other[2]) and np.array_equal(runs[0][3], other[3])
    loss, g, gb = runs[0][0]
    X64, t64, w64 = X.astype(np.float64), t.astype(np.float64), w.astype(np.float64)
    z64 = X64 @ w64 + float(np.float32(0.25))
    r = 1 / (1 + np.exp(-z64)) - t64
    tol = 1e-12 if dtype == np.float64 else 1e-4
    assert np.abs(g - X64.T @ r).max() <= tol * np.abs(X64.T @ r).max()
    assert abs(gb - r.sum()) <= tol * N


@pytest.mark.skipif(not _fused.available(), reason="numba is not installed")
@pytest.mark.parametrize("scale", [0.01, 1.0, 10.0, 100.0, 1000.0])
def test_fused_logistic_loss_is_exact_at_every_logit_scale(scale):
    """The unweighted loss sums most log1p(e) terms as logs of products (``_fused.PRODUCT_MIN_E``);
    rows with tiny e (|z| > 7) keep log1p. Both must match softplus summed row by row, to 1e-12
    relative, from |z| ~ 0.01 to |z| ~ 1000, with an odd number of rows (the lone last row)."""
    rng = np.random.default_rng(5)
    N, D = 4_001, 3  # one block of more than LOG_ROWS rows
    X = rng.standard_normal((N, D))
    t = (rng.random(N) < 0.5).astype(np.float64)
    w = scale * np.array([1.0, -0.5, 0.25])
    z = np.empty(N)
    loss, g, gb = _fused.logistic_sums(X, t, w, 0.0, z)
    z_ref = X @ w
    expected = np.logaddexp(0.0, (1 - 2 * t) * z_ref)
    assert expected.sum() > 0 and abs(loss - expected.sum()) <= 1e-12 * expected.sum()
    r = scipy.special.expit(z_ref) - t
    assert np.abs(g - X.T @ r).max() <= 1e-12 * np.abs(X.T @ r).max()
    np.testing.assert_allclose(z, z_ref, rtol=1e-13, atol=1e-13 * scale)
    # every row on its correct side by a margin of 20 to 30: the loss is the tiny sum of e = exp(-|z|),
    # which products of (1 + e) would round away (relative error ~1e-7)
    zs = np.linspace(20.0, 30.0, 1001)
    loss_right, _, _ = _fused.logistic_sums(zs[:, None], np.ones(1001), np.ones(1), 0.0, np.empty(1001))
    expected_right = np.log1p(np.exp(-zs)).sum()
    assert abs(loss_right - expected_right) <= 1e-12 * expected_right


@pytest.mark.skipif(not _fused.available(), reason="numba is not installed")
def test_fused_exp_is_within_one_ulp_of_numpy():
    """The float32 kernel's exp (a polynomial and bit casts, so that a loop of them vectorises)."""
    import numba

    @numba.njit
    def many(x, out):
        for i in range(x.shape[0]):
            out[i] = _fused._exp_nonpositive(x[i])

    rng = np.random.default_rng(11)
    x = np.concatenate([-rng.random(100_000) * 708, -rng.random(100_000) * 2, [0.0, -0.0, -1e-300, -708.0]])
    out = np.empty_like(x)
    many(x, out)
    ref = np.exp(x)
    assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 1.0
    below = np.array([-708.5, -745.0, -1e308, -708.0])  # taken as exp(-708): tiny, positive, finite
    out = np.empty_like(below)
    many(below, out)
    assert np.all(out == out[-1]) and abs(out[-1] - np.exp(-708.0)) <= np.spacing(np.exp(-708.0))


@pytest.mark.skipif(not _fused.available(), reason="numba is not installed")
@pytest.mark.parametrize("scale", [0.01, 1.0, 10.0, 100.0, 1000.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_float32_chunks_agree_with_float64_at_every_logit_scale(scale, weighted):
    """float32 input takes the chunked kernel: loss and gradient as the float64 formulas on the same
    float32 numbers, to float32 precision, with a partial last chunk and an odd number of rows."""
    rng = np.random.default_rng(6)
    N, D = 4_001, 3
    X = rng.standard_normal((N, D)).astype(np.float32)
    t = (rng.random(N) < 0.5).astype(np.float32)
    w = (scale * np.array([1.0, -0.5, 0.25])).astype(np.float32)
    s = rng.random(N).astype(np.float32) if weighted else None
    z = np.empty(N, np.float32)
    loss, g, gb = _fused.logistic_sums(X, t, w, 0.5, z, sample_weight=s)
    X64, t64, s64 = X.astype(np.float64), t.astype(np.float64), 1.0 if s is None else s.astype(np.float64)
    z_ref = X64 @ w.astype(np.float64) + 0.5
    expected = (s64 * np.logaddexp(0.0, (1 - 2 * t64) * z_ref)).sum()
    assert abs(loss - expected) <= 1e-5 * expected
    r = s64 * (scipy.special.expit(z_ref) - t64)
    assert np.abs(g - X64.T @ r).max() <= 1e-5 * np.abs(X64.T @ r).max()
    assert abs(gb - r.sum()) <= 1e-5 * np.abs(r).sum()
    np.testing.assert_allclose(z, z_ref, rtol=1e-5, atol=1e-5 * scale)


def test_without_numba_the_objectives_use_torch_blocks_and_the_kernel_says_why(monkeypatch):
    monkeypatch.setattr(_fused, "numba", None)
    assert not optim.fused_kernel_available()
    with pytest.raises(ImportError, match="numba"):
        _fused.logistic_sums(np.ones((3, 2)), np.zeros(3), np.zeros(2), 0.0, np.empty(3))
    X, t = make_binary(n=2000, d=200)  # 400,000 entries: a large-X pass
    assert not _blocked.use_fused(X) and _blocked.use_blocks(X)
    f, g = optim.LogisticObjective(X, t).value_grad(torch.zeros(201, dtype=F64))
    assert torch.isfinite(g).all() and abs(float(f) - np.log(2)) < 1e-12
