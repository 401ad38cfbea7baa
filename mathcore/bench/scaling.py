"""The scaling experiment of Chapter 8: every backend at every size, each in its own process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import torch

from .._validation import check_int
from .gradients import blas_threads, grad_blocked, grad_loop, grad_numpy, grad_torch
from .roofline import DTYPES, cost_model, dtype_name
from .timing import time_function

__all__ = ["make_problem", "scaling_experiment", "BACKENDS", "DEFAULT_SIZES"]

#: Backends known to ``scaling_experiment``. The first four are the chapter's
#: ladder; the ``-blocked`` ones are the one-pass variant (``logistic_gradient_blocked``).
BACKENDS = ("loop", "numpy", "torch-cpu", "torch-cuda", "numpy-blocked", "torch-cpu-blocked")

#: Default ``(N, D)`` grid of ``scaling_experiment``: small enough for a notebook
#: cell on a 2-core CPU (a few seconds), large enough to leave the caches.
DEFAULT_SIZES = ((1_000, 10), (10_000, 10), (10_000, 100), (100_000, 100))


# ---------------------------------------------------------------------------
# The scaling experiment
# ---------------------------------------------------------------------------


def make_problem(N, D, dtype="float64", seed=0):
    """Random problem ``(X, w, t)`` as NumPy arrays (a reproducible benchmark input).

    ``X`` has standard-normal entries, ``w`` has variance ``1/D`` (so that
    ``z = X @ w`` is of order one) and ``t`` are fair coin flips. The values do
    not affect the cost of a gradient.

    Parameters
    ----------
    N, D : int
        Shape of ``X``.
    dtype : str, default 'float64'
        ``'float32'`` or ``'float64'``.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    X, w, t : numpy.ndarray
        Shapes ``(N, D)``, ``(D,)``, ``(N,)``, all of ``dtype``.
    """
    N = check_int("N", N, low=1)
    D = check_int("D", D, low=1)
    np_dtype = DTYPES[dtype_name(dtype)][0]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D), dtype=np_dtype)
    w = (rng.standard_normal(D) / math.sqrt(D)).astype(np_dtype)
    t = (rng.random(N) < 0.5).astype(np_dtype)
    return X, w, t


def _record(backend, N, D, dtype, status, reason=None, timing=None, threads=None, transfer=None):
    rec = {
        "backend": backend,
        "N": N,
        "D": D,
        "dtype": dtype,
        "status": status,
        "reason": reason,
        "median_s": None,
        "min_s": None,
        "iqr_s": None,
        "repeats": None,
        "gbps": None,
        "threads": threads,
        "transfer_s": None,
        "transfer_gbps": None,
    }
    nbytes = cost_model(N, D, dtype)["compulsory_bytes"]
    if timing is not None:
        rec.update(
            median_s=timing.median,
            min_s=timing.min,
            iqr_s=timing.iqr,
            repeats=timing.n,
            gbps=nbytes / timing.median / 1e9,
        )
    if transfer is not None:
        rec.update(transfer_s=transfer.median, transfer_gbps=nbytes / transfer.median / 1e9)
    return rec


def _unavailable_reason(backend, N, D, loop_max_elements):
    if backend == "torch-cuda" and not torch.cuda.is_available():
        return "CUDA is not available on this machine"
    if backend == "loop" and N * D > loop_max_elements:
        return f"N*D = {N * D} is above the loop's cap loop_max_elements={loop_max_elements}"
    return None


def _measure(backend, N, D, dtype, warmup, repeats, seed):
    """Time one backend at one size in this process; return a record."""
    X, w, t = make_problem(N, D, dtype, seed)
    timed = dict(warmup=warmup, repeats=repeats)
    if backend == "loop":
        return _record(backend, N, D, dtype, "measured", timing=time_function(lambda: grad_loop(X, w, t), **timed), threads=1)
    if backend in ("numpy", "numpy-blocked"):
        fn = grad_numpy if backend == "numpy" else grad_blocked
        timing = time_function(lambda: fn(X, w, t), **timed)
        return _record(backend, N, D, dtype, "measured", timing=timing, threads=blas_threads())
    Xt, wt, tt = (torch.from_numpy(a) for a in (X, w, t))
    if backend in ("torch-cpu", "torch-cpu-blocked"):
        fn = grad_torch if backend == "torch-cpu" else grad_blocked
        timing = time_function(lambda: fn(Xt, wt, tt), **timed)
        return _record(backend, N, D, dtype, "measured", timing=timing, threads=torch.get_num_threads())
    # torch-cuda: the host->device copy is timed separately from the gradient
    dev = torch.device("cuda")
    transfer = time_function(lambda: (Xt.to(dev), tt.to(dev)), device=dev, **timed)
    Xd, wd, td = Xt.to(dev), wt.to(dev), tt.to(dev)
    timing = time_function(lambda: grad_torch(Xd, wd, td), device=dev, **timed)
    return _record(backend, N, D, dtype, "measured", timing=timing, transfer=transfer)


def worker_main():
    """Entry point of an isolated child: JSON job on stdin, JSON records on stdout."""
    job = json.loads(sys.stdin.read())
    records = [
        _measure(job["backend"], N, D, job["dtype"], job["warmup"], job["repeats"], job["seed"])
        for N, D in job["sizes"]
    ]
    sys.stdout.write(json.dumps(records))


def _run_isolated(backend, sizes, dtype, warmup, repeats, seed, threads, timeout):
    job = dict(backend=backend, sizes=sizes, dtype=dtype, warmup=warmup, repeats=repeats, seed=seed)
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
    cmd = [sys.executable, "-c", "from mathcore.bench.scaling import worker_main; worker_main()"]
    proc = subprocess.run(cmd, input=json.dumps(job), capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"scaling_experiment: the {backend!r} subprocess failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def scaling_experiment(
    sizes=DEFAULT_SIZES,
    backends=("loop", "numpy", "torch-cpu", "torch-cuda"),
    dtype="float64",
    *,
    warmup=2,
    repeats=9,
    seed=0,
    isolate=False,
    threads=None,
    loop_max_elements=100_000,
    timeout=600.0,
):
    """Time one gradient for every backend and size: the chapter's ladder.

    For each ``(N, D)`` a random problem (``make_problem``, same seed for
    every backend) is built and the gradient of the summed loss is timed with
    ``time_function``. Achieved bandwidth = compulsory bytes
    ``(N*D + N) * itemsize`` / median time. For ``'torch-cuda'`` the
    host-to-device copy of ``X`` and ``t`` is timed separately
    (``transfer_s``); the gradient time assumes the data already on the GPU.

    Nothing is ever estimated: a backend that cannot run here (no CUDA; the
    loop above ``loop_max_elements``) gets a row with ``status='not
    measured'`` and the reason.

    Parameters
    ----------
    sizes : sequence of (int, int), default DEFAULT_SIZES
        The ``(N, D)`` grid.
    backends : sequence of str
        Any of ``BACKENDS``: ``'loop'``, ``'numpy'``, ``'torch-cpu'``,
        ``'torch-cuda'``, ``'numpy-blocked'``, ``'torch-cpu-blocked'``.
    dtype : str, default 'float64'
        ``'float32'`` or ``'float64'`` (NumPy or torch dtypes are accepted).
    warmup, repeats : int
        Passed to ``time_function``.
    seed : int, default 0
        Seed of the random problems.
    isolate : bool, default False
        Run each backend in its own fresh Python subprocess, so NumPy's and
        PyTorch's thread pools never compete (recommended on machines with
        few cores; costs about a second of start-up per backend). The
        problems are the same (same seed).
    threads : int, optional
        With ``isolate=True``, the number of threads each child may use (set
        through ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and
        ``OPENBLAS_NUM_THREADS``). ``None`` keeps the current environment.
        Ignored without isolation (set the pools yourself).
    loop_max_elements : int, default 100_000
        The pure-Python loop runs only where ``N*D`` is at most this.
    timeout : float, default 600
        Seconds allowed for each isolated subprocess.

    Returns
    -------
    list of dict
        One record per (size, backend), in the order of ``sizes`` then
        ``backends``, with keys ``backend``, ``N``, ``D``, ``dtype``,
        ``status`` ('measured' or 'not measured'), ``reason``, ``median_s``,
        ``min_s``, ``iqr_s``, ``repeats``, ``gbps``, ``threads``,
        ``transfer_s``, ``transfer_gbps`` (``None`` where not applicable).

    Raises
    ------
    ValueError
        For an unknown backend, a bad size or dtype.
    RuntimeError
        If an isolated subprocess fails.

    Examples
    --------
    >>> rows = scaling_experiment([(1000, 10)], backends=("numpy", "torch-cuda"), repeats=3)
    >>> [r["status"] for r in rows][0]
    'measured'
    """
    name = dtype_name(dtype)
    if isinstance(backends, str) or not isinstance(backends, Sequence):
        raise TypeError(f"backends: expected a sequence of backend names, got {backends!r}")
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"backends: expected names from {BACKENDS}, got {b!r}")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
        raise TypeError(f"sizes: expected a non-empty sequence of (N, D) pairs, got {sizes!r}")
    grid = []
    for pair in sizes:
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ValueError(f"sizes: expected (N, D) pairs, got {pair!r}")
        grid.append((check_int("N", pair[0], low=1), check_int("D", pair[1], low=1)))
    warmup = check_int("warmup", warmup, low=0)
    repeats = check_int("repeats", repeats, low=1)
    loop_max_elements = check_int("loop_max_elements", loop_max_elements, low=0)
    if threads is not None:
        threads = check_int("threads", threads, low=1)

    results = {}
    for backend in backends:
        todo = []
        for N, D in grid:
            reason = _unavailable_reason(backend, N, D, loop_max_elements)
            if reason is None:
                todo.append((N, D))
            else:
                results[backend, N, D] = _record(backend, N, D, name, "not measured", reason)
        if not todo:
            continue
        if isolate:
            records = _run_isolated(backend, todo, name, warmup, repeats, seed, threads, timeout)
        else:
            records = [_measure(backend, N, D, name, warmup, repeats, seed) for N, D in todo]
        for rec in records:
            results[backend, rec["N"], rec["D"]] = rec
    return [results[b, N, D] for N, D in grid for b in backends]
