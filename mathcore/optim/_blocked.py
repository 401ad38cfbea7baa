"""The CPU fast path: passes over ``X`` in cache-sized blocks of rows, split across threads.

The objectives have two ways to evaluate the loss and gradient with the same
contract (same arguments, same results up to rounding): a plain reference path,
one torch expression over the whole matrix, and this one, used on the CPU when
``X`` is large (``use_blocks``). ``tests/test_optim.py`` checks that both agree.

Why threads of our own rather than torch's? A pass over X in cache-sized blocks
makes hundreds of small operations, and each multi-threaded torch operation ends
with all its threads waiting for each other. On a busy machine (more runnable
threads than cores) one descheduled thread stalls every one of those waits: a
pass measured 20-50x slower than on an idle machine. So on the CPU, while a
solver runs (``solver_threads``):

* the caller's own torch operations (small vector and matrix work) are
  single-threaded;
* each pass over X is split into ranges of rows (about four per thread torch was
  allowed to use) that single-threaded block workers take as they become free;
  the threads meet once per pass. Partial results come back in row order, so sums
  over them do not depend on which thread computed what.

The caller's torch thread setting is restored when the solver returns.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from .._validation import check_int
from ..device import torch_threads
from . import _fused

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

_POOLS = {}
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()  # while a solver runs: how many block workers it may use
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_POOLS.clear)


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


def _init_worker():
    torch.get_num_threads()  # let torch set up this thread first, then make its
    torch.set_num_threads(1)  # operations single-threaded (the thread's own setting)


def workers(n):
    """The pool of ``n`` block workers (threads whose torch operations are single-threaded)."""
    with _POOLS_LOCK:
        if n not in _POOLS:
            threads = torch.get_num_threads()
            pool = ThreadPoolExecutor(n, thread_name_prefix="mathcore-blocks", initializer=_init_worker)
            barrier = threading.Barrier(n)
            list(pool.map(lambda _: barrier.wait(), range(n)))  # start all n threads now
            # set_num_threads(1) in a worker also changed the default for threads made
            # later; restore it (this thread's own setting is unchanged).
            torch.set_num_threads(threads)
            _POOLS[n] = pool
        return _POOLS[n]


@contextlib.contextmanager
def solver_threads(device="cpu"):
    """Run a solver in the calling thread with single-threaded torch operations (CPU only).

    Passes over ``X`` inside the block use as many block workers as torch had
    threads on entry. Nested uses and other devices change nothing.
    """
    threads = torch.get_num_threads()
    if torch.device(device).type != "cpu" or getattr(_LOCAL, "threads", None) or threads == 1:
        yield
        return
    workers(threads)  # made before this thread's setting changes
    _LOCAL.threads = threads
    try:
        with torch_threads(1):
            yield
    finally:
        _LOCAL.threads = None


def pass_threads():
    """Threads a pass over ``X`` may use: torch's setting on entry to the solver (``solver_threads``)."""
    return getattr(_LOCAL, "threads", None) or torch.get_num_threads()


def use_fused(X):
    """Whether passes over ``X`` take the fused numba kernel: a large float ``X`` on the CPU, numba installed."""
    return use_blocks(X) and X.dtype in (torch.float32, torch.float64) and _fused.available()


def map_row_ranges(fn, X, rows_per_block):
    """``[fn(lo, hi), ...]`` over consecutive ranges of rows of ``X`` that cover it.

    One range (in the calling thread) on a GPU, for small ``X`` or with one thread.
    Otherwise about four ranges per block worker (whole blocks each), handed out as
    workers become free: on a busy machine a worker that gets less CPU time simply
    takes fewer ranges. Results come back in row order whatever thread computed them.
    """
    n = X.shape[0]
    n_workers = pass_threads()
    if not use_blocks(X) or n_workers <= 1:
        return [fn(0, n)]
    n_blocks = -(-n // rows_per_block)
    parts = min(n_blocks, 4 * n_workers)
    cuts = [rows_per_block * (n_blocks * k // parts) for k in range(parts)] + [n]
    return list(workers(n_workers).map(fn, cuts[:-1], cuts[1:]))


def hessian_block_rows(objective):
    """Rows per block for Hessian passes: about 1 MiB of ``X`` (``c * Xb`` is a copy)."""
    return max(1, min(objective.block_rows, 2**20 // (objective.n_features * objective.X.element_size())))


def add_weighted_gram(H, Xb, c, intercept):
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
