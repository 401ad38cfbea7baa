"""D13-D17: Newton = IRLS, separable data, the L2 penalty, log-odds, a negative test."""

from __future__ import annotations

import random

import sympy as sp

from ..expressions import (
    Sigmoid,
    Softplus,
    l2_penalty,
    logistic_loss,
    symbolic_data,
)
from .base import Derivation, DerivationGroup, check_size, one_size, real
from .matrix import s_matrix

__all__ = [
    "newton_equals_irls",
    "newton_equals_irls_general",
    "separable_no_mle",
    "l2_gradient_hessian",
    "l2_finite_minimiser",
    "log_odds",
    "odds_ratio",
    "coordinate_split_counterexample",
    "coordinate_split_gradient",
    "SEPARABLE_TOY",
]


# ---------------------------------------------------------------------------
# D13. Newton-Raphson = IRLS
# ---------------------------------------------------------------------------


def newton_equals_irls(n: int = 5, d: int = 2, seed: int = 0) -> Derivation:
    r"""D13. :math:`w - (X^{\mathsf T}SX)^{-1}X^{\mathsf T}(p-t) = (X^{\mathsf T}SX)^{-1}X^{\mathsf T}S\zeta`, :math:`\zeta = Xw - S^{-1}(p-t)`.

    One Newton step is a weighted least-squares solve with weights
    :math:`s_i = p_i(1-p_i)` and working response :math:`\zeta`.  The identity is
    purely algebraic, so it is checked in exact rational arithmetic with random
    ``X``, ``w``, labels ``t`` and rational stand-ins ``p_i`` in (0, 1) for
    :math:`\sigma(z_i)`.

    Parameters
    ----------
    n, d : int
        Sizes of the random instance (``n >= d``).
    seed : int
        Seed of the random rationals.
    """
    check_size(n, "n", high=20)
    check_size(d, "d")
    if n < d:
        raise ValueError(f"n: expected n >= d = {d} so that X^T S X is invertible, got {n}")
    rng = random.Random(seed)

    def rational():
        return sp.Rational(rng.randint(-9, 9), rng.randint(1, 9))

    while True:
        X = sp.Matrix(n, d, lambda i, j: rational())
        if (X.T * X).det() != 0:
            break
    w = sp.Matrix(d, 1, lambda i, j: rational())
    t = sp.Matrix(n, 1, lambda i, j: rng.randint(0, 1))
    p = sp.Matrix(n, 1, lambda i, j: sp.Rational(rng.randint(1, 19), 20))
    S = sp.diag(*[pi * (1 - pi) for pi in p])
    H = X.T * S * X
    zeta = X * w - S.inv() * (p - t)
    return Derivation(
        "D13a",
        "Newton's step is iteratively reweighted least squares",
        "A Newton step solves a weighted least-squares problem with weights p(1-p).",
        lhs=w - H.inv() * X.T * (p - t),
        rhs=H.inv() * X.T * S * zeta,
        display_lhs=r"w - \left(X^{\mathsf T} S X\right)^{-1} X^{\mathsf T}(p - t)",
        display_rhs=r"\left(X^{\mathsf T} S X\right)^{-1} X^{\mathsf T} S\,\zeta,"
        r"\quad \zeta = Xw - S^{-1}(p - t)",
        scope=f"on one random {n} x {d} instance with rational entries (seed {seed}), not for every X",
    )


def newton_equals_irls_general() -> Derivation:
    r"""D13b. The Newton/IRLS identity for every size: ``X`` is ``n x d`` with ``n``, ``d`` symbols.

    With :math:`H = X^{\mathsf T}SX` and :math:`\zeta = Xw - S^{-1}r`, :math:`r = p - t`:
    :math:`H^{-1}X^{\mathsf T}S\zeta = H^{-1}X^{\mathsf T}SXw - H^{-1}X^{\mathsf T}SS^{-1}r = w - H^{-1}X^{\mathsf T}r`.
    Proved by matrix algebra (``S`` and ``H`` invertible, i.e. every :math:`s_i > 0` and ``X`` of
    full column rank), not checked at points.
    """
    n, d = sp.symbols("n d", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, d)
    S = sp.MatrixSymbol("S", n, n)
    w = sp.MatrixSymbol("w", d, 1)
    r = sp.MatrixSymbol("r", n, 1)  # the residual p - t
    H = X.T * S * X
    return Derivation(
        "D13b",
        "Newton's step is weighted least squares, for every size",
        "For any invertible S and X^T S X, w - (X^T S X)^-1 X^T r = (X^T S X)^-1 X^T S (X w - S^-1 r).",
        lhs=w - H.I * X.T * r,
        rhs=H.I * X.T * S * (X * w - S.I * r),
        display_lhs=r"w - \left(X^{\mathsf T} S X\right)^{-1} X^{\mathsf T}(p - t)",
        display_rhs=r"\left(X^{\mathsf T} S X\right)^{-1} X^{\mathsf T} S\left(Xw - S^{-1}(p - t)\right)",
    )


