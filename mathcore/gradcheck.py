"""One gradient, three ways: generated symbolic code, autograd, finite differences.

``check_gradient(loss, X, t, w)`` computes the gradient of a loss at ``w``

1. **symbolic**: with the code that ``mathcore.symbolic`` generated from the SymPy
   derivative (``X.T @ f(X @ w, t)`` with ``f = sigmoid(z) - t`` for the logistic loss);
2. **autograd**: with PyTorch's reverse-mode automatic differentiation of the loss
   written in ``torch`` (float64);
3. **finite differences**: with central differences of the loss written in NumPy,
   ``(L(w + h e_i) - L(w - h e_i)) / (2h)``, one coordinate at a time;

and reports the largest relative disagreement between any two of them.  The three
routes share no code, so agreement to about ``1e-8`` is strong evidence that all
three are right.

Losses (``mean=True`` divides the whole objective by N; ``False`` gives the sum
used in the derivations):

* ``"logistic"``: sum of ``softplus(z_i) - t_i z_i`` with ``z = X w``.
* ``"mse_sigmoid"``: sum of ``(sigmoid(z_i) - t_i)**2 / 2``.
* ``"softmax_ce"``: ``-sum(Y * log softmax(X W))``; ``w`` is ``W`` (D, K), ``t`` one-hot (N, K).
* ``"logistic_l2"``: logistic + ``lam/2 * ||w||**2`` (every entry of ``w`` is
  penalised; there is no separate intercept here).
* ``"relu_mlp"``: one hidden ReLU layer and a logistic output,
  ``z = relu(X W1 + b1) w2 + b2``.  ``w`` is the flat vector
  ``[W1.ravel() (D*H, row-major), b1 (H), w2 (H), b2 (1)]``; ``H`` is inferred
  from its length.  Finite differences are invalid across the ReLU kink, so a
  hidden pre-activation too close to 0 is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .symbolic.expressions import LOSSES

__all__ = [
    "GRADCHECK_LOSSES",
    "GradCheckResult",
    "check_gradient",
    "finite_difference_gradient",
    "relative_error",
]

#: Losses understood by ``check_gradient``.
GRADCHECK_LOSSES = (*LOSSES, "logistic_l2", "relu_mlp")  # LOSSES and two composite models


@dataclass(frozen=True)
class GradCheckResult:
    """The same gradient computed three ways.

    Attributes
    ----------
    loss : str
        Name of the loss.
    symbolic, autograd, finite_diff : numpy.ndarray
        The three gradients, each with the shape of ``w``.
    max_rel_error : float
        Largest ``relative_error`` between any two of them.
    """

    loss: str
    symbolic: np.ndarray
    autograd: np.ndarray
    finite_diff: np.ndarray
    max_rel_error: float

    def agrees(self, tol: float = 1e-8) -> bool:
        """True if all three gradients agree to relative error ``tol``."""
        return bool(self.max_rel_error <= tol)


def relative_error(a, b) -> float:
    r"""Relative difference of two arrays, :math:`\max|a-b| / \max(\max|a|, \max|b|)`.

    Normalising by the largest entry (not entry by entry) keeps components that
    are nearly zero from producing huge ratios.  Two zero arrays give 0.

    Parameters
    ----------
    a, b : array_like
        Arrays of the same shape.

    Returns
    -------
    float
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected shape {a.shape} to match a, got shape {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.abs(a - b).max() / scale)


