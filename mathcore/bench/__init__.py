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

What is here (one module each: ``timing``, ``gradients``, ``roofline``, ``scaling``):

* ``time_function``: warm-up, repeats, device synchronisation, medians;
* ``logistic_gradient_loop``: the pure-Python double loop (tiny sizes only);
* ``logistic_gradient_numpy`` and ``logistic_gradient_torch``: the vectorised
  one-liners;
* ``logistic_gradient_blocked``: one pass over ``X`` in cache-sized row blocks;
* ``measure_bandwidth``: the machine's read and copy bandwidth;
* ``cost_model``: exponentials, flops, bytes, arithmetic intensity;
* ``scaling_experiment``: the loop / NumPy / torch-CPU / torch-CUDA grid.
"""

from .gradients import (
    LOOP_MAX_ELEMENTS,
    logistic_gradient_blocked,
    logistic_gradient_loop,
    logistic_gradient_numpy,
    logistic_gradient_torch,
)
from .roofline import cost_model, measure_bandwidth
from .scaling import BACKENDS, DEFAULT_SIZES, make_problem, scaling_experiment
from .timing import Timing, time_function

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
    "LOOP_MAX_ELEMENTS",
]
