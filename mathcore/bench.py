"""Timing the logistic-regression gradient correctly, and counting what it costs.

Chapter 8 asks one question: how long does one full-batch gradient

    g = X.T @ (sigmoid(X @ w) - t)          (the gradient of the *summed* loss)

take with a pure-Python loop, NumPy, PyTorch on the CPU and PyTorch on a GPU,
and how close does each come to the physical limit of the machine?

The physical limit is memory bandwidth, not arithmetic. One gradient needs
``N`` exponentials (one per sample, because ``z_i = x_i . w`` is a scalar) and
about ``4*N*D`` flops, but it must read all of ``X``: ``N*D`` numbers. At
``4*N*D`` flops for ``8*N*D`` bytes (float64) that is half a flop per byte,
far below what any CPU or GPU can compute per byte it loads. So the best
possible time is ``bytes / bandwidth``, and the figure of merit is the
*achieved bandwidth*: compulsory bytes ``(N*D + N) * itemsize`` divided by the
measured time (``cost_model`` prints these numbers).

Measuring correctly (``time_function``):

* warm up first (the first call pays for memory allocation, page faults,
  kernel selection and, on a GPU, CUDA initialisation);
* repeat, and report the **median** (robust to a noisy neighbour), the minimum
  and the inter-quartile range, not the mean;
* on a GPU, kernels are launched *asynchronously*: ``y = X @ w`` returns
  before the GPU has finished. Call ``torch.cuda.synchronize()`` before each
  clock reading, or you time the launch, not the work.

Thread pools. NumPy's BLAS (OpenBLAS) and PyTorch (OpenMP/MKL) each keep their
own pool of worker threads. In one process on a 2-core machine they fight for
the cores and can double each other's timings. ``scaling_experiment(...,
isolate=True)`` therefore runs every backend in a fresh Python subprocess,
which is how the numbers in ``benchmarks/`` are produced.

What is here:

* ``time_function``: warm-up, repeats, device synchronisation, medians;
* ``logistic_gradient_loop``: the pure-Python double loop (tiny sizes only);
* ``logistic_gradient_numpy`` and ``logistic_gradient_torch``: the vectorised
  one-liners;
* ``logistic_gradient_blocked``: one pass over ``X`` in cache-sized row blocks;
* ``measure_bandwidth``: the machine's read and copy bandwidth;
* ``cost_model``: exponentials, flops, bytes, arithmetic intensity;
* ``scaling_experiment``: the loop / NumPy / torch-CPU / torch-CUDA grid.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.special import expit

__all__ = [
    "Timing",
    "time_function",
    "logistic_gradient_loop",
    "logistic_gradient_numpy",
    "logistic_gradient_torch",
    "logistic_gradient_blocked",
    "measure_bandwidth",
    "cost_model",
    "make_problem",
    "scaling_experiment",
    "BACKENDS",
    "DEFAULT_SIZES",
]

#: Backends known to ``scaling_experiment``. The first four are the chapter's
#: ladder; the ``-blocked`` ones are the one-pass variant (``logistic_gradient_blocked``).
BACKENDS = ("loop", "numpy", "torch-cpu", "torch-cuda", "numpy-blocked", "torch-cpu-blocked")

#: Default ``(N, D)`` grid of ``scaling_experiment``: small enough for a notebook
#: cell on a 2-core CPU (a few seconds), large enough to leave the caches.
DEFAULT_SIZES = ((1_000, 10), (10_000, 10), (10_000, 100), (100_000, 100))

#: Largest ``N*D`` that ``logistic_gradient_loop`` accepts by default
#: (about a second of pure Python).
LOOP_MAX_ELEMENTS = 1_000_000

_DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Summary of repeated timings of one function (all times in seconds).

    Attributes
    ----------
    median : float
        Median time of one call: the number to report.
    min : float
        Fastest call: what the machine can do when nothing interferes.
    iqr : float
        Inter-quartile range (75th minus 25th percentile) of the samples: the
        noise. ``iqr / median`` above about 0.1 means the run was disturbed.
    n : int
        Number of samples (the ``repeats`` of ``time_function``).
    samples : tuple of float
        Every sample, in the order measured (time per call).
    number : int
        Calls of the function per sample (1 unless ``min_time`` was given).
    """

    median: float
    min: float
    iqr: float
    n: int
    samples: tuple
    number: int = 1

    @classmethod
    def from_samples(cls, samples, number=1):
        """Build a ``Timing`` from a sequence of per-call times (seconds).

        Parameters
        ----------
        samples : sequence of float
            At least one time, in seconds.
        number : int, default 1
            Calls per sample, kept for the record.

        Returns
        -------
        Timing
        """
        s = np.asarray(samples, dtype=np.float64)
        if s.ndim != 1 or s.size == 0:
            raise ValueError(f"samples: expected a non-empty 1-D sequence, got shape {s.shape}")
        q25, q75 = np.percentile(s, [25, 75])
        return cls(
            median=float(np.median(s)),
            min=float(s.min()),
            iqr=float(q75 - q25),
            n=int(s.size),
            samples=tuple(float(x) for x in s),
            number=int(number),
        )

    def as_dict(self):
        """Return the fields as a plain, JSON-serialisable ``dict``."""
        d = asdict(self)
        d["samples"] = list(self.samples)
        return d

    def __str__(self):
        return (
            f"{_fmt_seconds(self.median)} median (min {_fmt_seconds(self.min)}, "
            f"IQR {_fmt_seconds(self.iqr)}, n={self.n})"
        )


