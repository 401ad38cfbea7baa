"""Element-wise functions (sigmoid, softplus, logit, ReLU, ...) and functions along an axis (softmax, ...)."""


import numpy as np
import torch
import torch.nn.functional as F

from ._checks import check_axis, check_not_empty, float_input, quiet_underflow, to_output

__all__ = ["sigmoid", "log_sigmoid", "softplus", "logit", "relu", "logsumexp", "softmax", "log_softmax"]


# ---------------------------------------------------------------------------
# Element-wise functions
# ---------------------------------------------------------------------------


@quiet_underflow
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
    z = float_input(z, "z")
    if isinstance(z, torch.Tensor):
        return torch.sigmoid(z)
    # 1/(1+exp(-z)) overflows in exp for very negative z. Use e = exp(-|z|) <= 1:
    # for z >= 0 sigmoid = 1/(1+e); for z < 0 sigmoid = e/(1+e) (multiply by exp(z)/exp(z)).
    e = np.exp(-np.abs(z))
    return to_output(np.where(z >= 0, 1 / (1 + e), e / (1 + e)))


@quiet_underflow
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
    z = float_input(z, "z")
    if isinstance(z, torch.Tensor):
        # softplus(z) = -log(sigmoid(-z)); torch's logsigmoid is stable, and so is its gradient.
        return -F.logsigmoid(-z)
    # log(1 + exp(z)) overflows for z > ~89 (float32) or ~710 (float64). Factor out
    # exp(max(z, 0)): softplus(z) = max(z, 0) + log(1 + exp(-|z|)), and exp(-|z|) <= 1.
    return to_output(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))))


@quiet_underflow
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
    z = float_input(z, "z")
    return to_output(-softplus(-z))


@quiet_underflow
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
    p = float_input(p, "p")
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
        return to_output(np.log(p / (1 - p)))


@quiet_underflow
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
    z = float_input(z, "z")
    if isinstance(z, torch.Tensor):
        return torch.relu(z)
    return to_output(np.maximum(z, 0))


# ---------------------------------------------------------------------------
# Functions along an axis
# ---------------------------------------------------------------------------


@quiet_underflow
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
    z = float_input(z, "z")
    if axis is None:
        check_not_empty(z, "z")
        flat = logsumexp(z.reshape(-1), axis=0)
        return to_output(flat.reshape((1,) * z.ndim)) if keepdims else flat
    axis = check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.logsumexp(z, dim=axis, keepdim=keepdims)
    # Shift by the maximum m: log sum exp(z) = m + log sum exp(z - m). The largest
    # term becomes exp(0) = 1, so the sum lies in [1, K] and never overflows.
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return to_output(out if keepdims else np.squeeze(out, axis=axis))


@quiet_underflow
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
    z = float_input(z, "z")
    axis = check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.softmax(z, dim=axis)
    # exp(z) overflows for large z; shift so the largest entry is 0 (shift invariance).
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@quiet_underflow
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
    z = float_input(z, "z")
    axis = check_axis(z, axis)
    if isinstance(z, torch.Tensor):
        return torch.log_softmax(z, dim=axis)
    return z - logsumexp(z, axis=axis, keepdims=True)
