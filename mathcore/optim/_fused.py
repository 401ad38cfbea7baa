r"""The fused one-pass kernel: loss, ``dloss/dz`` and ``X^T r`` in one read of ``X`` (numba).

The third way to evaluate the objectives, with the same contract as the plain
reference path and the blocked torch path (all
three agree to 1e-12 in float64: ``tests/test_optim.py``). For each row ``x_i`` it computes, while the row
is still in the core's L1 cache,

* logistic: ``z_i = x_i . w + b``, ``loss_i = s_i softplus((1 - 2 t_i) z_i)``,
  ``r_i = s_i (sigmoid(z_i) - t_i)``, ``g += r_i x_i``;
* softmax: ``z_i = W x_i + b``, ``loss_i = s_i (logsumexp(z_i) - z_{i, y_i})``,
  ``r_i = s_i (softmax(z_i) - onehot(y_i))``, ``G += r_i x_i^T``.

These are the formulas ``mathcore.symbolic.objective_functions`` generates for
torch (the equality test ties the two), written out per element because a JIT
compiles loops, not torch calls. Rows are cut into blocks whose size depends only
on ``X``'s shape and dtype; each block sums into its own partial result and the
partials are added in block order, so the result is the same bit for bit whatever
the number of threads.

numba is optional: without it (``available()`` is False) the objectives use the
blocked torch path. Compiled code is cached on disk (``cache=True``), so only the
first use on a machine pays the compile time (``compile_seconds`` records it).
"""

import math
import threading
import time

import numpy as np

try:
    import numba
except ImportError:  # the course runs without it, on the blocked torch path
    numba = None
else:
    # numba's OpenMP layer would share (and change) torch's OpenMP thread count; its own
    # work queue does not. Set before the first parallel kernel runs.
    numba.config.THREADING_LAYER = "workqueue"

# Blocks of about 256 KiB of X (at least 64 rows), and at most 256 of them, so that
# the partial sums stay small next to X (256 x K x D numbers).
BLOCK_BYTES = 256 * 2**10
MAX_BLOCKS = 256

_LOCK = threading.Lock()  # numba's default thread pool runs one parallel kernel at a time
compile_seconds = {}  # kernel name and dtype -> seconds of the first call in this process


def available():
    """Whether the fused kernel can run (numba is importable)."""
    return numba is not None