def finite_difference_gradient(f, w, eps: float = 1e-5) -> np.ndarray:
    r"""Central finite-difference gradient of a scalar function.

    :math:`g_i = \frac{f(w + h_i e_i) - f(w - h_i e_i)}{2h_i}` with
    :math:`h_i = \varepsilon\max(1, |w_i|)`.  The error is about
    :math:`h^2 f'''/6` (truncation) plus :math:`\epsilon_{mach}|f|/h` (rounding), so
    ``eps`` near ``1e-6`` to ``1e-5`` is best in float64.

    Parameters
    ----------
    f : callable
        ``f(w) -> float``; ``w`` is passed as a float64 array of the same shape.
    w : numpy.ndarray
        Point (any shape), float64.
    eps : float, default 1e-5
        Relative step.

    Returns
    -------
    numpy.ndarray
        Gradient with the shape of ``w``.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``w`` is not a float64 array.
    ValueError
        If ``eps`` is not positive or ``f`` does not return a finite scalar.

    Examples
    --------
    >>> import numpy as np
    >>> g = finite_difference_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, -2.0]))
    >>> np.allclose(g, [2.0, -4.0])
    True
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable f(w) -> float, got {type(f).__name__}")
    _check_float_array(w, "w")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"eps: expected a positive number, got {eps!r}")
    flat = w.astype(np.float64, copy=True).ravel()
    gradient = np.empty_like(flat)
    for i in range(flat.size):
        h = eps * max(1.0, abs(flat[i]))
        original = flat[i]
        flat[i] = original + h
        f_plus = _scalar(f(flat.reshape(w.shape)))
        flat[i] = original - h
        f_minus = _scalar(f(flat.reshape(w.shape)))
        flat[i] = original
        gradient[i] = (f_plus - f_minus) / (2 * h)
    return gradient.reshape(w.shape)


def _scalar(value) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"f: expected a finite scalar loss, got {value}")
    return value


def _check_float_array(value, name, ndim=None):
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(value).__name__}")
    if value.dtype != np.float64:
        raise TypeError(f"{name}: expected dtype float64, got {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")


# ---------------------------------------------------------------------------
# The losses in NumPy (for finite differences) and in torch (for autograd)
# ---------------------------------------------------------------------------


def _unpack_mlp(w, n_features):
    """Split the flat MLP parameter vector into W1 (D, H), b1 (H), w2 (H), b2 ()."""
    d = n_features
    hidden, remainder = divmod(w.shape[0] - 1, d + 2)
    if hidden < 1 or remainder:
        raise ValueError(
            f"w: expected length D*H + 2*H + 1 for some hidden size H >= 1 with D = {d}, "
            f"got length {w.shape[0]}"
        )
    W1 = w[: d * hidden].reshape(d, hidden)
    b1 = w[d * hidden : d * hidden + hidden]
    w2 = w[d * hidden + hidden : d * hidden + 2 * hidden]
    b2 = w[-1]
    return W1, b1, w2, b2


def _numpy_loss(loss, X, t, lam):
    from scipy.special import expit, logsumexp

    def logistic(z):
        return np.sum(np.logaddexp(0.0, z) - t * z)

    if loss == "logistic":
        return lambda w: logistic(X @ w)
    if loss == "mse_sigmoid":
        return lambda w: 0.5 * np.sum((expit(X @ w) - t) ** 2)
    if loss == "softmax_ce":
        return lambda W: np.sum(logsumexp(X @ W, axis=1) - np.sum(t * (X @ W), axis=1))
    if loss == "logistic_l2":
        return lambda w: logistic(X @ w) + 0.5 * lam * np.sum(w**2)

    def mlp(w):
        W1, b1, w2, b2 = _unpack_mlp(w, X.shape[1])
        return logistic(np.maximum(X @ W1 + b1, 0.0) @ w2 + b2)

    return mlp


def _torch_loss(loss, X, t, lam):
    import torch
    import torch.nn.functional as F

    def logistic(z):
        return F.binary_cross_entropy_with_logits(z, t, reduction="sum")

    if loss == "logistic":
        return lambda w: logistic(X @ w)
    if loss == "mse_sigmoid":
        return lambda w: 0.5 * torch.sum((torch.sigmoid(X @ w) - t) ** 2)
    if loss == "softmax_ce":
        return lambda W: -torch.sum(t * torch.log_softmax(X @ W, dim=1))
    if loss == "logistic_l2":
        return lambda w: logistic(X @ w) + 0.5 * lam * torch.sum(w**2)

    def mlp(w):
        W1, b1, w2, b2 = _unpack_mlp(w, X.shape[1])
        return logistic(torch.relu(X @ W1 + b1) @ w2 + b2)

    return mlp


def _autograd_gradient(loss, X, t, w, lam):
    import torch

    Xt, tt = torch.from_numpy(X), torch.from_numpy(t)
    wt = torch.from_numpy(w.copy()).requires_grad_(True)
    (gradient,) = torch.autograd.grad(_torch_loss(loss, Xt, tt, lam)(wt), wt)
    return gradient.numpy()


# ---------------------------------------------------------------------------
# The symbolic route: generated code
# ---------------------------------------------------------------------------


def _mlp_symbolic_gradient(X, t, w):
    """Backpropagation assembled from generated local derivatives.

    ``delta_z = f(z, t)`` with ``f = sigmoid(z) - t`` (generated from dl/dz) and the
    ReLU derivative generated from ``diff(Max(0, a), a) = Heaviside(a)``, pinned to
    0 at the kink like PyTorch (``Heaviside(a, 0)``)::

        grad_w2 = h.T @ delta_z          grad_b2 = sum(delta_z)
        delta_h = delta_z w2^T * relu'(a)
        grad_W1 = X.T @ delta_h          grad_b1 = sum over rows of delta_h
    """
    from .symbolic import codegen, expressions

    a = sp.Symbol("a", real=True)
    relu = codegen.to_numpy(expressions.relu(a), [a], name="relu")
    relu_slope = sp.diff(expressions.relu(a), a).subs(sp.Heaviside(a), sp.Heaviside(a, 0))
    relu_prime = codegen.to_numpy(relu_slope, [a], name="relu_prime")
    dloss_dz = codegen.score_function("logistic", "numpy")

    W1, b1, w2, b2 = _unpack_mlp(w, X.shape[1])
    pre = X @ W1 + b1
    hidden = relu(pre)
    delta_z = dloss_dz(hidden @ w2 + b2, t)
    delta_h = np.outer(delta_z, w2) * relu_prime(pre)
    return np.concatenate(
        [(X.T @ delta_h).ravel(), delta_h.sum(axis=0), hidden.T @ delta_z, [delta_z.sum()]]
    )


def _symbolic_gradient(loss, X, t, w, lam):
    from .symbolic import codegen

    if loss == "relu_mlp":
        return _mlp_symbolic_gradient(X, t, w)
    grad = codegen.gradient_function(loss, "numpy", mean=False)
    return grad(X, w, t, lam) if loss == "logistic_l2" else grad(X, w, t)


# ---------------------------------------------------------------------------
# The public check
# ---------------------------------------------------------------------------


def _validate(loss, X, t, w, lam):
    if loss not in GRADCHECK_LOSSES:
        raise ValueError(f"loss: expected one of {GRADCHECK_LOSSES}, got {loss!r}")
    _check_float_array(X, "X", ndim=2)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X: expected a non-empty array, got shape {X.shape}")
    if loss == "softmax_ce":
        _check_float_array(w, "w", ndim=2)
        _check_float_array(t, "t", ndim=2)
        if w.shape[0] != d:
            raise ValueError(f"w: expected shape ({d}, K) to match X, got shape {w.shape}")
        if t.shape != (n, w.shape[1]):
            raise ValueError(f"t: expected one-hot shape ({n}, {w.shape[1]}), got shape {t.shape}")
    else:
        _check_float_array(w, "w", ndim=1)
        _check_float_array(t, "t", ndim=1)
        if t.shape[0] != n:
            raise ValueError(f"t: expected shape ({n},) to match X, got shape {t.shape}")
        if loss != "relu_mlp" and w.shape[0] != d:
            raise ValueError(f"w: expected shape ({d},) to match X, got shape {w.shape}")
    if loss == "logistic_l2":
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or lam < 0:
            raise ValueError(f"lam: expected a non-negative number for 'logistic_l2', got {lam!r}")
    elif lam is not None:
        raise ValueError(f"lam: only used by loss 'logistic_l2', got lam={lam!r} for {loss!r}")


def check_gradient(loss, X, t, w, *, lam=None, mean: bool = True, eps: float = 1e-5):
    """Compute one gradient three ways and report their largest disagreement.

    Parameters
    ----------
    loss : {"logistic", "mse_sigmoid", "softmax_ce", "logistic_l2", "relu_mlp"}
        See the module docstring for each objective and the layout of ``w``.
    X : numpy.ndarray, shape (N, D), float64
    t : numpy.ndarray, float64
        Labels in [0, 1], shape (N,); one-hot (N, K) for ``"softmax_ce"``.
    w : numpy.ndarray, float64
        Point: (D,), (D, K) for ``"softmax_ce"``, flat MLP parameters for ``"relu_mlp"``.
    lam : float, optional
        L2 strength, required for ``"logistic_l2"`` and refused otherwise.
    mean : bool, default True
        Gradient of the mean objective (everything divided by N); ``False`` for the sum.
    eps : float, default 1e-5
        Relative finite-difference step (see ``finite_difference_gradient``).

    Returns
    -------
    GradCheckResult
        ``symbolic``, ``autograd``, ``finite_diff`` and ``max_rel_error``.

    Raises
    ------
    TypeError
        If an array is not a float64 ``numpy.ndarray``.
    ValueError
        On an unknown ``loss``, mismatched shapes, a misplaced or missing ``lam``, or
        (``"relu_mlp"``) a hidden pre-activation within the finite-difference step of
        the ReLU kink.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, w = rng.normal(size=(20, 3)), rng.normal(size=3)
    >>> t = (rng.random(20) < 0.5).astype(float)
    >>> check_gradient("logistic", X, t, w).agrees(1e-8)
    True
    """
    _validate(loss, X, t, w, lam)
    if loss == "relu_mlp":
        W1, b1, _, _ = _unpack_mlp(w, X.shape[1])
        step = eps * max(1.0, float(np.abs(w).max()))
        # One finite-difference step moves a pre-activation by at most step * max|x|.
        margin = 2 * step * max(1.0, float(np.abs(X).max()))
        closest = float(np.abs(X @ W1 + b1).min())
        if closest <= margin:
            raise ValueError(
                f"w: a hidden pre-activation is {closest:.2e} from the ReLU kink at 0 (needs "
                f"> {margin:.2e}); finite differences are invalid there, move w slightly"
            )
    scale = 1.0 / X.shape[0] if mean else 1.0
    symbolic = scale * _symbolic_gradient(loss, X, t, w, lam)
    autograd = scale * _autograd_gradient(loss, X, t, w, lam)
    numpy_loss = _numpy_loss(loss, X, t, lam)
    finite_diff = finite_difference_gradient(lambda v: scale * numpy_loss(v), w, eps)
    error = max(
        relative_error(symbolic, autograd),
        relative_error(symbolic, finite_diff),
        relative_error(autograd, finite_diff),
    )
    return GradCheckResult(loss, symbolic, autograd, finite_diff, error)
