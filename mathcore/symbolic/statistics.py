r"""Checkable derivations behind the inference and decision formulas of Chapter 10.

Each function returns a ``Derivation`` or a ``DerivationGroup`` (see ``derivations``); ``.latex()``
displays it and ``.verify()`` checks it with SymPy. Keys start with ``S`` (statistics).

* ``bernoulli_fisher_information``: one observation's information is :math:`p(1-p)\,xx^\top`, both as
  minus the Hessian of its log-likelihood and as the variance of the log-likelihood's gradient.
* ``wald_lr_quadratic``: for a quadratic NLL the likelihood-ratio statistic is the squared Wald statistic.
* ``normal_chi2_tail``: the two-sided normal p-value equals the :math:`\chi^2` (one degree of freedom)
  tail of the squared Wald statistic.
* ``bernoulli_deviance``: for :math:`t_i\in\{0,1\}` the deviance of a sample is twice its NLL.
* ``wilson_endpoints``: the Wilson interval's ends solve a quadratic.
* ``bayes_threshold``: the cost-minimising decision predicts 1 when
  :math:`p \ge c_{\mathrm{FP}}/(c_{\mathrm{FP}}+c_{\mathrm{FN}})`.
* ``prior_shift_logit``: a new base rate adds :math:`\operatorname{logit}\pi_{\mathrm{new}} -
  \operatorname{logit}\pi` to the logit.

The symbols follow the book's notation page: no letter for a Wald statistic (it is written
:math:`\hat w_d/\operatorname{SE}(\hat w_d)`), :math:`\operatorname{Dev}` for the deviance, :math:`\pi` for
a base rate.

Examples
--------
>>> from mathcore.symbolic.statistics import bayes_threshold
>>> bool(bayes_threshold().verify())
True
"""

from __future__ import annotations

import sympy as sp

from .derivations import Derivation, DerivationGroup
from .expressions import Sigmoid, Softplus, symbolic_matrix

__all__ = [
    "bernoulli_fisher_information",
    "wald_lr_quadratic",
    "normal_chi2_tail",
    "bernoulli_deviance",
    "wilson_endpoints",
    "bayes_threshold",
    "prior_shift_logit",
    "STATISTICS",
]


def _check_d(d) -> int:
    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 4:
        raise ValueError(f"d: expected an int in [1, 4] (symbolic sizes must stay small), got {d!r}")
    return d


def bernoulli_fisher_information(d: int = 2) -> DerivationGroup:
    r"""S1. The Fisher information of one Bernoulli observation with :math:`z = w^\top x` is :math:`p(1-p)\,xx^\top`.

    S1a: minus the Hessian of :math:`\log p(t\mid x) = tz - \operatorname{softplus}(z)` in :math:`w`
    is :math:`\sigma(z)(1-\sigma(z))\,xx^\top`, whatever :math:`t` (observed = expected information).
    S1b, S1c: the gradient :math:`(t - \sigma(z))\,x` of the log-likelihood (statisticians' "score") has
    mean 0 and covariance :math:`p(1-p)\,xx^\top` when :math:`t \sim \text{Bernoulli}(\sigma(z))`. Summed
    over the samples this is :math:`\mathcal I(\theta) = X^\top SX`.

    Parameters
    ----------
    d : int, default 2
        Number of weights of the explicit instance (1 to 4).
    """
    d = _check_d(d)
    x = symbolic_matrix("x", d, 1)
    w = symbolic_matrix("w", d, 1)
    t = sp.Symbol("t", real=True)
    z = (w.T * x)[0, 0]
    p = Sigmoid(z)
    loglik = t * z - Softplus(z)
    score = sp.Matrix([sp.diff(loglik, wj) for wj in w])
    # E[g(t)] for t ~ Bernoulli(p): p g(1) + (1 - p) g(0)
    outer = score * score.T
    expected_outer = p * outer.subs(t, 1) + (1 - p) * outer.subs(t, 0)
    expected_score = p * score.subs(t, 1) + (1 - p) * score.subs(t, 0)
    scope = f"for D = {d} only (one fixed size, not every size)"
    info = r"\sigma(z)\big(1-\sigma(z)\big)\,x x^{\mathsf T}"
    return DerivationGroup("S1", "Fisher information of one Bernoulli observation", (
        Derivation("S1a", "Observed information", "Minus the Hessian of the log-likelihood is p(1-p) x x^T.",
                   lhs=-sp.hessian(loglik, list(w)), rhs=p * (1 - p) * x * x.T,
                   display_lhs=r"-\nabla^2_w \log p(t\mid x)", display_rhs=info, scope=scope),
        Derivation("S1b", "The gradient has mean zero", "E[(t - p) x] = 0 under the model.",
                   lhs=expected_score, rhs=sp.zeros(d, 1),
                   display_lhs=r"\mathbb E_t\big[\nabla_w \log p(t\mid x)\big]", display_rhs="0",
                   scope=scope),
        Derivation("S1c", "Variance of the gradient", "E[g g^T] of the gradient g is the same p(1-p) x x^T.",
                   lhs=expected_outer, rhs=p * (1 - p) * x * x.T,
                   display_lhs=r"\mathbb E_t\big[\nabla_w \log p\,(\nabla_w \log p)^{\mathsf T}\big]",
                   display_rhs=info, scope=scope),
    ))


