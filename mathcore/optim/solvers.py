"""The solvers. Each sees only the objective and a flat parameter vector ``theta``.

``gradient_descent``, ``sgd``, ``lbfgs`` and ``newton`` minimise a
``LogisticObjective`` or ``SoftmaxObjective`` (see ``mathcore.optim``), stop when
``max |grad f| <= tol`` and return ``(theta, history)``. They run in the caller's
thread; on the CPU its torch operations are single-threaded meanwhile and the
passes over ``X`` use the worker threads of ``workers`` (``solver_threads``).
"""

import functools
import math

import torch
from scipy.linalg import get_lapack_funcs

from .history import Recorder, start_point
from .linesearch import strong_wolfe
from .workers import solver_threads

__all__ = ["gradient_descent", "sgd", "lbfgs", "newton"]


def _on_solver_threads(solver):
    """Run ``solver`` inside ``solver_threads`` for the objective's device."""

    @functools.wraps(solver)
    def run(objective, *args, **kwargs):
        with solver_threads(objective.X.device):
            return solver(objective, *args, **kwargs)

    return run


@_on_solver_threads
def gradient_descent(objective, theta0=None, *, learning_rate=None, tol=1e-4, max_iter=1000,
                     callback=None):
    """Full-batch gradient descent ``theta <- theta - eta * grad f(theta)``.

    Parameters
    ----------
    objective : LogisticObjective or SoftmaxObjective
        What to minimise (see the module docstring for the exact formula).
    theta0 : torch.Tensor, optional
        Starting point (zeros by default); not modified.
    learning_rate : float, optional
        The step ``eta``. By default ``1/L`` with ``L = objective.lipschitz()``, the
        step for which gradient descent provably decreases ``f`` every iteration.
    tol : float, default=1e-4
        Stop when ``max |grad f| <= tol``.
    max_iter : int, default=1000
        Maximum number of iterations.
    callback : callable, optional
        Called as ``callback(history)`` after each iteration.

    Returns
    -------
    theta : torch.Tensor
        The last iterate.
    history : History
        Loss, gradient norm, time and coefficient norm per iteration.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    >>> t = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    >>> from mathcore.optim import LogisticObjective
    >>> theta, hist = gradient_descent(LogisticObjective(X, t, lam=1.0), tol=1e-8)
    >>> hist.converged
    True
    """
    rec = Recorder(objective, callback)
    theta = start_point(objective, theta0)
    lr = float(learning_rate) if learning_rate is not None else 1.0 / objective.lipschitz()
    f, g = objective.value_grad(theta)
    for _ in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        theta = theta - lr * g
        f, g = objective.value_grad(theta)
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")


@_on_solver_threads
def sgd(objective, theta0=None, *, learning_rate=None, batch_size=32, max_iter=100, tol=1e-4,
        lr_decay=0.0, seed=0, callback=None):
    """Mini-batch stochastic gradient descent.

    Each epoch shuffles the rows (a ``torch.Generator`` seeded with ``seed``, so
    runs are reproducible) and takes one step per mini-batch with the mini-batch
    gradient (an unbiased estimate of ``grad f``). After each epoch the full
    objective and gradient are evaluated for the history and the stopping rule,
    which costs one extra pass over the data.

    Parameters
    ----------
    objective : LogisticObjective or SoftmaxObjective
        What to minimise.
    theta0 : torch.Tensor, optional
        Starting point (zeros by default); not modified.
    learning_rate : float, optional
        Initial step ``eta_0``; by default ``1/L`` as in ``gradient_descent``.
    batch_size : int, default=32
        Rows per mini-batch (the last batch of an epoch may be smaller).
    max_iter : int, default=100
        Maximum number of epochs.
    tol : float, default=1e-4
        Stop when ``max |grad f| <= tol`` at the end of an epoch. With a constant
        step SGD stalls at a noise floor and may never get there; use
        ``lr_decay > 0`` or a larger batch for accurate solutions.
    lr_decay : float, default=0.0
        Step in epoch ``k`` (from 0) is ``eta_0 / (1 + lr_decay * k)``.
    seed : int, default=0
        Seed of the shuffling generator.
    callback : callable, optional
        Called as ``callback(history)`` after each epoch.

    Returns
    -------
    theta : torch.Tensor
    history : History
        One entry per epoch (plus the start).
    """
    rec = Recorder(objective, callback)
    theta = start_point(objective, theta0)
    lr0 = float(learning_rate) if learning_rate is not None else 1.0 / objective.lipschitz()
    batch_size = max(1, int(batch_size))
    gen = torch.Generator().manual_seed(int(seed))
    n = objective.n_samples
    device = objective.X.device
    f, g = objective.value_grad(theta)
    for epoch in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        lr = lr0 / (1.0 + lr_decay * epoch)
        order = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, batch_size):
            _, g_batch = objective.value_grad(theta, rows=order[i : i + batch_size])
            theta = theta - lr * g_batch
        f, g = objective.value_grad(theta)
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")


