"""Tests of mathcore.functional: references, identities, stability, gradients, errors.

NumPy results are computed under ``np.errstate(all="raise")`` (helper ``strict``),
so any overflow, invalid operation or division by zero fails the test. Reference
values (SciPy, torch) are computed outside it.
"""

import warnings

import numpy as np
import pytest
import scipy.special as sc
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mathcore import functional as mf

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
BIG = 1e4  # the stability range |z| <= 1e4 promised by the module

# per-test settings (not a global profile, which would change other test files too)
FAST = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def strict(fn, *args, **kwargs):
    """Call ``fn`` with every NumPy floating-point error (underflow too) raising."""
    with np.errstate(all="raise"):
        return fn(*args, **kwargs)


def to_np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def eps(dtype):
    return float(np.finfo(dtype).eps)


def assert_close(actual, expected, tol):
    """|actual - expected| <= tol element-wise (tol may be an array)."""
    a = to_np(actual).astype(np.float64)
    e = to_np(expected).astype(np.float64)
    assert a.shape == e.shape, (a.shape, e.shape)
    err = np.abs(a - e)
    ok = err <= tol
    assert np.all(ok), f"worst excess {np.max(err - tol):.3g} at {np.argmax(err - tol)}"


def logits(dtype, max_side=12, ndim=1, bound=BIG):
    """Arrays of finite logits in [-bound, bound] of the given dtype."""
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=max_side),
        elements=st.floats(-bound, bound, width=width),
    )


def extremes(dtype):
    """The hand-picked hard cases: +-1e4, the float overflow thresholds, 0."""
    return np.array([-BIG, -800, -710, -100, -89, -20, -1, 0, 1, 20, 89, 100, 710, 800, BIG], dtype)


def torch_of(x, requires_grad=False):
    return torch.tensor(np.array(x), requires_grad=requires_grad)


# ---------------------------------------------------------------------------
# element-wise functions against SciPy (exact reference: float64 on the same inputs)
# ---------------------------------------------------------------------------

ELEMENTWISE_REFERENCES = {
    "sigmoid": sc.expit,
    "log_sigmoid": sc.log_expit,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "relu": lambda z: np.maximum(z, 0.0),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE_REFERENCES))
@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_elementwise_matches_reference(name, dtype, data):
    z = data.draw(logits(dtype))
    z = np.concatenate([z, extremes(dtype)])
    expected = ELEMENTWISE_REFERENCES[name](z.astype(np.float64))
    # a few ulps relative, plus the smallest normal number for results that underflow
    tol = 4 * eps(dtype) * np.abs(expected) + np.finfo(dtype).tiny
    fn = getattr(mf, name)
    out_np = strict(fn, z)
    out_torch = fn(torch.from_numpy(z))
    assert out_np.dtype == dtype and out_torch.dtype == TORCH_DTYPE[dtype]
    assert_close(out_np, expected, tol)
    assert_close(out_torch, expected, tol)


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_logit_matches_scipy(dtype, data):
    width = 32 if dtype == np.float32 else 64
    p = data.draw(hnp.arrays(dtype, st.integers(1, 12), elements=st.floats(0, 1, width=width)))
    p = np.concatenate([p, np.array([0.0, 1e-30, 0.5, 0.75, 1.0], dtype)])
    expected = sc.logit(p.astype(np.float64))
    # logit is ill-conditioned near 1/2 in relative terms; use a few ulps of the log terms
    tol = 8 * eps(dtype) * (np.abs(expected) + 1)
    for out in (strict(mf.logit, p), mf.logit(torch.from_numpy(p))):
        inf = np.isinf(expected)
        assert np.array_equal(to_np(out)[inf], expected[inf])  # -inf at 0, +inf at 1
        assert_close(to_np(out)[~inf], expected[~inf], tol[~inf])


def test_logit_ends_are_infinite_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert strict(mf.logit, 0.0) == -np.inf
        assert strict(mf.logit, 1.0) == np.inf
        out = strict(mf.logit, np.array([0.0, 1.0], np.float32))
        assert out.dtype == np.float32 and list(out) == [-np.inf, np.inf]
        assert mf.logit(torch.tensor([0.0, 1.0])).tolist() == [-np.inf, np.inf]


# ---------------------------------------------------------------------------
# functions along an axis against SciPy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
@FAST
@given(data=st.data())
def test_axis_functions_match_scipy(dtype, axis, data):
    z = data.draw(logits(dtype, max_side=6, ndim=2))
    z64 = z.astype(np.float64)
    scale = np.max(np.abs(z64)) + 1  # these are accurate in absolute terms, ~eps * |z|
    for zz in (z, torch.from_numpy(z)):
        lse = strict(mf.logsumexp, zz, axis=axis)
        assert_close(lse, sc.logsumexp(z64, axis=axis), 4 * eps(dtype) * scale)
        assert_close(
            strict(mf.softmax, zz, axis=axis), sc.softmax(z64, axis=axis), 4 * eps(dtype) * scale
        )
        assert_close(
            strict(mf.log_softmax, zz, axis=axis),
            sc.log_softmax(z64, axis=axis),
            4 * eps(dtype) * scale,
        )