def wald_lr_quadratic() -> Derivation:
    r"""S2. For :math:`\ell_{\mathrm{quad}}(w_d) = \ell(\hat\theta) + (w_d-\hat w_d)^2/(2\operatorname{SE}(\hat w_d)^2)`,
    :math:`2\big(\ell_{\mathrm{quad}}(0) - \ell_{\mathrm{quad}}(\hat w_d)\big) = (\hat w_d/\operatorname{SE}(\hat w_d))^2`.

    The Wald test replaces the NLL, as a function of the tested coefficient, by this quadratic (its
    second-order expansion at the MLE); the likelihood-ratio test uses the NLL itself. They agree when
    the NLL is close to quadratic.
    """
    w_d, w_hat, ell_hat = sp.symbols(r"w_d \hat{w}_d \ell(\hat\theta)", real=True)
    se = sp.Symbol(r"\operatorname{SE}(\hat{w}_d)", positive=True)
    quadratic = ell_hat + (w_d - w_hat) ** 2 / (2 * se**2)
    return Derivation(
        "S2", "Wald = likelihood ratio for a quadratic NLL",
        "For a quadratic NLL, twice the rise from the MLE to w_d = 0 is the squared Wald statistic.",
        lhs=2 * (sp.Subs(quadratic, w_d, 0) - sp.Subs(quadratic, w_d, w_hat)),
        rhs=(w_hat / se) ** 2,
        display_lhs=r"2\big(\ell_{\mathrm{quad}}(0) - \ell_{\mathrm{quad}}(\hat w_d)\big)",
        display_rhs=r"\Big(\frac{\hat w_d}{\operatorname{SE}(\hat w_d)}\Big)^{2}",
    )


def normal_chi2_tail() -> Derivation:
    r"""S3. For a Wald statistic :math:`a = \hat w_d/\operatorname{SE}(\hat w_d) > 0`:
    :math:`\Pr(|\mathcal N(0,1)| > a) = \Pr(\chi^2 > a^2)`, :math:`\chi^2` with one degree of freedom.

    Checked with the normal CDF :math:`(1 + \operatorname{erf}(a/\sqrt2))/2` and the integral of the
    :math:`\chi^2` density :math:`u^{-1/2}e^{-u/2}/\sqrt{2\pi}` from :math:`a^2` to infinity, so
    ``wald_test`` on one coefficient gives the p-value of the coefficient table.
    """
    a = sp.Symbol("a", positive=True)
    u = sp.Symbol("u", positive=True)
    normal_cdf = (1 + sp.erf(a / sp.sqrt(2))) / 2
    chi2_density = u ** sp.Rational(-1, 2) * sp.exp(-u / 2) / sp.sqrt(2 * sp.pi)
    ratio = r"\frac{\hat w_d}{\operatorname{SE}(\hat w_d)}"
    return Derivation(
        "S3", "Normal two-sided tail = chi-squared tail (one degree of freedom)",
        "The two-sided normal p-value of a Wald statistic is the chi-squared tail of its square.",
        lhs=2 * (1 - normal_cdf), rhs=sp.Integral(chi2_density, (u, a**2, sp.oo)),
        display_lhs=rf"\Pr\Big(\lvert\mathcal N(0, 1)\rvert > {ratio}\Big)",
        display_rhs=rf"\Pr\Big(\chi^2 > \Big({ratio}\Big)^2\Big)",
    )


