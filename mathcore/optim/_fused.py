r"""The fused one-pass kernel: loss, ``dloss/dz`` and ``X^T r`` in one read of ``X`` (numba).

The third way to evaluate the objectives, with the same contract as the plain
reference path and the blocked torch path (all three agree to 1e-12 in float64:
``tests/test_optim.py``). For each row ``x_i`` it computes, while the row is still in
the core's L1 cache (the logistic kernel takes rows two at a time),

* logistic: ``z_i = x_i . w + b``, ``loss_i = s_i softplus((1 - 2 t_i) z_i)``,
  ``r_i = s_i (sigmoid(z_i) - t_i)``, ``g += r_i x_i``;
* softmax: ``z_i = W x_i + b``, ``loss_i = s_i (logsumexp(z_i) - z_{i, y_i})``,
  ``r_i = s_i (softmax(z_i) - onehot(y_i))``, ``G += r_i x_i^T``.

These are the formulas ``mathcore.symbolic.objective_functions`` generates for
torch (the equality test ties the two), written out per element because a JIT
compiles loops, not torch calls. Rows are cut into blocks whose size depends only
on ``X``'s shape and dtype; each block sums into its own partial result and the
partials are added in block order, so the result is the same bit for bit whatever
the number of threads. The kernel itself is serial and releases the GIL; a small
pool of threads runs ranges of blocks (numba's own parallel loops cost about a
millisecond per call to start on a small virtual machine, and its OpenMP layer
would change torch's thread count).

float32 input takes a second logistic kernel, ``_logistic_chunk_kernel``: the work per row (an
exponential, a division, the loss terms) weighs more in float32, whose rows carry half the bytes
(the Performance page measures what that work adds to a pass). It computes ``z`` for a chunk of
``CHUNK`` rows, then those scalar terms for the whole chunk in one loop that LLVM vectorises (a
polynomial ``exp``, no calls, no branches), then the updates, all in float32 arithmetic with the
chunk's ``X^T r`` added into float64 partials. In float64 the
same structure was slower (its bursts of reads overlap the arithmetic less), so float64 keeps the
row-pair kernel (measured in one process, N = 1e6, D = 100, 2 cores).

numba is optional: without it (``available()`` is False) the objectives use the
blocked torch path. Compiled code is cached on disk (``cache=True``), so only the
first use on a machine pays the compile time (``benchmarks/bench_small.py`` measures it).
"""

import math

import numpy as np

from .workers import map_ranges

try:
    import numba
except ImportError:  # the course runs without it, on the blocked torch path
    numba = None

# Blocks of about 256 KiB of X (at least 64 rows), and at most 256 of them, so that
# the partial sums stay small next to X (256 x K x D numbers).
BLOCK_BYTES = 256 * 2**10
MAX_BLOCKS = 256
# The unweighted logistic loss sums log1p(e) = log(1 + e) for e >= PRODUCT_MIN_E as the log of a
# product, one log per LOG_ROWS rows (a log per row was a quarter of a float32 pass): factors are
# at most 2, so the product stays below 2^LOG_ROWS; 1 + e rounds e by at most 2^-53 / PRODUCT_MIN_E
# relative (about 1e-13), and smaller e keep log1p.
PRODUCT_MIN_E = 2.0**-10
LOG_ROWS = 1000
# float32 input: rows in chunks of CHUNK (their scalar terms in one vectorised loop, see
# _logistic_chunk_kernel); 32 rows of 100 float32 are 12.5 KiB, well inside L1.
CHUNK = 32


def available():
    """Whether the fused kernel can run (numba is importable)."""
    return numba is not None