@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_axis_none_and_keepdims(keepdims):
    z = np.array([[1000.0, -3.0], [999.0, 2.5]])
    expected = sc.logsumexp(z, axis=None, keepdims=keepdims)
    for zz in (z, torch.from_numpy(z)):
        out = strict(mf.logsumexp, zz, axis=None, keepdims=keepdims)
        assert tuple(out.shape) == np.shape(expected)
        assert_close(out, expected, 1e-12)
    out = strict(mf.logsumexp, z, axis=0, keepdims=keepdims)
    assert_close(out, sc.logsumexp(z, axis=0, keepdims=keepdims), 1e-12)


# ---------------------------------------------------------------------------
# losses against torch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_bce_matches_torch(dtype, data):
    z = np.concatenate([data.draw(logits(dtype)), extremes(dtype)])
    soft = data.draw(st.booleans())
    if soft:
        width = 32 if dtype == np.float32 else 64
        t = data.draw(hnp.arrays(dtype, z.shape, elements=st.floats(0, 1, width=width)))
    else:
        t = data.draw(hnp.arrays(np.int64, z.shape, elements=st.integers(0, 1)))
    zt, tt = torch.from_numpy(z), torch.from_numpy(t).to(TORCH_DTYPE[dtype])
    # the reference in float64 (torch's formula loses ~eps*|z| to cancellation)
    ref = F.binary_cross_entropy_with_logits(zt.double(), tt.double(), reduction="none").numpy()
    tol = 4 * eps(dtype) * (np.abs(ref) + np.abs(z))
    for reduction, reduce in (("none", lambda a: a), ("sum", np.sum), ("mean", np.mean)):
        for zz, ttt in ((z, t), (zt, torch.from_numpy(t))):
            out = strict(mf.binary_cross_entropy_with_logits, zz, ttt, reduction=reduction)
            assert np.all(np.isfinite(to_np(out)))
            assert_close(out, reduce(ref), reduce(tol) + (0 if reduction == "none" else 1e-12))
        # and against torch in the same dtype
        same = F.binary_cross_entropy_with_logits(zt, tt, reduction=reduction)
        assert_close(mf.binary_cross_entropy_with_logits(zt, tt, reduction=reduction), same,
                     8 * eps(dtype) * (reduce(np.abs(z) + np.abs(to_np(ref))) + 1))


def test_bce_is_accurate_for_confident_correct_predictions():
    # softplus(z) - t*z would give 0 here (or a cancellation error); the loss is ~exp(-z)
    z = np.array([40.0, -40.0])
    out = strict(mf.binary_cross_entropy_with_logits, z, np.array([1, 0]), reduction="none")
    assert_close(out, np.exp(-40.0) * np.ones(2), 1e-15 * np.exp(-40.0))


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_cross_entropy_matches_torch(dtype, data):
    Z = data.draw(logits(dtype, max_side=5, ndim=2))
    n, k = Z.shape
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    Y = np.eye(k, dtype=dtype)[y]
    Zt = torch.from_numpy(Z)
    scale = np.max(np.abs(Z)) + 1
    for reduction in ("none", "sum", "mean"):
        ref = F.cross_entropy(Zt.double(), torch.from_numpy(y), reduction=reduction).numpy()
        ref_soft = F.cross_entropy(Zt.double(), torch.from_numpy(Y).double(), reduction=reduction)
        tol = 8 * eps(dtype) * scale * (n if reduction == "sum" else 1)
        for ZZ, yy, YY in ((Z, y, Y), (Zt, torch.from_numpy(y), torch.from_numpy(Y))):
            out = strict(mf.softmax_cross_entropy_with_logits, ZZ, yy, reduction=reduction)
            out_soft = strict(mf.softmax_cross_entropy_with_logits, ZZ, YY, reduction=reduction)
            assert_close(out, ref, tol)
            assert_close(out_soft, ref_soft, tol)
            assert to_np(out).dtype == dtype


