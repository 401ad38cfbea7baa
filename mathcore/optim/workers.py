"""The worker threads that passes over ``X`` run on, and how ranges of rows are handed to them.

One pool design serves every parallel pass of the course: the fit's blocked torch
path (``_blocked``), its fused numba kernel (``_fused``) and the Chapter 8 ladder's
one-pass gradient (``mathcore.bench.gradients``). A pass is cut into consecutive
ranges of whole blocks, about four per worker, handed out as workers become free:
on a busy machine a worker that gets less CPU time simply takes fewer ranges. The
results come back in range order whatever thread computed them, so sums over them
do not depend on the scheduling.

Why threads of our own rather than torch's? A pass over X in cache-sized blocks
makes hundreds of small operations, and each multi-threaded torch operation ends
with all its threads waiting for each other. On a busy machine (more runnable
threads than cores) one descheduled thread stalls every one of those waits: a
pass measured 20-50x slower than on an idle machine. So while a solver runs
(``solver_threads``) the caller's own torch operations are single-threaded and the
passes use these workers, whose torch operations are single-threaded too.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from ..device import torch_threads

__all__ = ["RANGES_PER_WORKER", "pool", "map_ranges", "solver_threads", "pass_threads"]

#: Ranges of blocks per worker in one pass: enough for a slowed-down worker to take
#: fewer of them, few enough that handing them out costs little.
RANGES_PER_WORKER = 4

_POOLS = {}
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()  # while a solver runs: how many workers its passes may use
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_POOLS.clear)


def _init_worker():
    torch.get_num_threads()  # let torch set up this thread first, then make its
    torch.set_num_threads(1)  # operations single-threaded (the thread's own setting)


def pool(n):
    """The pool of ``n`` worker threads (made once per ``n``), their torch operations single-threaded."""
    with _POOLS_LOCK:
        if n not in _POOLS:
            threads = torch.get_num_threads()
            executor = ThreadPoolExecutor(n, thread_name_prefix="mathcore-workers", initializer=_init_worker)
            barrier = threading.Barrier(n)
            list(executor.map(lambda _: barrier.wait(), range(n)))  # start all n threads now
            # set_num_threads(1) in a worker also changed the default for threads made
            # later; restore it (this thread's own setting is unchanged).
            torch.set_num_threads(threads)
            _POOLS[n] = executor
        return _POOLS[n]


def map_ranges(fn, n_blocks, n_workers):
    """``[fn(lo, hi), ...]`` over consecutive ranges of block indices covering ``range(n_blocks)``.

    With one worker (or one block) a single call ``fn(0, n_blocks)`` in the calling
    thread; otherwise about ``RANGES_PER_WORKER`` ranges per worker of ``pool(n_workers)``.
    The list is in range order.

    >>> map_ranges(lambda lo, hi: (lo, hi), 10, 2)
    [(0, 1), (1, 2), (2, 3), (3, 5), (5, 6), (6, 7), (7, 8), (8, 10)]
    """
    if n_workers <= 1 or n_blocks <= 1:
        return [fn(0, n_blocks)]
    parts = min(n_blocks, RANGES_PER_WORKER * n_workers)
    cuts = [n_blocks * k // parts for k in range(parts + 1)]
    return list(pool(n_workers).map(fn, cuts[:-1], cuts[1:]))


@contextlib.contextmanager
def solver_threads(device="cpu"):
    """Run a solver in the calling thread with single-threaded torch operations (CPU only).

    Passes over ``X`` inside the block use as many workers as torch had threads on
    entry (``pass_threads``). Nested uses and other devices change nothing.
    """
    threads = torch.get_num_threads()
    if torch.device(device).type != "cpu" or getattr(_LOCAL, "threads", None) or threads == 1:
        yield
        return
    pool(threads)  # made before this thread's setting changes
    _LOCAL.threads = threads
    try:
        with torch_threads(1):
            yield
    finally:
        _LOCAL.threads = None


def pass_threads():
    """Workers a pass over ``X`` may use: torch's setting on entry to the solver (``solver_threads``)."""
    return getattr(_LOCAL, "threads", None) or torch.get_num_threads()