def block_rows(n_rows, n_cols, itemsize):
    """Rows per block: about ``BLOCK_BYTES`` of ``X``, at most ``MAX_BLOCKS`` blocks."""
    by_size = max(64, BLOCK_BYTES // max(1, n_cols * itemsize))
    return max(1, by_size, -(-n_rows // MAX_BLOCKS))


def _jit(fn, error_model="python"):
    if numba is None:
        return None
    # reassociation lets LLVM vectorise the dot products (sums in another order: rounding only);
    # afn/arcp allow faster exp, log1p and divisions (measured: about 15 % off a 1e6 x 100 pass)
    return numba.njit(cache=True, nogil=True, error_model=error_model,
                      fastmath={"reassoc", "contract", "afn", "arcp", "nsz"})(fn)


def _row_terms(zi, ti):  # pragma: no cover - compiled
    """For one row: ``max(m, 0)`` and ``e`` with ``softplus(m) = max(m, 0) + log1p(e)``,
    ``m = (1 - 2t) z`` and ``e = exp(-|z|)``, and the residual ``sigmoid(z) - t`` (one exp)."""
    e = math.exp(-abs(zi))
    q = 1.0 / (1.0 + e)  # sigmoid(|z|)
    return max((1.0 - 2.0 * ti) * zi, 0.0), e, (q if zi >= 0.0 else e * q) - ti


def _logistic_kernel(X, t, s, w, b, has_s, z, want_grad, block, first, last,
                     loss_parts, r_parts, g_parts):  # pragma: no cover - compiled
    n, d = X.shape
    for blk in range(first, last):
        g = g_parts[blk]
        lo, hi = blk * block, min(n, (blk + 1) * block)
        loss_sum = 0.0
        r_sum = 0.0
        prod = 1.0  # of the factors 1 + e (see PRODUCT_MIN_E)
        # Rows in pairs: two dot products share each load of w, and g is read and written
        # once per pair. A lone last row is paired with itself, its twin weighted 0.
        for i in range(lo, hi, 2):
            k = i + 1 if i + 1 < hi else i
            za = b
            zb = b
            for j in range(d):
                za += X[i, j] * w[j]
                zb += X[k, j] * w[j]
            z[i] = za
            z[k] = zb
            ma, ea, ra = _row_terms(za, t[i])
            mb, eb, rb = _row_terms(zb, t[k])
            sa = s[i] if has_s else 1.0
            sb = (s[k] if has_s else 1.0) if k > i else 0.0
            if has_s:
                loss_sum += sa * (ma + math.log1p(ea)) + sb * (mb + math.log1p(eb))
            else:
                loss_sum += ma + sb * mb
                for e, use in ((ea, True), (eb, k > i)):
                    if use:
                        if e >= PRODUCT_MIN_E:
                            prod *= 1.0 + e
                        else:
                            loss_sum += math.log1p(e)
                if (i - lo) % LOG_ROWS == LOG_ROWS - 2:  # every LOG_ROWS rows (an even number)
                    loss_sum += math.log(prod)
                    prod = 1.0
            if want_grad:
                ra *= sa
                rb *= sb
                r_sum += ra + rb
                for j in range(d):
                    g[j] += ra * X[i, j] + rb * X[k, j]
        loss_parts[blk] = loss_sum + math.log(prod)
        r_parts[blk] = r_sum


# exp(x) for x <= 0 without a call, so that LLVM can vectorise a loop of them (libm's exp is a
# call per element): x = k ln2 + r with |r| <= ln2/2, exp(r) by its Taylor polynomial to r^13
# (remainder < 1e-17 relative), 2^k built in the exponent bits. Below -708, 2^k would be subnormal.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two: k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer, held in the low bits
_EXP_MIN = -708.0
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))


if numba is not None:
    from llvmlite import ir as _ir
    from numba.extending import intrinsic

    @intrinsic
    def _as_int(typingctx, x):
        """The 64 bits of a float64 as an int64."""
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], _ir.IntType(64))
        return numba.types.int64(numba.types.float64), codegen

    @intrinsic
    def _as_float(typingctx, k):
        """The 64 bits of an int64 as a float64."""
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], _ir.DoubleType())
        return numba.types.float64(numba.types.int64), codegen