# ---------------------------------------------------------------------------
# D14. Separable data: no maximum-likelihood estimate
# ---------------------------------------------------------------------------

#: The 1-D separable toy data set of D14/D15: pairs (x, t).
SEPARABLE_TOY = ((-2, 0), (-1, 0), (1, 1), (3, 1))


def _toy_loss(w):
    return sp.Add(*[Softplus(w * x) - t * w * x for x, t in SEPARABLE_TOY])


def separable_no_mle() -> DerivationGroup:
    r"""D14. On separable data the loss along :math:`w = c\,u` decreases to 0 but never reaches it.

    Toy data :math:`\{(-2,0),(-1,0),(1,1),(3,1)\}`, no intercept:
    :math:`L(c) = \sum_i \operatorname{softplus}(c x_i) - t_i c x_i`.

    Returns
    -------
    DerivationGroup
        D14a: :math:`L'(c) < 0` at :math:`c \in \{1/10, 1, 5, 20\}`;
        D14b: :math:`\lim_{c\to\infty}L(c) = 0`;
        D14c: :math:`L(c) > 0` (checked at random ``c``).
    """
    c = sp.Symbol("c", positive=True)
    L = _toy_loss(c)
    points = [sp.Rational(1, 10), 1, 5, 20]
    items = (
        Derivation(
            "D14a",
            "The loss keeps decreasing",
            "L'(c) < 0 at c = 1/10, 1, 5, 20: a longer w always fits better.",
            lhs=sp.Matrix([sp.Subs(sp.Derivative(L, c), c, v) for v in points]),
            rhs=sp.zeros(len(points), 1),
            relation="<",
        ),
        Derivation(
            "D14b",
            "The loss tends to 0",
            "L(c) -> 0 as c -> infinity.",
            lhs=sp.Limit(L, c, sp.oo),
            rhs=sp.Integer(0),
        ),
        Derivation(
            "D14c",
            "The infimum is not attained",
            "L(c) > 0 for every finite c, so no finite w minimises the loss.",
            lhs=L,
            rhs=sp.Integer(0),
            relation=">",
        ),
    )
    return DerivationGroup("D14", "Separable data: the MLE does not exist", items)


# ---------------------------------------------------------------------------
# D15. L2-regularised logistic regression
# ---------------------------------------------------------------------------


def l2_gradient_hessian(n: int = 3, d: int = 2) -> DerivationGroup:
    r"""D15a-b. Gradient and Hessian of :math:`\ell_\lambda = \ell + \tfrac\lambda2\lVert w\rVert^2`.

    :math:`\nabla\ell_\lambda = X^{\mathsf T}(\sigma(Xw)-t) + \lambda w` and
    :math:`\nabla^2\ell_\lambda = X^{\mathsf T}SX + \lambda I \succ 0`.  ``lambda = 1/C`` in
    scikit-learn's terms; the intercept (not present here) is not penalised.
    """
    check_size(n, "n")
    check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    lam = sp.Symbol("lambda", positive=True)
    loss = logistic_loss(X, w, t) + l2_penalty(w, lam)
    items = (
        Derivation(
            "D15a",
            "Gradient of the L2-penalised loss",
            "The penalty adds lambda w to the gradient.",
            lhs=sp.Matrix([sp.diff(loss, wj) for wj in w]),
            rhs=X.T * ((X * w).applyfunc(Sigmoid) - t) + lam * w,
            display_lhs=r"\nabla_{w}\,\ell_{\lambda}(w)",
            display_rhs=r"X^{\mathsf T}\left(\sigma(Xw) - t\right) + \lambda w",
            scope=one_size(N=n, D=d),
        ),
        Derivation(
            "D15b",
            "Hessian of the L2-penalised loss",
            "The penalty adds lambda I to the Hessian, making it positive definite.",
            lhs=sp.hessian(loss, list(w)),
            rhs=X.T * s_matrix(X * w) * X + lam * sp.eye(d),
            display_lhs=r"\nabla^{2}_{w}\,\ell_{\lambda}(w)",
            display_rhs=r"X^{\mathsf T} S X + \lambda I",
            scope=one_size(N=n, D=d),
        ),
    )
    return DerivationGroup("D15 gradient", "L2-penalised gradient and Hessian", items)


