"""Numerically stable activation and loss functions for NumPy arrays and torch tensors.

Every function here takes either a NumPy array or a torch tensor and returns the
same kind, with the same floating-point dtype (float32 stays float32).

Input rules (the same for every function):

* **Arrays and tensors** must have a floating-point dtype. Integer and boolean
  inputs are refused with a ``TypeError``: an integer array usually holds labels
  or class indices, so converting it silently could hide a mistake. Convert it
  yourself, e.g. ``z.astype(np.float64)`` or ``z.double()``.
  Targets are the exception: ``t`` in ``binary_cross_entropy_with_logits`` and
  ``target`` in ``mse`` may be integer or boolean (0/1 labels are the usual case)
  and are converted to the dtype of the first argument; the values are unchanged.
* **Python numbers** (``int`` or ``float``, not ``bool``) are accepted as scalars
  and treated as float64, so ``sigmoid(0)`` returns ``np.float64(0.5)``.
  A 0-d NumPy input also gives a NumPy scalar; a 0-d tensor gives a 0-d tensor.
* **Anything else** (lists, strings, ...) raises a ``TypeError`` naming the
  argument. Wrap lists with ``np.asarray(...)`` first.
* **Two-argument losses** need both arguments of the same kind (both NumPy or
  both torch, on the same device) and of exactly the same shape; there is no
  broadcasting.
* NaN in the first argument propagates to the result, as in NumPy.
* Value checks (``p`` in ``logit``, the targets of the losses) read the data;
  for a tensor on a GPU that waits for the device, so keep such calls out of
  code you are timing.

Stability: no intermediate step overflows, so every result that fits in the
dtype is computed (tested for ``|z|`` up to 1e4 in float32 and float64), and the
torch versions have finite gradients there. Results smaller than the smallest
float round to zero (``exp(-1e4)`` is 0 in any float format); that underflow is
the correct answer, so the functions here ignore NumPy's underflow flag (a
private decorator, ``_quiet_underflow``), also when the caller runs under
``np.errstate(all="raise")``. Overflow, invalid operations and division by zero
are never silenced, except in ``logit`` where ``log(0) = -inf`` is the answer.

The torch versions are built on torch's own stable kernels (``torch.sigmoid``,
``torch.nn.functional.logsigmoid``, ``torch.logsumexp``, ...) rather than on
re-typed NumPy formulas: torch's autograd differentiates those kernels
correctly everywhere, whereas ``max(z, 0)`` or ``abs(z)`` written out would get
a one-sided (wrong) derivative at ``z = 0``.
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "logit",
    "softmax",
    "log_softmax",
    "logsumexp",
    "relu",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "mse",
]

_REDUCTIONS = ("mean", "sum", "none")


def _quiet_underflow(func):
    """Decorator: ignore NumPy's underflow flag inside ``func``.

    ``exp(-|z|)`` underflows to 0 for large ``|z|``; that is the correct result,
    not an error, even when the caller runs under ``np.errstate(all="raise")``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# Input checks (private)
# ---------------------------------------------------------------------------


def _kind(x):
    """Readable type name for error messages."""
    if isinstance(x, torch.Tensor):
        return "torch.Tensor"
    if isinstance(x, np.ndarray):
        return "numpy.ndarray"
    return type(x).__name__


def _as_numeric(x, name):
    """Return ``x`` as a tensor or ndarray; Python int/float become a 0-d float64 array."""
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return x
    if isinstance(x, np.generic):  # NumPy scalar such as np.float32(1.0)
        return np.asarray(x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return np.asarray(x, dtype=np.float64)
    raise TypeError(
        f"{name}: expected a NumPy array, a torch tensor or a Python number, got {_kind(x)}"
        + (" (wrap it with np.asarray)" if isinstance(x, (list, tuple)) else "")
    )


def _float_input(x, name):
    """Check that ``x`` is a floating-point array or tensor (or a Python number)."""
    x = _as_numeric(x, name)
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(
                f"{name}: expected a floating-point tensor, got dtype {x.dtype}; "
                f"convert explicitly, e.g. {name}.double()"
            )
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name}: expected a floating-point array, got dtype {x.dtype}; "
            f"convert explicitly, e.g. {name}.astype(np.float64)"
        )
    return x


