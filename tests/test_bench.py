"""Tests of mathcore.bench: the gradient implementations, timing statistics, cost model.

No test here asserts a speed: timings depend on the machine and its load.
What is tested is that the numbers are computed correctly (fake clocks, call
counts, formulas) and that every implementation computes the same gradient.
"""

import json
import math

import numpy as np
import pytest
import torch
from scipy.special import expit

from mathcore import bench
from mathcore.bench import (
    Timing,
    cost_model,
    logistic_gradient_blocked,
    logistic_gradient_loop,
    logistic_gradient_numpy,
    logistic_gradient_torch,
    make_problem,
    measure_bandwidth,
    scaling_experiment,
    time_function,
)

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")


def reference_gradient(X, w, t):
    """Float64 reference, written independently of the module (explicit sum over samples)."""
    X, w, t = (np.asarray(a, dtype=np.float64) for a in (X, w, t))
    r = expit(X @ w) - t
    return (r[:, None] * X).sum(axis=0)


def rel_err(a, b):
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    return float(np.max(np.abs(a.astype(np.float64) - b)) / np.max(np.abs(b)))


def as_torch(*arrays):
    return tuple(torch.from_numpy(a) for a in arrays)


# ---------------------------------------------------------------------------
# The gradient implementations agree
# ---------------------------------------------------------------------------


def test_hand_computed_gradient():
    # w = 0 gives sigmoid = 1/2, so r = [1/2 - 1, 1/2 - 0] and g = X.T @ r
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    w = np.zeros(2)
    t = np.array([1.0, 0.0])
    expected = np.array([1.0 * -0.5 + 3.0 * 0.5, 2.0 * -0.5 + -1.0 * 0.5])
    np.testing.assert_array_equal(logistic_gradient_loop(X, w, t), expected)
    np.testing.assert_array_equal(logistic_gradient_numpy(X, w, t), expected)
    np.testing.assert_array_equal(logistic_gradient_torch(*as_torch(X, w, t)).numpy(), expected)


@pytest.mark.parametrize("N,D", [(1, 1), (7, 3), (300, 10), (513, 17)])
def test_all_implementations_agree_float64(N, D):
    X, w, t = make_problem(N, D, "float64", seed=N + D)
    ref = reference_gradient(X, w, t)
    results = {
        "loop": logistic_gradient_loop(X, w, t),
        "numpy": logistic_gradient_numpy(X, w, t),
        "torch": logistic_gradient_torch(*as_torch(X, w, t)),
        "numpy-blocked": logistic_gradient_blocked(X, w, t, block_rows=64, workers=2),
        "torch-blocked": logistic_gradient_blocked(*as_torch(X, w, t), block_rows=50, workers=2),
    }
    for name, g in results.items():
        assert g.shape == (D,), name
        assert rel_err(g, ref) < 1e-12, name


def test_float32_keeps_dtype_and_is_close():
    X, w, t = make_problem(2000, 20, "float32", seed=1)
    ref = reference_gradient(X, w, t)
    g_np = logistic_gradient_numpy(X, w, t)
    g_t = logistic_gradient_torch(*as_torch(X, w, t))
    g_b = logistic_gradient_blocked(X, w, t, block_rows=128)
    assert g_np.dtype == np.float32 and g_t.dtype == torch.float32 and g_b.dtype == np.float32
    for g in (g_np, g_t, g_b):
        assert rel_err(g, ref) < 1e-4
    assert logistic_gradient_loop(X, w, t).dtype == np.float64  # Python floats


@pytest.mark.parametrize("prefetch", [True, False])
@pytest.mark.parametrize("block_rows,workers", [(1, 1), (3, 2), (1000, 4), (None, None)])
def test_blocked_variants_agree(block_rows, workers, prefetch):
    X, w, t = make_problem(257, 5, "float64", seed=3)
    ref = reference_gradient(X, w, t)
    for args in ((X, w, t), as_torch(X, w, t)):
        g = logistic_gradient_blocked(*args, block_rows=block_rows, workers=workers, prefetch=prefetch)
        assert rel_err(g, ref) < 1e-12


def test_blocked_restores_torch_threads():
    before = torch.get_num_threads()
    X, w, t = as_torch(*make_problem(400, 4, seed=0))
    logistic_gradient_blocked(X, w, t, block_rows=10, workers=2)
    assert torch.get_num_threads() == before


def test_blocked_refuses_non_contiguous():
    X, w, t = make_problem(20, 6, seed=0)
    with pytest.raises(ValueError, match="C-contiguous"):
        logistic_gradient_blocked(np.asfortranarray(X), w, t)
    with pytest.raises(ValueError, match="C-contiguous"):
        logistic_gradient_blocked(torch.from_numpy(X).T.contiguous().T, *as_torch(w, t))