def _fmt_seconds(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _synchronizer(device):
    """Return a function that waits for all queued work on ``device`` (a no-op on the CPU)."""
    if device is None:
        return lambda: None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device: expected None, a string such as 'cuda' or a torch.device, "
            f"got {type(device).__name__}"
        )
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device: expected a device name such as 'cpu' or 'cuda', got {device!r}") from err
    if dev.type == "cpu":
        return lambda: None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device: {str(device)!r} requested but CUDA is not available")
        return lambda: torch.cuda.synchronize(dev)
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device: {str(device)!r} requested but MPS is not available")
        return torch.mps.synchronize
    raise ValueError(f"device: expected 'cpu', 'cuda' or 'mps', got {str(device)!r}")


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def time_function(fn, *, warmup=2, repeats=9, device=None, min_time=None, clock=time.perf_counter):
    """Time ``fn()`` the careful way: warm-up, repeats, synchronisation, median.

    ``fn`` is called ``warmup`` times without timing, then ``repeats`` times
    with timing. When ``device`` is a GPU, ``torch.cuda.synchronize`` is
    called before *every* clock reading, so each sample covers the work the
    call queued, not just its launch.

    Parameters
    ----------
    fn : callable
        Function of no arguments (wrap arguments with ``lambda`` or
        ``functools.partial``). Its result is discarded.
    warmup : int, default 2
        Untimed calls first (allocation, caches, lazy initialisation).
    repeats : int, default 9
        Timed samples; the median of these is reported.
    device : None, str or torch.device, default None
        Device whose queue must be drained before each clock reading
        (``'cuda'``, ``'cuda:1'``, ``'mps'``). ``None`` or ``'cpu'``: no
        synchronisation.
    min_time : float, optional
        For very fast functions: each sample calls ``fn`` ``number`` times in a
        row, with ``number`` (a power of two) chosen so that one sample takes
        at least ``min_time`` seconds; the reported times are per call. This
        calibration calls ``fn`` a few extra times. ``None``: one call per
        sample, so ``fn`` runs exactly ``warmup + repeats`` times.
    clock : callable, default time.perf_counter
        Monotonic clock returning seconds; replaceable for testing.

    Returns
    -------
    Timing
        Median, minimum, inter-quartile range and all samples, in seconds
        per call.

    Raises
    ------
    TypeError
        If ``fn`` is not callable or a count is not an int.
    ValueError
        If a count is out of range, ``min_time`` is not positive, or
        ``device`` names a device that is not available.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones(1000)
    >>> t = time_function(lambda: x.sum(), repeats=5)
    >>> t.n
    5
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
    warmup = _check_int(warmup, "warmup", 0)
    repeats = _check_int(repeats, "repeats", 1)
    if min_time is not None:
        if isinstance(min_time, bool) or not isinstance(min_time, (int, float)):
            raise TypeError(f"min_time: expected a number of seconds or None, got {type(min_time).__name__}")
        if not (math.isfinite(min_time) and min_time > 0):
            raise ValueError(f"min_time: expected a positive number of seconds, got {min_time}")
    sync = _synchronizer(device)

    for _ in range(warmup):
        fn()
    sync()

    def sample(number):
        sync()
        start = clock()
        for _ in range(number):
            fn()
        sync()
        return clock() - start

    number = 1
    if min_time is not None:
        while number < 2**30 and sample(number) < min_time:
            number *= 2

    samples = [sample(number) / number for _ in range(repeats)]
    return Timing.from_samples(samples, number=number)


# ---------------------------------------------------------------------------
# The gradient, three (and a half) ways
# ---------------------------------------------------------------------------
# Each public function checks its arguments once (shapes and dtypes only: a
# finiteness check would read all of X, one extra pass that would distort the
# very timing we want), then calls a private kernel that the experiments time.


def _check_numpy_problem(X, w, t):
    for name, a in (("X", X), ("w", w), ("t", t)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: expected a numpy.ndarray, got {type(a).__name__}")
    _check_shapes(X, w, t)
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"X: expected dtype float32 or float64, got {X.dtype}")
    for name, a in (("w", w), ("t", t)):
        if a.dtype != X.dtype:
            raise TypeError(
                f"{name}: expected dtype {X.dtype} (the dtype of X), got {a.dtype}; "
                f"convert explicitly with {name}.astype(X.dtype)"
            )


def _check_torch_problem(X, w, t):
    for name, a in (("X", X), ("w", w), ("t", t)):
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(a).__name__}")
    _check_shapes(X, w, t)
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


def _check_shapes(X, w, t):
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
    _check_numpy_problem(X, w, t)
    max_elements = _check_int(max_elements, "max_elements", 1)
    N, D = X.shape
    if N * D > max_elements:
        raise ValueError(
            f"X: the pure-Python loop is limited to N*D <= {max_elements} "
            f"(about a second); got N*D = {N}*{D} = {N * D}. "
            "Use logistic_gradient_numpy or logistic_gradient_torch for this size."
        )
    return _grad_loop(X, w, t)


def _grad_loop(X, w, t):
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
    _check_numpy_problem(X, w, t)
    return _grad_numpy(X, w, t)


def _grad_numpy(X, w, t):
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
    _check_torch_problem(X, w, t)
    return _grad_torch(X, w, t)


def _grad_torch(X, w, t):
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

    The rows are also split into ``workers`` contiguous chunks, one per core,
    each walked by its own Python thread with single-threaded BLAS; the
    partial gradients are added at the end. That is data parallelism on one
    machine: exactly what ``mathcore.parallel`` does across processes, with a
    plain sum in place of the all-reduce.

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
        _check_torch_problem(X, w, t)
        if X.device.type != "cpu":
            raise ValueError(
                f"X: the blocked gradient targets CPU caches; got a tensor on {X.device} "
                "(use logistic_gradient_torch on a GPU)"
            )
        contiguous = X.is_contiguous()
    else:
        _check_numpy_problem(X, w, t)
        contiguous = X.flags.c_contiguous
    if not contiguous:
        raise ValueError("X: expected a C-contiguous (row-major) array; use a contiguous copy")
    if block_rows is not None:
        block_rows = _check_int(block_rows, "block_rows", 1)
    if workers is not None:
        workers = _check_int(workers, "workers", 1)
    return _grad_blocked(X, w, t, block_rows, workers, bool(prefetch))


_MIN_BYTES_PER_WORKER = 4 << 20


def _default_block_rows(D, itemsize):
    return max(64, (1 << 20) // (D * itemsize))


def _grad_blocked(X, w, t, block_rows=None, workers=None, prefetch=True):
    is_torch = isinstance(X, torch.Tensor)
    N, D = X.shape
    itemsize = X.element_size() if is_torch else X.itemsize
    B = block_rows or _default_block_rows(D, itemsize)
    if workers is None:
        # one thread per core, but only for arrays that do not fit in cache anyway:
        # below a few MiB per thread, starting threads costs more than it saves
        workers = torch.get_num_threads() if is_torch else _blas_threads()
        workers = min(workers, max(1, N * D * itemsize // _MIN_BYTES_PER_WORKER))
    workers = max(1, min(workers, -(-N // B)))
    bounds = [(k * N // workers, (k + 1) * N // workers) for k in range(workers)]
    partial = [None] * workers

    def walk_torch(k):
        lo, hi = bounds[k]
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
        partial[k] = g

    def walk_numpy(k):
        lo, hi = bounds[k]
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
        partial[k] = g

    walk = walk_torch if is_torch else walk_numpy
    with _blocked_lock, _single_threaded_library(is_torch):
        threads = [threading.Thread(target=walk, args=(k,)) for k in range(1, workers)]
        for th in threads:
            th.start()
        try:
            walk(0)
        finally:
            for th in threads:
                th.join()
    if any(p is None for p in partial):
        raise RuntimeError("logistic_gradient_blocked: a worker thread failed (see the traceback above)")
    g = partial[0]
    for p in partial[1:]:
        g += p
    return g


_controller = None


def _threadpools():
    """A cached ``threadpoolctl.ThreadpoolController`` (scanning the libraries is slow)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def _blas_threads():
    counts = [info["num_threads"] for info in _threadpools().info() if info["user_api"] == "blas"]
    return max(counts) if counts else 1


