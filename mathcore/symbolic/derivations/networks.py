"""D11-D12: ReLU, collapsing affine layers and the one-sample chain rule."""

from __future__ import annotations

import sympy as sp

from ..expressions import (
    Sigmoid,
    Softplus,
)
from .base import Derivation, DerivationGroup, check_size, one_size, real

__all__ = [
    "relu_derivative",
    "relu_derivative_values",
    "affine_collapse",
    "single_sample_gradient",
    "chain_rule_cancellation",
    "single_sample_stationarity",
]


# ---------------------------------------------------------------------------
# D11. ReLU
# ---------------------------------------------------------------------------


def relu_derivative() -> Derivation:
    r"""D11a. :math:`\frac{d}{dz}\max(0,z) = 1` for :math:`z>0` and :math:`0` for :math:`z<0`.

    Undefined at :math:`z = 0` (the subdifferential there is :math:`[0, 1]`).  SymPy
    returns ``Heaviside(z)``, whose value at 0 is 1/2, while PyTorch uses 0: never
    rely on the value at the kink.  The check samples non-zero points only.
    """
    z = real("z")
    return Derivation(
        "D11a",
        "Derivative of ReLU away from 0",
        "ReLU's derivative is 1 for z > 0 and 0 for z < 0 (undefined at 0).",
        lhs=sp.Derivative(sp.Max(0, z), z),
        rhs=sp.Piecewise((0, z < 0), (1, z > 0)),
    )


def relu_derivative_values() -> Derivation:
    r"""D11b. SymPy's :math:`\frac{d}{dz}\max(0,z)` at :math:`\tfrac13, 2, 17, -\tfrac13, -2, -17` is ``1, 1, 1, 0, 0, 0``."""
    z = real("z")
    points = [sp.Rational(1, 3), 2, 17, -sp.Rational(1, 3), -2, -17]
    derivative = sp.Derivative(sp.Max(0, z), z)
    return Derivation(
        "D11b",
        "ReLU derivative at sample points",
        "At positive points the derivative is 1, at negative points 0.",
        lhs=sp.Matrix([sp.Subs(derivative, z, v) for v in points]),
        rhs=sp.Matrix([1, 1, 1, 0, 0, 0]),
    )


def affine_collapse(d_in: int = 2, hidden: int = 3, d_out: int = 2) -> Derivation:
    r"""D11c. :math:`W_2(W_1x+b_1)+b_2 = (W_2W_1)x + (W_2b_1+b_2)`: without a nonlinearity two layers are one."""
    for name, value in (("d_in", d_in), ("hidden", hidden), ("d_out", d_out)):
        check_size(value, name)
    W1 = sp.MatrixSymbol("W_1", hidden, d_in)
    b1 = sp.MatrixSymbol("b_1", hidden, 1)
    W2 = sp.MatrixSymbol("W_2", d_out, hidden)
    b2 = sp.MatrixSymbol("b_2", d_out, 1)
    x = sp.MatrixSymbol("x", d_in, 1)
    return Derivation(
        "D11c",
        "Affine layers collapse",
        "Two affine layers without an activation equal one affine layer.",
        lhs=W2 * (W1 * x + b1) + b2,
        rhs=(W2 * W1) * x + (W2 * b1 + b2),
        display_rhs=r"\left(W_{2} W_{1}\right) x + \left(W_{2} b_{1} + b_{2}\right)",
        scope=one_size(inputs=d_in, hidden=hidden, outputs=d_out),
    )


# ---------------------------------------------------------------------------
# D12. The one-sample chain rule, and why its stationarity equation has no solution
# ---------------------------------------------------------------------------


