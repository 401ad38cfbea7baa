r"""The fused one-pass kernels for the GPU: loss, logits and gradient in one read of ``X`` (Triton).

The GPU twins of ``_fused.logistic_sums`` and ``_fused.softmax_sums``, with the same contracts.
On a GPU the reference path reads ``X`` twice (``z = X w``, then ``X^T r``) and launches a
kernel per element-wise step; here each program takes ``ROWS`` rows and

1. sums their logits over column tiles of ``COLS`` (two classes: ``z_i = x_i . w + b``;
   softmax: ``z_i = W x_i + b`` as a small matrix product, in IEEE arithmetic, never TF32);
2. computes the loss and ``r_i = dloss/dz_i`` of each row in float64 (the formulas
   ``mathcore.symbolic.objective_functions`` generates; the equality tests tie them):
   ``s_i softplus((1 - 2 t_i) z_i)`` and ``s_i (sigmoid(z_i) - t_i)``, or
   ``s_i (logsumexp(z_i) - z_{i, y_i})`` and ``s_i (softmax(z_i) - onehot(y_i))``;
3. reads its tile of rows again, now from the GPU's L2 cache, for ``X_b^T r`` (``R_b^T X_b``).

Each program writes its own partial sums, which torch adds in program order: no atomics, so
the result is the same bit for bit from run to run.

Triton ships with the CUDA builds of PyTorch; ``available`` says whether these paths run. On a
CPU tensor the kernels run in Triton's interpreter (NumPy, one program at a time): far too slow
for fitting, it is how the tests check them on machines without a GPU.
"""

import os
import warnings

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
# Softmax: classes padded to MAX_CLASSES (a matrix product's smallest side); more classes take
# the reference path. Two pipeline stages keep a float64 program's shared memory at 48 KiB.
MAX_CLASSES = 16
SOFTMAX_STAGES = 2


def interpreting():
    """Whether Triton runs kernels in its interpreter (``TRITON_INTERPRET=1``: a debugging switch)."""
    return os.environ.get("TRITON_INTERPRET") == "1"


def available(device):
    """Whether ``X`` on ``device`` takes these kernels: Triton installed and a CUDA device (any device
    under Triton's interpreter, which is how the tests run them without a GPU)."""
    return triton is not None and (torch.device(device).type == "cuda" or interpreting())


if triton is not None:  # the annotations name Triton's types
    @triton.jit
    def _rows_tile(X, at, live, stride_d, d0, D, COLS: tl.constexpr):  # pragma: no cover - Triton
        """The program's rows, columns ``d0 .. d0 + COLS`` (zeros past the edges)."""
        cols = d0 + tl.arange(0, COLS)
        return tl.load(X + at[:, None] + cols[None, :].to(tl.int64) * stride_d,
                       mask=live[:, None] & (cols[None, :] < D), other=0.0), cols

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
            x, cols = _rows_tile(X, at, live, stride_d, d0, D, COLS)
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
        tl.store(loss_parts + pid, tl.sum(tl.where(live, loss, 0.0), axis=0))
        if GRAD:
            r = tl.where(live, r, 0.0)
            tl.store(r_parts + pid, tl.sum(r, axis=0))
            rx = r.to(X.dtype.element_ty)
            for d0 in range(0, D, COLS):
                x, cols = _rows_tile(X, at, live, stride_d, d0, D, COLS)
                tl.store(g_parts + pid.to(tl.int64) * D + cols, tl.sum(x * rx[:, None], axis=0), mask=cols < D)

    @triton.jit
    def _softmax_kernel(X, stride_n, stride_d, y, s, W, b, Z, loss_parts, b_parts, G_parts, N, D, K,
                        HAS_S: tl.constexpr, GRAD: tl.constexpr, ROWS: tl.constexpr, COLS: tl.constexpr,
                        CLASSES: tl.constexpr):  # pragma: no cover - Triton
        pid = tl.program_id(0)
        rows = pid * ROWS + tl.arange(0, ROWS)
        live = rows < N
        at = rows.to(tl.int64) * stride_n
        ks = tl.arange(0, CLASSES)
        real = ks < K  # the padding classes past K are masked out of every sum
        acc = tl.zeros((ROWS, CLASSES), dtype=X.dtype.element_ty)
        for d0 in range(0, D, COLS):
            x, cols = _rows_tile(X, at, live, stride_d, d0, D, COLS)
            wt = tl.load(W + cols[:, None] + ks[None, :] * D, mask=(cols[:, None] < D) & real[None, :], other=0.0)
            acc += tl.dot(x, wt, input_precision="ieee")
        zr = acc + tl.load(b + ks, mask=real, other=0.0)[None, :]
        both = live[:, None] & real[None, :]
        tl.store(Z + rows[:, None].to(tl.int64) * K + ks[None, :], zr, mask=both)
        zd = tl.where(real[None, :], zr.to(tl.float64), -float("inf"))
        top = tl.where(live, tl.max(zd, axis=1), 0.0)
        lse = top + tl.log(tl.sum(tl.exp(zd - top[:, None]), axis=1))
        hit = ks[None, :] == tl.load(y + rows, mask=live, other=0)[:, None]
        loss = lse - tl.sum(tl.where(hit, zd, 0.0), axis=1)
        r = tl.exp(zd - lse[:, None]) - tl.where(hit, 1.0, 0.0)
        if HAS_S:
            sd = tl.load(s + rows, mask=live, other=0.0).to(tl.float64)
            loss = loss * sd
            r = r * sd[:, None]
        tl.store(loss_parts + pid, tl.sum(tl.where(live, loss, 0.0), axis=0))
        if GRAD:
            r = tl.where(both, r, 0.0)
            tl.store(b_parts + pid * K + ks, tl.sum(r, axis=0), mask=real)
            rt = tl.trans(r.to(X.dtype.element_ty))
            mine = G_parts + pid.to(tl.int64) * K * D  # int64: the partials may pass 2^31 numbers
            for d0 in range(0, D, COLS):
                x, cols = _rows_tile(X, at, live, stride_d, d0, D, COLS)
                tl.store(mine + ks[:, None] * D + cols[None, :], tl.dot(rt, x, input_precision="ieee"),
                         mask=real[:, None] & (cols[None, :] < D))

    LOGISTIC_KERNEL = _logistic_kernel  # (the tests compile them for GPUs)
    SOFTMAX_KERNEL = _softmax_kernel


