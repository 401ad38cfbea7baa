r"""Solvers for logistic and softmax regression, written on torch tensors.

Two pieces, kept apart so that each stays small:

* an **objective** knows the data and computes the loss, its gradient and (for
  Newton) its Hessian: ``LogisticObjective`` for two classes and
  ``SoftmaxObjective`` for ``K >= 2`` classes;
* a **solver** only sees a flat parameter vector ``theta`` and the objective:
  ``gradient_descent``, ``sgd``, ``lbfgs`` and ``newton``.
  Each returns ``(theta, history)``; the ``History`` lists, per iteration,
  the loss, the gradient norm, the elapsed time and the coefficient norm.

**The objective (binary case).** With ``z = X w + b`` and labels ``t`` in {0, 1}, the solvers minimise the **mean**
negative log-likelihood plus an L2 penalty on ``w`` (the intercept ``b`` is not
penalised)::

    f(w, b) = (1/N) sum_i [softplus(z_i) - t_i z_i]  +  lam / (2N) * ||w||^2

``softplus(z) - t z`` is the Bernoulli negative log-likelihood
``-t log sigma(z) - (1 - t) log(1 - sigma(z))`` written without logarithms of
probabilities, so it never evaluates ``log(0)``. With ``lam = 1/C`` this is
scikit-learn's objective ``C * sum_i loss_i + 0.5 * ||w||^2`` divided by
``C * N``: both have the same minimiser, and the mean form keeps the gradient's
scale independent of ``N``. Gradient and Hessian::

    grad_w = X^T (sigma(z) - t) / N + (lam/N) w,     grad_b = sum(sigma(z) - t) / N
    H      = X~^T S X~ / N + (lam/N) diag(1, ..., 1, 0),   S = diag(sigma(z)(1 - sigma(z)))

where ``X~ = [X, 1]`` when there is an intercept. ``S`` is never formed as an
``N x N`` matrix: the Hessian is accumulated block by block as
``X~_b^T (s_b[:, None] * X~_b)``.

The softmax objective is the same with ``softplus(z) - t z`` replaced by
``logsumexp(z_i) - z_{i, y_i}`` (the cross-entropy) and ``||w||^2`` by the squared
Frobenius norm of the ``K x D`` weight matrix.

Stopping rule, the same for every solver: stop when the largest absolute entry of
the gradient of ``f`` (the mean form above) is ``<= tol``. This is the rule of
scikit-learn's ``lbfgs`` and ``newton-cholesky`` solvers, so equal ``tol`` means
roughly equal accuracy.

**Memory and speed.** ``X`` is read in blocks of rows (1 to 4 MiB each on the
CPU), and one pass over the blocks computes the loss *and* the gradient, so each
evaluation reads ``X`` from memory once; no copy of ``X`` is ever made (in
particular no column of ones is appended for the intercept). On the CPU the rows
are split into ranges that worker threads with single-threaded torch operations
process in parallel (see ``_map_row_ranges``). On a GPU a
block is the whole matrix (up to 512 MiB).
"""

import functools
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ._validation import check_int

__all__ = [
    "History",
    "LogisticObjective",
    "SoftmaxObjective",
    "gradient_descent",
    "sgd",
    "lbfgs",
    "newton",
]

# softplus(z) = z exactly (in float64 and float32) once z > 40, so torch's shortcut
# above its threshold is exact there; its default threshold (20) is not.
_SOFTPLUS_THRESHOLD = 40.0

# Target size of one block of rows of X. On the CPU a block (and the temporaries
# made from it) stays in the cache, so the second read of the block (for the
# gradient) does not go to main memory.
#
# The logistic pass on wide data (at least 32 columns) uses 1 MiB blocks, which fit
# a core's L2 cache, and first streams each block into the cache with a plain sum:
# a sum reads memory faster than the BLAS matrix-vector kernels do (MKL's dgemv,
# which torch calls, read at about a third of the memory bandwidth on an AMD EPYC
# at 100 columns), and from the cache both products are fast. Narrow data and the
# softmax pass use 4 MiB blocks and no prefetch. (Whole fits of both layouts, timed
# interleaved in one process on a 2-core EPYC: 0.74-0.92 x the time at D = 100,
# no change at D = 10.)
_CPU_BLOCK_BYTES = 4 * 2**20
_CPU_LOGISTIC_BLOCK_BYTES = 2**20
_CPU_BLOCK_MAX_ROWS = 16384
_CPU_PREFETCH_MIN_FEATURES = 32
_GPU_BLOCK_BYTES = 512 * 2**20