def bernoulli_deviance() -> DerivationGroup:
    r"""S4. The deviance of one sample, :math:`\operatorname{Dev}_i = 2[t_i\log\frac{t_i}{p_i} + (1-t_i)\log\frac{1-t_i}{1-p_i}]`,
    is twice its NLL for 0/1 targets.

    With :math:`0\log 0 = 0` (taken as a limit) the saturated model, :math:`p_i = t_i`, has NLL 0, so
    the deviance :math:`\operatorname{Dev} = \sum_i \operatorname{Dev}_i = 2\ell`. Written with
    :math:`p_i = \sigma(z_i)`.
    """
    t = sp.Symbol("t_i", positive=True)
    z = sp.Symbol("z_i", real=True)
    p = Sigmoid(z)
    unit = 2 * (t * sp.log(t / p) + (1 - t) * sp.log((1 - t) / (1 - p)))
    items = []
    for key, value, side in (("S4a", 1, "-"), ("S4b", 0, "+")):
        items.append(Derivation(
            key, f"Deviance of a sample with t = {value}", f"Dev_i = 2 (softplus(z_i) - {value} z_i).",
            lhs=sp.Limit(unit, t, value, side), steps=(2 * (Softplus(z) - value * z),),
            rhs=-2 * sp.log(p if value else 1 - p),
            display_lhs=rf"\lim_{{t_i\to {value}}} \operatorname{{Dev}}_i",
        ))
    return DerivationGroup("S4", "Deviance = 2 x NLL for 0/1 targets", tuple(items))


def wilson_endpoints() -> DerivationGroup:
    r"""S5. The Wilson interval of an accuracy: every :math:`\mathrm{acc}` with
    :math:`(\widehat{\mathrm{acc}} - \mathrm{acc})^2 \le \chi^2_{0.95}\,\mathrm{acc}(1-\mathrm{acc})/N`.

    :math:`\chi^2_{0.95}` is the 95 % quantile of :math:`\chi^2` with one degree of freedom (the square of
    the normal 97.5 % quantile). The claims: the closed-form ends

    .. math:: \mathrm{acc}_\mp = \frac{\widehat{\mathrm{acc}} + \frac{\chi^2_{0.95}}{2N} \mp
              \sqrt{\chi^2_{0.95}\frac{\widehat{\mathrm{acc}}(1-\widehat{\mathrm{acc}})}{N}
              + \frac{(\chi^2_{0.95})^2}{4N^2}}}{1 + \chi^2_{0.95}/N}

    are the two roots of the quadratic.
    """
    acc_hat = sp.Symbol(r"\widehat{\mathrm{acc}}", positive=True)
    acc = sp.Symbol(r"\mathrm{acc}", positive=True)
    N = sp.Symbol("N", positive=True)
    q2 = sp.Symbol(r"\chi^2_{0.95}", positive=True)
    centre = acc_hat + q2 / (2 * N)
    half = sp.sqrt(q2 * acc_hat * (1 - acc_hat) / N + q2**2 / (4 * N**2))
    equation = (acc_hat - acc) ** 2 - q2 * acc * (1 - acc) / N
    shown = r"\big(\widehat{\mathrm{acc}} - \mathrm{acc}_{%s}\big)^2 - \chi^2_{0.95}\frac{\mathrm{acc}_{%s}(1-\mathrm{acc}_{%s})}{N}"
    items = tuple(
        Derivation(key, f"Wilson {name} end", f"The {name} end of the Wilson interval solves the quadratic.",
                   lhs=equation.subs(acc, (centre + sign * half) / (1 + q2 / N)), rhs=sp.Integer(0),
                   display_lhs=shown % ((sym,) * 3), display_rhs="0")
        for key, name, sign, sym in (("S5a", "lower", -1, "-"), ("S5b", "upper", 1, "+"))
    )
    return DerivationGroup("S5", "Wilson interval", items)