def test_cross_entropy_with_soft_labels_matches_torch():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(6, 4)) * 30
    Y = rng.dirichlet(np.ones(4), size=6)
    ref = F.cross_entropy(torch.from_numpy(Z), torch.from_numpy(Y), reduction="none").numpy()
    assert_close(strict(mf.softmax_cross_entropy_with_logits, Z, Y, reduction="none"), ref, 1e-12)
    out = mf.softmax_cross_entropy_with_logits(torch.from_numpy(Z), torch.from_numpy(Y), "none")
    assert_close(out, ref, 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_mse_matches_torch(dtype, data):
    pred = data.draw(logits(dtype))
    target = data.draw(logits(dtype, max_side=1)).repeat(pred.size)
    for reduction in ("none", "sum", "mean"):
        ref = F.mse_loss(torch.from_numpy(pred).double(), torch.from_numpy(target).double(),
                         reduction=reduction).numpy()
        tol = 4 * eps(dtype) * np.abs(ref) + np.finfo(dtype).tiny
        assert_close(strict(mf.mse, pred, target, reduction=reduction), ref, tol)
        out = mf.mse(torch.from_numpy(pred), torch.from_numpy(target), reduction=reduction)
        assert_close(out, ref, tol)


def test_mse_has_no_half_factor():
    assert strict(mf.mse, np.array([1.0, 3.0]), np.array([0.0, 0.0]), reduction="sum") == 10.0
    assert strict(mf.mse, np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 5.0


# ---------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_sigmoid_and_softplus_identities(dtype, data):
    z = np.concatenate([data.draw(logits(dtype)), extremes(dtype)])
    e = eps(dtype)
    for zz in (z, torch.from_numpy(z)):
        s, s_neg = strict(mf.sigmoid, zz), strict(mf.sigmoid, -zz)
        assert_close(s_neg, 1 - s, e)  # sigma(-z) = 1 - sigma(z)
        sp, sp_neg = strict(mf.softplus, zz), strict(mf.softplus, -zz)
        assert_close(sp - sp_neg, z, 2 * e * (np.abs(z) + 1))  # softplus(z) - softplus(-z) = z
        assert_close(strict(mf.log_sigmoid, zz), -sp_neg, 0)  # log sigma(z) = -softplus(-z)
        assert np.all(to_np(sp) >= 0) and np.all(to_np(sp) >= to_np(zz))  # softplus > max(z, 0)


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_logit_inverts_sigmoid_in_the_safe_range(dtype, data):
    z = data.draw(logits(dtype, bound=10.0))
    # d logit/dp = 1/(p(1-p)) amplifies the rounding of p = sigmoid(z) by about exp(|z|)
    tol = 8 * eps(dtype) * (1 + np.exp(np.abs(z.astype(np.float64))))
    for zz in (z, torch.from_numpy(z)):
        assert_close(strict(mf.logit, strict(mf.sigmoid, zz)), z, tol)
        p = strict(mf.sigmoid, zz)
        assert_close(strict(mf.sigmoid, strict(mf.logit, p)), p, 4 * eps(dtype))


@FAST
@given(
    k=st.lists(st.integers(-80_000, 80_000), min_size=1, max_size=8),
    c=st.integers(-8_000, 8_000),
)
def test_softmax_shift_invariance(k, c):
    # z on a grid of 1/8 so that z + c is exact in float32 and float64: any difference
    # between softmax(z + c) and softmax(z) would come from the implementation.
    for dtype in DTYPES:
        z = np.array(k, dtype) / 8
        for zz, shifted in ((z, z + c), (torch.from_numpy(z), torch.from_numpy(z + c))):
            assert_close(strict(mf.softmax, shifted), strict(mf.softmax, zz), 2 * eps(dtype))
            # log_softmax and logsumexp are accurate to a few eps * max|z| in absolute terms
            scale = 1 + np.abs(z).max() + abs(c)
            assert_close(strict(mf.log_softmax, shifted), strict(mf.log_softmax, zz),
                         4 * eps(dtype) * scale)
            lse_shift = strict(mf.logsumexp, shifted) - strict(mf.logsumexp, zz)
            assert_close(lse_shift, np.float64(c), 4 * eps(dtype) * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_log_softmax_is_log_of_softmax_where_finite(dtype, data):
    z = data.draw(logits(dtype, max_side=6, ndim=2, bound=50.0))
    p = strict(mf.softmax, z)
    keep = p > np.finfo(dtype).tiny  # where log(softmax) is finite and not subnormal
    log_p = np.log(p, where=keep, out=np.zeros_like(p))
    # z - logsumexp(z) is accurate to a few eps * max|z| in absolute terms
    tol = 8 * eps(dtype) * (1 + np.abs(log_p[keep]) + np.abs(z).max())
    for zz in (z, torch.from_numpy(z)):
        out = to_np(strict(mf.log_softmax, zz))
        assert_close(out[keep], log_p[keep], tol)
        assert_close(np.sum(np.exp(out.astype(np.float64)), axis=-1), np.ones(len(z)),
                     8 * eps(dtype) * z.shape[1])


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_two_class_softmax_is_sigmoid_of_difference(dtype, data):
    a = data.draw(logits(dtype, max_side=6, bound=100.0))
    b = data.draw(hnp.arrays(dtype, a.shape, elements=st.floats(-100, 100, width=a.itemsize * 8)))
    Z = np.stack([a, b], axis=1)
    d = (b - a).astype(np.float64)  # the sigmoid's argument, exact in float64
    for ZZ in (Z, torch.from_numpy(Z)):
        p1 = to_np(strict(mf.softmax, ZZ))[:, 1]
        assert_close(p1, sc.expit(d), 4 * eps(dtype) * (1 + np.abs(d)))
        # and the two-class cross-entropy is the binary cross-entropy of the difference
        t = np.array([1, 0] * len(a))[: len(a)]
        ce = strict(mf.softmax_cross_entropy_with_logits, Z, t, reduction="none")
        bce = strict(mf.binary_cross_entropy_with_logits, d, t, reduction="none")
        assert_close(ce, bce, 8 * eps(dtype) * (1 + np.abs(Z).max(axis=1)))


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_bce_equals_book_form_and_margin_form(dtype, data):
    z = np.concatenate([data.draw(logits(dtype)), extremes(dtype)])
    t = (np.arange(z.size) % 2).astype(dtype)
    out = strict(mf.binary_cross_entropy_with_logits, z, t, reduction="none")
    book = strict(mf.softplus, z) - t * z  # D4: softplus(z) - t z
    assert_close(out, book, 4 * eps(dtype) * (1 + np.abs(z)))
    margin = strict(mf.softplus, -(2 * t - 1) * z)  # softplus(-y z) with y = 2t - 1
    assert_close(out, margin, 0)


def test_cross_entropy_indices_equal_one_hot_rows():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(7, 3)) * 100
    y = rng.integers(0, 3, size=7)
    a = strict(mf.softmax_cross_entropy_with_logits, Z, y, reduction="none")
    b = strict(mf.softmax_cross_entropy_with_logits, Z, np.eye(3)[y], reduction="none")
    assert_close(a, b, 1e-12)
    lse = strict(mf.logsumexp, Z)
    assert_close(a, lse - Z[np.arange(7), y], 1e-12)  # logsumexp(Z_i) - Z_iy


# ---------------------------------------------------------------------------
# stability: finite values and finite gradients for |z| <= 1e4
# ---------------------------------------------------------------------------


def _scalar_outputs(z):
    """Every function of the module applied to z (1-D), as scalars to differentiate."""
    t = (torch.arange(z.numel()) % 2).to(z.dtype)
    Z = torch.stack([z, -z, z.flip(0)], dim=1)
    y = torch.arange(z.numel()) % 3
    w = torch.linspace(-1, 1, z.numel(), dtype=z.dtype)  # so softmax's gradient is not 0
    return {
        "sigmoid": mf.sigmoid(z).sum(),
        "log_sigmoid": mf.log_sigmoid(z).sum(),
        "softplus": mf.softplus(z).sum(),
        "relu": mf.relu(z).sum(),
        "logsumexp": mf.logsumexp(Z).sum(),
        "softmax": (mf.softmax(Z, axis=0) * w[:, None]).sum(),
        "log_softmax": (mf.log_softmax(Z) * w[:, None]).sum(),
        "bce": mf.binary_cross_entropy_with_logits(z, t),
        "ce": mf.softmax_cross_entropy_with_logits(Z, y),
        "ce_soft": mf.softmax_cross_entropy_with_logits(Z, F.one_hot(y, 3).to(z.dtype)),
        "mse": mf.mse(z, t),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_torch_values_and_gradients_are_finite(dtype, data):
    z0 = np.concatenate([data.draw(logits(dtype)), extremes(dtype)])
    for name, out in _scalar_outputs(torch_of(z0)).items():
        assert torch.isfinite(out), name
    z = torch_of(z0, requires_grad=True)
    for name, out in _scalar_outputs(z).items():
        (grad,) = torch.autograd.grad(out, z)
        assert torch.isfinite(grad).all(), name


@pytest.mark.parametrize("dtype", DTYPES)
@FAST
@given(data=st.data())
def test_numpy_values_are_finite_under_strict_errors(dtype, data):
    z = np.concatenate([data.draw(logits(dtype)), extremes(dtype)])
    t = np.arange(z.size) % 2
    Z = np.stack([z, -z, z[::-1]], axis=1)
    y = np.arange(z.size) % 3
    outputs = [
        strict(mf.sigmoid, z), strict(mf.log_sigmoid, z), strict(mf.softplus, z),
        strict(mf.relu, z), strict(mf.logsumexp, Z), strict(mf.softmax, Z),
        strict(mf.log_softmax, Z), strict(mf.binary_cross_entropy_with_logits, z, t, "none"),
        strict(mf.softmax_cross_entropy_with_logits, Z, y, "none"),
        strict(mf.softmax_cross_entropy_with_logits, Z, np.eye(3, dtype=dtype)[y], "none"),
        strict(mf.mse, z, t, "none"),
    ]
    for out in outputs:
        assert np.all(np.isfinite(out)) and out.dtype == dtype


def test_naive_formulas_would_overflow_here():
    # guards that the stability tests above test something: the textbook forms fail.
    z = np.array([-BIG, BIG])
    with pytest.raises(FloatingPointError):
        strict(lambda v: 1 / (1 + np.exp(-v)), z)
    with pytest.raises(FloatingPointError):
        strict(lambda v: np.log(1 + np.exp(v)), z)


# ---------------------------------------------------------------------------
# gradients: analytic forms, checked by finite differences (NumPy) and autograd (torch)
# ---------------------------------------------------------------------------

# (function of a float64 array, analytic gradient of its sum); the gradient is
# written with the module's own functions.
_T = np.array([1.0, 0.0, 0.3, 1.0, 0.0])
_Y = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0.2, 0.3, 0.5], [0, 1.0, 0]])
ANALYTIC_GRADIENTS = {
    "sigmoid": (lambda z: mf.sigmoid(z), lambda z: mf.sigmoid(z) * (1 - mf.sigmoid(z))),
    "softplus": (lambda z: mf.softplus(z), lambda z: mf.sigmoid(z)),
    "log_sigmoid": (lambda z: mf.log_sigmoid(z), lambda z: mf.sigmoid(-z)),
    "bce": (lambda z: mf.binary_cross_entropy_with_logits(z, _T, "none"),
            lambda z: mf.sigmoid(z) - _T),
    "mse": (lambda z: mf.mse(z, _T, "none"), lambda z: 2 * (z - _T)),
    "logsumexp": (lambda z: mf.logsumexp(z.reshape(5, 1) * np.array([1.0, -2.0, 0.5])),
                  lambda z: mf.softmax(z.reshape(5, 1) * np.array([1.0, -2.0, 0.5]))
                  @ np.array([1.0, -2.0, 0.5])),
    "ce": (lambda z: mf.softmax_cross_entropy_with_logits(
               z.reshape(5, 1) * np.array([1.0, -2.0, 0.5]), _Y, "none"),
           lambda z: (mf.softmax(z.reshape(5, 1) * np.array([1.0, -2.0, 0.5])) - _Y)
           @ np.array([1.0, -2.0, 0.5])),
}