# Below this many entries of X (2 MiB in float64) passes over X run on one thread;
# from there on they are split across threads (see ``_map_row_ranges``).
_PARALLEL_MIN_ENTRIES = 2**18


# --------------------------------------------------------------------------- #
# History
# --------------------------------------------------------------------------- #
@dataclass
class History:
    """What a solver did, one entry per iteration.

    Entry 0 describes the starting point, entry ``k`` the iterate after ``k``
    iterations (epochs for ``sgd``), so every list has ``n_iter + 1`` entries.

    Attributes
    ----------
    loss : list of float
        Objective value ``f`` (mean loss plus penalty, see the module docstring).
    grad_norm : list of float
        Largest absolute entry of the gradient of ``f`` (the infinity norm); the
        solvers stop when it is ``<= tol``.
    time : list of float
        Seconds since the solver started.
    coef_norm : list of float
        Euclidean norm of the weights ``w`` (intercept excluded). On linearly
        separable data without penalty it keeps growing.
    converged : bool
        Whether the stopping rule ``max |grad f| <= tol`` was met.
    message : str
        Why the solver stopped.
    """

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    time: list = field(default_factory=list)
    coef_norm: list = field(default_factory=list)
    converged: bool = False
    message: str = ""

    @property
    def n_iter(self):
        """Number of iterations done (``len(loss) - 1``)."""
        return max(len(self.loss) - 1, 0)


class _Recorder:
    """Fills a ``History`` and calls the user's callback."""

    def __init__(self, objective, callback):
        self.objective = objective
        self.callback = callback
        self.history = History()
        self.start = time.perf_counter()

    def __call__(self, theta, f, g):
        """Record one iterate; return its gradient norm as a float."""
        if _stop_requested():  # the caller was interrupted (Ctrl-C)
            raise KeyboardInterrupt
        h = self.history
        gnorm = float(g.abs().max())  # one device synchronisation per iteration
        h.loss.append(float(f))
        h.grad_norm.append(gnorm)
        h.coef_norm.append(float(self.objective.coef_norm(theta)))
        h.time.append(time.perf_counter() - self.start)
        if self.callback is not None:
            self.callback(h)
        return gnorm

    def finish(self, converged, message):
        self.history.converged = bool(converged)
        self.history.message = message
        return self.history


def _start(objective, theta0):
    """A fresh starting vector (zeros by default); ``theta0`` itself is not modified."""
    X = objective.X
    if theta0 is None:
        return torch.zeros(objective.n_params, dtype=X.dtype, device=X.device)
    theta0 = torch.as_tensor(theta0)
    if theta0.shape != (objective.n_params,):
        raise ValueError(
            f"theta0: expected a vector of shape ({objective.n_params},), got shape {tuple(theta0.shape)}"
        )
    return theta0.to(dtype=X.dtype, device=X.device).clone()


