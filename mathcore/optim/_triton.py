r"""The fused one-pass kernel for the GPU: the two-class loss, ``z`` and ``X^T r`` in one read of ``X`` (Triton).

The GPU twin of ``_fused.logistic_sums``, with the same contract. On a GPU the reference path
reads ``X`` twice (``z = X w``, then ``X^T r``) and launches a kernel per element-wise step;
here each program takes ``ROWS`` rows and

1. sums ``z_i = x_i . w + b`` over column tiles of ``COLS``;
2. computes ``loss_i = s_i softplus((1 - 2 t_i) z_i)`` and ``r_i = s_i (sigmoid(z_i) - t_i)``
   in float64 (the formulas ``mathcore.symbolic.objective_functions`` generates; the equality
   test ties the two);
3. reads its tile of rows again, now from the GPU's L2 cache, for ``X_b^T r``.

Each program writes its own partial sums, which torch adds in program order: no atomics, so
the result is the same bit for bit from run to run.

Triton ships with the CUDA builds of PyTorch; ``available`` says whether this path runs. On a
CPU tensor the kernel runs in Triton's interpreter (NumPy, one program at a time): far too slow
for fitting, it is how the tests check this kernel on machines without a GPU.
"""

import os

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # the CPU builds of torch come without Triton: the GPU uses the reference path
    triton = None

ROWS = 64  # rows per program: its partial X^T r is 1/ROWS of the bytes of its rows
COLS = 64  # columns per tile of one program's loads
# log1p(e) for e < SERIES_BELOW by its series to e^5 (the next term is below e^6 / 6, 1.7e-16
# relative); above it, log(1 + e) errs by at most 2^-53 / SERIES_BELOW relative (1.1e-13).
SERIES_BELOW = 1e-3


def interpreting():
    """Whether Triton runs kernels in its interpreter (``TRITON_INTERPRET=1``: a debugging switch)."""
    return os.environ.get("TRITON_INTERPRET") == "1"


def available(device):
    """Whether ``X`` on ``device`` takes this kernel: Triton installed and a CUDA device (any device
    under Triton's interpreter, which is how the tests run this kernel without a GPU)."""
    return triton is not None and (torch.device(device).type == "cuda" or interpreting())


if triton is not None:  # the annotations name Triton's types
    @triton.jit
    def _logistic_kernel(X, stride_n, stride_d, t, s, w, b, z, loss_parts, r_parts, g_parts, N, D,
                         HAS_S: tl.constexpr, GRAD: tl.constexpr, ROWS: tl.constexpr,
                         COLS: tl.constexpr, SERIES_BELOW: tl.constexpr):  # pragma: no cover - Triton
        pid = tl.program_id(0)
        rows = pid * ROWS + tl.arange(0, ROWS)
        live = rows < N
        at = rows.to(tl.int64) * stride_n  # int64 offsets: N * D may pass 2^31
        acc = tl.zeros((ROWS,), dtype=X.dtype.element_ty)  # z sums in X's dtype, as on the CPU
        for d0 in range(0, D, COLS):
            cols = d0 + tl.arange(0, COLS)
            x = tl.load(X + at[:, None] + cols[None, :].to(tl.int64) * stride_d,
                        mask=live[:, None] & (cols[None, :] < D), other=0.0)
            acc += tl.sum(x * tl.load(w + cols, mask=cols < D, other=0.0)[None, :], axis=1)
        zr = acc + tl.load(b)
        tl.store(z + rows, zr, mask=live)
        zd = zr.to(tl.float64)
        td = tl.load(t + rows, mask=live, other=0.0).to(tl.float64)
        e = tl.exp(-tl.abs(zd))  # softplus(m) = max(m, 0) + log1p(e) for m = +-z, one exp per row
        series = e * (1.0 - e * (0.5 - e * (1.0 / 3.0 - e * (0.25 - e * 0.2))))
        loss = tl.maximum((1.0 - 2.0 * td) * zd, 0.0) + tl.where(e < SERIES_BELOW, series, tl.log(1.0 + e))
        q = 1.0 / (1.0 + e)  # sigmoid(|z|)
        r = tl.where(zd >= 0.0, q, e * q) - td
        if HAS_S:
            sd = tl.load(s + rows, mask=live, other=0.0).to(tl.float64)
            loss = loss * sd
            r = r * sd
        loss = tl.where(live, loss, 0.0)
        r = tl.where(live, r, 0.0)
        tl.store(loss_parts + pid, tl.sum(loss, axis=0))
        if GRAD:
            tl.store(r_parts + pid, tl.sum(r, axis=0))
            rx = r.to(X.dtype.element_ty)
            for d0 in range(0, D, COLS):
                cols = d0 + tl.arange(0, COLS)
                x = tl.load(X + at[:, None] + cols[None, :].to(tl.int64) * stride_d,
                            mask=live[:, None] & (cols[None, :] < D), other=0.0)
                tl.store(g_parts + pid * D + cols, tl.sum(x * rx[:, None], axis=0), mask=cols < D)

    LOGISTIC_KERNEL = _logistic_kernel  # (the tests compile it for GPUs)


def _kernel(device):
    """The kernel; Triton compiles it for the GPU on first use, or interprets it when ``TRITON_INTERPRET=1``
    was set before Triton was imported (the tests do so in a subprocess)."""
    if triton is None:
        raise ImportError("the GPU kernel needs Triton (it ships with the CUDA builds of PyTorch)")
    if device.type != "cuda" and not interpreting():
        raise ValueError(f"X: expected a tensor on a CUDA device (or TRITON_INTERPRET=1), got one on {device}")
    return LOGISTIC_KERNEL


def logistic_sums(X, t, w, b, z, *, sample_weight=None, grad=True):
    """Sums over the rows of the two-class loss: ``(loss, X^T r, sum r)``; fills ``z = X w + b``.

    ``X`` (N, D) (any strides), ``t``, ``w``, ``z`` and ``sample_weight`` are tensors of one
    floating dtype on one device; ``b`` is a float or a 0-d tensor (0 without intercept). ``t`` must hold only
    0 and 1 (the objectives check it). The three sums are float64 tensors whatever the dtype.
    """
    N, D = X.shape
    n_programs = max(1, -(-N // ROWS))
    f64 = dict(dtype=torch.float64, device=X.device)
    loss_parts = torch.empty(n_programs, **f64)
    r_parts = torch.zeros(n_programs, **f64)
    g_parts = torch.zeros((n_programs, D) if grad else (1, D), dtype=X.dtype, device=X.device)
    # b goes in as a tensor: Triton passes a Python float as float32 (and reading a GPU scalar would wait)
    b_t = torch.as_tensor(b, dtype=X.dtype, device=X.device).reshape(1)
    s = t if sample_weight is None else sample_weight.contiguous()
    _kernel(X.device)[(n_programs,)](
        X, X.stride(0), X.stride(1), t.contiguous(), s, w.contiguous(), b_t, z, loss_parts, r_parts, g_parts,
        N, D, HAS_S=sample_weight is not None, GRAD=bool(grad), ROWS=ROWS, COLS=COLS, SERIES_BELOW=SERIES_BELOW,
        enable_fp_fusion=True)  # multiply-adds fused (Triton's default, said: Triton 3.9 warns otherwise)
    return loss_parts.sum(), g_parts.sum(dim=0, dtype=torch.float64), r_parts.sum()