@pytest.mark.parametrize("name", sorted(ANALYTIC_GRADIENTS))
@FAST
@given(z=hnp.arrays(np.float64, 5, elements=st.floats(-30, 30)))
def test_numpy_analytic_gradients_match_finite_differences(name, z):
    # each output element depends on one z element, so central differences of the
    # element-wise outputs give the derivative (a diagonal Jacobian)
    f, grad = ANALYTIC_GRADIENTS[name]
    h = 1e-5 * (1 + np.abs(z))
    fd = (strict(f, z + h) - strict(f, z - h)) / (2 * h)
    g = grad(z)  # test code, not the module: may underflow harmlessly
    assert_close(g, fd, 1e-6 * (1 + np.abs(g)))


@FAST
@given(p=hnp.arrays(np.float64, 5, elements=st.floats(0.01, 0.99)))
def test_numpy_logit_gradient_matches_finite_differences(p):
    h = 1e-7
    fd = (strict(mf.logit, p + h) - strict(mf.logit, p - h)) / (2 * h)
    g = 1 / (p * (1 - p))
    assert_close(g, fd, 1e-6 * g)


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_autograd_equals_analytic_gradients_at_extremes(dtype):
    z0 = extremes(np.float64)
    t0 = (np.arange(z0.size) % 2).astype(np.float64)
    Z0 = np.stack([z0, -z0, z0[::-1]], axis=1)
    y0 = np.arange(z0.size) % 3
    Y0 = np.eye(3)[y0]
    n = z0.size
    e = eps(dtype)

    z = torch.tensor(z0, dtype=TORCH_DTYPE[dtype], requires_grad=True)
    t = torch.tensor(t0, dtype=TORCH_DTYPE[dtype])
    Z = torch.tensor(Z0, dtype=TORCH_DTYPE[dtype], requires_grad=True)

    def grad(out, x):
        return torch.autograd.grad(out, x)[0]

    s = sc.expit(z0)
    cases = [
        (grad(mf.softplus(z).sum(), z), s),
        (grad(mf.log_sigmoid(z).sum(), z), sc.expit(-z0)),
        (grad(mf.sigmoid(z).sum(), z), s * (1 - s)),
        (grad(mf.binary_cross_entropy_with_logits(z, t), z), (s - t0) / n),
        (grad(mf.binary_cross_entropy_with_logits(z, t, "sum"), z), s - t0),
        (grad(mf.mse(z, t, "sum"), z), 2 * (z0 - t0)),
        (grad(mf.softmax_cross_entropy_with_logits(Z, torch.from_numpy(y0)), Z),
         (sc.softmax(Z0, axis=1) - Y0) / n),
        (grad(mf.softmax_cross_entropy_with_logits(Z, torch.tensor(Y0).to(Z.dtype), "sum"), Z),
         sc.softmax(Z0, axis=1) - Y0),
    ]
    for got, expected in cases:
        assert torch.isfinite(got).all()
        assert_close(got, expected, 4 * e * (np.abs(expected) + 1))
    # torch's logsumexp gradient is exp(Z - logsumexp(Z)); the logsumexp itself is
    # accurate to eps * |Z| in absolute terms, so the gradient is accurate to that relatively.
    got = grad(mf.logsumexp(Z).sum(), Z)
    assert torch.isfinite(got).all()
    expected = sc.softmax(Z0, axis=1)
    assert_close(got, expected, 4 * e * (np.abs(expected) + 1) * (1 + np.abs(Z0).max()))


