"""D1-D4: the sigmoid, the logit, softplus and the Bernoulli likelihood."""

from __future__ import annotations

import sympy as sp

from ..expressions import (
    Sigmoid,
    Softplus,
    logit,
)
from .base import Derivation, real

__all__ = [
    "sigmoid_derivative",
    "sigmoid_second_derivative",
    "sigmoid_slope_at_zero",
    "sigmoid_slope_bound",
    "sigmoid_midpoint_slope",
    "sigmoid_symmetry",
    "sigmoid_tanh_form",
    "logit_inverse",
    "logit_of_sigmoid",
    "logit_derivative",
    "bernoulli_nll_softplus_form",
    "softplus_difference",
    "stable_softplus",
    "bernoulli_product_form",
]


# ---------------------------------------------------------------------------
# D1. Sigmoid and its derivative
# ---------------------------------------------------------------------------


def sigmoid_derivative() -> Derivation:
    r"""D1a. :math:`\sigma'(z) = \frac{e^{-z}}{(1+e^{-z})^2} = \sigma(z)(1-\sigma(z))`."""
    z = real("z")
    return Derivation(
        "D1a",
        "Derivative of the sigmoid",
        "The slope of the sigmoid is sigma(z)(1 - sigma(z)): it is largest where p = 1/2.",
        lhs=sp.Derivative(Sigmoid(z), z),
        rhs=Sigmoid(z) * (1 - Sigmoid(z)),
        steps=(sp.exp(-z) / (1 + sp.exp(-z)) ** 2,),
    )


def sigmoid_second_derivative() -> Derivation:
    r"""D1b. :math:`\sigma''(z) = \sigma(z)(1-\sigma(z))(1-2\sigma(z))`."""
    z = real("z")
    s = Sigmoid(z)
    return Derivation(
        "D1b",
        "Second derivative of the sigmoid",
        "sigma'' = sigma(1 - sigma)(1 - 2 sigma), zero at z = 0 (the inflection point).",
        lhs=sp.Derivative(s, (z, 2)),
        rhs=s * (1 - s) * (1 - 2 * s),
    )


def sigmoid_slope_at_zero() -> Derivation:
    r"""D1c. :math:`\sigma'(0) = \tfrac14`."""
    z = real("z")
    return Derivation(
        "D1c",
        "Slope of the sigmoid at 0",
        "At z = 0 the sigmoid has slope 1/4.",
        lhs=sp.Subs(sp.Derivative(Sigmoid(z), z), z, 0),
        rhs=sp.Rational(1, 4),
    )


def sigmoid_slope_bound() -> Derivation:
    r"""D1d. :math:`\tfrac14 - \sigma(1-\sigma) = (\sigma - \tfrac12)^2 \ge 0`, so :math:`\max\sigma' = \tfrac14`.

    An exact sum-of-squares identity: the slope never exceeds 1/4 and equals it only
    where ``sigma = 1/2``, i.e. at ``z = 0``.
    """
    z = real("z")
    s = Sigmoid(z)
    return Derivation(
        "D1d",
        "The sigmoid's slope is at most 1/4",
        "1/4 - sigma(1 - sigma) is a square, so sigma' <= 1/4 with equality only at z = 0.",
        lhs=sp.Rational(1, 4) - s * (1 - s),
        rhs=(s - sp.Rational(1, 2)) ** 2,
    )


def sigmoid_midpoint_slope() -> Derivation:
    r"""D1e. For :math:`p(x) = \sigma(wx+b)`: at the midpoint :math:`x^*=-b/w` the slope is :math:`w/4`."""
    x, b = real("x", "b")
    w = sp.Symbol("w", real=True, nonzero=True)
    return Derivation(
        "D1e",
        "Midpoint and slope of sigma(wx + b)",
        "sigma(wx + b) crosses 1/2 at x = -b/w, where its slope is w/4.",
        lhs=sp.Subs(sp.Derivative(Sigmoid(w * x + b), x), x, -b / w),
        rhs=w / 4,
    )


# ---------------------------------------------------------------------------
# D2. Symmetry and the tanh form
# ---------------------------------------------------------------------------


def sigmoid_symmetry() -> Derivation:
    r"""D2a. :math:`\sigma(-z) = \frac{1}{1+e^{z}} = \frac{e^{-z}}{1+e^{-z}} = 1 - \sigma(z)`."""
    z = real("z")
    return Derivation(
        "D2a",
        "Symmetry of the sigmoid",
        "sigma(-z) = 1 - sigma(z): the probability of class 0 is the sigmoid of -z.",
        lhs=Sigmoid(-z),
        rhs=1 - Sigmoid(z),
        steps=(1 / (1 + sp.exp(z)), sp.exp(-z) / (1 + sp.exp(-z))),
    )