def test_loop_is_stable_at_extreme_logits():
    X = np.array([[1.0], [-1.0], [1.0]])
    w = np.array([1e4])  # z = +-1e4: math.exp(1e4) would overflow
    t = np.array([1.0, 1.0, 0.0])
    g = logistic_gradient_loop(X, w, t)
    # sigmoid(1e4) = 1, sigmoid(-1e4) = 0: r = [0, -1, 1]
    np.testing.assert_allclose(g, [0.0 * 1 + -1.0 * -1 + 1.0 * 1])
    np.testing.assert_array_equal(g, logistic_gradient_numpy(X, w, t))


def test_loop_refuses_large_sizes():
    X, w, t = make_problem(11, 10, seed=0)
    with pytest.raises(ValueError, match=r"N\*D = 11\*10 = 110"):
        logistic_gradient_loop(X, w, t, max_elements=100)
    assert logistic_gradient_loop(X, w, t, max_elements=110).shape == (10,)
    big = np.zeros((1001, 1000))
    with pytest.raises(ValueError, match="N\\*D <= 1000000"):
        logistic_gradient_loop(big, np.zeros(1000), np.zeros(1001))


@pytest.mark.parametrize(
    "X,w,t,exc,match",
    [
        (np.zeros(3), np.zeros(3), np.zeros(3), ValueError, "X: expected a 2-D"),
        (np.zeros((3, 2)), np.zeros(3), np.zeros(3), ValueError, r"w: expected shape \(2,\)"),
        (np.zeros((3, 2)), np.zeros(2), np.zeros(4), ValueError, r"t: expected shape \(3,\)"),
        (np.zeros((0, 2)), np.zeros(2), np.zeros(0), ValueError, "at least one row"),
        (np.zeros((3, 2), dtype=int), np.zeros(2), np.zeros(3), TypeError, "X: expected dtype"),
        (np.zeros((3, 2)), np.zeros(2, np.float32), np.zeros(3), TypeError, "w: expected dtype float64"),
        (np.zeros((3, 2)), np.zeros(2), np.zeros(3, dtype=int), TypeError, "t: expected dtype float64"),
        ([[0.0, 1.0]], np.zeros(2), np.zeros(1), TypeError, "X: expected a numpy.ndarray, got list"),
    ],
)
def test_numpy_input_errors(X, w, t, exc, match):
    for fn in (logistic_gradient_loop, logistic_gradient_numpy, logistic_gradient_blocked):
        with pytest.raises(exc, match=match):
            fn(X, w, t)


def test_torch_input_errors():
    X, w, t = as_torch(*make_problem(5, 2, seed=0))
    with pytest.raises(TypeError, match="w: expected a torch.Tensor, got ndarray"):
        logistic_gradient_torch(X, w.numpy(), t)
    with pytest.raises(TypeError, match="t: expected dtype torch.float64"):
        logistic_gradient_torch(X, w, t.float())
    with pytest.raises(ValueError, match=r"w: expected shape \(2,\)"):
        logistic_gradient_torch(X, w[:1], t)
    with pytest.raises(TypeError, match="block_rows: expected an integer"):
        logistic_gradient_blocked(X, w, t, block_rows=2.5)
    with pytest.raises(ValueError, match="workers: expected an integer >= 1"):
        logistic_gradient_blocked(X, w, t, workers=0)


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


class FakeClock:
    """A clock that advances only when the timed function runs."""

    def __init__(self, durations):
        self.now = 0.0
        self.durations = list(durations)
        self.calls = 0

    def fn(self):
        self.calls += 1
        self.now += self.durations.pop(0) if self.durations else 1e-3

    def __call__(self):
        return self.now


def test_time_function_calls_warmup_plus_repeats():
    calls = []
    timing = time_function(lambda: calls.append(1), warmup=3, repeats=7)
    assert len(calls) == 10
    assert timing.n == 7 and len(timing.samples) == 7 and timing.number == 1
    assert all(s >= 0 for s in timing.samples)


def test_time_function_statistics_on_fake_clock():
    # warm-up calls take 100 s each: they must not enter the statistics
    clock = FakeClock([100.0, 100.0, 3.0, 1.0, 2.0, 10.0])
    timing = time_function(clock.fn, warmup=2, repeats=4, clock=clock)
    assert timing.samples == (3.0, 1.0, 2.0, 10.0)
    assert timing.median == 2.5
    assert timing.min == 1.0
    assert timing.iqr == pytest.approx(np.percentile([3, 1, 2, 10], 75) - np.percentile([3, 1, 2, 10], 25))
    assert clock.calls == 6


