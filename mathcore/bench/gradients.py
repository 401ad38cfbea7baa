"""The gradient of Chapter 8, several ways: a Python loop, NumPy and torch one-liners, a blocked pass.

Each public function checks its arguments once (shapes and dtypes only: a
finiteness check would read all of X, one extra pass that would distort the very
timing we want), then calls the unchecked kernel (``grad_loop``, ``grad_numpy``,
``grad_torch``, ``grad_blocked``) that the experiments time.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import torch
from scipy.special import expit

from .._validation import check_int
from ..optim.workers import map_ranges

__all__ = [
    "logistic_gradient_loop",
    "logistic_gradient_numpy",
    "logistic_gradient_torch",
    "logistic_gradient_blocked",
    "LOOP_MAX_ELEMENTS",
]

#: Largest ``N*D`` that ``logistic_gradient_loop`` accepts by default
#: (about a second of pure Python).
LOOP_MAX_ELEMENTS = 1_000_000


# ---------------------------------------------------------------------------
# The gradient, three (and a half) ways
# ---------------------------------------------------------------------------
# Each public function checks its arguments once (shapes and dtypes only: a
# finiteness check would read all of X, one extra pass that would distort the
# very timing we want), then calls a private kernel that the experiments time.


def check_numpy_problem(X, w, t):
    for name, a in (("X", X), ("w", w), ("t", t)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: expected a numpy.ndarray, got {type(a).__name__}")
    check_shapes(X, w, t)
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"X: expected dtype float32 or float64, got {X.dtype}")
    for name, a in (("w", w), ("t", t)):
        if a.dtype != X.dtype:
            raise TypeError(
                f"{name}: expected dtype {X.dtype} (the dtype of X), got {a.dtype}; "
                f"convert explicitly with {name}.astype(X.dtype)"
            )


def check_torch_problem(X, w, t):
    for name, a in (("X", X), ("w", w), ("t", t)):
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(a).__name__}")
    check_shapes(X, w, t)
    if X.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"X: expected dtype torch.float32 or torch.float64, got {X.dtype}")
    for name, a in (("w", w), ("t", t)):
        if a.dtype != X.dtype:
            raise TypeError(
                f"{name}: expected dtype {X.dtype} (the dtype of X), got {a.dtype}; "
                f"convert explicitly with {name}.to(X.dtype)"
            )
        if a.device != X.device:
            raise ValueError(f"{name}: expected a tensor on X's device {X.device}, got {a.device}")


def check_shapes(X, w, t):
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array of shape (N, D), got shape {tuple(X.shape)}")
    N, D = X.shape
    if N == 0 or D == 0:
        raise ValueError(f"X: expected at least one row and one column, got shape {tuple(X.shape)}")
    if tuple(w.shape) != (D,):
        raise ValueError(f"w: expected shape ({D},) to match X with D={D}, got {tuple(w.shape)}")
    if tuple(t.shape) != (N,):
        raise ValueError(f"t: expected shape ({N},) to match X with N={N}, got {tuple(t.shape)}")


def _sigmoid_scalar(z):
    """Stable scalar sigmoid: never calls exp of a large positive number."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logistic_gradient_loop(X, w, t, *, max_elements=LOOP_MAX_ELEMENTS):
    """Gradient of the summed logistic loss with two pure-Python loops.

    Computes ``g_j = sum_i (sigmoid(x_i . w) - t_i) * x_ij`` element by element,
    the way the formula reads: for each sample, one dot product, one
    exponential, then ``D`` multiply-adds into ``g``. It is here to be timed
    against the vectorised versions (about a hundred times slower than NumPy),
    so it refuses sizes that would take more than about a second.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, D), float32 or float64
        Design matrix (add a column of ones yourself for an intercept).
    w : numpy.ndarray, shape (D,), same dtype as X
        Weights.
    t : numpy.ndarray, shape (N,), same dtype as X
        Targets in {0, 1} (any real values are accepted).
    max_elements : int, default 1_000_000
        Largest ``N*D`` accepted.

    Returns
    -------
    numpy.ndarray, shape (D,), float64
        The gradient of the summed loss (Python floats are float64, whatever
        the input dtype).

    Raises
    ------
    TypeError
        If an argument is not a NumPy array or the dtypes differ.
    ValueError
        If the shapes do not match, or ``N*D > max_elements``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> logistic_gradient_loop(X, np.zeros(2), np.array([1.0, 0.0]))
    array([ 1. , -1.5])
    """
    check_numpy_problem(X, w, t)
    max_elements = check_int("max_elements", max_elements, low=1)
    N, D = X.shape
    if N * D > max_elements:
        raise ValueError(
            f"X: the pure-Python loop is limited to N*D <= {max_elements} "
            f"(about a second); got N*D = {N}*{D} = {N * D}. "
            "Use logistic_gradient_numpy or logistic_gradient_torch for this size."
        )
    return grad_loop(X, w, t)