def l2_finite_minimiser() -> DerivationGroup:
    r"""D15c-d. With :math:`\lambda = 1` the separable toy of D14 has a finite minimiser.

    :math:`\ell_1(w) = L(w) + w^2/2`: its derivative is negative at ``w = 1/10`` and
    positive at ``w = 10``, so it vanishes in between.
    """
    w = real("w")
    derivative = sp.Derivative(_toy_loss(w) + w**2 / 2, w)
    items = (
        Derivation(
            "D15c",
            "Penalised slope at w = 1/10",
            "The penalised loss still decreases at w = 1/10 ...",
            lhs=sp.Subs(derivative, w, sp.Rational(1, 10)),
            rhs=sp.Integer(0),
            relation="<",
        ),
        Derivation(
            "D15d",
            "Penalised slope at w = 10",
            "... and increases at w = 10, so a finite minimiser lies in between.",
            lhs=sp.Subs(derivative, w, 10),
            rhs=sp.Integer(0),
            relation=">",
        ),
    )
    return DerivationGroup("D15 minimiser", "L2 restores a finite minimiser", items)


# ---------------------------------------------------------------------------
# D16. Log-odds
# ---------------------------------------------------------------------------


def log_odds() -> Derivation:
    r"""D16a. :math:`\log\frac{\sigma(z)}{1-\sigma(z)} = z`."""
    z = real("z")
    s = Sigmoid(z)
    return Derivation(
        "D16a",
        "The score is the log-odds",
        "log(sigma/(1 - sigma)) = z: logistic regression is linear in the log-odds.",
        lhs=sp.log(s / (1 - s)),
        rhs=z,
    )


def odds_ratio() -> Derivation:
    r"""D16b. Raising :math:`x_d` by one unit multiplies the odds by :math:`e^{w_d}`.

    :math:`\frac{\sigma(z+w_d)/(1-\sigma(z+w_d))}{\sigma(z)/(1-\sigma(z))} = e^{w_d}`.
    """
    z, w_d = real("z", "w_d")

    def odds(a):
        return Sigmoid(a) / (1 - Sigmoid(a))

    return Derivation(
        "D16b",
        "Odds ratio of one unit",
        "One more unit of feature d multiplies the odds by e^{w_d}.",
        lhs=odds(z + w_d) / odds(z),
        rhs=sp.exp(w_d),
    )


# ---------------------------------------------------------------------------
# D17. Negative test: the loss does not split over coordinates
# ---------------------------------------------------------------------------


def coordinate_split_counterexample() -> Derivation:
    r"""D17a. :math:`\log(1+e^{w_1x_1+w_2x_2}) \neq \log(1+e^{w_1x_1}) + \log(1+e^{w_2x_2})`.

    A claim of *inequality*: ``verify()`` holds when a counterexample is found and
    reports it.  For instance at :math:`(w_1,w_2,x_1,x_2) = (1,-2,\tfrac12,3)` the
    left side is 0.00408 and the right side 0.97655.
    """
    w1, w2, x1, x2 = real("w_1", "w_2", "x_1", "x_2")
    return Derivation(
        "D17a",
        "The loss does not split over coordinates",
        "softplus(w1 x1 + w2 x2) is not softplus(w1 x1) + softplus(w2 x2).",
        lhs=Softplus(w1 * x1 + w2 * x2),
        rhs=Softplus(w1 * x1) + Softplus(w2 * x2),
        relation="!=",
    )


def coordinate_split_gradient() -> Derivation:
    r"""D17b. :math:`\frac{\partial}{\partial w_1}\log(1+e^{w_1x_1+w_2x_2}) = x_1\,\sigma(w_1x_1+w_2x_2)`.

    Each partial derivative depends on *all* weights through ``z``.
    """
    w1, w2, x1, x2 = real("w_1", "w_2", "x_1", "x_2")
    z = w1 * x1 + w2 * x2
    return Derivation(
        "D17b",
        "Each partial derivative sees the whole score",
        "d/dw1 softplus(w1 x1 + w2 x2) = x1 sigma(w1 x1 + w2 x2).",
        lhs=sp.Derivative(Softplus(z), w1),
        rhs=x1 * Sigmoid(z),
    )
