"""Losses on logits and predictions: binary and softmax cross-entropy, mean squared error."""


import numpy as np
import torch

from ._checks import (
    as_numeric,
    check_not_empty,
    check_reduction,
    dtype_kind,
    eps,
    float_input,
    kind,
    quiet_underflow,
    reduce,
    target_like,
)
from .activations import log_softmax, softplus

__all__ = ["binary_cross_entropy_with_logits", "softmax_cross_entropy_with_logits", "mse"]


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


@quiet_underflow
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
    check_reduction(reduction)
    z = float_input(z, "z")
    t = target_like(t, "t", z, "z")
    check_not_empty(z, "z")
    outside = (t < 0) | (t > 1) | (t != t)  # t != t is True only for NaN
    if outside.any():
        bad = t[outside]
        raise ValueError(
            f"t: expected targets in [0, 1], got {len(bad)} value(s) outside, "
            f"e.g. {float(bad[0])}"
        )
    loss = t * softplus(-z) + (1 - t) * softplus(z)
    return reduce(loss, reduction)


@quiet_underflow
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
    check_reduction(reduction)
    Z = float_input(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"Z: expected a 2-D array of shape (N, K), got shape {tuple(Z.shape)}")
    check_not_empty(Z, "Z")
    n, k = Z.shape
    y = as_numeric(y, "y")
    if isinstance(Z, torch.Tensor) != isinstance(y, torch.Tensor):
        raise TypeError(f"y: expected the same kind as Z ({kind(Z)}), got {kind(y)}")
    if isinstance(y, torch.Tensor) and y.device != Z.device:
        raise ValueError(f"y: expected a tensor on Z's device {Z.device}, got {y.device}")
    log_p = log_softmax(Z, axis=1)

    if dtype_kind(y) in "iu":  # class indices
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
    elif dtype_kind(y) == "f":  # probability rows
        if tuple(y.shape) != (n, k):
            raise ValueError(
                f"y: probability rows must have the shape of Z {tuple(Z.shape)}, "
                f"got {tuple(y.shape)} (for class indices pass an integer array)"
            )
        y = y.to(Z.dtype) if isinstance(y, torch.Tensor) else y.astype(Z.dtype, copy=False)
        row_sums = y.sum(1)
        if ((y < 0) | (y != y)).any() or (abs(row_sums - 1) > np.sqrt(eps(Z))).any():
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
    return reduce(loss, reduction)


@quiet_underflow
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
    check_reduction(reduction)
    pred = float_input(pred, "pred")
    target = target_like(target, "target", pred, "pred")
    check_not_empty(pred, "pred")
    return reduce((pred - target) ** 2, reduction)