def test_torch_gradient_at_the_kinks():
    z = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(mf.softplus(z).sum(), z)
    assert g.tolist() == [0.5, 0.5, 0.5]  # sigmoid(0), not a one-sided 0 or 1
    (g,) = torch.autograd.grad(mf.relu(z).sum(), z)
    assert g.tolist() == [0.0, 0.0, 0.0]  # torch's convention for relu'(0)
    p = torch.tensor([0.5, 0.2], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(mf.logit(p).sum(), p)
    assert_close(g, 1 / (np.array([0.5, 0.2]) * np.array([0.5, 0.8])), 1e-14)


# ---------------------------------------------------------------------------
# kinds and dtypes
# ---------------------------------------------------------------------------

UNARY = {
    "sigmoid": mf.sigmoid,
    "log_sigmoid": mf.log_sigmoid,
    "softplus": mf.softplus,
    "relu": mf.relu,
    "logit": mf.logit,
    "softmax": mf.softmax,
    "log_softmax": mf.log_softmax,
    "logsumexp": mf.logsumexp,
}
LOSSES = {
    "bce": mf.binary_cross_entropy_with_logits,
    "ce": mf.softmax_cross_entropy_with_logits,
    "mse": mf.mse,
}


def _loss_args(name, z):
    """Valid (first, second) arguments for a loss, built from a 2-D input z."""
    if name == "ce":
        labels = np.array([0, 1]) if not isinstance(z, torch.Tensor) else torch.tensor([0, 1])
        return z, labels
    return z, (z * 0 + 1)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_keeps_kind_and_dtype(name, dtype):
    z = np.array([[0.25, 0.5], [0.75, 0.125]], dtype)
    out = strict(UNARY[name], z)
    assert isinstance(out, np.ndarray) and out.dtype == dtype
    out_t = UNARY[name](torch.from_numpy(z))
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == TORCH_DTYPE[dtype]
    assert tuple(out_t.shape) == out.shape


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid", "softplus", "relu", "logit"])
def test_scalars(name):
    fn = UNARY[name]
    for x in (0.25, np.float64(0.25), np.array(0.25)):
        out = strict(fn, x)
        assert type(out) is np.float64
    assert type(strict(fn, np.float32(0.25))) is np.float32
    assert type(strict(fn, 0)) is np.float64  # a Python int literal is a number, not labels
    out = fn(torch.tensor(0.25))
    assert isinstance(out, torch.Tensor) and out.shape == ()


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_keep_kind_and_dtype(name, dtype, reduction):
    z = np.array([[0.25, -3.0], [2.0, 0.5]], dtype)
    out = strict(LOSSES[name], *_loss_args(name, z), reduction=reduction)
    if reduction == "none":
        assert isinstance(out, np.ndarray) and out.dtype == dtype
        assert out.shape == ((2,) if name == "ce" else (2, 2))
    else:
        assert isinstance(out, np.floating) and out.dtype == dtype
    out_t = LOSSES[name](*_loss_args(name, torch.from_numpy(z)), reduction=reduction)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == TORCH_DTYPE[dtype]
    assert tuple(out_t.shape) == np.shape(out)
    assert_close(out_t, out, 4 * eps(dtype) * (1 + np.abs(to_np(out))))


@pytest.mark.parametrize("name", ["bce", "mse"])
def test_integer_and_bool_targets_are_converted_to_the_logits_dtype(name):
    z = np.array([-2.0, 0.5, 3.0], np.float32)
    fn = LOSSES[name]
    as_float = strict(fn, z, np.array([0.0, 1.0, 1.0], np.float32), reduction="none")
    for t in (np.array([0, 1, 1]), np.array([False, True, True]), np.array([0.0, 1.0, 1.0])):
        out = strict(fn, z, t, reduction="none")
        assert out.dtype == np.float32
        assert_close(out, as_float, 0)
    out_t = fn(torch.from_numpy(z), torch.tensor([0, 1, 1]), reduction="none")
    assert out_t.dtype == torch.float32
    assert_close(out_t, as_float, 4 * eps(np.float32))


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("bad", [[0.5, 0.25], "0.5", True, None, (0.5,)])
def test_non_arrays_are_refused(name, bad):
    arg = "p" if name == "logit" else "z"
    with pytest.raises(TypeError, match=rf"^{arg}: expected a NumPy array, a torch tensor"):
        UNARY[name](bad)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize(
    "bad",
    [np.array([0, 1]), np.array([True, False]), torch.tensor([0, 1]), torch.tensor([True]),
     np.int64(1), np.array([1 + 0j])],
    ids=["np-int", "np-bool", "torch-int", "torch-bool", "np-int-scalar", "np-complex"],
)
def test_integer_and_bool_inputs_are_refused(name, bad):
    arg = "p" if name == "logit" else "z"
    with pytest.raises(TypeError, match=rf"^{arg}: expected a floating-point .*convert explicitly"):
        UNARY[name](bad)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_first_argument_must_be_floating(name):
    arg = {"bce": "z", "ce": "Z", "mse": "pred"}[name]
    z = np.array([[1, 0], [0, 1]])
    with pytest.raises(TypeError, match=rf"^{arg}: expected a floating-point"):
        LOSSES[name](*_loss_args(name, z))
    with pytest.raises(TypeError, match=rf"^{arg}: expected a NumPy array"):
        LOSSES[name](z.tolist(), _loss_args(name, z)[1])


@pytest.mark.parametrize("bad", [1.5, -0.1, np.array([0.2, 1.0 + 1e-12]),
                                 np.array([-np.inf, 0.5]), torch.tensor([0.5, 2.0])])
def test_logit_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"^p: expected probabilities in \[0, 1\]"):
        mf.logit(bad)