def bayes_threshold() -> DerivationGroup:
    r"""S6. Deciding 1 costs :math:`c_{\mathrm{FP}}(1-p)` on average, deciding 0 costs :math:`c_{\mathrm{FN}}p`.

    S6a: the difference is :math:`(c_{\mathrm{FP}}+c_{\mathrm{FN}})(\tau_{\mathrm{Bayes}} - p)` with
    :math:`\tau_{\mathrm{Bayes}} = c_{\mathrm{FP}}/(c_{\mathrm{FP}}+c_{\mathrm{FN}})`, negative exactly when
    :math:`p > \tau_{\mathrm{Bayes}}` (decide 1). S6b: the two costs are equal only at :math:`\tau_{\mathrm{Bayes}}`.
    """
    p = sp.Symbol("p", real=True)
    c_fp, c_fn = sp.symbols(r"c_{\mathrm{FP}} c_{\mathrm{FN}}", positive=True)
    p_star = c_fp / (c_fp + c_fn)
    return DerivationGroup("S6", "Bayes-optimal threshold from costs", (
        Derivation("S6a", "Cost difference",
                   "E[cost | decide 1] - E[cost | decide 0] = (c_FP + c_FN)(tau_Bayes - p).",
                   lhs=c_fp * (1 - p) - c_fn * p, rhs=(c_fp + c_fn) * (p_star - p),
                   display_lhs=r"c_{\mathrm{FP}}(1-p) - c_{\mathrm{FN}}\,p",
                   display_rhs=(r"(c_{\mathrm{FP}}+c_{\mathrm{FN}})\,(\tau_{\mathrm{Bayes}} - p),\quad"
                                r" \tau_{\mathrm{Bayes}} = \frac{c_{\mathrm{FP}}}{c_{\mathrm{FP}}+c_{\mathrm{FN}}}")),
        Derivation("S6b", "Break-even probability", "The expected costs are equal only at p = tau_Bayes.",
                   lhs=sp.ConditionSet(p, sp.Eq(c_fp * (1 - p), c_fn * p), sp.S.Reals),
                   rhs=sp.FiniteSet(p_star),
                   display_lhs=r"\{p : c_{\mathrm{FP}}(1-p) = c_{\mathrm{FN}}\,p\}",
                   display_rhs=r"\{\tau_{\mathrm{Bayes}}\}"),
    ))


def prior_shift_logit() -> Derivation:
    r"""S7. Bayes' rule with class-conditional densities :math:`p(x\mid t)` and base rate :math:`\pi`:
    the logit under base rate :math:`\pi_{\mathrm{new}}` is the logit under :math:`\pi` plus
    :math:`\operatorname{logit}\pi_{\mathrm{new}} - \operatorname{logit}\pi`.

    The densities cancel: only the base rate moves, and it moves every logit by the same amount.
    """
    f1 = sp.Symbol(r"p(x \mid t{=}1)", positive=True)
    f0 = sp.Symbol(r"p(x \mid t{=}0)", positive=True)
    pi, pi_new = sp.symbols(r"\pi \pi_{\mathrm{new}}", positive=True)

    def posterior(prior):
        return prior * f1 / (prior * f1 + (1 - prior) * f0)

    def logit(q):
        return sp.log(q / (1 - q))

    return Derivation(
        "S7", "Prior-shift correction of the logit",
        "Changing the base rate from pi to pi_new adds logit(pi_new) - logit(pi) to every logit.",
        lhs=logit(posterior(pi_new)), rhs=logit(posterior(pi)) + logit(pi_new) - logit(pi),
        steps=(sp.log(f1 / f0) + logit(pi_new),),
        display_lhs=r"\operatorname{logit} p_{\pi_{\mathrm{new}}}(t{=}1\mid x)",
        display_rhs=(r"\operatorname{logit} p_{\pi}(t{=}1\mid x) + \operatorname{logit}\pi_{\mathrm{new}}"
                     r" - \operatorname{logit}\pi"),
    )


#: Every derivation of this module by key, as in ``derivations.DERIVATIONS``.
STATISTICS = {
    "S1": bernoulli_fisher_information, "S2": wald_lr_quadratic, "S3": normal_chi2_tail,
    "S4": bernoulli_deviance, "S5": wilson_endpoints, "S6": bayes_threshold, "S7": prior_shift_logit,
}
