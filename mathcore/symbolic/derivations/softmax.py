"""D8-D10: softmax, its Jacobian, the cross-entropy gradient and the two-class case."""

from __future__ import annotations

import sympy as sp

from ..expressions import (
    Sigmoid,
    softmax,
    softmax_cross_entropy,
    symbolic_matrix,
)
from .base import Derivation, check_size, one_size, real

__all__ = [
    "softmax_jacobian",
    "softmax_sums_to_one",
    "softmax_shift_invariance",
    "softmax_ce_gradient",
    "softmax_ce_log_sum_exp",
    "softmax_batch_gradient",
    "two_class_softmax",
]


# ---------------------------------------------------------------------------
# D8-D10. Softmax
# ---------------------------------------------------------------------------


def logits(k: int):
    check_size(k, "k", low=2, high=6)
    return symbolic_matrix("z", k, 1, start=0)  # classes are numbered 0, ..., K-1


def softmax_jacobian(k: int = 3) -> Derivation:
    r"""D8a. :math:`\partial p_i/\partial z_j = p_i(\delta_{ij}-p_j)`, i.e. :math:`J = \operatorname{diag}(p) - pp^{\mathsf T}`."""
    z = logits(k)
    p = softmax(z)
    return Derivation(
        "D8a",
        "Jacobian of the softmax",
        "The softmax Jacobian is diag(p) - p p^T.",
        lhs=p.jacobian(z),
        rhs=sp.diag(*p) - p * p.T,
        display_lhs=r"\frac{\partial p}{\partial z}",
        display_rhs=r"\operatorname{diag}(p) - p\,p^{\mathsf T}",
        scope=one_size(K=k),
    )


def softmax_sums_to_one(k: int = 3) -> Derivation:
    r"""D8b. :math:`\sum_k p_k = 1`."""
    z = logits(k)
    return Derivation(
        "D8b",
        "Softmax probabilities sum to one",
        "The K softmax outputs always sum to 1.",
        lhs=sp.Add(*softmax(z)),
        rhs=sp.Integer(1),
        display_lhs=r"\sum_{k} p_k",
        scope=one_size(K=k),
    )


def softmax_shift_invariance(k: int = 3) -> Derivation:
    r"""D8c. :math:`\operatorname{softmax}(z + c\mathbf 1) = \operatorname{softmax}(z)`.

    This is why subtracting :math:`\max_k z_k` before exponentiating is safe.
    """
    z = logits(k)
    c = real("c")
    return Derivation(
        "D8c",
        "Softmax is shift invariant",
        "Adding the same constant to every logit leaves the softmax unchanged.",
        lhs=softmax(z + c * sp.ones(k, 1)),
        rhs=softmax(z),
        display_lhs=r"\operatorname{softmax}(z + c\mathbf 1)",
        display_rhs=r"\operatorname{softmax}(z)",
        scope=one_size(K=k),
    )


def probability_target(k: int) -> sp.Matrix:
    """A target y with y_0 + ... + y_{k-1} = 1 (the last entry is 1 - the others)."""
    free = symbolic_matrix("y", k - 1, 1, start=0) if k > 2 else sp.Matrix([real("y_0")])
    return sp.Matrix([*free, 1 - sp.Add(*free)])


def softmax_ce_gradient(k: int = 3) -> Derivation:
    r"""D9a. :math:`\partial\ell/\partial z = p - y` for :math:`\ell = -\sum_k y_k\log p_k`, :math:`\sum_k y_k = 1`.

    :math:`\frac{\partial\ell}{\partial z_j} = -\sum_k \frac{y_k}{p_k}p_k(\delta_{kj}-p_j) = p_j\sum_k y_k - y_j = p_j - y_j`.
    The target may be one-hot or any probability vector (the last entry is
    written as one minus the others).
    """
    z = logits(k)
    y = probability_target(k)
    loss = softmax_cross_entropy(z, y)
    return Derivation(
        "D9a",
        "Gradient of softmax cross-entropy",
        "The gradient of cross-entropy with respect to the logits is p - y.",
        lhs=sp.Matrix([sp.Derivative(loss, zj) for zj in z]),
        rhs=softmax(z) - y,
        display_lhs=r"\frac{\partial \ell}{\partial z}",
        display_rhs="p - y",
        scope=one_size(K=k),
    )


def softmax_ce_log_sum_exp(k: int = 3) -> Derivation:
    r"""D9b. :math:`-\sum_k y_k\log p_k = -\sum_k y_k z_k + \log\sum_j e^{z_j}` (``= -z_c + LSE`` for one-hot ``y``)."""
    z = logits(k)
    y = probability_target(k)
    return Derivation(
        "D9b",
        "Cross-entropy as log-sum-exp",
        "Softmax cross-entropy is log-sum-exp of the logits minus the target's logit.",
        lhs=softmax_cross_entropy(z, y),
        rhs=-(y.T * z)[0, 0] + sp.log(sp.Add(*[sp.exp(a) for a in z])),
        display_lhs=r"-\sum_k y_k \log p_k",
        display_rhs=r"-\sum_k y_k z_k + \log\sum_j e^{z_j}",
        scope=one_size(K=k),
    )


def softmax_batch_gradient(n: int = 2, d: int = 2, k: int = 3) -> Derivation:
    r"""D9c. :math:`\nabla_W\ell = X^{\mathsf T}(P-Y)` for :math:`Z = XW`, ``P`` the row-wise softmax.

    ``Y`` is one-hot; here sample ``i`` has class ``i mod k``.
    """
    check_size(n, "n")
    check_size(d, "d")
    check_size(k, "k", low=2, high=6)
    X = symbolic_matrix("x", n, d)
    W = symbolic_matrix("W", d, k)
    Y = sp.Matrix(n, k, lambda i, j: int(j == i % k))
    Z = X * W
    rows = [Z[i, :].T for i in range(n)]
    loss = sp.Add(*[softmax_cross_entropy(rows[i], Y[i, :].T) for i in range(n)])
    P = sp.Matrix.vstack(*[softmax(r).T for r in rows])
    return Derivation(
        "D9c",
        "Batch gradient of softmax regression",
        "The gradient of the summed cross-entropy with respect to W is X^T (P - Y).",
        lhs=sp.Matrix(d, k, lambda a, c: sp.Derivative(loss, W[a, c])),
        rhs=X.T * (P - Y),
        display_lhs=r"\nabla_{W}\,\ell(W)",
        display_rhs=r"X^{\mathsf T}(P - Y)",
        scope=one_size(N=n, D=d, K=k),
    )


def two_class_softmax() -> Derivation:
    r"""D10. :math:`\frac{e^{z_1}}{e^{z_0}+e^{z_1}} = \sigma(z_1 - z_0)`: two-class softmax is the sigmoid.

    Classes are numbered 0 and 1, class 1 the positive one, so the binary logistic weight is
    :math:`w = w_1 - w_0`.
    """
    z0, z1 = real("z_0", "z_1")
    return Derivation(
        "D10a",
        "Two-class softmax is the sigmoid",
        "With classes 0 and 1, the softmax probability of class 1 is the sigmoid of z_1 - z_0.",
        lhs=sp.exp(z1) / (sp.exp(z0) + sp.exp(z1)),
        rhs=Sigmoid(z1 - z0),
        steps=(1 / (1 + sp.exp(-(z1 - z0))),),
        display_rhs=r"\sigma(z_1 - z_0)",  # SymPy would print sigma(-z_0 + z_1)
    )