def single_sample_gradient() -> Derivation:
    r"""D12a. :math:`\frac{\partial}{\partial w}\left[-t\,wx + \ln(1+e^{wx})\right] = -tx + \frac{xe^{wx}}{1+e^{wx}} = x(\sigma(wx)-t)`."""
    w, x, t = real("w", "x", "t")
    return Derivation(
        "D12a",
        "One-sample gradient",
        "For one sample the derivative is x (sigma(wx) - t): error times input.",
        lhs=sp.Derivative(-t * w * x + Softplus(w * x), w),
        rhs=x * (Sigmoid(w * x) - t),
        steps=(-t * x + x * sp.exp(w * x) / (1 + sp.exp(w * x)),),
    )


def chain_rule_cancellation() -> Derivation:
    r"""D12b. :math:`\left(-\frac tp + \frac{1-t}{1-p}\right)p(1-p)\,x = (p-t)\,x`.

    The :math:`1/(p(1-p))` from the log cancels the sigmoid's slope :math:`p(1-p)`.
    """
    t, x = real("t", "x")
    p = sp.Symbol("p", positive=True)
    return Derivation(
        "D12b",
        "The chain-rule factors cancel",
        "dl/dp * dp/dz * dz/dw = (p - t) x: the sigmoid's slope cancels.",
        lhs=(-t / p + (1 - t) / (1 - p)) * p * (1 - p) * x,
        rhs=(p - t) * x,
        # kept unevaluated, so that the display shows the factor p(1 - p) in the
        # denominator next to the one it cancels (SymPy would cancel them at once)
        steps=(sp.Mul(sp.Mul(p - t, sp.Pow(sp.Mul(p, 1 - p), -1, evaluate=False), evaluate=False),
                      sp.Mul(p, 1 - p), x, evaluate=False),),
    )


def single_sample_stationarity() -> DerivationGroup:
    r"""D12c-h. Setting the one-sample derivative to zero (``t = 1``) has no solution.

    :math:`x(\sigma(a) - 1) = 0` with :math:`x\ne0` needs :math:`e^{a} = 1 + e^{a}`,
    i.e. :math:`0 = 1`: the solution set is empty (D12c).  Instead the one-sample
    loss :math:`\operatorname{softplus}(a) - a = \operatorname{softplus}(-a)` (D12d) is
    positive (D12g), strictly decreasing (D12f, D12h) and tends to 0 (D12e): its
    infimum 0 is never attained, so there is no finite minimiser.

    Returns
    -------
    DerivationGroup
        D12c (the ``solveset`` result is ``EmptySet``), D12d, D12e, D12f, D12g, D12h.
    """
    a = real("a")
    condition = sp.Eq(sp.exp(a), 1 + sp.exp(a), evaluate=False)
    items = (
        Derivation(
            "D12c",
            "The stationarity equation has no solution",
            "e^a = 1 + e^a has no real solution (it says 0 = 1).",
            lhs=sp.ConditionSet(a, condition, sp.S.Reals),
            rhs=sp.S.EmptySet,
        ),
        Derivation(
            "D12d",
            "One positive sample's loss",
            "For t = 1 the loss softplus(a) - a equals softplus(-a).",
            lhs=Softplus(a) - a,
            rhs=Softplus(-a),
        ),
        Derivation(
            "D12e",
            "The loss tends to 0",
            "softplus(-a) -> 0 as a -> infinity.",
            lhs=sp.Limit(Softplus(-a), a, sp.oo),
            rhs=sp.Integer(0),
        ),
        Derivation(
            "D12f",
            "Slope of the one-sample loss",
            "d/da softplus(-a) = -sigma(-a).",
            lhs=sp.Derivative(Softplus(-a), a),
            rhs=-Sigmoid(-a),
        ),
        Derivation(
            "D12g",
            "The loss is positive",
            "softplus(-a) > 0 for every a: the infimum 0 is not attained.",
            lhs=Softplus(-a),
            rhs=sp.Integer(0),
            relation=">",
        ),
        Derivation(
            "D12h",
            "The loss is strictly decreasing",
            "-sigma(-a) < 0 for every a.",
            lhs=-Sigmoid(-a),
            rhs=sp.Integer(0),
            relation="<",
        ),
    )
    return DerivationGroup("D12 stationarity", "No finite minimiser for one sample", items)