def _exp_nonpositive(x):  # pragma: no cover - compiled
    """``exp(x)`` for ``x <= 0`` (``x`` below ``_EXP_MIN`` is taken as ``_EXP_MIN``)."""
    x = max(x, _EXP_MIN)
    kd = x * _LOG2E + _ROUND  # k = round(x / ln 2) in the low bits of kd
    k = kd - _ROUND
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = _TAYLOR[0]
    for c in _TAYLOR[1:]:
        p = p * r + c
    return p * _as_float((_as_int(kd) + 1023) << 52)  # 2^k: k + 1023 in the exponent bits


def _logistic_chunk_kernel(X, t, s, w, b, zero, has_s, z, want_grad, block, first, last,
                           loss_parts, r_parts, g_parts):  # pragma: no cover - compiled
    """The logistic kernel for float32 ``X`` (``zero`` is 0 in X's dtype: the type of the sums)."""
    n, d = X.shape
    zc = np.empty(CHUNK)  # z, e and r of one chunk of rows
    ec = np.empty(CHUNK)
    rc = np.empty(CHUNK)
    rx = np.empty(CHUNK, X.dtype)  # r in X's dtype
    gl = np.zeros(d, X.dtype)  # the chunk's X^T r, in X's dtype
    for blk in range(first, last):
        g = g_parts[blk]
        lo, hi = blk * block, min(n, (blk + 1) * block)
        loss_sum = 0.0
        r_sum = 0.0
        for c0 in range(lo, hi, CHUNK):
            c1 = min(hi, c0 + CHUNK)
            m = c1 - c0
            # 1. z for the chunk, rows in pairs: two dot products share each load of w
            for i in range(c0, c1, 2):
                k = i + 1 if i + 1 < c1 else i
                za = zero
                zb = zero
                for j in range(d):
                    za += X[i, j] * w[j]
                    zb += X[k, j] * w[j]
                zc[i - c0] = za + b
                zc[k - c0] = zb + b
                z[i] = zc[i - c0]
                z[k] = zc[k - c0]
            # 2. the scalar terms of the chunk, without calls or branches (vectorised):
            # loss = max(m, 0) + log1p(e), m = (1 - 2t) z, e = exp(-|z|); r = sigmoid(z) - t
            prod = 1.0  # of the factors 1 + e >= 1 + PRODUCT_MIN_E (at most 2 each)
            tiny = 0.0  # log1p(e) for the smaller e, by its series
            for q in range(m):
                zq = zc[q]
                tq = t[c0 + q]
                e = _exp_nonpositive(-abs(zq))
                p = 1.0 / (1.0 + e)  # sigmoid(|z|); sigmoid(z) = p or e p (a product: vectorised)
                rc[q] = (1.0 if zq >= 0.0 else e) * p - tq
                ec[q] = e
                loss_sum += max((1.0 - 2.0 * tq) * zq, 0.0)
                big = e >= PRODUCT_MIN_E
                prod *= (1.0 + e) if big else 1.0
                tiny += 0.0 if big else e * (1.0 - e * (0.5 - e * (1 / 3 - e * (0.25 - e * (0.2 - e / 6)))))
            if has_s:  # weights: log1p term by term; the max terms above get weight s = 1 + (s - 1)
                for q in range(m):
                    loss_sum += (s[c0 + q] - 1.0) * max((1.0 - 2.0 * t[c0 + q]) * zc[q], 0.0)
                    loss_sum += s[c0 + q] * math.log1p(ec[q])
                    rc[q] *= s[c0 + q]
            else:
                loss_sum += tiny + math.log(prod)
            if want_grad:
                # 3. g += r_i x_i over the chunk, its rows still in cache, in pairs
                for q in range(m):
                    r_sum += rc[q]
                    rx[q] = rc[q]
                for i in range(c0, c1, 2):
                    k = i + 1 if i + 1 < c1 else i
                    ra = rx[i - c0]
                    rb = rx[k - c0] if k > i else zero
                    for j in range(d):
                        gl[j] += ra * X[i, j] + rb * X[k, j]
                for j in range(d):
                    g[j] += gl[j]
                    gl[j] = zero
        loss_parts[blk] = loss_sum
        r_parts[blk] = r_sum