def _target_like(t, name, z, z_name):
    """Check that target ``t`` matches ``z`` (kind, device, shape); return it in z's dtype."""
    t = _as_numeric(t, name)
    if isinstance(z, torch.Tensor) != isinstance(t, torch.Tensor):
        raise TypeError(
            f"{name}: expected the same kind as {z_name} ({_kind(z)}), got {_kind(t)}"
        )
    if _dtype_kind(t) not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {t.dtype}")
    if isinstance(t, torch.Tensor) and t.device != z.device:
        raise ValueError(
            f"{name}: expected a tensor on {z_name}'s device {z.device}, got {t.device}"
        )
    if tuple(t.shape) != tuple(z.shape):
        raise ValueError(
            f"{name}: expected the same shape as {z_name} {tuple(z.shape)}, "
            f"got {tuple(t.shape)}"
        )
    return t.to(z.dtype) if isinstance(t, torch.Tensor) else t.astype(z.dtype, copy=False)


def _check_reduction(reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(
            f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}"
        )


def _check_not_empty(x, name):
    if x.numel() == 0 if isinstance(x, torch.Tensor) else x.size == 0:
        raise ValueError(f"{name}: expected at least one element, got shape {tuple(x.shape)}")


def _check_axis(z, axis, name="z"):
    """Check ``axis`` against ``z`` and return it as a non-negative int."""
    if z.ndim == 0:
        raise ValueError(f"{name}: expected an array with at least 1 dimension, got a 0-d one")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis: expected an int, got {_kind(axis)}")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(
            f"axis: expected an int in [{-z.ndim}, {z.ndim}) for {name} with shape "
            f"{tuple(z.shape)}, got {axis}"
        )
    axis = int(axis) % z.ndim
    if z.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} is empty (shape {tuple(z.shape)})")
    return axis


def _dtype_kind(x):
    """NumPy-style kind of the dtype: 'f' float, 'i'/'u' integer, 'b' bool, 'c' complex."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point():
            return "f"
        if x.is_complex():
            return "c"
        return "b" if x.dtype == torch.bool else "i"
    return x.dtype.kind


def _eps(x):
    """Machine epsilon of the floating dtype of ``x``."""
    return torch.finfo(x.dtype).eps if isinstance(x, torch.Tensor) else np.finfo(x.dtype).eps


def _out(x):
    """0-d NumPy results become NumPy scalars (as NumPy's own functions do)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x[()]
    return x


def _reduce(loss, reduction):
    if reduction == "mean":
        return _out(loss.mean())
    if reduction == "sum":
        return _out(loss.sum())
    return _out(loss)


# ---------------------------------------------------------------------------
# Element-wise functions
# ---------------------------------------------------------------------------


@_quiet_underflow
def sigmoid(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``, element-wise.

    In the course ``sigmoid(z) = p(t=1 | x)`` with ``z = X w + b``.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Scores (logits), floating point. See the module notes for accepted inputs.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Values in [0, 1], same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array, tensor or Python number.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> sigmoid(np.array([-1e4, 1e4]))
    array([0., 1.])
    """
    z = _float_input(z, "z")
    if isinstance(z, torch.Tensor):
        return torch.sigmoid(z)
    # 1/(1+exp(-z)) overflows in exp for very negative z. Use e = exp(-|z|) <= 1:
    # for z >= 0 sigmoid = 1/(1+e); for z < 0 sigmoid = e/(1+e) (multiply by exp(z)/exp(z)).
    e = np.exp(-np.abs(z))
    return _out(np.where(z >= 0, 1 / (1 + e), e / (1 + e)))


@_quiet_underflow
def softplus(z):
    """Softplus ``log(1 + exp(z))``, element-wise; its derivative is ``sigmoid(z)``.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point input.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Non-negative values, same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array, tensor or Python number.

    Examples
    --------
    >>> softplus(np.array([-1e4, 0.0, 1e4]))
    array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    z = _float_input(z, "z")
    if isinstance(z, torch.Tensor):
        # softplus(z) = -log(sigmoid(-z)); torch's logsigmoid is stable, and so is its gradient.
        return -F.logsigmoid(-z)
    # log(1 + exp(z)) overflows for z > ~89 (float32) or ~710 (float64). Factor out
    # exp(max(z, 0)): softplus(z) = max(z, 0) + log(1 + exp(-|z|)), and exp(-|z|) <= 1.
    return _out(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))))