def test_time_function_min_time_calibrates_calls_per_sample():
    clock = FakeClock([])  # every call takes 1 ms
    timing = time_function(clock.fn, warmup=1, repeats=5, min_time=0.004, clock=clock)
    assert timing.number == 4  # 1 ms, 2 ms, 4 ms: stop at the first sample >= min_time
    assert timing.median == pytest.approx(1e-3)
    assert clock.calls == 1 + (1 + 2 + 4) + 5 * 4


def test_timing_from_samples_and_json():
    t = Timing.from_samples([0.004, 0.001, 0.002, 0.003, 0.005])
    assert (t.median, t.min, t.n) == (0.003, 0.001, 5)
    assert t.iqr == pytest.approx(0.002)
    d = json.loads(json.dumps(t.as_dict()))
    assert d["samples"] == [0.004, 0.001, 0.002, 0.003, 0.005]
    assert "3 ms median" in str(t)
    with pytest.raises(ValueError, match="samples"):
        Timing.from_samples([])


def test_time_function_errors():
    with pytest.raises(TypeError, match="fn: expected a callable"):
        time_function(42)
    with pytest.raises(ValueError, match="repeats: expected an integer >= 1, got 0"):
        time_function(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="warmup: expected an integer"):
        time_function(lambda: None, warmup=1.5)
    with pytest.raises(ValueError, match="min_time: expected a positive"):
        time_function(lambda: None, min_time=-1.0)
    with pytest.raises(ValueError, match="device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'meta'"):
        time_function(lambda: None, device="meta")
    with pytest.raises(ValueError, match="device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu0'"):
        time_function(lambda: None, device="gpu0")


@pytest.mark.skipif(CUDA, reason="checks the CPU-only error path")
def test_time_function_refuses_cuda_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        time_function(lambda: None, device="cuda")


# ---------------------------------------------------------------------------
# Cost model and bandwidth
# ---------------------------------------------------------------------------


def test_cost_model_numbers():
    c = cost_model(1_000_000, 100, "float32", bandwidth_gbps=10)
    assert c["exponentials"] == 1_000_000
    assert c["flops"] == 400_000_000
    assert c["element_reads"] == 200_000_000
    assert c["compulsory_bytes"] == (10**8 + 10**6) * 4
    assert c["two_pass_bytes"] == (2 * 10**8 + 10**6) * 4
    assert c["arithmetic_intensity"] == pytest.approx(4e8 / 4.04e8)
    assert c["time_floor_s"] == pytest.approx(0.0404)
    assert c["two_pass_time_s"] == pytest.approx(0.0804)
    c64 = cost_model(10, 3, np.float64)
    assert c64["itemsize"] == 8 and c64["compulsory_bytes"] == (30 + 10) * 8
    assert "time_floor_s" not in c64
    assert cost_model(10, 3, torch.float32)["dtype"] == "float32"


@pytest.mark.parametrize(
    "args,kwargs,exc,match",
    [
        ((0, 3), {}, ValueError, "N: expected an integer >= 1"),
        ((10, 2.0), {}, TypeError, "D: expected an integer"),
        ((10, 3, "int32"), {}, ValueError, "dtype: expected float32 or float64"),
        ((10, 3), {"bandwidth_gbps": 0}, ValueError, "bandwidth_gbps: expected a positive"),
    ],
)
def test_cost_model_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cost_model(*args, **kwargs)


def test_measure_bandwidth_small_array():
    bw = measure_bandwidth("cpu", nbytes=4 * 2**20, repeats=3)
    for key in ("read_gbps", "copy_gbps", "read_best_gbps", "copy_best_gbps", "read_s", "copy_s"):
        assert math.isfinite(bw[key]) and bw[key] > 0, key
    assert bw["nbytes"] == 4 * 2**20 and bw["device"] == "cpu"
    # the bandwidth is the bytes divided by the median time (read+write for copy)
    assert bw["read_gbps"] == pytest.approx(bw["nbytes"] / bw["read_s"] / 1e9)
    assert bw["copy_gbps"] == pytest.approx(2 * bw["nbytes"] / bw["copy_s"] / 1e9)
    with pytest.raises(ValueError, match="nbytes"):
        measure_bandwidth("cpu", nbytes=10)


# ---------------------------------------------------------------------------
# Scaling experiment
# ---------------------------------------------------------------------------


