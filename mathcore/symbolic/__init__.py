r"""Symbolic mathematics for the course, with SymPy.

``import mathcore.symbolic as ms`` gives these, one module (or package) each:

* ``expressions``: the sigmoid, softplus, logit, Bernoulli
  likelihood and NLL, MSE on a sigmoid, softmax, log-sum-exp, cross-entropy, ReLU and
  L2 penalty as SymPy expressions (scalar, vector and small matrix forms).
* ``verify``: ``verify(lhs, rhs)`` proves an identity with
  ``simplify`` or checks it at random rational points with 50 digits.
* ``derivations`` and ``chain``: the
  derivations D1-D17 of the course and the chain rule as checkable objects with
  LaTeX for the book (``DERIVATIONS["D5"]()``, ``chain_rule("logistic")``).
* ``codegen``: NumPy/PyTorch code generated from the
  derivatives (``logistic_loss_gradient("torch")``).
* ``training``: the generated functions the estimators train with
  (``objective_functions("logistic", "torch")``).

Two further modules hold the checks of the later chapters and are imported by name:
``mathcore.symbolic.statistics`` (Chapter 10: Fisher information, deviance, Wald and
likelihood-ratio statistics, decision thresholds) and ``mathcore.symbolic.generative``
(Chapter 11: the LDA posterior, basis expansion, the soft threshold, implicit bias).

Examples
--------
>>> import mathcore.symbolic as ms
>>> d = ms.sigmoid_derivative()
>>> bool(d.verify())
True
>>> ms.chain_rule("logistic").product()
x_d*(p - t)
"""

from .chain import CHAIN_LOSSES, ChainFactor, ChainRule, chain_rule
from .codegen import (
    BACKENDS,
    GRADIENT_LOSSES,
    dloss_dz,
    generate,
    gradient_function,
    logistic_loss_gradient,
    to_numpy,
    to_torch,
)
from .derivations import (
    DERIVATIONS,
    SEPARABLE_TOY,
    Derivation,
    DerivationGroup,
    affine_collapse,
    bernoulli_nll_softplus_form,
    bernoulli_product_form,
    chain_rule_cancellation,
    coordinate_split_counterexample,
    coordinate_split_gradient,
    cross_entropy_limit,
    cross_entropy_second_derivative,
    derivation_group,
    hessian_psd,
    hessian_quadratic_form,
    l2_finite_minimiser,
    l2_gradient_hessian,
    log_odds,
    logistic_bias_gradient,
    logistic_gradient_matrix,
    logistic_hessian,
    logit_derivative,
    logit_inverse,
    logit_of_sigmoid,
    mse_inflection_point,
    mse_negative_curvature,
    mse_second_derivative,
    mse_sigmoid_gradient,
    mse_vanishing_limit,
    mse_vanishing_limits,
    newton_equals_irls,
    newton_equals_irls_general,
    odds_ratio,
    relu_derivative,
    relu_derivative_values,
    separable_no_mle,
    sigmoid_derivative,
    sigmoid_midpoint_slope,
    sigmoid_second_derivative,
    sigmoid_slope_at_zero,
    sigmoid_slope_bound,
    sigmoid_symmetry,
    sigmoid_tanh_form,
    single_sample_gradient,
    single_sample_stationarity,
    softmax_batch_gradient,
    softmax_ce_gradient,
    softmax_ce_log_sum_exp,
    softmax_jacobian,
    softmax_shift_invariance,
    softmax_sums_to_one,
    softplus_difference,
    stable_softplus,
    two_class_softmax,
    weighted_gradient_matrix,
)
from .expressions import (
    LOSSES,
    Sigmoid,
    Softplus,
    bernoulli_likelihood,
    bernoulli_nll,
    explicit,
    l2_penalty,
    log_sigmoid,
    log_sum_exp,
    logistic_loss,
    logit,
    mse_sigmoid,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    softplus,
    symbolic_data,
    symbolic_matrix,
)
from .training import ObjectiveFunctions, logistic_loss_expression, objective_functions
from .verify import VerifyResult, verify

__all__ = [
    # expressions
    "LOSSES",
    "Sigmoid", "Softplus", "explicit", "sigmoid", "softplus", "logit", "log_sigmoid",
    "bernoulli_likelihood", "bernoulli_nll", "logistic_loss", "mse_sigmoid", "softmax",
    "log_sum_exp", "softmax_cross_entropy", "relu", "l2_penalty", "symbolic_matrix",
    "symbolic_data",
    # verification
    "VerifyResult", "verify",
    # derivations
    "Derivation", "DerivationGroup", "DERIVATIONS", "derivation_group", "SEPARABLE_TOY",
    "sigmoid_derivative", "sigmoid_second_derivative", "sigmoid_slope_at_zero",
    "sigmoid_slope_bound", "sigmoid_midpoint_slope", "sigmoid_symmetry", "sigmoid_tanh_form",
    "logit_inverse", "logit_of_sigmoid", "logit_derivative",
    "bernoulli_nll_softplus_form", "softplus_difference", "stable_softplus",
    "bernoulli_product_form",
    "logistic_gradient_matrix", "logistic_bias_gradient", "logistic_hessian",
    "hessian_quadratic_form", "hessian_psd",
    "mse_sigmoid_gradient", "mse_vanishing_limit", "cross_entropy_limit",
    "mse_vanishing_limits", "mse_second_derivative", "mse_inflection_point",
    "mse_negative_curvature", "cross_entropy_second_derivative",
    "softmax_jacobian", "softmax_sums_to_one", "softmax_shift_invariance",
    "softmax_ce_gradient", "softmax_ce_log_sum_exp", "softmax_batch_gradient",
    "two_class_softmax", "weighted_gradient_matrix",
    "relu_derivative", "relu_derivative_values", "affine_collapse",
    "single_sample_gradient", "chain_rule_cancellation", "single_sample_stationarity",
    "newton_equals_irls", "newton_equals_irls_general", "separable_no_mle", "l2_gradient_hessian", "l2_finite_minimiser",
    "log_odds", "odds_ratio", "coordinate_split_counterexample", "coordinate_split_gradient",
    # chain rule
    "ChainFactor", "ChainRule", "chain_rule", "CHAIN_LOSSES",
    # code generation
    "BACKENDS", "GRADIENT_LOSSES", "generate", "to_numpy", "to_torch", "dloss_dz",
    "gradient_function", "logistic_loss_gradient", "objective_functions", "ObjectiveFunctions", "logistic_loss_expression",
]