class _single_threaded_library:
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
            self.limits = _threadpools().limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self.is_torch:
            torch.set_num_threads(self.previous)
        else:
            self.limits.restore_original_limits()
        return False


# ---------------------------------------------------------------------------
# Cost model and bandwidth
# ---------------------------------------------------------------------------


def _dtype_name(dtype):
    """'float32' or 'float64' from a string, NumPy dtype or torch dtype."""
    if isinstance(dtype, torch.dtype):
        for name, (_, tdt) in _DTYPES.items():
            if dtype == tdt:
                return name
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
        if name in _DTYPES:
            return name
    raise ValueError(f"dtype: expected float32 or float64, got {dtype!r}")


def cost_model(N, D, dtype="float64", *, bandwidth_gbps=None):
    """Count what one full-batch gradient ``X.T @ (sigmoid(X @ w) - t)`` costs.

    Parameters
    ----------
    N, D : int
        Number of samples and features.
    dtype : str, NumPy or torch dtype, default 'float64'
        ``float32`` (4 bytes per number) or ``float64`` (8 bytes).
    bandwidth_gbps : float, optional
        Memory bandwidth in GB/s (1 GB = 1e9 bytes). When given, the lower
        bounds on the time are added.

    Returns
    -------
    dict
        ``exponentials`` (``N``: one per sample, since ``z_i`` is a scalar),
        ``flops`` (``4*N*D``: ``2*N*D`` multiply-adds for ``X @ w``, as many for
        ``X.T @ r``; the ``O(N)`` sigmoid work is not counted),
        ``element_reads`` (``2*N*D``: the one-liner reads ``X`` twice),
        ``compulsory_bytes`` (``(N*D + N) * itemsize``: ``X`` and ``t`` once),
        ``two_pass_bytes`` (``(2*N*D + N) * itemsize``),
        ``arithmetic_intensity`` (flops per compulsory byte), plus ``N``, ``D``,
        ``dtype``, ``itemsize`` and, with ``bandwidth_gbps``,
        ``time_floor_s`` (compulsory bytes at that bandwidth) and
        ``two_pass_time_s``.

    Raises
    ------
    TypeError
        If ``N``, ``D`` or ``bandwidth_gbps`` is not a number of the right kind.
    ValueError
        If ``N`` or ``D`` is below 1, the dtype is not float32/float64, or
        the bandwidth is not positive.

    Examples
    --------
    >>> c = cost_model(1_000_000, 100, "float32", bandwidth_gbps=10)
    >>> c["compulsory_bytes"], c["flops"], round(c["two_pass_time_s"], 4)
    (404000000, 400000000, 0.0804)
    """
    N = _check_int(N, "N", 1)
    D = _check_int(D, "D", 1)
    name = _dtype_name(dtype)
    itemsize = np.dtype(name).itemsize
    out = {
        "N": N,
        "D": D,
        "dtype": name,
        "itemsize": itemsize,
        "exponentials": N,
        "flops": 4 * N * D,
        "element_reads": 2 * N * D,
        "compulsory_bytes": (N * D + N) * itemsize,
        "two_pass_bytes": (2 * N * D + N) * itemsize,
    }
    out["arithmetic_intensity"] = out["flops"] / out["compulsory_bytes"]
    if bandwidth_gbps is not None:
        if isinstance(bandwidth_gbps, bool) or not isinstance(bandwidth_gbps, (int, float)):
            raise TypeError(f"bandwidth_gbps: expected a number, got {type(bandwidth_gbps).__name__}")
        if not (math.isfinite(bandwidth_gbps) and bandwidth_gbps > 0):
            raise ValueError(f"bandwidth_gbps: expected a positive number, got {bandwidth_gbps}")
        out["time_floor_s"] = out["compulsory_bytes"] / (bandwidth_gbps * 1e9)
        out["two_pass_time_s"] = out["two_pass_bytes"] / (bandwidth_gbps * 1e9)
    return out


