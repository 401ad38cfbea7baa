"""CPU/GPU parity of the objectives and the fitted models (float64, to 1e-10).

Skipped without CUDA. On a GPU machine these must pass: the same data, the same
float64 arithmetic up to the order of summation, so losses, gradients and fitted
coefficients agree to about 1e-10 relative.
"""

import numpy as np
import pytest
import torch

from mathcore import optim
from mathcore.models import LogisticRegression, SoftmaxRegression

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

RTOL = 1e-10


def data(n=2000, d=6, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if k is None:
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.standard_normal(d) + 0.3)))).astype(int)
    else:
        Z = X @ rng.standard_normal((d, k))
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        y = np.array([rng.choice(k, p=p) for p in P])
    return X, y


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_logistic_objective_parity(lam):
    X, y = data()
    theta = torch.linspace(-0.5, 0.5, X.shape[1] + 1, dtype=torch.float64)
    results = []
    for device in ("cpu", "cuda"):
        obj = optim.LogisticObjective(torch.tensor(X, device=device), torch.tensor(y, dtype=torch.float64, device=device), lam=lam)
        th = theta.to(device)
        f, g = obj.value_grad(th)
        results.append((f.cpu(), g.cpu(), obj.hessian(th).cpu()))
    (f0, g0, H0), (f1, g1, H1) = results
    torch.testing.assert_close(f1, f0, rtol=RTOL, atol=0)
    torch.testing.assert_close(g1, g0, rtol=RTOL, atol=1e-14)
    torch.testing.assert_close(H1, H0, rtol=RTOL, atol=1e-14)


def test_softmax_objective_parity():
    X, y = data(k=4)
    out = []
    for device in ("cpu", "cuda"):
        obj = optim.SoftmaxObjective(torch.tensor(X, device=device), torch.tensor(y, device=device), 4, lam=0.5)
        th = torch.linspace(-0.3, 0.3, obj.n_params, dtype=torch.float64, device=device)
        f, g = obj.value_grad(th)
        out.append((f.cpu(), g.cpu(), obj.hessian(th).cpu()))
    (f0, g0, H0), (f1, g1, H1) = out
    torch.testing.assert_close(f1, f0, rtol=RTOL, atol=0)
    torch.testing.assert_close(g1, g0, rtol=RTOL, atol=1e-14)
    torch.testing.assert_close(H1, H0, rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
@pytest.mark.parametrize("penalty", ["l2", None])
def test_fitted_logistic_regression_parity(solver, penalty):
    X, y = data()
    cpu = LogisticRegression(solver=solver, penalty=penalty, tol=1e-12, device="cpu").fit(X, y)
    gpu = LogisticRegression(solver=solver, penalty=penalty, tol=1e-12, device="cuda").fit(X, y)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, rtol=RTOL)
    np.testing.assert_allclose(gpu.intercept_, cpu.intercept_, rtol=RTOL)
    np.testing.assert_allclose(gpu.history_.loss[-1], cpu.history_.loss[-1], rtol=RTOL)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), rtol=RTOL, atol=1e-15)
    assert isinstance(gpu.coef_, np.ndarray)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_fitted_softmax_regression_parity(solver):
    X, y = data(k=3)
    cpu = SoftmaxRegression(solver=solver, tol=1e-11, device="cpu").fit(X, y)
    gpu = SoftmaxRegression(solver=solver, tol=1e-11, device="cuda").fit(X, y)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gpu.intercept_, cpu.intercept_, rtol=RTOL, atol=1e-12)


def test_gpu_fit_keeps_cpu_inputs_untouched_and_auto_picks_cuda():
    X, y = data()
    Xc = X.copy()
    clf = LogisticRegression(device="auto").fit(X, y)
    np.testing.assert_array_equal(X, Xc)
    assert clf.predict(X).shape == (len(X),)