@_quiet_underflow
def log_sigmoid(z):
    """Log of the sigmoid, ``log(sigmoid(z)) = -softplus(-z)``, element-wise.

    Computing ``np.log(sigmoid(z))`` gives ``log(0) = -inf`` once ``sigmoid(z)``
    underflows (``z < -745`` in float64); this form stays finite.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point input.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Non-positive values, same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array, tensor or Python number.

    Examples
    --------
    >>> log_sigmoid(np.array([-1e4, 0.0]))
    array([-1.00000000e+04, -6.93147181e-01])
    """
    z = _float_input(z, "z")
    return _out(-softplus(-z))


@_quiet_underflow
def logit(p):
    """Log-odds ``log(p / (1 - p))``, the inverse of ``sigmoid``, element-wise.

    At the ends of the interval ``logit(0) = -inf`` and ``logit(1) = +inf``.
    These are the mathematically right limits and are returned without warnings.

    Parameters
    ----------
    p : ``ndarray`` or ``torch.Tensor``
        Probabilities in [0, 1], floating point. NaN propagates.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Same kind, shape and dtype as ``p``.

    Raises
    ------
    TypeError
        If ``p`` is not a floating-point array, tensor or Python number.
    ValueError
        If any value of ``p`` lies outside [0, 1].

    Examples
    --------
    >>> logit(np.array([0.0, 0.5, 1.0]))
    array([-inf,   0.,  inf])
    """
    p = _float_input(p, "p")
    outside = (p < 0) | (p > 1)
    if outside.any():
        bad = p[outside]
        raise ValueError(
            f"p: expected probabilities in [0, 1], got {len(bad)} value(s) outside, "
            f"e.g. {float(bad[0])}"
        )
    if isinstance(p, torch.Tensor):
        return torch.logit(p)
    # p = 0 or p = 1 divides by zero inside log; -inf and +inf are the right answers there.
    with np.errstate(divide="ignore"):
        return _out(np.log(p / (1 - p)))


