"""The CPU fast path without numba: passes over ``X`` in cache-sized blocks of rows, split across threads.

The objectives have several ways to evaluate the loss and gradient with the same
contract (same arguments, same results up to rounding): a plain reference path,
one torch expression over the whole matrix, and the fast paths, used on the CPU
when ``X`` is large (``use_blocks``). ``tests/test_optim.py`` checks that they agree.
This module decides when a pass is blocked, how large a block is, and holds the
Hessian's block helpers; the threads that run the ranges of blocks are ``workers``.
The caller's torch thread setting is restored when the solver returns.
"""

import torch

from .._validation import check_int
from . import _fused
from .workers import map_ranges, pass_threads

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
CPU_BLOCK_BYTES = 4 * 2**20
CPU_LOGISTIC_BLOCK_BYTES = 2**20
CPU_BLOCK_MAX_ROWS = 16384
CPU_PREFETCH_MIN_FEATURES = 32
GPU_BLOCK_BYTES = 512 * 2**20

# Below this many entries of X (2 MiB in float64) a pass is one torch expression on
# the whole matrix (the reference path): blocks and threads would only add overhead.
PARALLEL_MIN_ENTRIES = 2**18


def use_blocks(X):
    """Whether passes over ``X`` take the blocked fast path (a large ``X`` on the CPU)."""
    return X.device.type == "cpu" and X.numel() >= PARALLEL_MIN_ENTRIES


def block_rows(X, rows=None, cpu_bytes=CPU_BLOCK_BYTES):
    """Rows per block: ``rows`` if given (checked), else about ``cpu_bytes`` of ``X`` on the CPU."""
    if rows is not None:  # the caller's choice, checked (never silently rounded or clipped)
        return check_int("block_rows", rows, low=1)
    if X.device.type != "cpu":
        return max(1, min(X.shape[0], GPU_BLOCK_BYTES // (max(1, X.shape[1]) * X.element_size())))
    # at most 16384 rows so that the per-row temporaries of narrow data stay small too
    n = cpu_bytes // (max(1, X.shape[1]) * X.element_size())
    return max(1, min(X.shape[0], n, CPU_BLOCK_MAX_ROWS))


def use_fused(X):
    """Whether passes over ``X`` take the fused numba kernel: a large float ``X`` on the CPU, numba installed."""
    return use_blocks(X) and X.dtype in (torch.float32, torch.float64) and _fused.available()


def map_row_ranges(fn, X, rows_per_block):
    """``[fn(lo, hi), ...]`` over consecutive ranges of rows of ``X`` (whole blocks) that cover it.

    One range (in the calling thread) on a GPU, for small ``X`` or with one thread;
    otherwise ranges of blocks over the workers (``workers.map_ranges``), in row order.
    """
    n = X.shape[0]
    n_workers = pass_threads() if use_blocks(X) else 1
    n_blocks = -(-n // rows_per_block)
    return map_ranges(lambda lo, hi: fn(lo * rows_per_block, min(hi * rows_per_block, n)), n_blocks, n_workers)


def hessian_block_rows(objective):
    """Rows per block for Hessian passes: about 1 MiB of ``X`` (``c * Xb`` is a copy)."""
    return max(1, min(objective.block_rows, 2**20 // (objective.n_features * objective.X.element_size())))


def add_weighted_gram(H, Xb, c, intercept):
    """``H += X~_b^T diag(c) X~_b`` for one block, with ``X~_b = [Xb, 1]`` if ``intercept``.

    The column of ones is never built: its part of the product is ``c^T Xb`` and the
    sum of ``c``. Torch tensors or NumPy arrays (the small path).
    """
    D = Xb.shape[1]
    H[:D, :D] += Xb.T @ (Xb * c[:, None])
    if intercept:
        col = c @ Xb  # a product, not (c * Xb).sum(0): NumPy's column sums were a third of the time
        H[:D, D] += col
        H[D, :D] += col
        H[D, D] += c.sum()


def gram_lambda_max(objective):
    """Largest eigenvalue of ``X~^T diag(s) X~`` (``X~ = [X, 1]`` with intercept, ``s`` the sample weights)."""
    X = objective.X
    n_cols = objective.n_features + int(objective.fit_intercept)
    G = X.new_zeros(n_cols, n_cols)
    B = hessian_block_rows(objective)
    weights = getattr(objective, "sample_weight", None)
    for i in range(0, objective.n_samples, B):
        Xb = X[i : i + B]
        c = Xb.new_ones(Xb.shape[0]) if weights is None else weights[i : i + Xb.shape[0]]
        add_weighted_gram(G, Xb, c, objective.fit_intercept)
    return float(torch.linalg.eigvalsh(G)[-1])
