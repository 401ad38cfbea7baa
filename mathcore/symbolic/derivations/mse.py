"""D7: mean squared error on a sigmoid output, against cross-entropy."""

from __future__ import annotations

import sympy as sp

from ..expressions import (
    Sigmoid,
    Softplus,
)
from .base import Derivation, DerivationGroup, real

__all__ = [
    "mse_sigmoid_gradient",
    "mse_vanishing_limit",
    "cross_entropy_limit",
    "mse_vanishing_limits",
    "mse_second_derivative",
    "mse_inflection_point",
    "mse_negative_curvature",
    "cross_entropy_second_derivative",
]


# ---------------------------------------------------------------------------
# D7. MSE on a sigmoid output
# ---------------------------------------------------------------------------


def mse_sigmoid_gradient() -> Derivation:
    r"""D7a. For :math:`E=\tfrac12(\sigma(wx+b)-t)^2`: :math:`(\partial_w E, \partial_b E) = (\sigma-t)\sigma(1-\sigma)\,(x, 1)`.

    Compared with cross-entropy (``(sigma - t) x``) there is an extra factor
    :math:`\sigma(1-\sigma)\le\tfrac14`, which vanishes when the sigmoid saturates.
    """
    w, x, b, t = real("w", "x", "b", "t")
    s = Sigmoid(w * x + b)
    E = sp.Rational(1, 2) * (s - t) ** 2
    factor = (s - t) * s * (1 - s)
    return Derivation(
        "D7a",
        "Gradient of MSE on a sigmoid",
        "The squared-error gradient carries an extra factor sigma(1 - sigma).",
        lhs=sp.Matrix([sp.Derivative(E, w), sp.Derivative(E, b)]),
        rhs=sp.Matrix([factor * x, factor]),
    )


def mse_vanishing_limit() -> Derivation:
    r"""D7b. For ``t = 1``: :math:`\lim_{z\to-\infty}\frac{d}{dz}\tfrac12(\sigma(z)-1)^2 = 0` (vanishing gradient)."""
    z = real("z")
    return Derivation(
        "D7b",
        "MSE gradient vanishes when confidently wrong",
        "With t = 1 and z -> -infinity, the MSE gradient tends to 0 although the prediction is wrong.",
        lhs=sp.Limit(sp.Derivative(sp.Rational(1, 2) * (Sigmoid(z) - 1) ** 2, z), z, -sp.oo),
        rhs=sp.Integer(0),
    )


def cross_entropy_limit() -> Derivation:
    r"""D7c. For ``t = 1``: :math:`\lim_{z\to-\infty}\frac{d}{dz}[\operatorname{softplus}(z)-z] = -1`."""
    z = real("z")
    return Derivation(
        "D7c",
        "Cross-entropy gradient stays large when confidently wrong",
        "With t = 1 and z -> -infinity, the cross-entropy gradient tends to -1.",
        lhs=sp.Limit(sp.Derivative(Softplus(z) - z, z), z, -sp.oo),
        rhs=sp.Integer(-1),
    )


def mse_vanishing_limits() -> DerivationGroup:
    """D7b and D7c side by side: MSE's gradient vanishes, cross-entropy's does not."""
    return DerivationGroup(
        "D7 limits", "Confidently wrong: MSE vs cross-entropy",
        (mse_vanishing_limit(), cross_entropy_limit()),
    )


def mse_second_derivative() -> Derivation:
    r"""D7d. For ``t = 1``: :math:`\frac{d^2}{dz^2}\tfrac12(\sigma-1)^2 = \sigma(1-\sigma)^2(3\sigma-1)`.

    Negative when :math:`\sigma < 1/3`, i.e. :math:`z < -\ln 2`: MSE on a sigmoid is
    not convex.
    """
    z = real("z")
    s = Sigmoid(z)
    return Derivation(
        "D7d",
        "Curvature of MSE on a sigmoid",
        "The second derivative of (sigma - 1)^2/2 is sigma(1 - sigma)^2 (3 sigma - 1).",
        lhs=sp.Derivative(sp.Rational(1, 2) * (s - 1) ** 2, (z, 2)),
        rhs=s * (1 - s) ** 2 * (3 * s - 1),
    )


def mse_inflection_point() -> Derivation:
    r"""D7e. :math:`\sigma(-\ln 2) = \tfrac13`: the curvature changes sign at :math:`z=-\ln 2`."""
    return Derivation(
        "D7e",
        "Where the MSE curvature changes sign",
        "sigma(-ln 2) = 1/3, so the MSE curvature is negative for z < -ln 2.",
        lhs=Sigmoid(-sp.log(2)),
        rhs=sp.Rational(1, 3),
    )


def mse_negative_curvature() -> Derivation:
    r"""D7f. At ``t = 1, z = -3``: :math:`\frac{d^2}{dz^2}\tfrac12(\sigma-t)^2 \approx -0.0369 < 0`."""
    z, t = real("z", "t")
    d2 = sp.Derivative(sp.Rational(1, 2) * (Sigmoid(z) - t) ** 2, (z, 2))
    return Derivation(
        "D7f",
        "MSE is not convex",
        "At t = 1, z = -3 the MSE second derivative is negative (about -0.0369).",
        lhs=sp.Subs(d2, (t, z), (1, -3)),
        rhs=sp.Integer(0),
        relation="<",
    )


def cross_entropy_second_derivative() -> Derivation:
    r"""D7g. :math:`\frac{d^2}{dz^2}[\operatorname{softplus}(z) - tz] = \sigma(1-\sigma) \ge 0` (convex)."""
    z, t = real("z", "t")
    s = Sigmoid(z)
    return Derivation(
        "D7g",
        "Curvature of cross-entropy",
        "The cross-entropy second derivative sigma(1 - sigma) is never negative.",
        lhs=sp.Derivative(Softplus(z) - t * z, (z, 2)),
        rhs=s * (1 - s),
    )
