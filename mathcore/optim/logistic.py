r"""The two-class objective: penalised mean logistic loss of a linear model.

``f(w, b) = (1/N) sum_i loss(z_i, t_i) + lam/(2N) ||w||^2`` with ``z = X w + b``,
where ``loss`` and its derivative ``dloss_dz`` are the functions
``mathcore.symbolic.objective_functions("logistic", "torch")`` generates from the
SymPy derivation (``softplus((1 - 2t) z)`` and ``sigmoid(z) - t``). The gradient
is their composition with two matrix products, ``X^T dloss_dz(X w + b, t) / N``
plus the penalty's gradient.
"""

import numpy as np
import torch
from scipy.special import expit

from ..symbolic.training import objective_functions
from . import _fused, _triton
from ._blocked import (
    CPU_BLOCK_BYTES,
    CPU_LOGISTIC_BLOCK_BYTES,
    CPU_PREFETCH_MIN_FEATURES,
    add_weighted_gram,
    gram_lambda_max,
    hessian_block_rows,
    map_row_ranges,
    use_blocks,
    use_fused,
)
from ._blocked import block_rows as block_rows_for
from .history import check_weights
from .workers import pass_threads

__all__ = ["LogisticObjective", "SMALL_MAX_ENTRIES"]

# Up to this many entries of X the objective evaluates in NumPy (see _small_pass).
SMALL_MAX_ENTRIES = 240_000  # benchmarks/results/small.json: faster at every size up to 8000 x 30