@pytest.mark.parametrize("name", ["sigmoid", "log_sigmoid", "softplus", "relu", "logit"])
def test_nan_propagates_without_warnings(name):
    out = strict(UNARY[name], np.array([np.nan, 0.5]))
    assert np.isnan(out[0]) and np.isfinite(out[1])
    assert torch.isnan(UNARY[name](torch.tensor([np.nan]))).all()


def test_callers_error_state_is_restored():
    with np.errstate(all="raise"):
        mf.softplus(np.array([-BIG, BIG]))
        mf.binary_cross_entropy_with_logits(np.array([-BIG]), np.array([1.0]))
        assert np.geterr()["under"] == "raise"
    with np.errstate(under="warn"):
        mf.sigmoid(np.array([-BIG]))
        assert np.geterr()["under"] == "warn"


def test_logit_propagates_nan():
    out = strict(mf.logit, np.array([np.nan, 0.5]))
    assert np.isnan(out[0]) and out[1] == 0


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["avg", "MEAN", None, ""])
def test_unknown_reduction(name, reduction):
    with pytest.raises(ValueError, match=r"^reduction: expected 'mean', 'sum' or 'none', got"):
        LOSSES[name](*_loss_args(name, np.zeros((2, 2))), reduction=reduction)


@pytest.mark.parametrize("name", ["bce", "mse"])
def test_mismatched_shapes(name):
    arg = {"bce": "t", "mse": "target"}[name]
    for z, t in ((np.zeros(3), np.zeros(2)), (np.zeros(3), np.zeros((3, 1))),
                 (torch.zeros(2, 2), torch.zeros(4)), (np.zeros((2, 1)), np.zeros(2))):
        with pytest.raises(ValueError, match=rf"^{arg}: expected the same shape as"):
            LOSSES[name](z, t)


