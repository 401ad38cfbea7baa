"""Tests of mathcore.parallel: sharding and the all-reduced gradient on torch.distributed.

The distributed tests start real processes (gloo on the CPU), so each costs a
few seconds of process start-up (mostly ``import torch``); there are three of
them plus one deliberate timeout. Every call has a timeout, so a broken rendezvous fails instead of hanging.
"""

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from scipy.special import expit

from mathcore.parallel import (
    DistributedGradient,
    check_against_single_process,
    distributed_gradient,
    shard_rows,
)

TIMEOUT = 120.0  # generous: process start-up on a loaded 2-core CI machine is slow


def problem(N, D, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(dtype)
    w = (rng.standard_normal(D) / np.sqrt(D)).astype(dtype)
    t = (rng.random(N) < 0.5).astype(dtype)
    return X, w, t


def single_process_gradient(X, w, t):
    return X.T @ (expit(X @ w) - t)


def assert_no_children_left():
    assert mp.active_children() == []


# ---------------------------------------------------------------------------
# shard_rows
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 7, 10, 101, 1000])
@pytest.mark.parametrize("K", [1, 2, 3, 4, 7])
def test_shard_rows_contiguous_and_balanced(N, K):
    if K > N:
        with pytest.raises(ValueError, match="world_size: expected an int between 1 and"):
            shard_rows(N, K)
        return
    bounds = shard_rows(N, K)
    assert len(bounds) == K
    assert bounds[0][0] == 0 and bounds[-1][1] == N
    for (_, b), (c, _) in zip(bounds, bounds[1:], strict=False):
        assert b == c  # contiguous, no gaps, no overlap
    sizes = [b - a for a, b in bounds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)  # the larger shards come first


def test_shard_rows_example_and_errors():
    assert shard_rows(10, 3) == [(0, 4), (4, 7), (7, 10)]
    with pytest.raises(ValueError, match="n_rows: expected at least 1 row"):
        shard_rows(0, 1)
    with pytest.raises(TypeError, match="world_size: expected an int, got float"):
        shard_rows(10, 2.0)


# ---------------------------------------------------------------------------
# distributed_gradient on gloo (real processes)
# ---------------------------------------------------------------------------