def _softmax_kernel(X, y, s, W, b, has_s, Z, want_grad, block, first, last,
                    loss_parts, b_parts, G_parts):  # pragma: no cover - compiled
    n, d = X.shape
    K = W.shape[0]
    r = np.empty(K)
    for blk in range(first, last):
        G = G_parts[blk]
        loss_sum = 0.0
        for i in range(blk * block, min(n, (blk + 1) * block)):
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
                    b_parts[blk, c] += r[c]
                for c in range(K):
                    rc = r[c]
                    for j in range(d):
                        G[c, j] += rc * X[i, j]
        loss_parts[blk] = loss_sum


_row_terms = _jit(_row_terms) or _row_terms  # compiled first: the kernel calls it
if numba is not None:  # compiled first, without reassociation (it would undo the rounding trick)
    _exp_nonpositive = numba.njit(cache=True, nogil=True, error_model="numpy",
                                  fastmath={"contract", "nsz"})(_exp_nonpositive)
_LOGISTIC = _jit(_logistic_kernel)
_LOGISTIC_CHUNKED = _jit(_logistic_chunk_kernel, error_model="numpy")
_SOFTMAX = _jit(_softmax_kernel)


def _run(kernel, X, threads, args, parts):
    """``kernel`` over every block into the partial arrays ``parts(n_blocks)``, ranges of blocks
    spread over ``threads`` threads."""
    if numba is None:
        raise ImportError("the fused kernel needs numba: pip install numba (or mathcore-course[fast])")
    block = block_rows(X.shape[0], X.shape[1], X.itemsize)
    n_blocks = -(-X.shape[0] // block)
    threads = max(1, min(int(threads), n_blocks))
    arrays = parts(n_blocks)
    map_ranges(lambda lo, hi: kernel(X, *args, block, lo, hi, *arrays), n_blocks, threads)


def logistic_sums(X, t, w, b, z, *, sample_weight=None, grad=True, threads=1):
    """Sums over the rows of the two-class loss: ``(loss, X^T r, sum r)``; fills ``z = X w + b``.

    ``X`` (N, D), ``t``, ``w``, ``z`` and ``sample_weight`` are NumPy arrays of one
    floating dtype (any strides); ``b`` is a float (0 without intercept). ``t`` must hold
    only 0 and 1 (the loss uses ``|(1 - 2t) z| = |z|``): the objectives check it. The sums
    are float64 whatever the input dtype.
    """
    s = X[:0, 0] if sample_weight is None else sample_weight
    made = []

    def parts(n_blocks):
        made[:] = [np.zeros(n_blocks), np.zeros(n_blocks), np.zeros((n_blocks, X.shape[1]))]
        return made

    if X.dtype == np.float32:  # measured faster in float32 only (float64: slower from memory)
        args = (t, s, w, float(b), X.dtype.type(0), sample_weight is not None, z, grad)
        _run(_LOGISTIC_CHUNKED, X, threads, args, parts)
    else:
        _run(_LOGISTIC, X, threads, (t, s, w, float(b), sample_weight is not None, z, grad), parts)
    loss_parts, r_parts, g_parts = made  # added in block order
    return loss_parts.sum(), g_parts.sum(axis=0), r_parts.sum()


def softmax_sums(X, y, W, b, Z, *, sample_weight=None, grad=True, threads=1):
    """Sums over the rows of the softmax loss: ``(loss, R^T X, column sums of R)``; fills ``Z = X W^T + b``.

    ``W`` is (K, D) and ``b`` (K,) (zeros without intercept), ``y`` int64 class indices.
    """
    s = X[:0, 0] if sample_weight is None else sample_weight
    K, D = W.shape
    made = []

    def parts(n_blocks):
        made[:] = [np.zeros(n_blocks), np.zeros((n_blocks, K)), np.zeros((n_blocks, K, D))]
        return made

    _run(_SOFTMAX, X, threads, (y, s, W, b, sample_weight is not None, Z, grad), parts)
    loss_parts, b_parts, G_parts = made
    return loss_parts.sum(), G_parts.sum(axis=0), b_parts.sum(axis=0)