@pytest.mark.parametrize("name", ["bce", "mse"])
def test_mixed_kinds_and_bad_targets(name):
    arg = {"bce": "t", "mse": "target"}[name]
    with pytest.raises(TypeError, match=rf"^{arg}: expected the same kind as"):
        LOSSES[name](torch.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match=rf"^{arg}: expected the same kind as"):
        LOSSES[name](np.zeros(2), torch.zeros(2))
    with pytest.raises(TypeError, match=rf"^{arg}: expected a NumPy array"):
        LOSSES[name](np.zeros(2), [0.0, 1.0])
    with pytest.raises(TypeError, match=rf"^{arg}: expected real numbers"):
        LOSSES[name](np.zeros(2), np.array(["a", "b"]))


@pytest.mark.parametrize("t", [np.array([0.0, 1.5]), np.array([-1, 1]), np.array([0.5, np.nan]),
                               torch.tensor([2, 0])])
def test_bce_targets_outside_unit_interval(t):
    z = torch.zeros(2) if isinstance(t, torch.Tensor) else np.zeros(2)
    with pytest.raises(ValueError, match=r"^t: expected targets in \[0, 1\]"):
        mf.binary_cross_entropy_with_logits(z, t)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_empty_input(name):
    z = np.zeros((0, 2))
    y = np.zeros(0, dtype=np.int64) if name == "ce" else np.zeros((0, 2))
    with pytest.raises(ValueError, match=r"expected at least one element"):
        LOSSES[name](z, y)


