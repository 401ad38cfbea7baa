"""What a gradient must cost: the cost model and the measured memory bandwidth (the roofline)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import check_int
from ..device import resolve_device, synchronize
from .timing import time_function

__all__ = ["cost_model", "measure_bandwidth", "DTYPES", "dtype_name"]

DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}


# ---------------------------------------------------------------------------
# Cost model and bandwidth
# ---------------------------------------------------------------------------


def dtype_name(dtype):
    """'float32' or 'float64' from a string, NumPy dtype or torch dtype."""
    if isinstance(dtype, torch.dtype):
        for name, (_, tdt) in DTYPES.items():
            if dtype == tdt:
                return name
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
        if name in DTYPES:
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
    N = check_int("N", N, low=1)
    D = check_int("D", D, low=1)
    name = dtype_name(dtype)
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
    name = dtype_name(dtype)
    tdtype = DTYPES[name][1]
    dev = resolve_device(device)  # validates the device

    def sync():
        synchronize(dev)
    if nbytes is None:
        nbytes = (512 if dev.type == "cpu" else 1024) * 2**20
    nbytes = check_int("nbytes", nbytes, low=1024)
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