@_quiet_underflow
def relu(z):
    """Rectified linear unit ``max(z, 0)``, element-wise.

    For the torch version the derivative at ``z = 0`` is 0 (torch's convention).

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point input.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array, tensor or Python number.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    z = _float_input(z, "z")
    if isinstance(z, torch.Tensor):
        return torch.relu(z)
    return _out(np.maximum(z, 0))


# ---------------------------------------------------------------------------
# Functions along an axis
# ---------------------------------------------------------------------------


@_quiet_underflow
def logsumexp(z, axis=-1, keepdims=False):
    """``log(sum(exp(z)))`` along an axis, without overflow.

    Its gradient with respect to ``z`` is ``softmax(z, axis)``.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point input. Entries may be ``-inf`` as long as every slice has a
        finite entry.
    axis : ``int`` or ``None``, default ``-1``
        Axis to reduce. ``None`` reduces over all elements.
    keepdims : ``bool``, default ``False``
        Keep the reduced axis with length 1.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Same kind and dtype as ``z``; a NumPy scalar for NumPy input reduced to 0-d.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array, tensor or Python number, or ``axis``
        is not an int or None.
    ValueError
        If ``axis`` is out of range or the reduced axis is empty.

    Examples
    --------
    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log 2
    1000.6931471805599
    """
    z = _float_input(z, "z")
    if axis is None:
        _check_not_empty(z, "z")
        flat = logsumexp(z.reshape(-1), axis=0)
        return _out(flat.reshape((1,) * z.ndim)) if keepdims else flat
    axis = _check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.logsumexp(z, dim=axis, keepdim=keepdims)
    # Shift by the maximum m: log sum exp(z) = m + log sum exp(z - m). The largest
    # term becomes exp(0) = 1, so the sum lies in [1, K] and never overflows.
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return _out(out if keepdims else np.squeeze(out, axis=axis))


@_quiet_underflow
def softmax(z, axis=-1):
    """Softmax ``exp(z) / sum(exp(z))`` along an axis (default: the last, i.e. rows).

    Shift invariant: ``softmax(z + c) = softmax(z)`` for a constant ``c``, which is
    why subtracting the maximum first is exact. With two classes,
    ``softmax([a, b])[1] = sigmoid(b - a)``.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point scores, at least 1-D.
    axis : ``int``, default ``-1``
        Axis along which the result sums to 1.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Probabilities, same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array or tensor, or ``axis`` is not an int.
    ValueError
        If ``axis`` is out of range for ``z`` (including 0-d ``z``) or that axis is empty.

    Examples
    --------
    >>> softmax(np.array([1000.0, 1000.0, -1000.0]))
    array([0.5, 0.5, 0. ])
    """
    z = _float_input(z, "z")
    axis = _check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.softmax(z, dim=axis)
    # exp(z) overflows for large z; shift so the largest entry is 0 (shift invariance).
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@_quiet_underflow
def log_softmax(z, axis=-1):
    """Log of the softmax, ``z - logsumexp(z)``, along an axis.

    ``np.log(softmax(z))`` gives ``-inf`` once a probability underflows to 0;
    this form stays finite for finite ``z``.

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Floating-point scores, at least 1-D.
    axis : ``int``, default ``-1``
        Axis along which ``exp`` of the result sums to 1.

    Returns
    -------
    ``ndarray`` or ``torch.Tensor``
        Same kind, shape and dtype as ``z``.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point array or tensor, or ``axis`` is not an int.
    ValueError
        If ``axis`` is out of range for ``z`` (including 0-d ``z``) or that axis is empty.

    Examples
    --------
    >>> log_softmax(np.array([0.0, 1000.0]))
    array([-1000.,     0.])
    """
    z = _float_input(z, "z")
    axis = _check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.log_softmax(z, dim=axis)
    return z - logsumexp(z, axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


@_quiet_underflow
def binary_cross_entropy_with_logits(z, t, reduction="mean"):
    """Bernoulli negative log-likelihood computed from logits ``z``.

    Per element, with ``p = sigmoid(z)``::

        loss = -t log(p) - (1 - t) log(1 - p)
             = t * softplus(-z) + (1 - t) * softplus(z)     (what is computed)
             = softplus(z) - t z                            (the book's form, D4)

    The middle form never evaluates ``log(0)`` and, unlike the last form, does not
    lose the small loss of a confident correct prediction to cancellation. The
    gradient with respect to ``z`` is ``sigmoid(z) - t`` (divided by ``z.size`` for
    ``reduction="mean"``).

    Parameters
    ----------
    z : ``ndarray`` or ``torch.Tensor``
        Logits, floating point.
    t : ``ndarray`` or ``torch.Tensor``
        Targets in [0, 1], same shape as ``z`` (0/1 labels, or soft labels).
        Integer or boolean targets are accepted and converted to ``z``'s dtype.
    reduction : ``"mean"``, ``"sum"`` or ``"none"``, default ``"mean"``
        ``"mean"`` averages over all elements (the code's convention), ``"sum"``
        gives the summed loss of the derivations, ``"none"`` the per-element losses.

    Returns
    -------
    ``ndarray``, ``np.floating`` or ``torch.Tensor``
        Same kind and dtype as ``z``; a scalar (NumPy) or 0-d tensor unless
        ``reduction="none"``.

    Raises
    ------
    TypeError
        If ``z`` is not floating point, or ``t`` is not numeric or not the same kind as ``z``.
    ValueError
        If the shapes differ, the input is empty, a target lies outside [0, 1] (or
        is NaN), or ``reduction`` is unknown.

    Examples
    --------
    >>> z = np.array([-1e4, 0.0, 1e4])
    >>> binary_cross_entropy_with_logits(z, np.array([0, 1, 1]), reduction="none")
    array([0.        , 0.69314718, 0.        ])
    """
    _check_reduction(reduction)
    z = _float_input(z, "z")
    t = _target_like(t, "t", z, "z")
    _check_not_empty(z, "z")
    outside = (t < 0) | (t > 1) | (t != t)  # t != t is True only for NaN
    if outside.any():
        bad = t[outside]
        raise ValueError(
            f"t: expected targets in [0, 1], got {len(bad)} value(s) outside, "
            f"e.g. {float(bad[0])}"
        )
    loss = t * softplus(-z) + (1 - t) * softplus(z)
    return _reduce(loss, reduction)


@_quiet_underflow
def softmax_cross_entropy_with_logits(Z, y, reduction="mean"):
    """Multiclass cross-entropy (softmax negative log-likelihood) from logits ``Z``.

    Per row ``i`` with ``P = softmax(Z)``::

        loss_i = -sum_k Y_ik log P_ik = logsumexp(Z_i) - sum_k Y_ik Z_ik

    computed as ``-sum_k Y_ik * log_softmax(Z)_ik``. The gradient with respect to
    ``Z`` is ``softmax(Z) - Y`` (divided by N for ``reduction="mean"``).

    The labels ``y`` come in one of two forms, told apart by dtype:

    * **class indices**: an integer array of shape (N,), values in 0..K-1;
    * **probability rows**: a floating-point array of shape (N, K), e.g. one-hot
      rows, entries >= 0 and each row summing to 1 (to within ``sqrt(eps)`` of
      ``Z``'s dtype). Pass one-hot integer matrices as floats (``Y.astype(float)``).

    Parameters
    ----------
    Z : ``ndarray`` or ``torch.Tensor``
        Logits of shape (N, K), floating point, one row per example.
    y : ``ndarray`` or ``torch.Tensor``
        Class indices (N,) or probability rows (N, K), the same kind as ``Z``.
    reduction : ``"mean"``, ``"sum"`` or ``"none"``, default ``"mean"``
        ``"mean"`` averages over the N rows (the code's convention), ``"sum"``
        gives the summed loss of the derivations, ``"none"`` the N per-row losses.

    Returns
    -------
    ``ndarray``, ``np.floating`` or ``torch.Tensor``
        Same kind and dtype as ``Z``; a scalar (NumPy) or 0-d tensor unless
        ``reduction="none"``, which gives shape (N,).

    Raises
    ------
    TypeError
        If ``Z`` is not floating point, or ``y`` is neither integer nor floating
        point, or not the same kind as ``Z``.
    ValueError
        If ``Z`` is not 2-D or is empty, ``y`` has the wrong shape, an index is
        outside 0..K-1, a probability row is invalid, or ``reduction`` is unknown.

    Examples
    --------
    >>> Z = np.array([[2.0, 0.0, -1e4], [0.0, 0.0, 0.0]])
    >>> softmax_cross_entropy_with_logits(Z, np.array([0, 2]), reduction="none")
    array([0.12692801, 1.09861229])
    """
    _check_reduction(reduction)
    Z = _float_input(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"Z: expected a 2-D array of shape (N, K), got shape {tuple(Z.shape)}")
    _check_not_empty(Z, "Z")
    n, k = Z.shape
    y = _as_numeric(y, "y")
    if isinstance(Z, torch.Tensor) != isinstance(y, torch.Tensor):
        raise TypeError(f"y: expected the same kind as Z ({_kind(Z)}), got {_kind(y)}")
    if isinstance(y, torch.Tensor) and y.device != Z.device:
        raise ValueError(f"y: expected a tensor on Z's device {Z.device}, got {y.device}")
    log_p = log_softmax(Z, axis=1)

    if _dtype_kind(y) in "iu":  # class indices
        if tuple(y.shape) != (n,):
            raise ValueError(
                f"y: integer class indices must have shape ({n},) to match Z {tuple(Z.shape)}, "
                f"got {tuple(y.shape)} (for one-hot rows pass a float array)"
            )
        if ((y < 0) | (y >= k)).any():
            raise ValueError(
                f"y: expected class indices in 0..{k - 1}, got values from "
                f"{int(y.min())} to {int(y.max())}"
            )
        if isinstance(Z, torch.Tensor):
            loss = -log_p.gather(1, y.long().unsqueeze(1)).squeeze(1)
        else:
            loss = -log_p[np.arange(n), y]
    elif _dtype_kind(y) == "f":  # probability rows
        if tuple(y.shape) != (n, k):
            raise ValueError(
                f"y: probability rows must have the shape of Z {tuple(Z.shape)}, "
                f"got {tuple(y.shape)} (for class indices pass an integer array)"
            )
        y = y.to(Z.dtype) if isinstance(y, torch.Tensor) else y.astype(Z.dtype, copy=False)
        row_sums = y.sum(1)
        if ((y < 0) | (y != y)).any() or (abs(row_sums - 1) > np.sqrt(_eps(Z))).any():
            raise ValueError(
                "y: probability rows must be non-negative and sum to 1, got row sums "
                f"from {float(row_sums.min())} to {float(row_sums.max())} and minimum "
                f"entry {float(y.min())}"
            )
        loss = -(y * log_p).sum(1)
    else:
        raise TypeError(
            f"y: expected integer class indices or floating-point probability rows, "
            f"got dtype {y.dtype}"
        )
    return _reduce(loss, reduction)


@_quiet_underflow
def mse(pred, target, reduction="mean"):
    """Squared error ``(pred - target)**2``, averaged by default.

    There is no factor 1/2: ``reduction="sum"`` gives ``sum((pred - target)**2)``,
    which is twice the ``E = 1/2 sum (sigma - t)**2`` of the derivations. The
    gradient with respect to ``pred`` is ``2 (pred - target)`` (divided by
    ``pred.size`` for ``reduction="mean"``).

    Parameters
    ----------
    pred : ``ndarray`` or ``torch.Tensor``
        Predictions, floating point.
    target : ``ndarray`` or ``torch.Tensor``
        Targets of the same shape and kind; integer or boolean targets are
        converted to ``pred``'s dtype.
    reduction : ``"mean"``, ``"sum"`` or ``"none"``, default ``"mean"``
        ``"mean"`` averages over all elements, ``"sum"`` adds them up, ``"none"``
        returns the element-wise squared errors.

    Returns
    -------
    ``ndarray``, ``np.floating`` or ``torch.Tensor``
        Same kind and dtype as ``pred``; a scalar (NumPy) or 0-d tensor unless
        ``reduction="none"``.

    Raises
    ------
    TypeError
        If ``pred`` is not floating point, or ``target`` is not numeric or not the
        same kind as ``pred``.
    ValueError
        If the shapes differ, the input is empty, or ``reduction`` is unknown.

    Examples
    --------
    >>> float(mse(np.array([0.0, 1.0]), np.array([1.0, 1.0])))
    0.5
    """
    _check_reduction(reduction)
    pred = _float_input(pred, "pred")
    target = _target_like(target, "target", pred, "pred")
    _check_not_empty(pred, "pred")
    return _reduce((pred - target) ** 2, reduction)