def test_two_processes_equal_single_process():
    X, w, t = problem(1000, 8, seed=1)
    res = distributed_gradient(X, w, t, world_size=2, backend="gloo", timeout=TIMEOUT)
    assert isinstance(res, DistributedGradient)
    assert res.shard_sizes == (500, 500) and res.world_size == 2 and res.backend == "gloo"
    ref = single_process_gradient(X, w, t)
    assert res.gradient.dtype == np.float64 and res.gradient.shape == (8,)
    np.testing.assert_allclose(res.gradient, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # each rank's partial sum is the gradient of its own rows, and they add up
    np.testing.assert_allclose(res.local_gradients[0], single_process_gradient(X[:500], w, t[:500]), rtol=1e-13)
    np.testing.assert_allclose(res.local_gradients[1], single_process_gradient(X[500:], w, t[500:]), rtol=1e-13)
    np.testing.assert_allclose(sum(res.local_gradients), res.gradient, rtol=1e-14, atol=1e-14)
    assert_no_children_left()


def test_uneven_split_over_tcp_with_torch_inputs():
    X, w, t = problem(1001, 5, seed=2)
    report = check_against_single_process(
        torch.from_numpy(X), torch.from_numpy(w), torch.from_numpy(t),
        world_size=2, timeout=TIMEOUT, init="tcp",
    )
    assert report["shard_sizes"] == (501, 500)
    assert report["max_rel_diff"] < 1e-12
    assert report["sum_of_locals_diff"] < 1e-12 * np.abs(single_process_gradient(X, w, t)).max()
    assert_no_children_left()


def test_world_size_one_is_the_single_process_gradient():
    X, w, t = problem(37, 4, seed=3, dtype=np.float32)
    res = distributed_gradient(torch.from_numpy(X), torch.from_numpy(w), torch.from_numpy(t),
                               world_size=1, timeout=TIMEOUT)
    assert isinstance(res.gradient, torch.Tensor) and res.gradient.dtype == torch.float32
    assert res.shard_sizes == (37,)
    expected = (torch.from_numpy(X).T @ (torch.sigmoid(torch.from_numpy(X) @ torch.from_numpy(w))
                                         - torch.from_numpy(t)))
    torch.testing.assert_close(res.gradient, expected, rtol=0, atol=0)
    assert_no_children_left()


def test_timeout_terminates_the_processes():
    # no process can start python, import torch and rendezvous in 10 ms
    X, w, t = problem(20, 2)
    with pytest.raises(TimeoutError, match="did not finish within timeout=0.01 s"):
        distributed_gradient(X, w, t, world_size=2, timeout=0.01)
    assert_no_children_left()


# ---------------------------------------------------------------------------
# input validation (no processes started)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"world_size": 0}, ValueError, "world_size: expected an int between 1 and the number of rows N=10, got 0"),
        ({"world_size": 11}, ValueError, "got 11"),
        ({"world_size": 2.0}, TypeError, "world_size: expected an int"),
        ({"backend": "mpi"}, ValueError, "backend: expected 'gloo' or 'nccl', got 'mpi'"),
        ({"init": "env"}, ValueError, "init: expected 'file' or 'tcp'"),
        ({"timeout": 0}, ValueError, "timeout: expected a positive number"),
        ({"threads_per_rank": 0}, ValueError, "threads_per_rank: expected an int >= 1"),
    ],
)
def test_argument_errors(kwargs, exc, match):
    X, w, t = problem(10, 3)
    with pytest.raises(exc, match=match):
        distributed_gradient(X, w, t, **kwargs)


@pytest.mark.parametrize(
    "X,w,t,exc,match",
    [
        (np.zeros(3), np.zeros(3), np.zeros(3), ValueError, "X: expected a non-empty 2-D"),
        (np.zeros((3, 2)), np.zeros(3), np.zeros(3), ValueError, r"w: expected shape \(2,\)"),
        (np.zeros((3, 2)), np.zeros(2), np.zeros(2), ValueError, r"t: expected shape \(3,\)"),
        (np.zeros((3, 2), int), np.zeros(2), np.zeros(3), TypeError, "X: expected dtype float32 or float64"),
        (np.zeros((3, 2)), np.zeros(2, np.float32), np.zeros(3), TypeError, "w: expected dtype float64"),
        (np.full((3, 2), np.nan), np.zeros(2), np.zeros(3), ValueError, "X: expected finite values"),
        ([[1.0, 2.0]], np.zeros(2), np.zeros(1), TypeError, "X: expected a numpy.ndarray or torch.Tensor, got list"),
    ],
)
def test_input_errors(X, w, t, exc, match):
    with pytest.raises(exc, match=match):
        distributed_gradient(X, w, t, world_size=1)


@pytest.mark.skipif(torch.cuda.is_available() and torch.cuda.device_count() >= 64, reason="needs < 64 GPUs")
def test_nccl_needs_enough_gpus():
    X, w, t = problem(100, 3)
    with pytest.raises(ValueError, match="'nccl' needs one CUDA device per process, world_size=64"):
        distributed_gradient(X, w, t, world_size=64, backend="nccl")


# ---------------------------------------------------------------------------
# NCCL on GPUs (skipped without CUDA)
# ---------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_nccl_equals_single_process():
    world_size = min(2, torch.cuda.device_count())
    X, w, t = problem(2001, 16, seed=4)
    report = check_against_single_process(X, w, t, world_size=world_size, backend="nccl", timeout=TIMEOUT)
    assert report["backend"] == "nccl" and report["world_size"] == world_size
    assert report["max_rel_diff"] < 1e-12
    assert_no_children_left()