def _rounding_error(objective, f):
    """Estimated rounding error of the objective value ``f``.

    Both objectives sum non-negative terms (no cancellation), so the error is a few
    units of the last place of ``f``.
    """
    return 8 * torch.finfo(objective.X.dtype).eps * abs(f)


_NO_STEP = (
    "the line search found no step that decreases the loss; tol is probably below "
    "what the floating-point precision can resolve for this problem"
)


@_on_solver_threads
def lbfgs(objective, theta0=None, *, tol=1e-4, max_iter=100, history_size=10, callback=None):
    """Limited-memory BFGS with a strong-Wolfe line search (full batch).

    The search direction is ``-H_k grad f`` where ``H_k`` is the BFGS inverse
    Hessian approximation built from the last ``history_size`` pairs
    ``s = theta_{k+1} - theta_k`` and ``y = grad_{k+1} - grad_k`` (the two-loop
    recursion). Each evaluation reads ``X`` once; usually one evaluation per
    iteration suffices because the step 1 is accepted.

    Parameters
    ----------
    objective : LogisticObjective or SoftmaxObjective
        What to minimise.
    theta0 : torch.Tensor, optional
        Starting point (zeros by default); not modified.
    tol : float, default=1e-4
        Stop when ``max |grad f| <= tol``.
    max_iter : int, default=100
        Maximum number of iterations.
    history_size : int, default=10
        Number of ``(s, y)`` pairs kept.
    callback : callable, optional
        Called as ``callback(history)`` after each iteration.

    Returns
    -------
    theta : torch.Tensor
    history : History
    """
    rec = Recorder(objective, callback)
    theta = start_point(objective, theta0)
    eps = torch.finfo(theta.dtype).eps
    f, g = objective.value_grad(theta)
    f_val = float(f)
    S, Y, rho = [], [], []
    stalls = 0
    for _ in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        # Two-loop recursion: d = -H g.
        q = g.clone()
        alphas = []
        for s, y, r in zip(reversed(S), reversed(Y), reversed(rho), strict=True):
            a = r * torch.dot(s, q)
            q.sub_(a * y)
            alphas.append(a)
        if S:
            q.mul_(torch.dot(S[-1], Y[-1]) / torch.dot(Y[-1], Y[-1]))
        for s, y, r, a in zip(S, Y, rho, reversed(alphas), strict=True):
            q.add_((a - r * torch.dot(y, q)) * s)
        d = q.neg_()
        slope = float(torch.dot(g, d))
        if not slope < 0:  # not a descent direction (should not happen): restart
            S, Y, rho = [], [], []
            d, slope = -g, -float(torch.dot(g, g))
        # Without curvature pairs the step has length 1 (as in L-BFGS-B).
        step = 1.0 if S else 1.0 / max(math.sqrt(-slope), 1e-300)

        def phi(a, theta=theta, d=d):
            f_a, g_a = objective.value_grad(theta + a * d)
            return float(f_a), g_a, float(torch.dot(g_a, d))

        min_step = eps * float(theta.abs().max()) / max(float(d.abs().max()), 1e-300)
        noise = _rounding_error(objective, f_val)
        found = strong_wolfe(phi, f_val, slope, step, noise=noise, min_step=min_step)
        if found is None:
            return theta, rec.finish(False, _NO_STEP)
        step, f_new, g_new = found
        # At the limit of floating-point precision, steps stop improving anything.
        progress = f_new < f_val - noise or float(g_new.abs().max()) < float(g.abs().max())
        stalls = 0 if progress else stalls + 1
        if stalls == 3:
            rec(theta, f, g)
            return theta, rec.finish(False, _NO_STEP)
        s = step * d
        y = g_new - g
        sy = float(torch.dot(s, y))
        if sy > eps * float(torch.dot(y, y)):  # keep only pairs with positive curvature
            S.append(s), Y.append(y), rho.append(1.0 / sy)
            if len(S) > history_size:
                S.pop(0), Y.pop(0), rho.pop(0)
        theta = theta + s
        f, g, f_val = f_new, g_new, f_new
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")