def grad_loop(X, w, t):
    rows, weights, targets = X.tolist(), w.tolist(), t.tolist()
    D = len(weights)
    g = [0.0] * D
    for x_i, t_i in zip(rows, targets, strict=True):
        z = 0.0
        for j in range(D):
            z += x_i[j] * weights[j]
        r = _sigmoid_scalar(z) - t_i
        for j in range(D):
            g[j] += r * x_i[j]
    return np.array(g, dtype=np.float64)


def logistic_gradient_numpy(X, w, t):
    """Gradient of the summed logistic loss in NumPy: ``X.T @ (expit(X @ w) - t)``.

    Two BLAS matrix-vector products around one vectorised sigmoid
    (``scipy.special.expit``, which never overflows). ``X`` is read twice.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, D), float32 or float64
        Design matrix.
    w : numpy.ndarray, shape (D,), same dtype as X
        Weights.
    t : numpy.ndarray, shape (N,), same dtype as X
        Targets in {0, 1}.

    Returns
    -------
    numpy.ndarray, shape (D,), dtype of X
        The gradient of the summed loss (divide by N for the mean loss).

    Raises
    ------
    TypeError
        If an argument is not a NumPy array or the dtypes differ.
    ValueError
        If the shapes do not match or X is empty.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> logistic_gradient_numpy(X, np.zeros(2), np.array([1.0, 0.0]))
    array([ 1. , -1.5])
    """
    check_numpy_problem(X, w, t)
    return grad_numpy(X, w, t)


def grad_numpy(X, w, t):
    return X.T @ (expit(X @ w) - t)


def logistic_gradient_torch(X, w, t):
    """Gradient of the summed logistic loss in PyTorch: ``X.T @ (sigmoid(X @ w) - t)``.

    The same two matrix-vector products as ``logistic_gradient_numpy``, run by
    PyTorch on whatever device the tensors live on (CPU or GPU). On a GPU the
    result is returned before the work is done (asynchronously): synchronise
    before reading a clock (``time_function(..., device='cuda')`` does).

    Parameters
    ----------
    X : torch.Tensor, shape (N, D), float32 or float64
        Design matrix.
    w : torch.Tensor, shape (D,), same dtype and device as X
        Weights.
    t : torch.Tensor, shape (N,), same dtype and device as X
        Targets in {0, 1}.

    Returns
    -------
    torch.Tensor, shape (D,), on X's device
        The gradient of the summed loss.

    Raises
    ------
    TypeError
        If an argument is not a tensor or the dtypes differ.
    ValueError
        If the shapes or devices do not match, or X is empty.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    >>> logistic_gradient_torch(X, torch.zeros(2, dtype=torch.float64),
    ...                         torch.tensor([1.0, 0.0], dtype=torch.float64))
    tensor([ 1.0000, -1.5000], dtype=torch.float64)
    """
    check_torch_problem(X, w, t)
    return grad_torch(X, w, t)


def grad_torch(X, w, t):
    return X.T @ (torch.sigmoid(X @ w) - t)


# -- one pass over X: row blocks that stay in cache ---------------------------

_blocked_lock = threading.Lock()


def logistic_gradient_blocked(X, w, t, *, block_rows=None, workers=None, prefetch=True):
    """Gradient of the summed loss reading ``X`` from main memory only once.

    The one-liner ``X.T @ (sigmoid(X @ w) - t)`` streams all of ``X`` from
    memory twice: once for ``X @ w`` and once more for ``X.T @ r``. Because the
    gradient is a *sum over samples*, we may instead walk through ``X`` in
    blocks of rows small enough to stay in the CPU cache and do both products
    while the block is there::

        for each block of rows B:
            (prefetch: X_B.sum(), which pulls the block into cache at full
             memory speed)
            r_B = sigmoid(X_B @ w) - t_B      # first read: from memory
            g  += X_B.T @ r_B                 # second read: from cache

    The blocks are also grouped into ranges, about four per worker thread,
    which the ``workers`` threads (single-threaded BLAS each) take as they
    become free; the partial gradients are added in row order at the end. That
    is data parallelism on one machine: what ``mathcore.parallel`` does across
    processes, with a plain sum in place of the all-reduce. The threads are the
    fit's own (``mathcore.optim.workers``).

    The prefetch is a software trick for one machine's weakness: BLAS
    matrix-vector kernels read large arrays from memory more slowly than a
    plain reduction does, so we first stream the block with the fastest read
    kernel there is and let both products read it from cache. Its result is
    thrown away; it adds no memory traffic, only a cheap pass over cached
    data. Benchmark both settings (``prefetch=False``) on your machine.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor (CPU), shape (N, D), float32 or float64
        Design matrix, C-contiguous (row-major).
    w : same kind as X, shape (D,), same dtype
        Weights.
    t : same kind as X, shape (N,), same dtype
        Targets in {0, 1}.
    block_rows : int, optional
        Rows per block. Default: about 1 MiB of ``X`` per block (at least 64
        rows), so that a block and its temporaries fit in a per-core L2 cache.
    workers : int, optional
        Number of threads. Default: the size of the library's thread pool
        (``torch.get_num_threads()`` for tensors; the BLAS pool for NumPy),
        but no more than one per 4 MiB of ``X`` (small arrays live in cache
        and gain nothing from threads). Always capped at the number of blocks.
    prefetch : bool, default True
        Stream each block into cache with a reduction before the two products.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (D,), dtype of X
        The gradient of the summed loss (same kind as X). The summation order
        differs from the one-liner, so results agree to rounding (about
        ``1e-14`` relative in float64), not bit for bit.

    Raises
    ------
    TypeError
        If the arguments are of mixed kinds or dtypes.
    ValueError
        If the shapes do not match, X is not C-contiguous, a tensor is not on
        the CPU, or ``block_rows``/``workers`` is not a positive int.

    Notes
    -----
    While it runs, the library's own thread pool is limited to one thread
    (``torch.set_num_threads(1)``, or ``threadpoolctl`` for NumPy's BLAS) and
    restored afterwards: the parallelism comes from the ``workers`` threads.
    This setting is process-wide, so do not run other heavy torch/NumPy work
    in parallel threads at the same time.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 5)); w = rng.standard_normal(5)
    >>> t = (rng.random(1000) < 0.5).astype(float)
    >>> bool(np.allclose(logistic_gradient_blocked(X, w, t, block_rows=100),
    ...                  logistic_gradient_numpy(X, w, t)))
    True
    """
    if isinstance(X, torch.Tensor):
        check_torch_problem(X, w, t)
        if X.device.type != "cpu":
            raise ValueError(
                f"X: the blocked gradient targets CPU caches; got a tensor on {X.device} "
                "(use logistic_gradient_torch on a GPU)"
            )
        contiguous = X.is_contiguous()
    else:
        check_numpy_problem(X, w, t)
        contiguous = X.flags.c_contiguous
    if not contiguous:
        raise ValueError("X: expected a C-contiguous (row-major) array; use a contiguous copy")
    if block_rows is not None:
        block_rows = check_int("block_rows", block_rows, low=1)
    if workers is not None:
        workers = check_int("workers", workers, low=1)
    return grad_blocked(X, w, t, block_rows, workers, bool(prefetch))


