r"""The multiclass objective: penalised mean softmax cross-entropy of a linear model.

``f(W, b) = (1/N) sum_i CE(z_i, y_i) + lam/(2N) ||W||_F^2`` with ``z_i = W x_i + b``.
The per-row cross-entropy and its derivative ``dloss_dz(P, Y) = P - Y`` are
``mathcore.symbolic.objective_functions("softmax_ce", "torch")``, generated from
the SymPy derivation; the gradient is ``dloss_dz(softmax(Z), Y)^T X / N`` plus
the penalty's gradient.
"""

import torch

from ..symbolic.training import objective_functions
from . import _fused, _triton
from ._blocked import (
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

__all__ = ["SoftmaxObjective"]


class SoftmaxObjective:
    r"""Penalised mean cross-entropy of a linear softmax model (``K >= 2`` classes).

    ``f(theta) = (1/N) sum_i s_i [logsumexp(z_i) - z_{i, y_i}] + lam/(2N) ||W||_F^2`` with
    ``z_i = W x_i + b``. ``theta`` is the flattened ``K x (D + 1)`` matrix
    ``[W, b]`` (``K x D`` without intercept), row ``k`` holding class ``k``. The
    intercepts are not penalised.

    The model is over-parametrised: adding the same vector to every row of
    ``[W, b]`` does not change the probabilities. Starting from zero, every solver
    here keeps the rows summing to zero (the gradient's rows sum to zero in the
    unpenalised coordinates), which is the scikit-learn convention, and
    ``hessian`` adds a term acting only on that null direction so that
    Newton's system stays solvable.

    Parameters
    ----------
    X : torch.Tensor of shape (N, D)
        Features, float32 or float64. Never modified and never copied.
    y : torch.Tensor of shape (N,)
        Class indices ``0 .. K-1`` (``torch.int64``) on the device of ``X``.
    n_classes : int
        ``K``.
    lam : float, default=0.0
        L2 strength ``lambda = 1/C``.
    fit_intercept : bool, default=True
        Whether each class has an intercept.
    block_rows : int, optional
        Rows per block (see ``LogisticObjective``).
    sample_weight : torch.Tensor of shape (N,), optional
        Row weights ``s_i >= 0`` (see ``LogisticObjective``).
    """

    def __init__(self, X, y, n_classes, *, lam=0.0, fit_intercept=True, block_rows=None, sample_weight=None):
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"X, y: expected shapes (N, D) and (N,), got {tuple(X.shape)} and {tuple(y.shape)}")
        if y.dtype != torch.int64 or y.device != X.device:
            raise TypeError(f"y: expected int64 class indices on {X.device}, got {y.dtype} on {y.device}")
        if int(n_classes) < 2:
            raise ValueError(f"n_classes: expected at least 2, got {n_classes}")
        if not lam >= 0:
            raise ValueError(f"lam: expected a number >= 0, got {lam}")
        check_weights(sample_weight, y, X)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.n_samples, self.n_features = X.shape
        self.n_classes = int(n_classes)
        self.lam = float(lam)
        self.alpha = self.lam / self.n_samples
        self.fit_intercept = bool(fit_intercept)
        self.n_cols = self.n_features + int(self.fit_intercept)  # columns of [W, b]
        self.n_params = self.n_classes * self.n_cols
        self.block_rows = block_rows_for(X, block_rows)
        self.fns = objective_functions("softmax_ce", "torch")  # generated from the SymPy derivation
        self.fused = True  # large CPU passes take the numba kernel when it is installed ...
        # ... and on a GPU the Triton kernel, up to its number of classes (off after a failure: see _gpu_pass)
        self._gpu_kernel = (_triton.available(X.device) and X.dtype in (torch.float32, torch.float64)
                            and self.n_classes <= _triton.MAX_CLASSES)
        self._z = None
        self._z_theta = None

    def split(self, theta):
        """Return ``(W, b)`` of shapes ``(K, D)`` and ``(K,)`` (``b`` is None without intercept)."""
        M = theta.view(self.n_classes, self.n_cols)
        D = self.n_features
        return M[:, :D], (M[:, D] if self.fit_intercept else None)

    def coef_norm(self, theta):
        """Frobenius norm of ``W`` (intercepts excluded)."""
        return torch.linalg.vector_norm(self.split(theta)[0])

    def decision(self, theta, X=None):
        """Logits ``Z = X W^T + b``, shape ``(N, K)``."""
        X = self.X if X is None else X
        W, b = self.split(theta)
        return torch.addmm(b, X, W.T) if b is not None else X @ W.T

    def _evaluate(self, theta, grad, rows=None):
        if rows is not None:  # a mini-batch (SGD): the reference path on its rows
            s = None if self.sample_weight is None else self.sample_weight[rows]
            return self._reference(theta, grad, self.X[rows], self.y[rows], s, keep_z=False)
        if self.fused and use_fused(self.X):
            return self._fused_pass(theta, grad)
        if self.fused and self._gpu_kernel:
            return self._gpu_pass(theta, grad)
        if use_blocks(self.X):
            return self._blocked(theta, grad)
        return self._reference(theta, grad, self.X, self.y, self.sample_weight, keep_z=True)

    def _sums(self, Xb, yb, sb, Z, grad):
        """Loss sum and, with ``grad``, ``R^T X_b`` and the column sums of ``R = dloss_dz(P, Y)``."""
        Y = torch.nn.functional.one_hot(yb, self.n_classes).to(Z.dtype)
        loss = (self.fns.loss(Z, Y) if sb is None else self.fns.weighted_loss(Z, Y, sb)).sum()
        if not grad:
            return loss, None, None
        P = torch.softmax(Z, dim=1)
        # probabilities minus one-hot targets (times each row's weight)
        R = self.fns.dloss_dz(P, Y) if sb is None else self.fns.weighted_dloss_dz(P, Y, sb[:, None])
        return loss, R.T @ Xb, R.sum(0)

    def _finish(self, n, W, loss, GW, gb, grad):
        """Mean form and penalty: ``f = loss/n + alpha/2 ||W||^2``, ``grad = GW/n + alpha W``."""
        f = loss / n + 0.5 * self.alpha * (W * W).sum()
        if not grad:
            return f
        GW = GW.div_(n).add_(self.fns.penalty_gradient(W, self.alpha))
        if gb is not None:
            GW = torch.cat([GW, (gb / n)[:, None]], dim=1)
        return f, GW.reshape(-1)

    def _reference(self, theta, grad, X, y, s, keep_z):
        """The plain path: one expression over the whole matrix, ``dloss_dz(softmax(X W^T + b), Y)^T X``."""
        W, b = self.split(theta)
        Z = self.decision(theta, X)
        if keep_z:  # for hessian() and the separation checks at the same theta
            self._z, self._z_theta = Z, theta.detach().clone()
        loss, GW, gb = self._sums(X, y, s, Z, grad)
        return self._finish(len(y), W, loss, GW, gb if b is not None else None, grad)

    def _blocked(self, theta, grad):
        """The fast path: the same sums, block by block in parallel (see ``_blocked``)."""
        X, y, B = self.X, self.y, self.block_rows
        if self._z is None or self._z.shape != (self.n_samples, self.n_classes):
            self._z = X.new_empty(self.n_samples, self.n_classes)
        z_all = self._z
        W, b = self.split(theta)

        def rows_pass(lo, hi):
            loss = X.new_zeros(())
            GW = torch.zeros_like(W)
            gb = X.new_zeros(self.n_classes)
            for i in range(lo, hi, B):
                j = min(i + B, hi)
                Z = torch.mm(X[i:j], W.T, out=z_all[i:j])
                if b is not None:
                    Z += b
                sb = None if self.sample_weight is None else self.sample_weight[i:j]
                parts = self._sums(X[i:j], y[i:j], sb, Z, grad)
                loss += parts[0]
                if grad:
                    GW += parts[1]
                    gb += parts[2]
            return loss, GW, gb

        parts = map_row_ranges(rows_pass, X, B)
        self._z_theta = theta.detach().clone()
        loss = torch.stack([part[0] for part in parts]).sum()
        GW = torch.stack([part[1] for part in parts]).sum(dim=0) if grad else None
        gb = torch.stack([part[2] for part in parts]).sum(dim=0) if grad and b is not None else None
        return self._finish(self.n_samples, W, loss, GW, gb, grad)

    def _fused_pass(self, theta, grad):
        """The fused path: the same sums in one read of ``X`` by the numba kernel (see ``_fused``)."""
        X = self.X
        if self._z is None or self._z.shape != (self.n_samples, self.n_classes):
            self._z = X.new_empty(self.n_samples, self.n_classes)
        W, b = self.split(theta.detach())
        b_arr = (b if b is not None else X.new_zeros(self.n_classes)).numpy()
        s = None if self.sample_weight is None else self.sample_weight.numpy()
        loss, GW, gb = _fused.softmax_sums(X.numpy(), self.y.numpy(), W.numpy(), b_arr, self._z.numpy(),
                                           sample_weight=s, grad=grad, threads=pass_threads())
        self._z_theta = theta.detach().clone()
        loss = torch.tensor(loss, dtype=X.dtype)
        if not grad:
            return self._finish(self.n_samples, W, loss, None, None, False)
        gb = torch.from_numpy(gb).to(X.dtype) if b is not None else None
        return self._finish(self.n_samples, W, loss, torch.from_numpy(GW).to(X.dtype), gb, True)

    def _gpu_pass(self, theta, grad):
        """The fused path on a GPU: the same sums in one read of ``X`` by the Triton kernel (see ``_triton``);
        should it fail, a warning says why and this objective goes on with the reference path."""
        X = self.X
        if self._z is None or self._z.shape != (self.n_samples, self.n_classes):
            self._z = X.new_empty(self.n_samples, self.n_classes)
        W, b = self.split(theta.detach())
        try:
            loss, GW, gb = _triton.softmax_sums(X, self.y, W, b if b is not None else X.new_zeros(self.n_classes),
                                                self._z, sample_weight=self.sample_weight, grad=grad)
        except Exception as exc:  # noqa: BLE001 - any compile or launch failure: say it, then the reference path
            _triton.fallback_warning(exc)
            self._gpu_kernel = False
            return self._reference(theta, grad, X, self.y, self.sample_weight, keep_z=True)
        self._z_theta = theta.detach().clone()
        if not grad:
            return self._finish(self.n_samples, W, loss.to(X.dtype), None, None, False)
        return self._finish(self.n_samples, W, loss.to(X.dtype), GW.to(X.dtype),
                            gb.to(X.dtype) if b is not None else None, True)

    def value(self, theta, rows=None):
        """Objective ``f(theta)`` as a 0-d tensor (see ``LogisticObjective.value``)."""
        return self._evaluate(theta, grad=False, rows=rows)

    def value_grad(self, theta, rows=None):
        """``(f, grad f)`` in one pass over ``X`` (see ``LogisticObjective.value_grad``)."""
        return self._evaluate(theta, grad=True, rows=rows)

    def _cached_z(self, theta):
        if self._z_theta is not None and torch.equal(theta, self._z_theta):
            return self._z
        return None

    def hessian(self, theta):
        r"""Hessian of ``f``, shape ``(n_params, n_params)``, plus a null-space term.

        Block ``(k, j)`` is ``X~^T diag(p_k (delta_kj - p_j)) X~ / N`` (+ ``lam/N`` on
        the diagonal of penalised coordinates). Its null space contains the
        directions that add the same vector to every class; on the coordinates that
        are not penalised such a direction does not change ``f`` at all, so this
        method adds ``c * P`` with ``P`` the projector onto those directions and
        ``c`` the mean Hessian diagonal. As the gradient is orthogonal to them, the
        Newton step is unchanged by ``c * P``; the system just becomes non-singular.
        """
        X = self.X
        K, C = self.n_classes, self.n_cols
        W, b = self.split(theta)
        Z_all = self._cached_z(theta)
        H = X.new_zeros(K, C, K, C)
        B = hessian_block_rows(self)
        for i in range(0, self.n_samples, B):
            Xb = X[i : i + B]
            Z = Z_all[i : i + Xb.shape[0]] if Z_all is not None else self.decision(theta, Xb)
            P = torch.softmax(Z, dim=1)
            if self.sample_weight is not None:  # every block (k, j) carries the row weights
                weights = self.sample_weight[i : i + Xb.shape[0]]
            for k in range(K):
                for j in range(k, K):  # block (k, j) and, by symmetry, (j, k)
                    c = P[:, k] * ((1.0 if k == j else 0.0) - P[:, j])
                    if self.sample_weight is not None:
                        c = c * weights
                    add_weighted_gram(H[k, :, j, :], Xb, c, b is not None)
        for k in range(K):
            for j in range(k + 1, K):
                H[j, :, k, :] = H[k, :, j, :].T
        H = H.reshape(K * C, K * C) / self.n_samples
        penalised = torch.ones(C, dtype=X.dtype, device=X.device)
        if b is not None:
            penalised[-1] = 0.0
        H.diagonal().add_((self.alpha * penalised).repeat(K))
        # Null directions: same vector for every class on unpenalised coordinates.
        free = 1.0 - penalised if self.alpha > 0 else torch.ones_like(penalised)
        if bool(free.any()):
            scale = float(H.diagonal().mean()) or 1.0
            P_null = torch.kron(torch.full((K, K), 1.0 / K, dtype=X.dtype, device=X.device), torch.diag(free))
            H += scale * P_null
        return H

    def lipschitz(self):
        """Upper bound ``M`` on the largest Hessian eigenvalue: ``lambda_max(X~^T diag(s) X~)/(2N) + lam/N``."""
        return 0.5 * gram_lambda_max(self) / self.n_samples + self.alpha

    def min_margin(self, theta):
        """``min_i (z_{i,y_i} - max_{k != y_i} z_{i,k})``: positive iff ``theta`` classifies all rows correctly."""
        Z = self._cached_z(theta)
        if Z is None:
            Z = self.decision(theta)
        true = Z.gather(1, self.y[:, None])[:, 0]
        other = Z.scatter(1, self.y[:, None], float("-inf")).amax(dim=1)
        margins = true - other
        if self.sample_weight is not None:  # a row of weight 0 does not count in the loss
            margins = margins[self.sample_weight > 0]
        return float(margins.min())

    def separated_classes(self, theta):
        """Classes that ``theta`` proves linearly separable from the others.

        If one class can be cut off from the rest by a hyperplane, moving that
        class's row of ``[W, b]`` along the hyperplane's normal lowers every row's
        loss, so the unpenalised MLE does not exist (this is "partial" separation;
        the other classes may well overlap). Candidate hyperplanes are read off the
        fitted logits, without another pass over ``X``: for class ``k`` the scores
        ``z_k - z_j`` (each ``j != k``) and ``z_k - mean_{j != k} z_j``, which are
        linear in ``x``. A score separates when its minimum over class ``k`` exceeds
        its maximum over the other rows (without intercept: with 0 in between).
        When every row is classified correctly (``min_margin > 0``), all classes
        are returned.

        Returns
        -------
        list of int
            Class indices, empty when no separation was found.
        """
        K = self.n_classes
        if self.min_margin(theta) > 0:
            return list(range(K))
        Z = self._cached_z(theta)
        if Z is None:
            Z = self.decision(theta)
        y = self.y
        if self.sample_weight is not None:  # rows of weight 0 do not count
            Z, y = Z[self.sample_weight > 0], y[self.sample_weight > 0]
        found = []
        for k in range(K):
            member = y == k
            if not bool(member.any()) or bool(member.all()):
                continue
            others = [j for j in range(K) if j != k]
            scores = [Z[:, k] - Z[:, j] for j in others] + [Z[:, k] - Z[:, others].mean(dim=1)]
            for score in scores:
                lo, hi = float(score[member].min()), float(score[~member].max())
                if (lo > hi) if self.fit_intercept else (lo > 0 > hi):
                    found.append(k)
                    break
        return found