def test_cross_entropy_validation():
    ce = mf.softmax_cross_entropy_with_logits
    Z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"^Z: expected a 2-D array of shape \(N, K\), got"):
        ce(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=r"^y: expected class indices in 0\.\.2"):
        ce(Z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"^y: expected class indices in 0\.\.2"):
        ce(torch.zeros(2, 3), torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match=r"^y: integer class indices must have shape \(2,\)"):
        ce(Z, np.array([[1, 0, 0], [0, 1, 0]]))  # one-hot given as integers
    with pytest.raises(ValueError, match=r"^y: probability rows must have the shape of Z"):
        ce(Z, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^y: probability rows must be non-negative and sum"):
        ce(Z, np.array([[1.0, 0, 0], [0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^y: probability rows must be non-negative and sum"):
        ce(Z, np.array([[1.5, -0.5, 0], [0, 1.0, 0]]))
    with pytest.raises(TypeError, match=r"^y: expected integer class indices or floating"):
        ce(Z, np.array([True, False]))
    with pytest.raises(TypeError, match=r"^y: expected the same kind as Z"):
        ce(torch.zeros(2, 3), np.array([0, 1]))
    with pytest.raises(TypeError, match=r"^y: expected a NumPy array"):
        ce(Z, [0, 1])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_axis_validation(name):
    fn = UNARY[name]
    with pytest.raises(ValueError, match=r"^axis: expected an int in \[-2, 2\)"):
        fn(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"^axis: expected an int in \[-2, 2\)"):
        fn(torch.zeros(2, 3), axis=-3)
    with pytest.raises(TypeError, match=r"^axis: expected an int"):
        fn(np.zeros((2, 3)), axis=1.0)
    with pytest.raises(ValueError, match=r"^z: axis 1 is empty"):
        fn(np.zeros((2, 0)), axis=1)
    with pytest.raises(ValueError, match=r"^z: expected an array with at least 1 dimension"):
        fn(1.0)


# ---------------------------------------------------------------------------
# GPU: CPU/GPU parity in float64 (skipped without CUDA)
# ---------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_in_float64():
    rng = np.random.default_rng(0)
    z0 = np.concatenate([rng.normal(size=200) * 50, extremes(np.float64)])
    outs = {}
    for device in ("cpu", "cuda"):
        z = torch.tensor(z0, device=device, requires_grad=True)
        outs[device] = {}
        for name, out in _scalar_outputs(z).items():
            (g,) = torch.autograd.grad(out, z)
            outs[device][name] = (out.item(), g.cpu().numpy())
    for name, (value, grad) in outs["cpu"].items():
        gpu_value, gpu_grad = outs["cuda"][name]
        assert_close(gpu_value, value, 1e-12 * (1 + abs(value)))
        assert_close(gpu_grad, grad, 1e-12 * (1 + np.abs(grad)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_errors_and_device_mismatch():
    z = torch.zeros(3, device="cuda")
    assert mf.sigmoid(z).device == z.device
    with pytest.raises(ValueError, match=r"^t: expected a tensor on z's device"):
        mf.binary_cross_entropy_with_logits(z, torch.zeros(3))
    with pytest.raises(ValueError, match=r"^y: expected class indices in 0\.\.2"):
        mf.softmax_cross_entropy_with_logits(torch.zeros(2, 3, device="cuda"),
                                             torch.tensor([0, 5], device="cuda"))
    with pytest.raises(ValueError, match=r"^p: expected probabilities"):
        mf.logit(torch.tensor([1.5], device="cuda"))
