"""D5-D6: the gradient and the Hessian in matrix form, and convexity."""

from __future__ import annotations

import sympy as sp

from ..expressions import (
    Sigmoid,
    logistic_loss,
    softplus,
    symbolic_data,
    symbolic_matrix,
)
from .base import Derivation, check_size, one_size, real

__all__ = [
    "weighted_gradient_matrix",
    "logistic_gradient_matrix",
    "logistic_bias_gradient",
    "logistic_hessian",
    "hessian_quadratic_form",
    "hessian_psd",
]



def logistic_gradient_matrix(n: int = 4, d: int = 3) -> Derivation:
    r"""D5a. :math:`\nabla_w \ell = X^{\mathsf T}(\sigma(Xw) - t)` on a symbolic ``n x d`` instance.

    The left side is computed by differentiating the summed loss
    :math:`\ell = \sum_i \operatorname{softplus}(z_i) - t_i z_i`, ``z = Xw``, with
    respect to each weight; the right side is the matrix formula.

    Parameters
    ----------
    n, d : int
        Number of samples and of features (small: 1 to 8).
    """
    check_size(n, "n")
    check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    loss = logistic_loss(X, w, t)
    gradient = sp.Matrix([sp.diff(loss, wj) for wj in w])
    return Derivation(
        "D5a",
        "Gradient of the logistic loss",
        "The gradient of the summed logistic loss is X^T (sigma(Xw) - t).",
        lhs=gradient,
        rhs=X.T * ((X * w).applyfunc(Sigmoid) - t),
        display_lhs=r"\nabla_{w}\,\ell(w)",
        display_rhs=r"X^{\mathsf T}\left(\sigma(Xw) - t\right)",
        scope=one_size(N=n, D=d),
    )


def weighted_gradient_matrix(n: int = 4, d: int = 3) -> Derivation:
    r"""D5c. With sample weights: :math:`\nabla_w \sum_i s_i\ell_i = X^{\mathsf T}\operatorname{diag}(s)(\sigma(Xw) - t)`.

    The weights ``sample_weight`` and ``class_weight`` of the estimators multiply
    each row's residual; the left side differentiates the weighted summed loss.

    Parameters
    ----------
    n, d : int
        Number of samples and of features (small: 1 to 8).
    """
    check_size(n, "n")
    check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    s = sp.Matrix(sp.symbols(f"s_1:{n + 1}", positive=True))
    z = X * w
    loss = sum(s[i] * (softplus(z[i]) - t[i] * z[i]) for i in range(n))
    gradient = sp.Matrix([sp.diff(loss, wj) for wj in w])
    return Derivation(
        "D5c",
        "Gradient of the weighted logistic loss",
        "Sample weights scale each residual: the gradient is X^T diag(s) (sigma(Xw) - t).",
        lhs=gradient,
        rhs=X.T * sp.diag(*s) * (z.applyfunc(Sigmoid) - t),
        display_lhs=r"\nabla_{w}\sum_i s_i\,\ell_i(w)",
        display_rhs=r"X^{\mathsf T}\operatorname{diag}(s)\left(\sigma(Xw) - t\right)",
        scope=one_size(N=n, D=d),
    )


def logistic_bias_gradient(n: int = 4, d: int = 3) -> Derivation:
    r"""D5b. :math:`\partial\ell/\partial b = \mathbf 1^{\mathsf T}(\sigma(z) - t)`, ``z = Xw + b1``."""
    check_size(n, "n")
    check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    b = real("b")
    z = X * w + b * sp.ones(n, 1)
    loss = logistic_loss(X, w, t, b=b)
    return Derivation(
        "D5b",
        "Derivative with respect to the intercept",
        "The intercept's derivative is the sum of the residuals sigma(z_i) - t_i.",
        lhs=sp.Derivative(loss, b),
        rhs=sp.Add(*[Sigmoid(z[i]) - t[i] for i in range(n)]),
        display_lhs=r"\frac{\partial \ell}{\partial b}",
        display_rhs=r"\mathbf 1^{\mathsf T}\left(\sigma(z) - t\right)",
        scope=one_size(N=n, D=d),
    )


def s_matrix(z: sp.Matrix) -> sp.Matrix:
    """S = diag(sigma(z_i)(1 - sigma(z_i)))."""
    return sp.diag(*[Sigmoid(zi) * (1 - Sigmoid(zi)) for zi in z])


def logistic_hessian(n: int = 4, d: int = 3) -> Derivation:
    r"""D6a. :math:`\nabla^2_w\ell = X^{\mathsf T}SX`, :math:`S=\operatorname{diag}(\sigma(z_i)(1-\sigma(z_i)))`."""
    check_size(n, "n")
    check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    loss = logistic_loss(X, w, t)
    return Derivation(
        "D6a",
        "Hessian of the logistic loss",
        "The Hessian is X^T S X with S = diag(sigma_i (1 - sigma_i)).",
        lhs=sp.hessian(loss, list(w)),
        rhs=X.T * s_matrix(X * w) * X,
        display_lhs=r"\nabla^{2}_{w}\,\ell(w)",
        display_rhs=r"X^{\mathsf T} S X,\quad S = \operatorname{diag}\big(\sigma(z_i)(1-\sigma(z_i))\big)",
        scope=one_size(N=n, D=d),
    )


def hessian_quadratic_form(n: int = 4, d: int = 3) -> Derivation:
    r"""D6b. :math:`u^{\mathsf T}X^{\mathsf T}SXu = \sum_i s_i (x_i^{\mathsf T}u)^2` (a sum of squares).

    With every :math:`s_i = \sigma_i(1-\sigma_i) > 0` this shows :math:`H \succeq 0`: the
    loss is convex.
    """
    check_size(n, "n")
    check_size(d, "d")
    X = symbolic_matrix("x", n, d)
    u = symbolic_matrix("u", d, 1)
    s = symbolic_matrix("s", n, 1, positive=True)
    S = sp.diag(*s)
    return Derivation(
        "D6b",
        "The Hessian's quadratic form is a sum of squares",
        "u^T X^T S X u = sum_i s_i (x_i^T u)^2 >= 0, so the Hessian is positive semi-definite.",
        lhs=(u.T * X.T * S * X * u)[0, 0],
        rhs=sp.Add(*[s[i] * ((X[i, :] * u)[0, 0]) ** 2 for i in range(n)]),
        display_lhs=r"u^{\mathsf T} X^{\mathsf T} S X u",
        display_rhs=r"\sum_{i} s_i \left(x_i^{\mathsf T} u\right)^{2}",
        scope=one_size(N=n, D=d),
    )


def hessian_psd(n: int = 4, d: int = 3) -> Derivation:
    r"""D6c. :math:`u^{\mathsf T}\nabla^2\ell(w)\,u \ge 0` for all ``X, w, u`` (checked at random rationals)."""
    check_size(n, "n")
    check_size(d, "d")
    X, w, _ = symbolic_data(n, d)
    u = symbolic_matrix("u", d, 1)
    return Derivation(
        "D6c",
        "The logistic loss is convex",
        "u^T H u >= 0 at every X, w and direction u.",
        lhs=(u.T * X.T * s_matrix(X * w) * X * u)[0, 0],
        rhs=sp.Integer(0),
        relation=">=",
        display_lhs=r"u^{\mathsf T}\,\nabla^{2}_{w}\ell(w)\,u",
        scope=one_size(N=n, D=d),
    )
