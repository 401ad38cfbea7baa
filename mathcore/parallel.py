"""Data parallelism: one logistic-regression gradient computed by several processes.

The gradient of the summed loss is a **sum over samples**::

    g = X.T @ (sigmoid(X @ w) - t) = sum_i (sigmoid(x_i . w) - t_i) x_i

Split the *rows* of ``X`` (the samples) into ``K`` shards ``X_1, ..., X_K``.
Each worker computes the partial sum over its own rows::

    g_k = X_k.T @ (sigmoid(X_k @ w) - t_k)

and because addition is associative, ``g = g_1 + ... + g_K``. The workers need
nothing from each other while they compute: every one of them has the whole
weight vector ``w`` (``D`` numbers) and its own rows. The only communication
is one **all-reduce**: every worker contributes its ``D``-vector ``g_k`` and
every worker receives the sum ``g``. (That is why data parallelism scales:
each step moves ``D`` numbers per worker, while the work is ``N*D/K`` per
worker.)

So more GPUs split the *data* (rows), not the *dimensions*: with ``K``
workers each one reads ``1/K`` of ``X``, which is where the time goes. It
does not make a single gradient "see more dimensions at once"; every worker
still handles all ``D`` features of its own samples. (In this course the
common misconception "more GPUs means more dimensions at once" is exactly
backwards.)

This module runs that on a real distributed engine, ``torch.distributed``:
``K`` processes started with ``torch.multiprocessing`` (start method
``spawn``), the ``gloo`` backend on CPUs or ``nccl`` on NVIDIA GPUs (one GPU
per process), rendezvous through a file in a temporary directory (or a free
TCP port on 127.0.0.1), and ``all_reduce(SUM)``. It is a teaching tool: for
one gradient on one machine the start-up of the processes costs far more than
the arithmetic. Real training keeps the processes alive for many steps
(``torch.nn.parallel.DistributedDataParallel`` does this all-reduce on every
backward pass).

The result equals the single-process gradient up to rounding: floating-point
addition is not associative, so summing in a different order changes the last
bits (about ``1e-16`` relative per addition in float64).

Scripts that call ``distributed_gradient`` must protect their top level with
``if __name__ == "__main__":`` (the spawned processes import the main module).
Notebooks need nothing special.
"""

from __future__ import annotations

import os
import queue
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

__all__ = [
    "DistributedGradient",
    "shard_rows",
    "distributed_gradient",
    "check_against_single_process",
]

_BACKENDS = ("gloo", "nccl")
_INITS = ("file", "tcp")


@dataclass(frozen=True)
class DistributedGradient:
    """Result of ``distributed_gradient``.

    Attributes
    ----------
    gradient : numpy.ndarray or torch.Tensor, shape (D,)
        The all-reduced gradient of the summed loss (the same kind and dtype
        as the ``X`` passed in; tensors are returned on the CPU).
    shard_sizes : tuple of int
        Number of rows each rank handled, rank 0 first.
    local_gradients : tuple of numpy.ndarray
        Each rank's partial gradient ``X_k.T @ (sigmoid(X_k @ w) - t_k)``
        before the all-reduce. Their sum is ``gradient`` (up to rounding).
    world_size : int
        Number of processes.
    backend : str
        ``'gloo'`` or ``'nccl'``.
    """

    gradient: object
    shard_sizes: tuple
    local_gradients: tuple
    world_size: int
    backend: str


def shard_rows(n_rows, world_size):
    """Split ``range(n_rows)`` into ``world_size`` contiguous shards of near-equal size.

    The first ``n_rows % world_size`` shards get one extra row, so sizes differ
    by at most one and every row belongs to exactly one shard.

    Parameters
    ----------
    n_rows : int
        Number of rows (samples), at least 1.
    world_size : int
        Number of shards, between 1 and ``n_rows``.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` for each rank: rank ``k`` owns rows ``start:stop``.

    Raises
    ------
    TypeError
        If an argument is not an int.
    ValueError
        If ``n_rows < 1`` or ``world_size`` is not in ``[1, n_rows]``.

    Examples
    --------
    >>> shard_rows(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    n_rows = _check_int(n_rows, "n_rows")
    world_size = _check_int(world_size, "world_size")
    if n_rows < 1:
        raise ValueError(f"n_rows: expected at least 1 row, got {n_rows}")
    if not 1 <= world_size <= n_rows:
        raise ValueError(
            f"world_size: expected an int between 1 and the number of rows {n_rows}, got {world_size}"
        )
    base, extra = divmod(n_rows, world_size)
    bounds, start = [], 0
    for k in range(world_size):
        stop = start + base + (1 if k < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    return int(value)


def _as_numpy_problem(X, w, t):
    """Validate (X, w, t) and return them as NumPy arrays of one float dtype."""
    arrays = []
    for name, a in (("X", X), ("w", w), ("t", t)):
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        elif not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: expected a numpy.ndarray or torch.Tensor, got {type(a).__name__}")
        arrays.append(a)
    X, w, t = arrays
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array of shape (N, D), got shape {X.shape}")
    N, D = X.shape
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"X: expected dtype float32 or float64, got {X.dtype}")
    if w.shape != (D,):
        raise ValueError(f"w: expected shape ({D},) to match X with D={D}, got {w.shape}")
    if t.shape != (N,):
        raise ValueError(f"t: expected shape ({N},) to match X with N={N}, got {t.shape}")
    for name, a in (("w", w), ("t", t)):
        if a.dtype != X.dtype:
            raise TypeError(f"{name}: expected dtype {X.dtype} (the dtype of X), got {a.dtype}")
    for name, a in (("X", X), ("w", w), ("t", t)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name}: expected finite values, found NaN or infinity")
    return X, w, t


def _local_gradient(X, w, t):
    """The partial sum over one shard's rows (torch tensors, any device)."""
    return X.T @ (torch.sigmoid(X @ w) - t)


