"""The GPU kernels (``mathcore.optim._triton``), checked without a GPU.

Triton runs a kernel in its interpreter (NumPy, one program at a time) when ``TRITON_INTERPRET=1``
is set before it is imported, so those checks run in a subprocess. Its compiler needs no GPU
either: the kernels are compiled here to machine code for the H100 (sm_90) and the T4 (sm_75).
What neither can show is their speed; ``benchmarks/bench_gradient.py`` times it where
CUDA is present.
"""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from mathcore.optim import _triton

pytestmark = pytest.mark.skipif(_triton.triton is None, reason="Triton is not installed")

# Run under TRITON_INTERPRET=1: the objectives on CPU tensors take the kernels (as on a GPU), and are
# compared with the same objectives on the reference path (``fused = False``).
INTERPRETED = textwrap.dedent(r"""
    import warnings

    import torch

    from mathcore import optim
    from mathcore.optim import _fused, _triton, logistic

    assert _triton.available("cpu")
    logistic.SMALL_MAX_ENTRIES = -1  # not the NumPy path for small X ...
    _fused.numba = None  # ... nor the numba kernel

    def results(obj, theta):
        return (*obj.value_grad(theta), obj.value(theta), obj.hessian(theta), obj.decision(theta))

    def counting(name):  # a wrapper that counts calls, in place of _triton.<name>: (the calls, the original)
        original, calls = getattr(_triton, name), []

        def counted(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        setattr(_triton, name, counted)
        return calls, original

    # Two objectives from make(): the kernel's results against the reference path's, to 1e-12 (float64)
    # or 2e-5 (float32); the kernel gives the same bits twice.
    def compare(make, theta, calls):
        kernel, plain = make(), make()
        plain.fused = False
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback warning
            before = len(calls)
            fast = results(kernel, theta)
            assert len(calls) == before + 2  # value_grad and value took the kernel (the Hessian reuses z)
            ref = results(plain, theta)
            assert len(calls) == before + 2
        f64 = theta.dtype == torch.float64
        for a, b in zip(fast, ref, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
            torch.testing.assert_close(a, b, rtol=1e-12 if f64 else 2e-5, atol=1e-14 if f64 else 1e-6)
        assert all(torch.equal(a, b) for a, b in zip(fast, results(kernel, theta), strict=True))

    calls, kernel_sums = counting("logistic_sums")
    checked = 0
    # N below one program (64 rows), exactly one, not a multiple; D = 1, D across two column tiles
    for (n, d), dtype, intercept, weighted in [
        ((1, 1), torch.float64, True, False), ((63, 3), torch.float64, False, True),
        ((64, 1), torch.float64, True, True), ((130, 100), torch.float64, True, False),
        ((257, 65), torch.float64, False, False), ((200, 70), torch.float32, True, True),
    ]:
        g = torch.Generator().manual_seed(n * 1000 + d)
        X = torch.randn(n, 2 * d, dtype=dtype, generator=g)
        X = X[:, ::2] if n % 2 else X[:, :d]  # column-strided, or rows strided past their length
        t = (torch.rand(n, generator=g) < 0.5).to(dtype)
        s = torch.rand(n, generator=g, dtype=dtype) * 2 if weighted else None
        compare(lambda: optim.LogisticObjective(X, t, lam=0.5, fit_intercept=intercept, sample_weight=s),
                torch.linspace(-0.3, 0.3, d + intercept, dtype=dtype), calls)
        checked += 1

    # softmax: 2, 3 and 16 classes (the kernel's limit), then 17 (the reference path)
    softmax_calls, softmax_sums = counting("softmax_sums")
    for (n, d, k), dtype, intercept, weighted in [
        ((1, 1, 2), torch.float64, True, False), ((63, 3, 3), torch.float64, False, True),
        ((130, 100, 16), torch.float64, True, True), ((200, 70, 5), torch.float32, True, False),
    ]:
        g = torch.Generator().manual_seed(n * 100 + k)
        X = torch.randn(n, 2 * d, dtype=dtype, generator=g)[:, ::2]
        y = torch.randint(0, k, (n,), generator=g)
        s = torch.rand(n, generator=g, dtype=dtype) * 2 if weighted else None
        compare(lambda: optim.SoftmaxObjective(X, y, k, lam=0.5, fit_intercept=intercept, sample_weight=s),
                torch.linspace(-0.3, 0.3, k * (d + intercept), dtype=dtype), softmax_calls)
        checked += 1
    X = torch.randn(40, 3, dtype=torch.float64)
    many = optim.SoftmaxObjective(X, torch.arange(40) % 17, 17)
    before = len(softmax_calls)
    many.value_grad(torch.zeros(17 * 4, dtype=torch.float64))
    assert len(softmax_calls) == before  # 17 classes: not the kernel
    try:
        softmax_sums(X, torch.zeros(40, dtype=torch.int64), torch.zeros(17, 3, dtype=torch.float64),
                     torch.zeros(17, dtype=torch.float64), torch.empty(40, 17, dtype=torch.float64))
        raise AssertionError("17 classes accepted")
    except ValueError as exc:
        assert "W: expected 2 to 16 classes (rows), got 17" in str(exc), exc

    # large margins: the loss sums log1p(e) for tiny e by its series, not log(1 + e) = 0
    # (and z = X w + b is filled in)
    z = torch.linspace(20.0, 700.0, 101, dtype=torch.float64)
    filled = torch.empty(101, dtype=torch.float64)
    loss, _, _ = kernel_sums(z[:, None], torch.ones(101, dtype=torch.float64), torch.ones(1, dtype=torch.float64),
                             0.5, filled)
    expected = torch.log1p(torch.exp(-(z + 0.5))).sum()
    assert expected > 0 and abs(float(loss) - float(expected)) <= 1e-12 * float(expected), (loss, expected)
    assert torch.equal(filled, z + 0.5)

    # a failing kernel: one warning that says why, then the reference path, with the reference's results
    X = torch.randn(100, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = (X[:, 0] > 0).to(torch.float64)
    theta = torch.full((5,), 0.1, dtype=torch.float64)
    broken = optim.LogisticObjective(X, t)
    calls.clear()

    def fail(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("no such GPU")

    _triton.logistic_sums = fail
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = broken.value_grad(theta)
        second = broken.value_grad(theta)
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert len(calls) == 1 and len(messages) == 1 and "no such GPU" in messages[0], messages
    plain = optim.LogisticObjective(X, t)
    plain.fused = False
    for a, b, c in zip(first, second, plain.value_grad(theta), strict=True):
        assert torch.equal(a, c) and torch.equal(b, c)
    print("checked", checked)
""")