_MIN_BYTES_PER_WORKER = 4 << 20


def default_block_rows(D, itemsize):
    return max(64, (1 << 20) // (D * itemsize))


def grad_blocked(X, w, t, block_rows=None, workers=None, prefetch=True):
    is_torch = isinstance(X, torch.Tensor)
    N, D = X.shape
    itemsize = X.element_size() if is_torch else X.itemsize
    B = block_rows or default_block_rows(D, itemsize)
    if workers is None:
        # one thread per core, but only for arrays that do not fit in cache anyway:
        # below a few MiB per thread, starting threads costs more than it saves
        workers = torch.get_num_threads() if is_torch else blas_threads()
        workers = min(workers, max(1, N * D * itemsize // _MIN_BYTES_PER_WORKER))

    def walk_torch(lo, hi):
        g = torch.zeros(D, dtype=X.dtype)
        z = torch.empty(min(B, hi - lo), dtype=X.dtype)
        for s in range(lo, hi, B):
            e = min(s + B, hi)
            xb, zb = X[s:e], z[: e - s]
            if prefetch:
                xb.sum()
            torch.mv(xb, w, out=zb)
            zb.sigmoid_()
            zb.sub_(t[s:e])
            g.addmv_(xb.T, zb)
        return g

    def walk_numpy(lo, hi):
        g = np.zeros(D, dtype=X.dtype)
        gb = np.empty(D, dtype=X.dtype)
        z = np.empty(min(B, hi - lo), dtype=X.dtype)
        for s in range(lo, hi, B):
            e = min(s + B, hi)
            xb, zb = X[s:e], z[: e - s]
            if prefetch:
                xb.sum()
            np.matmul(xb, w, out=zb)
            expit(zb, out=zb)
            zb -= t[s:e]
            np.matmul(zb, xb, out=gb)
            g += gb
        return g

    walk = walk_torch if is_torch else walk_numpy
    n_blocks = -(-N // B)
    workers = max(1, min(workers, n_blocks))
    with _blocked_lock, single_threaded_library(is_torch):
        # the same worker threads and ranges of blocks as the fit's passes (mathcore.optim.workers)
        partial = map_ranges(lambda lo, hi: walk(lo * B, min(hi * B, N)), n_blocks, workers)
    g = partial[0]
    for p in partial[1:]:
        g += p
    return g


_controller = None


def threadpools():
    """A cached ``threadpoolctl.ThreadpoolController`` (scanning the libraries is slow)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def blas_threads():
    counts = [info["num_threads"] for info in threadpools().info() if info["user_api"] == "blas"]
    return max(counts) if counts else 1


class single_threaded_library:
    """Context manager: one thread per torch/BLAS call while our own threads run.

    Also with a single worker: the blocks are small, and waking a thread pool
    for every small call costs more than it saves (and much more when another
    process occupies the other cores).
    """

    def __init__(self, is_torch):
        self.is_torch = is_torch

    def __enter__(self):
        if self.is_torch:
            self.previous = torch.get_num_threads()
            torch.set_num_threads(1)
        else:
            self.limits = threadpools().limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self.is_torch:
            torch.set_num_threads(self.previous)
        else:
            self.limits.restore_original_limits()
        return False
