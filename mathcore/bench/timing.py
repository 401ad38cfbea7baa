"""Timing done carefully: warm-up, repeats, device synchronisation, median and spread."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from .._validation import check_int
from ..device import resolve_device, synchronize

__all__ = ["Timing", "time_function"]


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
            f"{fmt_seconds(self.median)} median (min {fmt_seconds(self.min)}, "
            f"IQR {fmt_seconds(self.iqr)}, n={self.n})"
        )


def fmt_seconds(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


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
        (``'cuda'``, ``'cuda:1'``, ``'mps'``; nothing to drain on ``'cpu'``).
        ``None`` means ``"auto"``, as everywhere in mathcore
        (``mathcore.device.resolve_device``).
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
    warmup = check_int("warmup", warmup, low=0)
    repeats = check_int("repeats", repeats, low=1)
    if min_time is not None:
        if isinstance(min_time, bool) or not isinstance(min_time, (int, float)):
            raise TypeError(f"min_time: expected a number of seconds or None, got {type(min_time).__name__}")
        if not (math.isfinite(min_time) and min_time > 0):
            raise ValueError(f"min_time: expected a positive number of seconds, got {min_time}")
    dev = resolve_device(device)  # validates the device

    def sync():
        synchronize(dev)

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