def test_scaling_experiment_records():
    sizes = [(50, 4), (200, 10)]
    rows = scaling_experiment(
        sizes, backends=("loop", "numpy", "torch-cpu", "torch-cpu-blocked"),
        repeats=3, warmup=1, loop_max_elements=500,
    )
    assert [(r["N"], r["D"], r["backend"]) for r in rows] == [
        (N, D, b) for N, D in sizes for b in ("loop", "numpy", "torch-cpu", "torch-cpu-blocked")
    ]
    for r in rows:
        if r["backend"] == "loop" and r["N"] * r["D"] > 500:
            assert r["status"] == "not measured" and "loop_max_elements=500" in r["reason"]
            assert r["median_s"] is None and r["gbps"] is None
            continue
        assert r["status"] == "measured" and r["repeats"] == 3
        assert r["median_s"] > 0 and math.isfinite(r["median_s"])
        nbytes = (r["N"] * r["D"] + r["N"]) * 8
        assert r["gbps"] == pytest.approx(nbytes / r["median_s"] / 1e9)
        assert r["transfer_s"] is None


@pytest.mark.skipif(CUDA, reason="checks the CPU-only path")
def test_scaling_experiment_reports_cuda_as_not_measured():
    rows = scaling_experiment([(100, 5)], backends=("torch-cuda",), dtype="float32")
    assert rows == [
        {
            "backend": "torch-cuda", "N": 100, "D": 5, "dtype": "float32",
            "status": "not measured", "reason": "CUDA is not available on this machine",
            "median_s": None, "min_s": None, "iqr_s": None, "repeats": None, "gbps": None,
            "threads": None, "transfer_s": None, "transfer_gbps": None,
        }
    ]


def test_scaling_experiment_isolated_subprocess():
    rows = scaling_experiment([(100, 5), (300, 5)], backends=("numpy",), repeats=3, isolate=True, threads=1)
    assert [r["status"] for r in rows] == ["measured", "measured"]
    assert all(r["threads"] == 1 for r in rows)  # the child saw OPENBLAS_NUM_THREADS=1


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"backends": ("fortran",)}, ValueError, "backends: expected names from"),
        ({"backends": "numpy"}, TypeError, "backends: expected a sequence"),
        ({"sizes": [(10,)]}, ValueError, r"sizes: expected \(N, D\) pairs"),
        ({"sizes": []}, TypeError, "sizes: expected a non-empty sequence"),
        ({"sizes": [(0, 3)]}, ValueError, "N: expected an integer >= 1"),
        ({"dtype": "float16"}, ValueError, "dtype"),
    ],
)
def test_scaling_experiment_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        scaling_experiment(**kwargs)


def test_make_problem_is_reproducible():
    a = make_problem(30, 4, "float32", seed=5)
    b = make_problem(30, 4, "float32", seed=5)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == np.float32
    assert set(np.unique(a[2])) <= {0.0, 1.0}


def test_public_names():
    for name in bench.__all__:
        assert getattr(bench, name).__doc__ or name in ("BACKENDS", "DEFAULT_SIZES")


# ---------------------------------------------------------------------------
# GPU (skipped without CUDA)
# ---------------------------------------------------------------------------


@pytest.mark.gpu
@needs_cuda
def test_cuda_gradient_matches_cpu_float64():
    X, w, t = make_problem(5000, 30, "float64", seed=2)
    g_gpu = logistic_gradient_torch(*(a.cuda() for a in as_torch(X, w, t)))
    assert g_gpu.device.type == "cuda"
    assert rel_err(g_gpu, reference_gradient(X, w, t)) < 1e-12
    with pytest.raises(ValueError, match="CPU caches"):
        logistic_gradient_blocked(*(a.cuda() for a in as_torch(X, w, t)))
    with pytest.raises(ValueError, match="w: expected a tensor on X's device"):
        logistic_gradient_torch(torch.from_numpy(X), torch.from_numpy(w).cuda(), torch.from_numpy(t))


@pytest.mark.gpu
@needs_cuda
def test_synchronised_timing_on_cuda():
    # Without synchronisation the clock would stop after the launch; with it, each
    # sample must cover the kernel's work, which a CUDA event pair measures on the GPU.
    a = torch.randn(2048, 2048, device="cuda")
    timing = time_function(lambda: a @ a, warmup=2, repeats=5, device="cuda")
    assert timing.n == 5 and timing.median > 0
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    a @ a
    stop.record()
    torch.cuda.synchronize()
    # the synchronised wall-clock time cannot be shorter than the GPU's own event time
    assert max(timing.samples) >= 0.5 * start.elapsed_time(stop) / 1e3


@pytest.mark.gpu
@needs_cuda
def test_scaling_experiment_and_bandwidth_on_cuda():
    rows = scaling_experiment([(10_000, 50)], backends=("torch-cuda",), repeats=5)
    (r,) = rows
    assert r["status"] == "measured" and r["median_s"] > 0
    assert r["transfer_s"] > 0 and r["transfer_gbps"] > 0
    bw = measure_bandwidth("cuda", nbytes=64 * 2**20, repeats=5)
    assert bw["read_gbps"] > 0 and bw["copy_gbps"] > 0 and bw["device"].startswith("cuda")