def _block_rows(X, block_rows, cpu_bytes=_CPU_BLOCK_BYTES):
    if block_rows is not None:  # the caller's choice, checked (never silently rounded or clipped)
        return check_int("block_rows", block_rows, low=1)
    if X.device.type != "cpu":
        return max(1, min(X.shape[0], _GPU_BLOCK_BYTES // (max(1, X.shape[1]) * X.element_size())))
    # ~cpu_bytes of X, and at most 16384 rows so that the per-row temporaries (z, the
    # residual, ...) of narrow data stay small too
    rows = cpu_bytes // (max(1, X.shape[1]) * X.element_size())
    return max(1, min(X.shape[0], rows, _CPU_BLOCK_MAX_ROWS))


# --------------------------------------------------------------------------- #
# Threads on the CPU
# --------------------------------------------------------------------------- #
# Why not simply let each torch operation use all cores? A pass over X in cache-sized
# blocks makes hundreds of small operations, and each multi-threaded operation ends
# with all its threads waiting for each other. On a busy machine (more runnable
# threads than cores) one descheduled thread stalls every one of those waits: a
# pass measured 20-50x slower than on an idle machine, and a 569 x 31 fit 10-100 ms
# instead of 3 ms. So on the CPU:
#
# * a solver runs in a worker thread whose torch operations are single-threaded
#   (its small vector and matrix work gains nothing from threads);
# * each pass over X is split into ranges of rows (about four per thread that torch
#   may use in the caller) that single-threaded block workers take as they become
#   free; the threads meet once per pass. Partial results are summed in row order,
#   so they do not depend on which thread computed what.
#
# The caller's own torch settings are left as they were.
_POOLS = {}
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()  # in a solver thread: how many block workers, and a stop flag
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_POOLS.clear)


def _init_worker():
    torch.get_num_threads()  # let torch set up this thread first, then make its
    torch.set_num_threads(1)  # operations single-threaded (the thread's own setting)


def _workers(n, role):
    """A pool of ``n`` threads (``role``: "solver" or "blocks") with single-threaded torch."""
    with _POOLS_LOCK:
        if (n, role) not in _POOLS:
            threads = torch.get_num_threads()
            pool = ThreadPoolExecutor(n, thread_name_prefix=f"mathcore-{role}", initializer=_init_worker)
            barrier = threading.Barrier(n)
            list(pool.map(lambda _: barrier.wait(), range(n)))  # start all n threads now
            # set_num_threads(1) in a worker also changed the default for threads made
            # later; restore it (this thread's own setting is unchanged).
            torch.set_num_threads(threads)
            _POOLS[n, role] = pool
        return _POOLS[n, role]


def _single_threaded(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` in a worker thread whose torch operations are single-threaded.

    Ctrl-C (``KeyboardInterrupt``) in the caller also stops the worker at its next
    check of ``_stop_requested()``. Calls ``fn`` directly when torch is limited to
    one thread or when already inside a mathcore worker.
    """
    threads = torch.get_num_threads()
    if threads == 1 or threading.current_thread().name.startswith("mathcore"):
        return fn(*args, **kwargs)

    def task(stop):
        _LOCAL.threads, _LOCAL.stop = threads, stop
        try:
            return fn(*args, **kwargs)
        finally:
            _LOCAL.threads = _LOCAL.stop = None

    stop = threading.Event()
    _workers(threads, "blocks")  # made here, not in the worker, to restore this thread's setting
    future = _workers(1, "solver").submit(task, stop)
    try:
        return future.result()
    except KeyboardInterrupt:
        stop.set()
        raise


def _stop_requested():
    """Whether the caller of ``_single_threaded`` was interrupted (Ctrl-C)."""
    stop = getattr(_LOCAL, "stop", None)
    return stop is not None and stop.is_set()


def _in_solver_thread(solver):
    """Decorator: on the CPU, run ``solver`` with ``_single_threaded`` (see above)."""

    @functools.wraps(solver)
    def run(objective, *args, **kwargs):
        if objective.X.device.type != "cpu":
            return solver(objective, *args, **kwargs)
        return _single_threaded(solver, objective, *args, **kwargs)

    return run


def _map_row_ranges(fn, X, block_rows):
    """``[fn(lo, hi), ...]`` over consecutive ranges of rows of ``X`` that cover it.

    One range (in the calling thread) on a GPU, for small ``X``, or when torch is
    limited to one thread. Otherwise about four ranges per thread that torch may use
    in the caller (whole blocks of ``block_rows`` rows each), handed to the block
    workers as they become free: on a busy machine a worker that gets less CPU time
    simply takes fewer ranges. The results come back in row order whatever thread
    computed them, so sums over them are reproducible.
    """
    n = X.shape[0]
    workers = getattr(_LOCAL, "threads", None) or torch.get_num_threads()
    if X.device.type != "cpu" or workers <= 1 or X.numel() < _PARALLEL_MIN_ENTRIES:
        return [fn(0, n)]
    n_blocks = -(-n // block_rows)
    parts = min(n_blocks, 4 * workers)
    cuts = [block_rows * (n_blocks * k // parts) for k in range(parts)] + [n]
    return list(_workers(workers, "blocks").map(fn, cuts[:-1], cuts[1:]))


def _hessian_block_rows(objective):
    """Rows per block for Hessian passes: about 1 MiB of ``X`` (``c * Xb`` is a copy)."""
    return max(1, min(objective.block_rows, 2**20 // (objective.n_features * objective.X.element_size())))


def _add_weighted_gram(H, Xb, c, intercept):
    """``H += X~_b^T diag(c) X~_b`` for one block, with ``X~_b = [Xb, 1]`` if ``intercept``.

    The column of ones is never built: its part of the product is the column sums
    of ``c * Xb`` and the sum of ``c``.
    """
    D = Xb.shape[1]
    Xc = Xb * c[:, None]
    H[:D, :D].addmm_(Xb.T, Xc)
    if intercept:
        col = Xc.sum(dim=0)
        H[:D, D] += col
        H[D, :D] += col
        H[D, D] += c.sum()


# --------------------------------------------------------------------------- #
# Objectives
# --------------------------------------------------------------------------- #
class LogisticObjective:
    r"""Penalised mean logistic loss of a linear model (two classes).

    ``f(theta) = (1/N) sum_i [softplus(z_i) - t_i z_i] + lam/(2N) ||w||^2`` with
    ``z = X w + b`` and ``theta = [w, b]`` (just ``w`` when ``fit_intercept`` is
    False). The intercept is not penalised.

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

    def __init__(self, X, t, *, lam=0.0, fit_intercept=True, block_rows=None):
        if X.ndim != 2 or t.shape != (X.shape[0],):
            raise ValueError(f"X, t: expected shapes (N, D) and (N,), got {tuple(X.shape)} and {tuple(t.shape)}")
        if t.dtype != X.dtype or t.device != X.device:
            raise TypeError(f"t: expected dtype {X.dtype} on {X.device}, got {t.dtype} on {t.device}")
        if not lam >= 0:
            raise ValueError(f"lam: expected a number >= 0, got {lam}")
        if not bool(((t == 0) | (t == 1)).all()):
            raise ValueError(f"t: expected labels 0 and 1, got values {torch.unique(t)[:5].tolist()}")
        self.X, self.t = X, t
        self.n_samples, self.n_features = X.shape
        self.lam = float(lam)
        self.alpha = self.lam / self.n_samples  # penalty weight in the mean form
        self.fit_intercept = bool(fit_intercept)
        self.n_params = self.n_features + int(self.fit_intercept)
        wide = X.shape[1] >= _CPU_PREFETCH_MIN_FEATURES
        self.block_rows = _block_rows(X, block_rows, _CPU_LOGISTIC_BLOCK_BYTES if wide else _CPU_BLOCK_BYTES)
        self._prefetch = wide and X.device.type == "cpu"
        self._z = None  # z = X w + b of the last full evaluation ...
        self._z_theta = None  # ... and the theta it belongs to
        self._r = None  # buffer for the residuals sigma(z) - t

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
        if rows is None:
            X, t = self.X, self.t
            if self._z is None:  # buffers for z and the residual, reused by every evaluation
                self._z, self._r = X.new_empty(self.n_samples), X.new_empty(self.n_samples)
            z, r = self._z, self._r
        else:  # a mini-batch (SGD): gather its rows
            X, t = self.X[rows], self.t[rows]
            z, r = X.new_empty(len(t)), X.new_empty(len(t))
        n, B = X.shape[0], self.block_rows
        w, b = self.split(theta)
        w_is_zero = not bool(w.any())  # the usual starting point: then z = b, no product needed

        def rows_pass(lo, hi):
            """Fill z and r for rows lo..hi-1; return their loss sum, X^T r and sum of r."""
            gw = torch.zeros_like(w)
            # Each block is read from memory once for z = X w + b and, while it is
            # still in cache, again for the gradient X^T r. Everything else is done
            # once per range on the vectors z and r (few calls, long vectors).
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
                    rb = torch.sigmoid(zb, out=r[i:j]).sub_(t[i:j])  # residual sigma(z) - t
                    gw.addmv_(Xb.T, rb)
            z_, t_ = z[lo:hi], t[lo:hi]
            # softplus(z) - t z = softplus((1 - 2t) z) for t in {0, 1}: the same value,
            # but a sum of non-negative terms without cancellation, so even a tiny loss
            # (far from the boundary, or on separable data) keeps its relative accuracy.
            m = torch.addcmul(z_, t_, z_, value=-2.0)  # (1 - 2t) z
            loss = F.softplus(m, threshold=_SOFTPLUS_THRESHOLD).sum()
            r_sum = r[lo:hi].sum() if grad and b is not None else None
            return loss, gw, r_sum

        parts = _map_row_ranges(rows_pass, X, B)
        if rows is None:
            self._z_theta = theta.detach().clone()
        f = sum(part[0] for part in parts) / n + 0.5 * self.alpha * torch.dot(w, w)
        if not grad:
            return f
        gw = sum(part[1] for part in parts).div_(n).add_(w, alpha=self.alpha)
        if b is None:
            return f, gw
        return f, torch.cat([gw, (sum(part[2] for part in parts) / n).reshape(1)])

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
        X, B = self.X, _hessian_block_rows(self)
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
                _add_weighted_gram(H, Xb, p * (1.0 - p), b is not None)  # s = p(1 - p): diagonal of S
            return H

        H = torch.stack(_map_row_ranges(rows_pass, X, B)).sum(dim=0)
        H /= self.n_samples
        H.diagonal()[: self.n_features] += self.alpha
        return H

    def lipschitz(self):
        """An upper bound ``L`` on the largest Hessian eigenvalue: ``lambda_max(X~^T X~)/(4N) + lam/N``.

        ``1/L`` is the classic safe step of gradient descent. Costs one pass over
        ``X`` (the Gram matrix ``X~^T X~``) and an eigenvalue solve of size ``n_params``.
        """
        return 0.25 * _gram_lambda_max(self) / self.n_samples + self.alpha

    def min_margin(self, theta):
        """``min_i (2 t_i - 1) z_i``: positive iff ``theta`` classifies every row correctly."""
        z = self._cached_z(theta)
        if z is None:
            z = self.decision(theta)
        return float(-((1.0 - 2.0 * self.t) * z).max())

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
        positive = self.t == 1
        if not self.fit_intercept or bool(positive.all()) or not bool(positive.any()):
            return self.min_margin(theta) > 0
        return float(z[positive].min()) > float(z[~positive].max())


class SoftmaxObjective:
    r"""Penalised mean cross-entropy of a linear softmax model (``K >= 2`` classes).

    ``f(theta) = (1/N) sum_i [logsumexp(z_i) - z_{i, y_i}] + lam/(2N) ||W||_F^2`` with
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
    """

    def __init__(self, X, y, n_classes, *, lam=0.0, fit_intercept=True, block_rows=None):
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"X, y: expected shapes (N, D) and (N,), got {tuple(X.shape)} and {tuple(y.shape)}")
        if y.dtype != torch.int64 or y.device != X.device:
            raise TypeError(f"y: expected int64 class indices on {X.device}, got {y.dtype} on {y.device}")
        if int(n_classes) < 2:
            raise ValueError(f"n_classes: expected at least 2, got {n_classes}")
        if not lam >= 0:
            raise ValueError(f"lam: expected a number >= 0, got {lam}")
        self.X, self.y = X, y
        self.n_samples, self.n_features = X.shape
        self.n_classes = int(n_classes)
        self.lam = float(lam)
        self.alpha = self.lam / self.n_samples
        self.fit_intercept = bool(fit_intercept)
        self.n_cols = self.n_features + int(self.fit_intercept)  # columns of [W, b]
        self.n_params = self.n_classes * self.n_cols
        self.block_rows = _block_rows(X, block_rows)
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
        if rows is None:
            X, y = self.X, self.y
            if self._z is None:
                self._z = X.new_empty(self.n_samples, self.n_classes)
            z_all = self._z
        else:
            X, y, z_all = self.X[rows], self.y[rows], None
        n, B = X.shape[0], self.block_rows
        W, b = self.split(theta)

        def rows_pass(lo, hi):
            """Loss sum and gradient parts [sum of R^T X, sum of R] for rows lo..hi-1."""
            loss = X.new_zeros(())
            GW = torch.zeros_like(W)
            gb = X.new_zeros(self.n_classes)
            for i in range(lo, hi, B):
                j = min(i + B, hi)
                Xb, yb = X[i:j], y[i:j]
                Z = torch.mm(Xb, W.T) if z_all is None else torch.mm(Xb, W.T, out=z_all[i:j])
                if b is not None:
                    Z += b
                # loss_i = logsumexp(z_i) - z_{i,y_i}, computed as logsumexp(z_i - z_{i,y_i}):
                # exponentials of the margins, no cancellation of two large numbers
                loss += torch.logsumexp(Z - Z.gather(1, yb[:, None]), dim=1).sum()
                if grad:
                    R = torch.softmax(Z, dim=1)  # probabilities ...
                    R[torch.arange(len(yb), device=R.device), yb] -= 1.0  # ... minus one-hot targets
                    GW.addmm_(R.T, Xb)
                    gb += R.sum(0)
            return loss, GW, gb

        parts = _map_row_ranges(rows_pass, X, B)
        if rows is None:
            self._z_theta = theta.detach().clone()
        loss = torch.stack([part[0] for part in parts]).sum()
        f = loss / n + 0.5 * self.alpha * (W * W).sum()
        if not grad:
            return f
        GW = torch.stack([part[1] for part in parts]).sum(dim=0).div_(n).add_(W, alpha=self.alpha)
        if b is not None:
            gb = torch.stack([part[2] for part in parts]).sum(dim=0)
            GW = torch.cat([GW, (gb / n)[:, None]], dim=1)
        return f, GW.reshape(-1)

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
        B = _hessian_block_rows(self)
        for i in range(0, self.n_samples, B):
            Xb = X[i : i + B]
            Z = Z_all[i : i + Xb.shape[0]] if Z_all is not None else self.decision(theta, Xb)
            P = torch.softmax(Z, dim=1)
            for k in range(K):
                for j in range(k, K):  # block (k, j) and, by symmetry, (j, k)
                    c = P[:, k] * ((1.0 if k == j else 0.0) - P[:, j])
                    _add_weighted_gram(H[k, :, j, :], Xb, c, b is not None)
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
        """Upper bound on the largest Hessian eigenvalue: ``lambda_max(X~^T X~)/(2N) + lam/N``."""
        return 0.5 * _gram_lambda_max(self) / self.n_samples + self.alpha

    def min_margin(self, theta):
        """``min_i (z_{i,y_i} - max_{k != y_i} z_{i,k})``: positive iff ``theta`` classifies all rows correctly."""
        Z = self._cached_z(theta)
        if Z is None:
            Z = self.decision(theta)
        true = Z.gather(1, self.y[:, None])[:, 0]
        other = Z.scatter(1, self.y[:, None], float("-inf")).amax(dim=1)
        return float((true - other).min())

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
        found = []
        for k in range(K):
            member = self.y == k
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


def _gram_lambda_max(objective):
    """Largest eigenvalue of ``X~^T X~`` (``X~ = [X, 1]`` with intercept), block by block."""
    X = objective.X
    n_cols = objective.n_features + int(objective.fit_intercept)
    G = X.new_zeros(n_cols, n_cols)
    B = _hessian_block_rows(objective)
    for i in range(0, objective.n_samples, B):
        Xb = X[i : i + B]
        _add_weighted_gram(G, Xb, Xb.new_ones(Xb.shape[0]), objective.fit_intercept)
    return float(torch.linalg.eigvalsh(G)[-1])


# --------------------------------------------------------------------------- #
# Solvers
# --------------------------------------------------------------------------- #
@_in_solver_thread
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
    >>> theta, hist = gradient_descent(LogisticObjective(X, t, lam=1.0), tol=1e-8)
    >>> hist.converged
    True
    """
    rec = _Recorder(objective, callback)
    theta = _start(objective, theta0)
    lr = float(learning_rate) if learning_rate is not None else 1.0 / objective.lipschitz()
    f, g = objective.value_grad(theta)
    for _ in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        theta = theta - lr * g
        f, g = objective.value_grad(theta)
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")


@_in_solver_thread
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
    rec = _Recorder(objective, callback)
    theta = _start(objective, theta0)
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


def _cubic_minimiser(x1, f1, g1, x2, f2, g2, lo, hi):
    """Minimiser of the cubic through two points with slopes, clipped to [lo, hi]."""
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0 or not math.isfinite(disc):
        return 0.5 * (lo + hi)
    d2 = math.sqrt(disc) * (1.0 if x2 >= x1 else -1.0)
    denom = g2 - g1 + 2.0 * d2
    if denom == 0:
        return 0.5 * (lo + hi)
    x = x2 - (x2 - x1) * (g2 + d2 - d1) / denom
    return min(max(x, lo), hi) if math.isfinite(x) else 0.5 * (lo + hi)


def _strong_wolfe(phi, f0, slope0, step, noise=0.0, min_step=0.0, c1=1e-4, c2=0.9, max_evals=25):
    """Line search for a step satisfying the strong Wolfe conditions.

    ``phi(step)`` returns ``(f, g, slope)`` at ``theta + step * d``. Follows Nocedal &
    Wright, *Numerical Optimization*, algorithms 3.5 (bracketing, with
    extrapolation) and 3.6 (zoom, with cubic interpolation). Values of ``f`` that
    differ by less than ``noise`` (its rounding error) count as equal, so that near
    the optimum, where the decrease of ``f`` drowns in rounding, the slope (which is
    still accurate) decides. The search gives up when the bracket is narrower than
    ``min_step`` (steps so short that ``theta`` would not change). Returns
    ``(step, f, g)`` or ``None`` when no acceptable step was found.
    """
    prev = (0.0, f0, None, slope0)
    best = None
    bracket = None
    for i in range(max_evals):
        f, g, slope = phi(step)
        cur = (step, f, g, slope)
        if f <= f0 + c1 * step * slope0 + noise and (best is None or f < best[1]):
            best = cur
        if f > f0 + c1 * step * slope0 + noise or (i > 0 and f > prev[1] + noise):
            bracket = (prev, cur)
            break
        if abs(slope) <= -c2 * slope0:
            return step, f, g
        if slope >= 0:
            bracket = (cur, prev)
            break
        # Still going down: extrapolate, between 2x and 10x further.
        new = _cubic_minimiser(prev[0], prev[1], prev[3], step, f, slope, 2.0 * step, 10.0 * step)
        prev, step = cur, new
    if bracket is not None:
        lo, hi = bracket  # lo: sufficient decrease and lowest f so far
        for _ in range(max_evals - i - 1):
            a, b = sorted((lo[0], hi[0]))
            width = b - a
            if width <= max(min_step, 1e-12 * b):
                break
            step = _cubic_minimiser(lo[0], lo[1], lo[3], hi[0], hi[1], hi[3], a + 0.1 * width, b - 0.1 * width)
            f, g, slope = phi(step)
            cur = (step, f, g, slope)
            if f > f0 + c1 * step * slope0 + noise or f > lo[1] + noise:
                hi = cur
            else:
                if best is None or f < best[1]:
                    best = cur
                if abs(slope) <= -c2 * slope0:
                    return step, f, g
                if slope * (hi[0] - lo[0]) >= 0:
                    hi = lo
                lo = cur
    if best is not None and best[2] is not None:
        return best[0], best[1], best[2]
    return None


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


@_in_solver_thread
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
    rec = _Recorder(objective, callback)
    theta = _start(objective, theta0)
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
        found = _strong_wolfe(phi, f_val, slope, step, noise=noise, min_step=min_step)
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


@_in_solver_thread
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
    rec = _Recorder(objective, callback)
    theta = _start(objective, theta0)
    f, g = objective.value_grad(theta)
    for _ in range(max_iter):
        if rec(theta, f, g) <= tol:
            return theta, rec.finish(True, "gradient norm <= tol")
        d = _solve_spd(objective.hessian(theta), -g)
        slope = float(torch.dot(g, d))
        if not slope < 0:
            d, slope = -g, -float(torch.dot(g, g))
        f0 = float(f)
        noise = _rounding_error(objective, f0)
        step = 1.0
        for _ in range(60):
            f_new, g_new = objective.value_grad(theta + step * d)
            if float(f_new) <= f0 + 1e-4 * step * slope + noise:  # Armijo, up to rounding
                break
            step *= 0.5
        else:
            return theta, rec.finish(False, _NO_STEP)
        theta = theta + step * d
        f, g = f_new, g_new
    converged = rec(theta, f, g) <= tol
    return theta, rec.finish(converged, "gradient norm <= tol" if converged else "max_iter reached")