def test_kernels_equal_the_reference_path_in_the_interpreter():
    """The objectives on the kernels against the same objectives on the reference path: value, gradient,
    Hessian (from the kept logits) and the logits themselves, float64 to 1e-12 relative and float32 to 2e-5,
    weighted and unweighted, with and without intercept, non-contiguous X, 2 to 16 classes (17 take the
    reference path); repeated calls give the same bits; tiny log1p terms at large margins; a kernel that
    fails warns once and leaves the reference's results."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", INTERPRETED], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "checked 10", done.stdout


@pytest.mark.parametrize(("dtype", "arch"), [("fp64", 90), ("fp32", 75)])
def test_kernels_compile_for_the_gpu(dtype, arch):
    """Triton's compiler turns both kernels into cubins for sm_90 (H100) and sm_75 (T4, Colab's GPU), here
    on the CPU: the code a GPU would run, less its launch; the softmax kernel's shared memory fits the
    T4's 64 KiB."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    pointers = [f"*{dtype}", "i64", "i64"]
    logistic = (["X", "stride_n", "stride_d", "t", "s", "w", "b", "z", "loss_parts", "r_parts", "g_parts", "N", "D"],
                pointers + [f"*{dtype}"] * 5 + ["*fp64", "*fp64", f"*{dtype}", "i32", "i32"],
                {"SERIES_BELOW": _triton.SERIES_BELOW}, {})
    softmax = (["X", "stride_n", "stride_d", "y", "s", "W", "b", "Z", "loss_parts", "b_parts", "G_parts", "N", "D",
                "K"], pointers + ["*i64"] + [f"*{dtype}"] * 4 + ["*fp64", "*fp64", f"*{dtype}", "i32", "i32", "i32"],
               {"CLASSES": _triton.MAX_CLASSES}, {"num_stages": _triton.SOFTMAX_STAGES})
    for kernel, (names, types, more, options) in [(_triton.LOGISTIC_KERNEL, logistic), (_triton.SOFTMAX_KERNEL, softmax)]:
        constants = {"HAS_S": True, "GRAD": True, "ROWS": _triton.ROWS, "COLS": _triton.COLS, **more}
        signature = dict(zip(names, types, strict=True)) | dict.fromkeys(constants, "constexpr")
        source = ASTSource(fn=kernel, signature=signature,
                           constexprs={(len(names) + k,): v for k, v in enumerate(constants.values())})
        compiled = _triton.triton.compile(source, target=GPUTarget("cuda", arch, 32),
                                          options={"enable_fp_fusion": True, **options})
        assert len(compiled.asm["cubin"]) > 0
        assert f".target sm_{arch}" in compiled.asm["ptx"]
        assert compiled.metadata.shared <= 64 * 2**10


def test_kernel_refuses_a_cpu_tensor_outside_the_interpreter():
    if _triton.interpreting():
        pytest.skip("TRITON_INTERPRET=1 in this process")
    X = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"X: expected a tensor on a CUDA device .* got one on cpu"):
        _triton.logistic_sums(X, torch.zeros(3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), 0.0,
                              torch.empty(3, dtype=torch.float64))
    assert not _triton.available("cpu")


def check_on(device, dtype, n=100_003):
    """Two-class and 10-class objectives on ``device``: the kernels without a fallback warning, equal to the
    reference path (float64 to 1e-12, float32 to 2e-5) and the same bits twice."""
    import warnings

    from mathcore import optim

    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 37, generator=g, dtype=dtype).to(device)
    t = (torch.rand(n, generator=g) < 0.5).to(dtype).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    s = (torch.rand(n, generator=g) * 2).to(dtype).to(device)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == torch.float64 else dict(rtol=2e-5, atol=1e-6)
    for weights in (None, s):
        for make, n_params in [(lambda w=weights: optim.LogisticObjective(X, t, lam=0.5, sample_weight=w), 38),
                               (lambda w=weights: optim.SoftmaxObjective(X, y, 10, lam=0.5, sample_weight=w), 380)]:
            kernel, plain = make(), make()
            plain.fused = False
            theta = torch.linspace(-0.2, 0.2, n_params, dtype=dtype).to(device)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fast, again = kernel.value_grad(theta), kernel.value_grad(theta)
            for a, b, c in zip(fast, again, plain.value_grad(theta), strict=True):
                assert torch.equal(a, b)
                torch.testing.assert_close(a, c, **tol)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_kernels_on_the_gpu_equal_the_reference_path(dtype):
    """On a GPU (see ``check_on``)."""
    check_on("cuda", dtype)