def measure_bandwidth(device="cpu", nbytes=None, *, dtype="float64", warmup=2, repeats=9):
    """Measure the memory bandwidth one can actually reach from PyTorch.

    Two probes, each timed with ``time_function`` (synchronised on a GPU):

    * **read**: ``a.sum()`` over an array of ``nbytes`` bytes; bandwidth =
      ``nbytes / median time``. This is the ceiling for the gradient, which
      mostly reads.
    * **copy**: ``b.copy_(a)``; bandwidth = ``2 * nbytes / median time``
      (each byte is read once and written once; both are counted).

    On the CPU the array must be much larger than the last-level cache, or
    you measure the cache: the default is 512 MiB there (1 GiB on a GPU).
    Uses PyTorch's current thread count (``torch.get_num_threads()``).

    Parameters
    ----------
    device : str or torch.device, default 'cpu'
        Where to allocate the arrays ('cpu', 'cuda', 'cuda:1', ...).
    nbytes : int, optional
        Size of each array in bytes (two arrays are allocated for the copy).
    dtype : str, default 'float64'
        Element type of the arrays.
    warmup, repeats : int
        Passed to ``time_function``.

    Returns
    -------
    dict
        ``read_gbps``, ``copy_gbps`` (GB/s, 1 GB = 1e9 bytes, from medians),
        ``read_best_gbps``, ``copy_best_gbps`` (from the fastest sample),
        ``read_iqr_rel``, ``copy_iqr_rel`` (IQR / median),
        ``read_s``, ``copy_s`` (median seconds), and ``device``, ``dtype``,
        ``nbytes``, ``threads``, ``repeats``.

    Raises
    ------
    ValueError
        If the device is not available or ``nbytes`` is too small.

    Examples
    --------
    >>> bw = measure_bandwidth("cpu", nbytes=8 * 2**20, repeats=3)
    >>> bw["read_gbps"] > 0
    True
    """
    name = _dtype_name(dtype)
    tdtype = _DTYPES[name][1]
    sync = _synchronizer(device)  # validates the device
    dev = torch.device(device)
    if nbytes is None:
        nbytes = (512 if dev.type == "cpu" else 1024) * 2**20
    nbytes = _check_int(nbytes, "nbytes", 1024)
    n = nbytes // tdtype.itemsize
    nbytes = n * tdtype.itemsize
    a = torch.ones(n, dtype=tdtype, device=dev)
    b = torch.empty_like(a)
    b.copy_(a)  # touch every page of b before timing
    sync()
    read = time_function(a.sum, warmup=warmup, repeats=repeats, device=dev)
    copy = time_function(lambda: b.copy_(a), warmup=warmup, repeats=repeats, device=dev)
    return {
        "device": str(dev),
        "dtype": name,
        "nbytes": nbytes,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "read_gbps": nbytes / read.median / 1e9,
        "copy_gbps": 2 * nbytes / copy.median / 1e9,
        "read_best_gbps": nbytes / read.min / 1e9,
        "copy_best_gbps": 2 * nbytes / copy.min / 1e9,
        "read_iqr_rel": read.iqr / read.median,
        "copy_iqr_rel": copy.iqr / copy.median,
        "read_s": read.median,
        "copy_s": copy.median,
    }


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
    N = _check_int(N, "N", 1)
    D = _check_int(D, "D", 1)
    np_dtype = _DTYPES[_dtype_name(dtype)][0]
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
        return _record(backend, N, D, dtype, "measured", timing=time_function(lambda: _grad_loop(X, w, t), **timed), threads=1)
    if backend in ("numpy", "numpy-blocked"):
        fn = _grad_numpy if backend == "numpy" else _grad_blocked
        timing = time_function(lambda: fn(X, w, t), **timed)
        return _record(backend, N, D, dtype, "measured", timing=timing, threads=_blas_threads())
    Xt, wt, tt = (torch.from_numpy(a) for a in (X, w, t))
    if backend in ("torch-cpu", "torch-cpu-blocked"):
        fn = _grad_torch if backend == "torch-cpu" else _grad_blocked
        timing = time_function(lambda: fn(Xt, wt, tt), **timed)
        return _record(backend, N, D, dtype, "measured", timing=timing, threads=torch.get_num_threads())
    # torch-cuda: the host->device copy is timed separately from the gradient
    dev = torch.device("cuda")
    transfer = time_function(lambda: (Xt.to(dev), tt.to(dev)), device=dev, **timed)
    Xd, wd, td = Xt.to(dev), wt.to(dev), tt.to(dev)
    timing = time_function(lambda: _grad_torch(Xd, wd, td), device=dev, **timed)
    return _record(backend, N, D, dtype, "measured", timing=timing, transfer=transfer)


def _worker_main():
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
    cmd = [sys.executable, "-c", "from mathcore.bench import _worker_main; _worker_main()"]
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
    name = _dtype_name(dtype)
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
        grid.append((_check_int(pair[0], "N", 1), _check_int(pair[1], "D", 1)))
    warmup = _check_int(warmup, "warmup", 0)
    repeats = _check_int(repeats, "repeats", 1)
    loop_max_elements = _check_int(loop_max_elements, "loop_max_elements", 0)
    if threads is not None:
        threads = _check_int(threads, "threads", 1)

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