def _solve_spd(H, rhs):
    """Solve ``H x = rhs`` for a symmetric positive (semi-)definite ``H``.

    On the CPU, LAPACK's ``posv`` (Cholesky factor and solve) is called directly:
    the same factorisation as torch's, without its per-call overhead (about 35 us
    against 5 us at 31 x 31, a sixth of a small Newton iteration). Where it fails,
    and on other devices, ``_solve_spd_torch``.
    """
    if H.device.type == "cpu" and not H.requires_grad and not rhs.requires_grad:
        a, b = H.numpy(), rhs.numpy()
        (posv,) = get_lapack_funcs(("posv",), (a, b))
        _, x, info = posv(a, b)  # copies of a and b: the caller's H and rhs are kept
        if info == 0:
            return torch.from_numpy(x)
    return _solve_spd_torch(H, rhs)


def _solve_spd_torch(H, rhs):
    """``_solve_spd`` in torch, on any device.

    Cholesky first; if ``H`` is numerically singular (e.g. collinear features, or
    the flat directions of separable data), add a growing multiple of the
    identity until the factorisation succeeds.
    """
    L, info = torch.linalg.cholesky_ex(H)
    if int(info) == 0:
        return torch.cholesky_solve(rhs[:, None], L)[:, 0]
    scale = float(H.diagonal().abs().max()) or 1.0
    eye = torch.eye(H.shape[0], dtype=H.dtype, device=H.device)
    for k in range(-12, 1):
        L, info = torch.linalg.cholesky_ex(H + scale * 10.0**k * eye)
        if int(info) == 0:
            return torch.cholesky_solve(rhs[:, None], L)[:, 0]
    return torch.linalg.lstsq(H, rhs[:, None]).solution[:, 0]


@_on_solver_threads
def newton(objective, theta0=None, *, tol=1e-4, max_iter=100, callback=None):
    """Newton's method (IRLS for logistic regression) with a backtracking line search.

    Each iteration solves ``H d = -grad f`` (Cholesky) and moves to
    ``theta + a d``, halving ``a = 1, 1/2, 1/4, ...`` until ``f`` decreases enough
    (Armijo condition). For logistic regression this is iteratively reweighted
    least squares: ``d`` is the solution of a weighted least-squares problem with
    weights ``sigma(z_i)(1 - sigma(z_i))``. The step halving is the safeguard that
    keeps the iterates finite on separable data, where the full Newton step can
    overshoot; the loss there keeps decreasing while ``||w||`` grows.

    Parameters
    ----------
    objective : LogisticObjective or SoftmaxObjective
        What to minimise; needs a ``hessian`` method.
    theta0 : torch.Tensor, optional
        Starting point (zeros by default); not modified.
    tol : float, default=1e-4
        Stop when ``max |grad f| <= tol``.
    max_iter : int, default=100
        Maximum number of iterations.
    callback : callable, optional
        Called as ``callback(history)`` after each iteration.

    Returns
    -------
    theta : torch.Tensor
    history : History
    """
    rec = Recorder(objective, callback)
    theta = start_point(objective, theta0)
    f, g = objective.value_grad(theta)
    step = 1.0
    for _ in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        d = _solve_spd(objective.hessian(theta), -g)
        slope = float(torch.dot(g, d))
        if not slope < 0:
            d, slope = -g, -float(torch.dot(g, g))
        f0 = float(f)
        noise = _rounding_error(objective, f0)
        # Try 1, or twice the last accepted step if that was shorter: on separable data
        # the Newton direction grows without bound and halving from 1 every time cost
        # ~40 passes over X per iteration.
        step = min(1.0, 2.0 * step)
        for _ in range(60):
            theta_new = theta + step * d
            f_new, g_new = objective.value_grad(theta_new)
            if float(f_new) <= f0 + 1e-4 * step * slope + noise:  # Armijo, up to rounding
                break
            step *= 0.5
        else:
            return theta, rec.finish(False, _NO_STEP)
        theta, f, g = theta_new, f_new, g_new
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")