def block_rows(n_rows, n_cols, itemsize):
    """Rows per block: about ``BLOCK_BYTES`` of ``X``, at most ``MAX_BLOCKS`` blocks."""
    by_size = max(64, BLOCK_BYTES // max(1, n_cols * itemsize))
    return max(1, by_size, -(-n_rows // MAX_BLOCKS))


def _jit(fn):
    if numba is None:
        return None
    # reassociation lets LLVM vectorise the dot products (sums in another order: rounding only)
    return numba.njit(parallel=True, cache=True, nogil=True, fastmath={"reassoc", "contract"})(fn)


def _logistic_kernel(X, t, s, w, b, has_s, z, want_grad, block):  # pragma: no cover - compiled
    n, d = X.shape
    n_blocks = (n + block - 1) // block
    loss_parts = np.zeros(n_blocks)
    r_parts = np.zeros(n_blocks)
    # Inside a block the products run in X's dtype (float32 stays float32, as in torch).
    g_parts = np.zeros((n_blocks, d), X.dtype)
    for k in numba.prange(n_blocks):
        g = g_parts[k]
        cast = np.empty(1, X.dtype)
        loss_sum = 0.0
        r_sum = 0.0
        for i in range(k * block, min(n, (k + 1) * block)):
            cast[0] = b
            zi = cast[0]
            for j in range(d):
                zi += X[i, j] * w[j]
            z[i] = zi
            ti = t[i]
            m = (1.0 - 2.0 * ti) * zi  # the loss is softplus(m), computed without overflow
            loss_i = max(m, 0.0) + math.log1p(math.exp(-abs(m)))
            si = s[i] if has_s else 1.0
            loss_sum += si * loss_i
            if want_grad:
                if zi >= 0.0:
                    p = 1.0 / (1.0 + math.exp(-zi))
                else:
                    e = math.exp(zi)
                    p = e / (1.0 + e)
                r = si * (p - ti)
                r_sum += r
                cast[0] = r
                rx = cast[0]
                for j in range(d):
                    g[j] += rx * X[i, j]
        loss_parts[k] = loss_sum
        r_parts[k] = r_sum
    loss = 0.0
    r_total = 0.0
    g_total = np.zeros(d)
    for k in range(n_blocks):  # in block order: the same result for any thread count
        loss += loss_parts[k]
        r_total += r_parts[k]
        g_total += g_parts[k]
    return loss, g_total, r_total


def _softmax_kernel(X, y, s, W, b, has_s, Z, want_grad, block):  # pragma: no cover - compiled
    n, d = X.shape
    K = W.shape[0]
    n_blocks = (n + block - 1) // block
    loss_parts = np.zeros(n_blocks)
    b_parts = np.zeros((n_blocks, K))
    G_parts = np.zeros((n_blocks, K, d))
    for k in numba.prange(n_blocks):
        G = G_parts[k]
        r = np.empty(K)
        loss_sum = 0.0
        for i in range(k * block, min(n, (k + 1) * block)):
            top = -np.inf
            for c in range(K):
                zc = b[c]
                for j in range(d):
                    zc += W[c, j] * X[i, j]
                Z[i, c] = zc
                top = max(top, zc)
            total = 0.0
            for c in range(K):
                total += math.exp(Z[i, c] - top)
            lse = top + math.log(total)
            si = s[i] if has_s else 1.0
            loss_sum += si * (lse - Z[i, y[i]])
            if want_grad:
                for c in range(K):
                    r[c] = si * (math.exp(Z[i, c] - lse) - (1.0 if c == y[i] else 0.0))
                    b_parts[k, c] += r[c]
                for c in range(K):
                    rc = r[c]
                    for j in range(d):
                        G[c, j] += rc * X[i, j]
        loss_parts[k] = loss_sum
    loss = 0.0
    G_total = np.zeros((K, d))
    b_total = np.zeros(K)
    for k in range(n_blocks):
        loss += loss_parts[k]
        G_total += G_parts[k]
        b_total += b_parts[k]
    return loss, G_total, b_total


_LOGISTIC = _jit(_logistic_kernel)
_SOFTMAX = _jit(_softmax_kernel)


def _call(name, kernel, threads, X, *args):
    if numba is None:
        raise ImportError("the fused kernel needs numba: pip install numba (or mathcore-course[fast])")
    key = f"{name}[{X.dtype}]"
    with _LOCK:
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        start = time.perf_counter()
        out = kernel(X, *args, block_rows(X.shape[0], X.shape[1], X.itemsize))
        compile_seconds.setdefault(key, time.perf_counter() - start)
    return out


def logistic_sums(X, t, w, b, z, *, sample_weight=None, grad=True, threads=1):
    """Sums over the rows of the two-class loss: ``(loss, X^T r, sum r)``; fills ``z = X w + b``.

    ``X`` (N, D), ``t``, ``w``, ``z`` and ``sample_weight`` are NumPy arrays of one
    floating dtype (any strides); ``b`` is a float (0 without intercept). The sums
    are float64 whatever the input dtype.
    """
    s = X[:0, 0] if sample_weight is None else sample_weight
    return _call("logistic", _LOGISTIC, threads, X, t, s, w, float(b), sample_weight is not None, z, grad)


def softmax_sums(X, y, W, b, Z, *, sample_weight=None, grad=True, threads=1):
    """Sums over the rows of the softmax loss: ``(loss, R^T X, column sums of R)``; fills ``Z = X W^T + b``.

    ``W`` is (K, D) and ``b`` (K,) (zeros without intercept), ``y`` int64 class indices.
    """
    s = X[:0, 0] if sample_weight is None else sample_weight
    return _call("softmax", _SOFTMAX, threads, X, y, s, W, b, sample_weight is not None, Z, grad)