def _free_port():
    """Ask the OS for a free TCP port on 127.0.0.1 (closed again before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, backend, init_method, timeout_s, threads, X_k, w, t_k, results):
    """Body of one rank: local gradient, all-reduce, report to the parent."""
    try:
        torch.set_num_threads(threads)
        if backend == "gloo" and "GLOO_SOCKET_IFNAME" not in os.environ and os.uname().sysname == "Linux":
            os.environ["GLOO_SOCKET_IFNAME"] = "lo"  # stay on the loopback interface
        dist.init_process_group(
            backend,
            init_method=init_method,
            rank=rank,
            world_size=world_size,
            timeout=timedelta(seconds=timeout_s),
        )
        device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
        if backend == "nccl":
            torch.cuda.set_device(device)
        X_k, w, t_k = (torch.from_numpy(a).to(device) for a in (X_k, w, t_k))

        g = _local_gradient(X_k, w, t_k)  # this rank's partial sum
        local = g.cpu().numpy().copy()
        dist.all_reduce(g, op=dist.ReduceOp.SUM)  # the only communication
        results.put(("ok", rank, local, g.cpu().numpy()))
    except BaseException:  # report every failure to the parent instead of hanging it
        results.put(("error", rank, traceback.format_exc(), None))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def distributed_gradient(
    X, w, t, world_size=2, backend="gloo", *, timeout=60.0, init="file", threads_per_rank=None
):
    """Compute the summed-loss gradient with ``world_size`` processes and an all-reduce.

    The rows of ``X`` (and entries of ``t``) are split with ``shard_rows``;
    process ``k`` receives only its shard and the weights, computes
    ``g_k = X_k.T @ (sigmoid(X_k @ w) - t_k)``, and ``torch.distributed``'s
    ``all_reduce(SUM)`` leaves ``g = sum_k g_k`` on every process.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor, shape (N, D), float32 or float64
        Design matrix.
    w : numpy.ndarray or torch.Tensor, shape (D,), same dtype
        Weights.
    t : numpy.ndarray or torch.Tensor, shape (N,), same dtype
        Targets in {0, 1}.
    world_size : int, default 2
        Number of processes (shards), between 1 and ``N``.
    backend : {'gloo', 'nccl'}, default 'gloo'
        ``'gloo'`` runs on CPUs; ``'nccl'`` puts rank ``k`` on GPU ``k`` and
        needs at least ``world_size`` CUDA devices.
    timeout : float, default 60
        Seconds allowed for the whole call (process start-up included) and
        for the process group's collective operations. On expiry the
        processes are terminated and ``TimeoutError`` is raised.
    init : {'file', 'tcp'}, default 'file'
        Rendezvous: a file store in a fresh temporary directory (no network
        port needed), or a free TCP port on 127.0.0.1.
    threads_per_rank : int, optional
        ``torch.set_num_threads`` in each process. Default: the CPU count
        divided by ``world_size`` (at least 1), so the ranks do not
        oversubscribe the cores.

    Returns
    -------
    DistributedGradient
        ``gradient`` (same kind and dtype as ``X``), ``shard_sizes``,
        ``local_gradients`` (each rank's partial sum), ``world_size``,
        ``backend``.

    Raises
    ------
    TypeError
        If an argument has the wrong type or dtype.
    ValueError
        If the shapes do not match, values are not finite, ``world_size`` is
        not in ``[1, N]``, ``backend`` or ``init`` is unknown, or ``nccl`` is
        asked for without enough GPUs.
    TimeoutError
        If the processes do not finish within ``timeout`` seconds.
    RuntimeError
        If a process fails (its traceback is included).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((101, 3)); w = np.zeros(3); t = (rng.random(101) < 0.5) * 1.0
    >>> res = distributed_gradient(X, w, t, world_size=2)   # doctest: +SKIP
    >>> res.shard_sizes                                     # doctest: +SKIP
    (51, 50)
    """
    X_np, w_np, t_np = _as_numpy_problem(X, w, t)
    N = X_np.shape[0]
    world_size = _check_int(world_size, "world_size")
    if not 1 <= world_size <= N:
        raise ValueError(
            f"world_size: expected an int between 1 and the number of rows N={N}, got {world_size}"
        )
    if backend not in _BACKENDS:
        raise ValueError(f"backend: expected 'gloo' or 'nccl', got {backend!r}")
    if init not in _INITS:
        raise ValueError(f"init: expected 'file' or 'tcp', got {init!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this build of PyTorch")
    if backend == "nccl":
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if world_size > n_gpus:
            raise ValueError(
                f"backend: 'nccl' needs one CUDA device per process, world_size={world_size} "
                f"but {n_gpus} CUDA device(s) are available; use backend='gloo'"
            )
        if not dist.is_nccl_available():
            raise ValueError("backend: 'nccl' is not available in this build of PyTorch")
    if threads_per_rank is None:
        threads_per_rank = max(1, (os.cpu_count() or 1) // world_size)
    threads_per_rank = _check_int(threads_per_rank, "threads_per_rank")
    if threads_per_rank < 1:
        raise ValueError(f"threads_per_rank: expected an int >= 1, got {threads_per_rank}")

    shards = shard_rows(N, world_size)
    with tempfile.TemporaryDirectory(prefix="mathcore-dist-") as tmp:
        if init == "file":
            init_method = "file://" + os.path.join(tmp, "rendezvous")
        else:
            init_method = f"tcp://127.0.0.1:{_free_port()}"
        reduced, local = _launch(
            X_np, w_np, t_np, shards, backend, init_method, float(timeout), threads_per_rank
        )

    gradient = reduced[0]
    if isinstance(X, torch.Tensor):
        gradient = torch.from_numpy(gradient)
    return DistributedGradient(
        gradient=gradient,
        shard_sizes=tuple(stop - start for start, stop in shards),
        local_gradients=tuple(local),
        world_size=world_size,
        backend=backend,
    )


def _launch(X, w, t, shards, backend, init_method, timeout, threads):
    """Start one process per shard, collect their results, always clean up."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    world_size = len(shards)
    procs = [
        ctx.Process(
            target=_worker,
            args=(rank, world_size, backend, init_method, timeout, threads,
                  X[start:stop], w, t[start:stop], results),
            daemon=True,
        )
        for rank, (start, stop) in enumerate(shards)
    ]
    reduced, local = [None] * world_size, [None] * world_size
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.start()
        for _ in range(world_size):
            try:
                status, rank, payload, grad = results.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"distributed_gradient: the {world_size} processes did not finish within "
                    f"timeout={timeout} s"
                ) from None
            if status == "error":
                raise RuntimeError(f"distributed_gradient: rank {rank} failed:\n{payload}")
            local[rank], reduced[rank] = payload, grad
        for p in procs:
            p.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        results.close()
    return reduced, local


