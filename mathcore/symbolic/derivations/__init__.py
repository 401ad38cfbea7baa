r"""The course's derivations D1-D17 as checkable SymPy objects.

Each function returns a ``Derivation`` (one claim ``lhs = rhs``, or ``!=``,
``<``, ``>``, ...) or a ``DerivationGroup`` (several claims shown and checked
together).  In a notebook one line is enough::

    from IPython.display import Math
    import mathcore.symbolic as ms
    d = ms.sigmoid_derivative()
    Math(d.latex())        # \frac{d}{dz}\sigma(z) = \frac{e^{-z}}{(1+e^{-z})^2} = \sigma(z)(1-\sigma(z))
    d.verify()             # VerifyResult(holds=True, method='simplify', ...)

How a claim is checked: the named functions ``Sigmoid``/``Softplus`` used for display
are replaced by their definitions, unevaluated ``Derivative``/``Limit``/``Subs`` are
evaluated by SymPy, and then ``verify`` proves the identity with ``simplify`` or,
if that fails, checks it at random rational points with 50 digits.  Inequalities are
checked numerically at random rational points (or exactly at the given numbers).

Keys follow the order in which the course derives the results (``"D7d"`` is the fourth
SymPy check of D7).  ``DERIVATIONS["D7"]()`` builds the whole group.
"""

from __future__ import annotations

import functools

from . import matrix, mse, networks, optimisation, scalar, softmax  # noqa: E402  (their __all__)
from .base import Derivation, DerivationGroup
from .matrix import (
    hessian_psd,
    hessian_quadratic_form,
    logistic_bias_gradient,
    logistic_gradient_matrix,
    logistic_hessian,
    weighted_gradient_matrix,
)
from .mse import (
    cross_entropy_limit,
    cross_entropy_second_derivative,
    mse_inflection_point,
    mse_negative_curvature,
    mse_second_derivative,
    mse_sigmoid_gradient,
    mse_vanishing_limit,
    mse_vanishing_limits,  # noqa: F401 (re-exported: in mse.__all__)
)
from .networks import (
    affine_collapse,
    chain_rule_cancellation,
    relu_derivative,
    relu_derivative_values,
    single_sample_gradient,
    single_sample_stationarity,
)
from .optimisation import (
    SEPARABLE_TOY,  # noqa: F401 (re-exported: in optimisation.__all__)
    coordinate_split_counterexample,
    coordinate_split_gradient,
    l2_finite_minimiser,
    l2_gradient_hessian,
    log_odds,
    newton_equals_irls,
    newton_equals_irls_general,
    odds_ratio,
    separable_no_mle,
)
from .scalar import (
    bernoulli_nll_softplus_form,
    bernoulli_product_form,
    logit_derivative,
    logit_inverse,
    logit_of_sigmoid,
    sigmoid_derivative,
    sigmoid_midpoint_slope,
    sigmoid_second_derivative,
    sigmoid_slope_at_zero,
    sigmoid_slope_bound,
    sigmoid_symmetry,
    sigmoid_tanh_form,
    softplus_difference,
    stable_softplus,
)
from .softmax import (
    softmax_batch_gradient,
    softmax_ce_gradient,
    softmax_ce_log_sum_exp,
    softmax_jacobian,
    softmax_shift_invariance,
    softmax_sums_to_one,
    two_class_softmax,
)

__all__ = [
    "Derivation",
    "DerivationGroup",
    "DERIVATIONS",
    "derivation_group",
    *scalar.__all__,
    *matrix.__all__,
    *mse.__all__,
    *softmax.__all__,
    *networks.__all__,
    *optimisation.__all__,
]

def _flatten(builders):
    items = []
    for build in builders:
        result = build()
        items.extend(result if isinstance(result, DerivationGroup) else [result])
    return tuple(items)


def _group(key: str, title: str, builders: tuple) -> DerivationGroup:
    return DerivationGroup(key, title, _flatten(builders))


_REGISTRY = {
    "D1": ("Sigmoid and its derivative", (
        sigmoid_derivative, sigmoid_second_derivative, sigmoid_slope_at_zero,
        sigmoid_slope_bound, sigmoid_midpoint_slope,
    )),
    "D2": ("Symmetry and the tanh form", (sigmoid_symmetry, sigmoid_tanh_form)),
    "D3": ("Logit is the inverse of the sigmoid", (
        logit_inverse, logit_of_sigmoid, logit_derivative,
    )),
    "D4": ("Bernoulli likelihood and the stable NLL", (
        bernoulli_nll_softplus_form, softplus_difference, stable_softplus, bernoulli_product_form,
    )),
    "D5": ("Gradient in matrix form", (logistic_gradient_matrix, logistic_bias_gradient, weighted_gradient_matrix)),
    "D6": ("Hessian and convexity", (logistic_hessian, hessian_quadratic_form, hessian_psd)),
    "D7": ("MSE with a sigmoid", (
        mse_sigmoid_gradient, mse_vanishing_limit, cross_entropy_limit, mse_second_derivative,
        mse_inflection_point, mse_negative_curvature, cross_entropy_second_derivative,
    )),
    "D8": ("Softmax and its Jacobian", (
        softmax_jacobian, softmax_sums_to_one, softmax_shift_invariance,
    )),
    "D9": ("Softmax cross-entropy and its gradient", (
        softmax_ce_gradient, softmax_ce_log_sum_exp, softmax_batch_gradient,
    )),
    "D10": ("Two-class softmax is the sigmoid", (two_class_softmax,)),
    "D11": ("ReLU, its derivative, and collapsing affine layers", (
        relu_derivative, relu_derivative_values, affine_collapse,
    )),
    "D12": ("The one-sample chain rule done correctly", (
        single_sample_gradient, chain_rule_cancellation, single_sample_stationarity,
    )),
    "D13": ("Newton-Raphson = IRLS", (newton_equals_irls, newton_equals_irls_general)),
    "D14": ("Separable data: no MLE", (separable_no_mle,)),
    "D15": ("L2-regularised logistic regression", (l2_gradient_hessian, l2_finite_minimiser)),
    "D16": ("Log-odds", (log_odds, odds_ratio)),
    "D17": ("The loss does not split over coordinates", (
        coordinate_split_counterexample, coordinate_split_gradient,
    )),
}

#: ``DERIVATIONS["D7"]()`` builds every claim of D7 as a ``DerivationGroup``.
DERIVATIONS = {
    key: functools.partial(_group, key, title, builders)
    for key, (title, builders) in _REGISTRY.items()
}


def derivation_group(key: str) -> DerivationGroup:
    """Build the group of derivations ``key`` (``"D1"`` ... ``"D17"``).

    Parameters
    ----------
    key : str

    Returns
    -------
    DerivationGroup

    Raises
    ------
    ValueError
        If ``key`` is unknown.

    Examples
    --------
    >>> group = derivation_group("D2")
    >>> group.keys()
    ['D2a', 'D2b']
    """
    if key not in DERIVATIONS:
        raise ValueError(f"key: expected one of {list(DERIVATIONS)}, got {key!r}")
    return DERIVATIONS[key]()