def fallback_warning(exc):
    """Say that a GPU kernel failed (to compile, on an unforeseen GPU or Triton) and that the objective goes
    on with the reference path: the same results from two reads of ``X``."""
    warnings.warn(f"the fused GPU kernel failed ({type(exc).__name__}: {exc}); this objective uses the "
                  "reference path instead", RuntimeWarning, stacklevel=3)


def _launch(kernel, X, n_programs, *args, **constants):
    """``kernel`` over ``n_programs`` programs: compiled by Triton for the GPU on first use, or interpreted
    when ``TRITON_INTERPRET=1`` was set before Triton was imported (the tests do so in a subprocess)."""
    if triton is None:
        raise ImportError("the GPU kernels need Triton (it ships with the CUDA builds of PyTorch)")
    if X.device.type != "cuda" and not interpreting():
        raise ValueError(f"X: expected a tensor on a CUDA device (or TRITON_INTERPRET=1), got one on {X.device}")
    # multiply-adds fused: Triton's default, said (Triton 3.9 warns when it is left unsaid)
    kernel[(n_programs,)](X, X.stride(0), X.stride(1), *args, **constants, enable_fp_fusion=True)


def _intercepts(b, X):
    """``b`` (a float, or a tensor: a column of theta is strided) as a contiguous 1-d tensor on X's device:
    Triton would pass a Python float as float32 (and reading a GPU scalar would wait for the GPU)."""
    return torch.as_tensor(b, dtype=X.dtype, device=X.device).reshape(-1).contiguous()


def logistic_sums(X, t, w, b, z, *, sample_weight=None, grad=True):
    """Sums over the rows of the two-class loss: ``(loss, X^T r, sum r)``; fills ``z = X w + b``.

    ``X`` (N, D) (any strides), ``t``, ``w``, ``z`` and ``sample_weight`` are tensors of one
    floating dtype on one device; ``b`` is a float or a 0-d tensor (0 without intercept). ``t``
    must hold only 0 and 1 (the objectives check it). The three sums are float64 tensors.
    """
    N, D = X.shape
    n_programs = max(1, -(-N // ROWS))
    loss_parts = torch.empty(n_programs, dtype=torch.float64, device=X.device)
    r_parts = torch.zeros(n_programs, dtype=torch.float64, device=X.device)
    g_parts = torch.zeros((n_programs, D) if grad else (1, D), dtype=X.dtype, device=X.device)
    s = t if sample_weight is None else sample_weight.contiguous()
    _launch(LOGISTIC_KERNEL, X, n_programs, t.contiguous(), s, w.contiguous(), _intercepts(b, X), z,
            loss_parts, r_parts, g_parts, N, D, HAS_S=sample_weight is not None, GRAD=bool(grad),
            ROWS=ROWS, COLS=COLS, SERIES_BELOW=SERIES_BELOW)
    return loss_parts.sum(), g_parts.sum(dim=0, dtype=torch.float64), r_parts.sum()


def softmax_sums(X, y, W, b, Z, *, sample_weight=None, grad=True):
    """Sums over the rows of the softmax loss: ``(loss, R^T X, column sums of R)``; fills ``Z = X W^T + b``.

    ``W`` is (K, D) with ``2 <= K <= MAX_CLASSES``, ``b`` (K,) (zeros without intercept), ``y`` int64
    class indices, ``Z`` a contiguous (N, K) tensor. The three sums are float64 tensors.
    """
    N, D = X.shape
    K = W.shape[0]
    if not 2 <= K <= MAX_CLASSES:
        raise ValueError(f"W: expected 2 to {MAX_CLASSES} classes (rows), got {K}")
    n_programs = max(1, -(-N // ROWS))
    loss_parts = torch.empty(n_programs, dtype=torch.float64, device=X.device)
    b_parts = torch.zeros((n_programs, K), dtype=torch.float64, device=X.device)
    G_parts = torch.zeros((n_programs, K, D) if grad else (1, 1, 1), dtype=X.dtype, device=X.device)
    s = X.new_zeros(1) if sample_weight is None else sample_weight.contiguous()  # (unread without weights)
    _launch(SOFTMAX_KERNEL, X, n_programs, y.contiguous(), s, W.contiguous(), _intercepts(b, X), Z,
            loss_parts, b_parts, G_parts, N, D, K, HAS_S=sample_weight is not None, GRAD=bool(grad),
            ROWS=ROWS, COLS=COLS, CLASSES=MAX_CLASSES, num_stages=SOFTMAX_STAGES)
    return loss_parts.sum(), G_parts.sum(dim=0, dtype=torch.float64), b_parts.sum(dim=0)