def check_against_single_process(X, w, t, world_size=2, backend="gloo", **kwargs):
    """Compare ``distributed_gradient`` with the gradient computed in one process.

    Parameters
    ----------
    X, w, t : arrays or tensors
        As for ``distributed_gradient``.
    world_size : int, default 2
        Number of processes.
    backend : {'gloo', 'nccl'}, default 'gloo'
        As for ``distributed_gradient``.
    **kwargs
        Passed on to ``distributed_gradient`` (``timeout``, ``init``, ...).

    Returns
    -------
    dict
        ``max_abs_diff``: largest absolute difference between the two
        gradients; ``max_rel_diff``: that divided by the largest absolute
        component of the single-process gradient (a norm-wise relative error
        that stays meaningful when a component is near zero);
        ``sum_of_locals_diff``: largest difference between the sum of the
        ranks' partial gradients and the all-reduced one; plus
        ``world_size``, ``backend``, ``shard_sizes``.

    Raises
    ------
    TypeError
        As for ``distributed_gradient``.
    ValueError
        As for ``distributed_gradient``.
    TimeoutError
        As for ``distributed_gradient``.
    RuntimeError
        As for ``distributed_gradient``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)); w = np.zeros(3); t = (rng.random(100) < 0.5) * 1.0
    >>> check_against_single_process(X, w, t)["max_rel_diff"] < 1e-12   # doctest: +SKIP
    True
    """
    result = distributed_gradient(X, w, t, world_size=world_size, backend=backend, **kwargs)
    X_np, w_np, t_np = _as_numpy_problem(X, w, t)
    single = _local_gradient(*(torch.from_numpy(a) for a in (X_np, w_np, t_np))).numpy()
    got = result.gradient.numpy() if isinstance(result.gradient, torch.Tensor) else result.gradient
    max_abs = float(np.max(np.abs(got - single)))
    scale = float(np.max(np.abs(single)))
    summed = np.sum(np.stack(result.local_gradients), axis=0)
    return {
        "max_abs_diff": max_abs,
        "max_rel_diff": max_abs / scale if scale > 0 else max_abs,
        "sum_of_locals_diff": float(np.max(np.abs(summed - got))),
        "world_size": result.world_size,
        "backend": result.backend,
        "shard_sizes": result.shard_sizes,
    }