class LogisticObjective:
    r"""Penalised mean logistic loss of a linear model (two classes).

    ``f(theta) = (1/N) sum_i s_i [softplus(z_i) - t_i z_i] + lam/(2N) ||w||^2`` with
    ``z = X w + b``, ``theta = [w, b]`` (just ``w`` when ``fit_intercept`` is
    False) and weights ``s_i`` (all 1 by default). The intercept is not penalised.

    Parameters
    ----------
    X : torch.Tensor of shape (N, D)
        Features, float32 or float64. Never modified and never copied.
    t : torch.Tensor of shape (N,)
        Targets in {0, 1}, same dtype and device as ``X``.
    lam : float, default=0.0
        L2 strength ``lambda = 1/C`` (scikit-learn's ``C``), ``>= 0``.
    fit_intercept : bool, default=True
        Whether ``theta`` ends with an intercept ``b``.
    block_rows : int, optional
        Rows per block; by default about 4 MiB of ``X`` per block on the CPU and
        512 MiB on a GPU.
    sample_weight : torch.Tensor of shape (N,), optional
        Weights ``s_i >= 0``, same dtype and device as ``X`` (checked by the
        estimators); ``None`` means every weight is 1.

    Attributes
    ----------
    n_samples, n_features, n_params : int
        ``N``, ``D`` and ``D + fit_intercept``.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    >>> t = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    >>> obj = LogisticObjective(X, t)
    >>> f, g = obj.value_grad(torch.zeros(2, dtype=torch.float64))
    >>> round(float(f), 6)  # log(2) at theta = 0
    0.693147
    """

    def __init__(self, X, t, *, lam=0.0, fit_intercept=True, block_rows=None, sample_weight=None):
        if X.ndim != 2 or t.shape != (X.shape[0],):
            raise ValueError(f"X, t: expected shapes (N, D) and (N,), got {tuple(X.shape)} and {tuple(t.shape)}")
        if t.dtype != X.dtype or t.device != X.device:
            raise TypeError(f"t: expected dtype {X.dtype} on {X.device}, got {t.dtype} on {t.device}")
        if not lam >= 0:
            raise ValueError(f"lam: expected a number >= 0, got {lam}")
        if not bool(((t == 0) | (t == 1)).all()):
            raise ValueError(f"t: expected labels 0 and 1, got values {torch.unique(t)[:5].tolist()}")
        check_weights(sample_weight, t, X)
        self.X, self.t, self.sample_weight = X, t, sample_weight
        self.n_samples, self.n_features = X.shape
        self.lam = float(lam)
        self.alpha = self.lam / self.n_samples  # penalty weight in the mean form
        self.fit_intercept = bool(fit_intercept)
        self.n_params = self.n_features + int(self.fit_intercept)
        wide = X.shape[1] >= CPU_PREFETCH_MIN_FEATURES
        self.block_rows = block_rows_for(X, block_rows, CPU_LOGISTIC_BLOCK_BYTES if wide else CPU_BLOCK_BYTES)
        self._prefetch = wide and X.device.type == "cpu"
        self.fused = True  # large CPU passes take the numba kernel when it is installed ...
        # ... and on a GPU the Triton kernel (off after a failure there: see _gpu_pass)
        self._gpu_kernel = _triton.available(X.device) and X.dtype in (torch.float32, torch.float64)
        self.fns = objective_functions("logistic", "torch")  # generated from the SymPy derivation
        # Small X on the CPU: the same generated functions for NumPy, a few microseconds per call
        # where each torch call costs several (SMALL_MAX_ENTRIES is measured by benchmarks/bench_small.py).
        small = X.device.type == "cpu" and X.numel() <= SMALL_MAX_ENTRIES and not X.requires_grad
        self._small = (X.numpy(), t.numpy(), None if sample_weight is None else sample_weight.numpy()) \
            if small else None
        self.np_fns = objective_functions("logistic", "numpy") if small else None
        self._z = None  # z = X w + b of the last full evaluation ...
        self._z_theta = None  # ... and the theta it belongs to

    # -- parameters --------------------------------------------------------- #
    def split(self, theta):
        """Return ``(w, b)``; ``b`` is ``None`` without intercept."""
        D = self.n_features
        return theta[:D], (theta[D] if self.fit_intercept else None)

    def coef_norm(self, theta):
        """Euclidean norm of ``w`` (the intercept is excluded)."""
        return torch.linalg.vector_norm(theta[: self.n_features])

    def decision(self, theta, X=None):
        """``z = X w + b`` for ``X`` (by default the training data)."""
        X = self.X if X is None else X
        w, b = self.split(theta)
        z = X @ w
        return z + b if b is not None else z

    # -- loss, gradient, Hessian -------------------------------------------- #
    def _evaluate(self, theta, grad, rows=None):
        if rows is not None:  # a mini-batch (SGD): the reference path on its rows
            s = None if self.sample_weight is None else self.sample_weight[rows]
            return self._reference(theta, grad, self.X[rows], self.t[rows], s, keep_z=False)
        if self._small is not None:
            return self._small_pass(theta, grad)
        if self.fused and use_fused(self.X):
            return self._fused_pass(theta, grad)
        if self.fused and self._gpu_kernel:
            return self._gpu_pass(theta, grad)
        if use_blocks(self.X):
            return self._blocked(theta, grad)
        return self._reference(theta, grad, self.X, self.t, self.sample_weight, keep_z=True)

    def _loss(self, z, t, s):
        return self.fns.loss(z, t) if s is None else self.fns.weighted_loss(z, t, s)

    def _dloss_dz(self, z, t, s):
        return self.fns.dloss_dz(z, t) if s is None else self.fns.weighted_dloss_dz(z, t, s)

    def _finish(self, n, w, loss_sum, gw_sum, gb_sum, grad):
        """Mean form and penalty: ``f = loss/n + alpha/2 ||w||^2``, ``grad = gw/n + alpha w``."""
        f = loss_sum / n + 0.5 * self.alpha * torch.dot(w, w)
        if not grad:
            return f
        gw = gw_sum.div_(n).add_(self.fns.penalty_gradient(w, self.alpha))
        if gb_sum is None:
            return f, gw
        return f, torch.cat([gw, (gb_sum / n).reshape(1)])

    def _reference(self, theta, grad, X, t, s, keep_z):
        """The plain path: one expression over the whole matrix, ``X^T dloss_dz(X w + b, t)``."""
        w, b = self.split(theta)
        z = X @ w
        if b is not None:
            z = z + b
        if keep_z:  # for hessian() and the separation checks at the same theta
            self._z, self._z_theta = z, theta.detach().clone()
        loss = self._loss(z, t, s).sum()
        if not grad:
            return self._finish(len(t), w, loss, None, None, False)
        r = self._dloss_dz(z, t, s)
        return self._finish(len(t), w, loss, X.T @ r, r.sum() if b is not None else None, True)

    def _blocked(self, theta, grad):
        """The fast path: the same sums, block by block in parallel (see ``_blocked``)."""
        X, t, s, B = self.X, self.t, self.sample_weight, self.block_rows
        if self._z is None or self._z.shape != (self.n_samples,):
            self._z = X.new_empty(self.n_samples)  # z = X w + b, kept for hessian()
        z = self._z
        w, b = self.split(theta)
        w_is_zero = not bool(w.any())  # the usual starting point: then z = b, no product needed

        def rows_pass(lo, hi):
            """Fill z for rows lo..hi-1; return their loss sum, X^T r and sum of r."""
            gw = torch.zeros_like(w)
            r_sum = X.new_zeros(())
            # Each block is read from memory once for z = X w + b and, while it is
            # still in cache, again for the gradient X^T r.
            for i in range(lo, hi, B):
                j = min(i + B, hi)
                Xb, zb = X[i:j], z[i:j]
                if self._prefetch and (grad or not w_is_zero):  # the block will be read: bring it in
                    Xb.sum()
                if w_is_zero:
                    zb.fill_(0.0)
                else:
                    torch.mv(Xb, w, out=zb)
                if b is not None:
                    zb += b
                if grad:
                    rb = self._dloss_dz(zb, t[i:j], None if s is None else s[i:j])
                    gw.addmv_(Xb.T, rb)
                    r_sum += rb.sum()
            loss = self._loss(z[lo:hi], t[lo:hi], None if s is None else s[lo:hi]).sum()
            return loss, gw, r_sum

        parts = map_row_ranges(rows_pass, X, B)
        self._z_theta = theta.detach().clone()
        loss = sum(part[0] for part in parts)
        if not grad:
            return self._finish(self.n_samples, w, loss, None, None, False)
        gw = sum(part[1] for part in parts)
        gb = sum(part[2] for part in parts) if b is not None else None
        return self._finish(self.n_samples, w, loss, gw, gb, True)

    def _fused_pass(self, theta, grad):
        """The fused path: the same sums in one read of ``X`` by the numba kernel (see ``_fused``)."""
        X = self.X
        if self._z is None or self._z.shape != (self.n_samples,):
            self._z = X.new_empty(self.n_samples)
        w, b = self.split(theta.detach())
        s = None if self.sample_weight is None else self.sample_weight.numpy()
        loss, gw, gb = _fused.logistic_sums(X.numpy(), self.t.numpy(), w.numpy(), 0.0 if b is None else float(b),
                                            self._z.numpy(), sample_weight=s, grad=grad, threads=pass_threads())
        self._z_theta = theta.detach().clone()
        loss = torch.tensor(loss, dtype=X.dtype)
        if not grad:
            return self._finish(self.n_samples, w, loss, None, None, False)
        gb = torch.tensor(gb, dtype=X.dtype) if b is not None else None
        return self._finish(self.n_samples, w, loss, torch.from_numpy(gw).to(X.dtype), gb, True)

    def _gpu_pass(self, theta, grad):
        """The fused path on a GPU: the same sums in one read of ``X`` by the Triton kernel (see ``_triton``).

        The kernel is compiled on first use on the reader's GPU and Triton; should that fail, a warning
        says why and this objective goes on with the reference path (same results, two reads of ``X``).
        """
        X = self.X
        if self._z is None or self._z.shape != (self.n_samples,):
            self._z = X.new_empty(self.n_samples)
        w, b = self.split(theta.detach())
        try:
            loss, gw, gb = _triton.logistic_sums(X, self.t, w, 0.0 if b is None else b, self._z,
                                                 sample_weight=self.sample_weight, grad=grad)
        except Exception as exc:  # noqa: BLE001 - any compile or launch failure: say it, then the reference path
            _triton.fallback_warning(exc)
            self._gpu_kernel = False
            return self._reference(theta, grad, X, self.t, self.sample_weight, keep_z=True)
        self._z_theta = theta.detach().clone()
        if not grad:
            return self._finish(self.n_samples, w, loss.to(X.dtype), None, None, False)
        return self._finish(self.n_samples, w, loss.to(X.dtype), gw.to(X.dtype),
                            gb.to(X.dtype) if b is not None else None, True)

    @np.errstate(over="ignore")  # exp overflows to inf for |z| > 709; the results are still exact
    def _small_pass(self, theta, grad):
        """The small-problem path: the reference expression in NumPy, one array result per call."""
        X, t, s = self._small
        fns, D, n = self.np_fns, self.n_features, self.n_samples
        th = theta.detach().numpy()
        w = th[:D]
        z = X @ w
        if self.fit_intercept:
            z += th[D]
        self._z, self._z_theta = torch.from_numpy(z), theta.detach().clone()
        loss = (fns.loss(z, t) if s is None else fns.weighted_loss(z, t, s)).sum()
        f = torch.from_numpy(np.asarray(loss / n + 0.5 * self.alpha * float(w @ w), dtype=X.dtype))
        if not grad:
            return f
        r = fns.dloss_dz(z, t) if s is None else fns.weighted_dloss_dz(z, t, s)
        g = np.empty_like(th)
        g[:D] = X.T @ r / n + fns.penalty_gradient(w, self.alpha)
        if self.fit_intercept:
            g[D] = r.sum() / n
        return f, torch.from_numpy(g)

    def _small_hessian(self, theta):
        """``X~^T S X~ / N + alpha`` for small ``X``, all in NumPy (its BLAS did this 569 x 31 product in
        about 60 us against torch's 140 us single-threaded, on a 2-core EPYC)."""
        X, _, s = self._small
        if self._cached_z(theta) is None:
            self._small_pass(theta, False)
        p = expit(self._z.numpy())
        c = p * (1.0 - p) if s is None else p * (1.0 - p) * s
        H = np.zeros((self.n_params, self.n_params), dtype=X.dtype)
        add_weighted_gram(H, X, c, self.fit_intercept)  # one temporary the size of X (small here)
        H /= self.n_samples
        H.reshape(-1)[:: self.n_params + 1][: self.n_features] += self.alpha  # a view of the diagonal
        return torch.from_numpy(H)

    def value(self, theta, rows=None):
        """Objective ``f(theta)`` as a 0-d tensor (on the rows ``rows`` if given)."""
        return self._evaluate(theta, grad=False, rows=rows)

    def value_grad(self, theta, rows=None):
        """``(f, grad f)`` in one pass over ``X``.

        With ``rows`` (a tensor of row indices), the mean runs over those rows only
        and the penalty keeps its full-data weight ``lam/(2N)``: an unbiased
        mini-batch estimate of ``f`` and its gradient, used by ``sgd``.
        """
        return self._evaluate(theta, grad=True, rows=rows)

    def _cached_z(self, theta):
        if self._z_theta is not None and torch.equal(theta, self._z_theta):
            return self._z
        return None

    def hessian(self, theta):
        """Hessian of ``f`` at ``theta``, shape ``(n_params, n_params)``.

        ``H = X~^T S X~ / N + (lam/N) diag(1, ..., 1, 0)``, accumulated block by
        block; ``S`` is never formed. Reuses ``z`` from the last full
        ``value_grad`` call when ``theta`` is the same.
        """
        if self._small is not None:
            return self._small_hessian(theta)
        X, B, s = self.X, hessian_block_rows(self), self.sample_weight
        w, b = self.split(theta)
        z_all = self._cached_z(theta)

        def rows_pass(lo, hi):
            H = X.new_zeros(self.n_params, self.n_params)
            for i in range(lo, hi, B):
                Xb = X[i : min(i + B, hi)]
                if z_all is not None:
                    z = z_all[i : i + Xb.shape[0]]
                else:
                    z = torch.mv(Xb, w) + (b if b is not None else 0.0)
                p = torch.sigmoid(z)
                c = p * (1.0 - p)  # the diagonal of S (times the sample weights)
                if s is not None:
                    c = c * s[i : i + Xb.shape[0]]
                add_weighted_gram(H, Xb, c, b is not None)
            return H

        H = torch.stack(map_row_ranges(rows_pass, X, B)).sum(dim=0)
        H /= self.n_samples
        H.diagonal()[: self.n_features] += self.alpha
        return H

    def lipschitz(self):
        """An upper bound ``M`` on the largest Hessian eigenvalue: ``lambda_max(X~^T diag(s) X~)/(4N) + lam/N``.

        ``1/M`` is the classic safe step of gradient descent. Costs one pass over
        ``X`` (the weighted Gram matrix) and an eigenvalue solve of size ``n_params``.
        """
        return 0.25 * gram_lambda_max(self) / self.n_samples + self.alpha

    def min_margin(self, theta):
        """``min_i (2 t_i - 1) z_i`` over rows of positive weight: positive iff ``theta`` classifies them all."""
        z = self._cached_z(theta)
        if z is None:
            z = self.decision(theta)
        margins = (2.0 * self.t - 1.0) * z
        if self.sample_weight is not None:  # a row of weight 0 does not count in the loss
            margins = margins[self.sample_weight > 0]
        return float(margins.min())

    def separates(self, theta):
        """Whether ``theta`` proves the data linearly separable (so the unpenalised MLE does not exist).

        True when the scores ``z = X w (+ b)`` of all rows with ``t = 1`` exceed those
        of all rows with ``t = 0`` (with an intercept, the threshold between them can
        be moved anywhere; without, it must be 0, i.e. every margin is positive).
        Then ``c * w`` with a suitable intercept lowers the loss of every row as
        ``c`` grows: the loss has no minimiser.
        """
        z = self._cached_z(theta)
        if z is None:
            z = self.decision(theta)
        t = self.t
        if self.sample_weight is not None:
            z, t = z[self.sample_weight > 0], t[self.sample_weight > 0]
        positive = t == 1
        if not self.fit_intercept or bool(positive.all()) or not bool(positive.any()):
            return self.min_margin(theta) > 0
        return float(z[positive].min()) > float(z[~positive].max())