def sigmoid_tanh_form() -> Derivation:
    r"""D2b. :math:`\sigma(z) = \tfrac12\left(1 + \tanh\tfrac z2\right)`."""
    z = real("z")
    return Derivation(
        "D2b",
        "Sigmoid as a shifted tanh",
        "The sigmoid is a tanh rescaled from (-1, 1) to (0, 1).",
        lhs=Sigmoid(z),
        rhs=(1 + sp.tanh(z / 2)) / 2,
    )


# ---------------------------------------------------------------------------
# D3. Logit is the inverse of the sigmoid
# ---------------------------------------------------------------------------


def logit_inverse() -> Derivation:
    r"""D3a. :math:`\sigma(\operatorname{logit} p) = p` for :math:`p\in(0,1)`."""
    p = sp.Symbol("p", positive=True)
    return Derivation(
        "D3a",
        "The sigmoid undoes the logit",
        "sigma(log(p/(1-p))) = p for every probability p.",
        lhs=Sigmoid(logit(p)),
        rhs=p,
    )


def logit_of_sigmoid() -> Derivation:
    r"""D3b. :math:`\operatorname{logit}(\sigma(z)) = z`."""
    z = real("z")
    return Derivation(
        "D3b",
        "The logit undoes the sigmoid",
        "log(sigma(z)/(1 - sigma(z))) = z: the model is linear in the log-odds.",
        lhs=logit(Sigmoid(z)),
        rhs=z,
    )


def logit_derivative() -> Derivation:
    r"""D3c. :math:`\frac{d}{dp}\operatorname{logit} p = \frac{1}{p(1-p)}`."""
    p = sp.Symbol("p", positive=True)
    return Derivation(
        "D3c",
        "Derivative of the logit",
        "d/dp logit(p) = 1/(p(1-p)), the reciprocal of the sigmoid's slope.",
        lhs=sp.Derivative(logit(p), p),
        rhs=1 / (p * (1 - p)),
    )


# ---------------------------------------------------------------------------
# D4. Bernoulli likelihood and the stable NLL
# ---------------------------------------------------------------------------


def bernoulli_nll_softplus_form() -> Derivation:
    r"""D4a. :math:`-t\log\sigma(z)-(1-t)\log(1-\sigma(z)) = \operatorname{softplus}(z) - tz`.

    Uses :math:`-\log\sigma(z) = \operatorname{softplus}(-z) = \operatorname{softplus}(z) - z`
    and :math:`-\log(1-\sigma(z)) = \operatorname{softplus}(z)`.  Holds for every
    real ``t`` (the identity is linear in ``t``), so also for soft labels.
    """
    z, t = real("z", "t")
    s = Sigmoid(z)
    return Derivation(
        "D4a",
        "Bernoulli NLL in softplus form",
        "The negative log-likelihood of one label is softplus(z) - t z.",
        lhs=-(t * sp.log(s) + (1 - t) * sp.log(1 - s)),
        rhs=Softplus(z) - t * z,
        steps=(t * Softplus(-z) + (1 - t) * Softplus(z),),
    )


def softplus_difference() -> Derivation:
    r"""D4b. :math:`\operatorname{softplus}(z) - \operatorname{softplus}(-z) = z`."""
    z = real("z")
    return Derivation(
        "D4b",
        "Softplus difference",
        "softplus(z) - softplus(-z) = log((1 + e^z)/(1 + e^-z)) = z.",
        lhs=Softplus(z) - Softplus(-z),
        rhs=z,
    )


def stable_softplus() -> Derivation:
    r"""D4c. :math:`\max(z,0) + \log(1+e^{-|z|}) = \operatorname{softplus}(z)`.

    The left side never exponentiates a positive number, so it cannot overflow.
    Checked at random rationals of both signs (``simplify`` does not handle
    ``Max``/``Abs`` well).
    """
    z = real("z")
    return Derivation(
        "D4c",
        "Overflow-free softplus",
        "softplus(z) = max(z, 0) + log(1 + exp(-|z|)), which never overflows.",
        lhs=sp.Max(z, 0) + sp.log(1 + sp.exp(-sp.Abs(z))),
        rhs=Softplus(z),
    )


def bernoulli_product_form() -> Derivation:
    r"""D4d. :math:`\sigma(z)^t(1-\sigma(z))^{1-t} = \left(\frac{e^z}{1+e^z}\right)^t\left(\frac{1}{1+e^z}\right)^{1-t} = \frac{e^{tz}}{1+e^{z}}`."""
    z, t = real("z", "t")
    return Derivation(
        "D4d",
        "One likelihood factor",
        "Each factor of the likelihood is e^{tz}/(1 + e^z).",
        lhs=Sigmoid(z) ** t * (1 - Sigmoid(z)) ** (1 - t),
        rhs=sp.exp(t * z) / (1 + sp.exp(z)),
        steps=((sp.exp(z) / (1 + sp.exp(z))) ** t * (1 / (1 + sp.exp(z))) ** (1 - t),),
    )
