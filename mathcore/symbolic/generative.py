r"""Chapter 11's derivations as checkable SymPy objects: generative classifiers, features, penalties.

Each function returns a ``Derivation`` (one claim) or a ``DerivationGroup`` (several claims shown and
checked together), exactly like those of ``mathcore.symbolic.derivations``::

    from IPython.display import Math
    from mathcore.symbolic.generative import lda_log_odds
    group = lda_log_odds()
    Math(group.latex())
    print(group.verify().how)

Keys start with ``G`` (G1 shared-covariance Gaussians, G2 naive Bayes, G3 basis expansion, G4 the L1 and
L2 proximal steps, G5 the exponential tail behind the implicit bias of gradient descent).
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.monomials import itermonomials

from .derivations import Derivation, DerivationGroup
from .expressions import Sigmoid, Softplus

__all__ = [
    "bayes_posterior_sigmoid",
    "lda_log_odds",
    "unequal_variance_log_odds",
    "naive_bayes_duplicate_feature",
    "xor_product_feature",
    "conic_boundary",
    "polynomial_feature_count",
    "soft_threshold_prox",
    "ridge_prox",
    "exponential_tail",
]

_HALF = sp.Rational(1, 2)


def _real(names: str):
    return sp.symbols(names, real=True)


def _log_gauss_1d(x, mean, sd):
    """log N(x | mean, sd^2), written out."""
    return -(x - mean) ** 2 / (2 * sd**2) - sp.log(sd) - _HALF * sp.log(2 * sp.pi)


# ---------------------------------------------------------------------------
# G1. Two Gaussian classes: the log-odds is linear when the covariance is shared
# ---------------------------------------------------------------------------


def bayes_posterior_sigmoid() -> Derivation:
    r"""G1a. Bayes' rule is a sigmoid of the log-odds: :math:`\frac{a}{a+c} = \sigma(\log a - \log c)`.

    With :math:`a = \pi\,p(x\mid t=1)` and :math:`c = (1-\pi)\,p(x\mid t=0)` (both positive) the left
    side is the posterior :math:`p(t = 1\mid x)`.
    """
    a, c = sp.symbols("a c", positive=True)
    return Derivation(
        "G1a",
        "The posterior is a sigmoid of the log-odds",
        "pi p1 / (pi p1 + (1 - pi) p0) = sigma(log(pi p1) - log((1 - pi) p0)).",
        lhs=a / (a + c),
        rhs=Sigmoid(sp.log(a) - sp.log(c)),
        display_lhs=r"p(t=1\mid x) = \frac{\pi\,p(x\mid 1)}{\pi\,p(x\mid 1) + (1-\pi)\,p(x\mid 0)}",
        display_rhs=r"\sigma\!\left(\log\frac{\pi\,p(x\mid 1)}{(1-\pi)\,p(x\mid 0)}\right)",
    )


def lda_log_odds() -> DerivationGroup:
    r"""G1b-c. Gaussian classes with a shared covariance have a log-odds that is linear in :math:`x`.

    G1b, for every dimension :math:`D` (matrix algebra with :math:`x, \mu_0, \mu_1` of size
    :math:`D\times 1` and :math:`P = \Sigma^{-1}` of size :math:`D\times D`): the gradient in :math:`x`
    of :math:`-\tfrac12(x-\mu_1)^\top P(x-\mu_1) + \tfrac12(x-\mu_0)^\top P(x-\mu_0)` is the constant
    :math:`\tfrac12(P + P^\top)(\mu_1 - \mu_0)`: the terms :math:`x^\top P x` cancel. For a symmetric
    :math:`P` that is :math:`\Sigma^{-1}(\mu_1-\mu_0)`.

    G1c, for :math:`D = 2` with :math:`\Sigma = LL^\top` (so it is positive definite) and the full
    densities, normalising constants included: the log-odds equals :math:`w^\top x + b` with
    :math:`w = \Sigma^{-1}(\mu_1-\mu_0)` and :math:`b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1 +
    \tfrac12\mu_0^\top\Sigma^{-1}\mu_0 + \log\pi - \log(1-\pi)`.
    """
    D = sp.Symbol("D", integer=True, positive=True)
    x, m0, m1 = (sp.MatrixSymbol(name, D, 1) for name in ("x", "mu_0", "mu_1"))
    P = sp.MatrixSymbol("P", D, D)
    quadratic = -_HALF * (x - m1).T * P * (x - m1) + _HALF * (x - m0).T * P * (x - m0)
    general = Derivation(
        "G1b",
        "The quadratic terms cancel, for every dimension",
        "The gradient in x of the log-odds is the same at every x: the log-odds is linear in x.",
        lhs=sp.diff(quadratic, x),
        rhs=_HALF * (P + P.T) * (m1 - m0),
        display_lhs=r"\nabla_x\Big[-\tfrac12(x-\mu_1)^\top\Sigma^{-1}(x-\mu_1)"
        r" + \tfrac12(x-\mu_0)^\top\Sigma^{-1}(x-\mu_0)\Big]",
        display_rhs=r"\tfrac12\big(\Sigma^{-1} + \Sigma^{-\top}\big)(\mu_1 - \mu_0)"
        r" = \Sigma^{-1}(\mu_1 - \mu_0) = w",
    )

    l11, l22 = sp.symbols("l_11 l_22", positive=True)
    L = sp.Matrix([[l11, 0], [sp.Symbol("l_21", real=True), l22]])
    sigma = L * L.T
    inverse = sigma.inv()
    xs = sp.Matrix(_real("x_1 x_2"))
    mu0, mu1 = sp.Matrix(_real("mu_01 mu_02")), sp.Matrix(_real("mu_11 mu_12"))
    prior = sp.Symbol("pi", positive=True)

    def log_density(mean):
        d = xs - mean
        return -_HALF * (d.T * inverse * d)[0] - sp.log(2 * sp.pi) - _HALF * sp.log(sigma.det())

    w = inverse * (mu1 - mu0)
    b = (-_HALF * (mu1.T * inverse * mu1)[0] + _HALF * (mu0.T * inverse * mu0)[0]
         + sp.log(prior) - sp.log(1 - prior))
    explicit = Derivation(
        "G1c",
        "LDA's weights and intercept",
        "With the full Gaussian densities, the log-odds is w.x + b with w = Sigma^-1 (mu1 - mu0).",
        lhs=sp.log(prior) + log_density(mu1) - sp.log(1 - prior) - log_density(mu0),
        rhs=(w.T * xs)[0] + b,
        display_lhs=r"\log\frac{\pi\,\mathcal N(x\mid\mu_1,\Sigma)}{(1-\pi)\,\mathcal N(x\mid\mu_0,\Sigma)}",
        display_rhs=r"w^\top x + b,\quad b = -\tfrac12\mu_1^\top\Sigma^{-1}\mu_1"
        r" + \tfrac12\mu_0^\top\Sigma^{-1}\mu_0 + \log\frac{\pi}{1-\pi}",
        scope="for D = 2 only",
    )
    return DerivationGroup("G1", "Shared covariance: a linear log-odds", (general, explicit))


def unequal_variance_log_odds() -> Derivation:
    r"""G1d. With unequal variances (1-D) the log-odds has curvature :math:`1/\Sigma_0 - 1/\Sigma_1`.

    Class :math:`t` has density :math:`\mathcal N(x\mid\mu_t, \Sigma_t)` with a scalar variance
    :math:`\Sigma_t`. The :math:`x^2` terms no longer cancel, so the boundary is quadratic (QDA).
    """
    x = sp.Symbol("x", real=True)
    m0, m1 = _real("mu_0 mu_1")
    v0, v1 = sp.symbols("Sigma_0 Sigma_1", positive=True)
    prior = sp.Symbol("pi", positive=True)
    log_odds = (sp.log(prior) - sp.log(1 - prior) + _log_gauss_1d(x, m1, sp.sqrt(v1))
                - _log_gauss_1d(x, m0, sp.sqrt(v0)))
    return Derivation(
        "G1d",
        "Unequal variances: a quadratic log-odds",
        "The second derivative of the log-odds is 1/Sigma_0 - 1/Sigma_1, zero only if they are equal.",
        lhs=sp.Derivative(log_odds, (x, 2)),
        rhs=1 / v0 - 1 / v1,
        display_lhs=r"\frac{d^2}{dx^2}\log\frac{\pi\,\mathcal N(x\mid \mu_1,\Sigma_1)}"
        r"{(1-\pi)\,\mathcal N(x\mid \mu_0,\Sigma_0)}",
        display_rhs=r"\frac{1}{\Sigma_0} - \frac{1}{\Sigma_1}",
    )


# ---------------------------------------------------------------------------
# G2. Naive Bayes counts a duplicated feature twice
# ---------------------------------------------------------------------------


def naive_bayes_duplicate_feature() -> Derivation:
    r"""G2. Gaussian naive Bayes on :math:`(x, x)`: the evidence term of the log-odds doubles.

    Naive Bayes on one copy gives :math:`\log\frac{\pi}{1-\pi} + \log\frac{\mathcal N(x\mid\mu_1,
    \Sigma_1)}{\mathcal N(x\mid\mu_0, \Sigma_0)}`; on two copies the second term appears twice.
    """
    x = sp.Symbol("x", real=True)
    m0, m1 = _real("mu_0 mu_1")
    v0, v1 = sp.symbols("Sigma_0 Sigma_1", positive=True)
    prior = sp.Symbol("pi", positive=True)
    prior_term = sp.log(prior) - sp.log(1 - prior)
    evidence = _log_gauss_1d(x, m1, sp.sqrt(v1)) - _log_gauss_1d(x, m0, sp.sqrt(v0))

    def naive_bayes(copies):
        return prior_term + copies * evidence

    return Derivation(
        "G2",
        "A duplicated feature is counted twice",
        "Naive Bayes on (x, x) has twice the evidence of naive Bayes on x.",
        lhs=naive_bayes(2) - prior_term,
        rhs=2 * (naive_bayes(1) - prior_term),
        display_lhs=r"z_{\mathrm{NB}}(x, x) - \log\frac{\pi}{1-\pi}",
        display_rhs=r"2\Big[z_{\mathrm{NB}}(x) - \log\frac{\pi}{1-\pi}\Big]",
    )


# ---------------------------------------------------------------------------
# G3. Basis expansion
# ---------------------------------------------------------------------------


def xor_product_feature() -> Derivation:
    r"""G3a. At the four XOR centres :math:`(\pm1, \pm1)` the score :math:`-x_1x_2` is :math:`\tilde t`.

    Centres in the order (1, 1), (-1, -1), (1, -1), (-1, 1); :math:`\tilde t = 2t - 1` is +1 for
    opposite signs.
    """
    centres = ((1, 1), (-1, -1), (1, -1), (-1, 1))
    return Derivation(
        "G3a",
        "The product feature separates XOR",
        "z = -x1 x2 is -1 at the same-sign centres and +1 at the opposite-sign ones.",
        lhs=sp.Matrix([-sp.Integer(a) * b for a, b in centres]),
        rhs=sp.Matrix([-1, -1, 1, 1]),
        display_lhs=r"\big(-x_1x_2\big)\Big|_{(1,1),\,(-1,-1),\,(1,-1),\,(-1,1)}",
        display_rhs=r"(-1, -1, 1, 1) = \big(\tilde t\,\big)_{\text{same, same, opposite, opposite}}",
    )


def conic_boundary() -> DerivationGroup:
    r"""G3b-c. The boundary :math:`w_1x_1 + w_2x_2 + w_3x_1x_2 + b = 0` is a hyperbola.

    G3b: :math:`x_2 = -(w_1x_1 + b)/(w_2 + w_3x_1)` solves it; G3c: as :math:`x_1\to\infty`,
    :math:`x_2 \to -w_1/w_3` (a horizontal asymptote; the vertical one is :math:`x_1 = -w_2/w_3`).
    """
    x1 = sp.Symbol("x_1", real=True)
    w1, w2, b = _real("w_1 w_2 b")
    w3 = sp.Symbol("w_3", real=True, nonzero=True)
    x2 = -(w1 * x1 + b) / (w2 + w3 * x1)
    items = (
        Derivation(
            "G3b",
            "The boundary solved for x2",
            "x2 = -(w1 x1 + b)/(w2 + w3 x1) puts the score at 0.",
            lhs=w1 * x1 + w2 * x2 + w3 * x1 * x2 + b,
            rhs=sp.Integer(0),
            display_lhs=r"z\Big(x_1, -\frac{w_1x_1 + b}{w_2 + w_3x_1}\Big)",
        ),
        Derivation(
            "G3c",
            "Its horizontal asymptote",
            "x2 tends to -w1/w3 as x1 grows.",
            lhs=sp.Limit(x2, x1, sp.oo),
            rhs=-w1 / w3,
        ),
    )
    return DerivationGroup("G3", "A product feature gives a hyperbola", items)


def polynomial_feature_count(d: int = 3, degree: int = 3) -> Derivation:
    r"""G3d. ``d`` features have :math:`\binom{d + \text{degree}}{\text{degree}} - 1` monomials of degree 1 to ``degree``.

    Counted by listing the monomials with SymPy for the given ``d`` and ``degree``.
    """
    for value, name in ((d, "d"), (degree, "degree")):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 6:
            raise ValueError(f"{name}: expected an integer from 1 to 6, got {value!r}")
    variables = sp.symbols(f"x_1:{d + 1}")
    listed = len(set(itermonomials(variables, degree))) - 1   # the constant 1 is the intercept's job
    return Derivation(
        "G3d",
        "How many polynomial features",
        "Polynomial features of degree 1 to g in D inputs number binomial(D + g, g) - 1.",
        lhs=sp.Integer(listed),
        rhs=sp.binomial(d + degree, degree) - 1,
        display_lhs=rf"\#\{{\text{{monomials of degree 1 to {degree} in {d} variables}}\}}",
        display_rhs=rf"\binom{{{d} + {degree}}}{{{degree}}} - 1",
        scope=f"for D = {d}, degree {degree} only",
    )


# ---------------------------------------------------------------------------
# G4. The proximal steps of the L1 and L2 penalties
# ---------------------------------------------------------------------------


def soft_threshold_prox() -> DerivationGroup:
    r"""G4a-d. :math:`\operatorname*{argmin}_w \tfrac12(w-w')^2 + \alpha\lvert w\rvert = \operatorname{soft}_\alpha(w') = \operatorname{sign}(w')\max(\lvert w'\rvert - \alpha, 0)`.

    The one-dimensional L1 problem: a weight :math:`w` pulled towards a point :math:`w'` (in proximal
    gradient descent, the result of a gradient step) and towards 0 by the penalty. With
    :math:`f(w) = \tfrac12(w-w')^2 + \alpha\lvert w\rvert`, three exact identities, one per case:

    - G4a (:math:`w' > \alpha`): :math:`f(w) - f(w'-\alpha) = \tfrac12(w-w'+\alpha)^2 + \alpha(\lvert w\rvert - w)`;
    - G4b (:math:`\lvert w'\rvert \le \alpha`): :math:`f(w) - f(0) = \tfrac12w^2 + \lvert w\rvert(\alpha - w'\operatorname{sign}w)`;
    - G4c (:math:`w' < -\alpha`): :math:`f(w) - f(w'+\alpha) = \tfrac12(w-w'-\alpha)^2 + \alpha(\lvert w\rvert + w)`.

    In its case each right side is a sum of terms :math:`\ge 0`, so the candidate is the minimiser.
    G4d checks :math:`f(w) \ge f(\operatorname{soft}_\alpha(w'))` at random points (numerical evidence
    for all cases at once).
    """
    w = sp.Symbol("w", real=True)
    w_step = sp.Symbol("w'", real=True)
    alpha, excess = sp.symbols("alpha epsilon", positive=True)   # w' = alpha + excess: case w' > alpha

    def f(point, at=w_step):
        return _HALF * (point - at) ** 2 + alpha * sp.Abs(point)

    above, below = alpha + excess, -alpha - excess
    soft = sp.sign(w_step) * sp.Max(sp.Abs(w_step) - alpha, 0)
    items = (
        Derivation("G4a", "Case w' > alpha", "f(w) - f(w' - alpha) is a sum of non-negative terms.",
                   lhs=f(w, above) - f(above - alpha, above),
                   rhs=_HALF * (w - above + alpha) ** 2 + alpha * (sp.Abs(w) - w),
                   display_lhs=r"f(w) - f(w' - \alpha)",
                   display_rhs=r"\tfrac12(w - w' + \alpha)^2 + \alpha\big(\lvert w\rvert - w\big)"
                   r"\quad (w' > \alpha)"),
        Derivation("G4b", "Case |w'| <= alpha", "f(w) - f(0) is non-negative when |w'| <= alpha.",
                   lhs=f(w) - f(sp.Integer(0)),
                   rhs=_HALF * w**2 + sp.Abs(w) * (alpha - w_step * sp.sign(w)),
                   display_lhs=r"f(w) - f(0)",
                   display_rhs=r"\tfrac12w^2 + \lvert w\rvert\big(\alpha - w'\operatorname{sign}w\big)"
                   r"\quad (\lvert w'\rvert \le \alpha)"),
        Derivation("G4c", "Case w' < -alpha", "f(w) - f(w' + alpha) is a sum of non-negative terms.",
                   lhs=f(w, below) - f(below + alpha, below),
                   rhs=_HALF * (w - below - alpha) ** 2 + alpha * (sp.Abs(w) + w),
                   display_lhs=r"f(w) - f(w' + \alpha)",
                   display_rhs=r"\tfrac12(w - w' - \alpha)^2 + \alpha\big(\lvert w\rvert + w\big)"
                   r"\quad (w' < -\alpha)"),
        Derivation("G4d", "The soft threshold is the minimiser",
                   "f(w) >= f(soft_alpha(w')) for every w.",
                   lhs=f(w), rhs=f(soft), relation=">=",
                   display_lhs=r"f(w)",
                   display_rhs=r"f\big(\operatorname{soft}_\alpha(w')\big),\quad "
                   r"\operatorname{soft}_\alpha(w') = \operatorname{sign}(w')\max(\lvert w'\rvert - \alpha, 0)"),
    )
    return DerivationGroup("G4", "The proximal step of the L1 penalty", items)


def ridge_prox() -> Derivation:
    r"""G4e. :math:`\frac{d}{dw}\big[\tfrac12(w-w')^2 + \tfrac\lambda2w^2\big] = 0` at :math:`w = w'/(1+\lambda)`.

    The L2 step only rescales: it is zero only when :math:`w'` is.
    """
    w = sp.Symbol("w", real=True)
    w_step = sp.Symbol("w'", real=True)
    lam = sp.Symbol("lambda", positive=True)
    return Derivation(
        "G4e",
        "The proximal step of the L2 penalty",
        "argmin 1/2 (w - w')^2 + lambda/2 w^2 is w'/(1 + lambda): a shrinkage, never 0 for w' != 0.",
        lhs=sp.Subs(sp.Derivative(_HALF * (w - w_step) ** 2 + lam / 2 * w**2, w), w,
                    w_step / (1 + lam)),
        rhs=sp.Integer(0),
        display_lhs=r"\frac{d}{dw}\Big[\tfrac12(w-w')^2 + \tfrac\lambda2 w^2\Big]_{w = w'/(1+\lambda)}",
    )


# ---------------------------------------------------------------------------
# G5. The exponential tail behind the implicit bias of gradient descent
# ---------------------------------------------------------------------------


def exponential_tail() -> DerivationGroup:
    r"""G5a-c. Why only the support vectors matter as :math:`\lVert w_n\rVert` grows like :math:`\log n`.

    G5a: the logistic loss has an exponential tail, :math:`\operatorname{softplus}(-z)/e^{-z}\to 1` as the
    margin :math:`z \to \infty`. G5b: if :math:`w_n \approx \hat w\log n`, a sample whose margin under
    :math:`\hat w` is :math:`\tilde t_i\hat w^\top x_i` has margin :math:`(\tilde t_i\hat w^\top x_i)\log n`
    and pulls with :math:`e^{-(\tilde t_i\hat w^\top x_i)\log n} = n^{-\tilde t_i\hat w^\top x_i}`.
    G5c: summed over the iterations, :math:`n^{-2}` (a sample with margin 2 under :math:`\hat w`) adds up
    to a finite :math:`\pi^2/6`, whereas the :math:`1/n` of a support vector (margin 1) grows like
    :math:`\log n` without bound.
    """
    z = sp.Symbol("z", real=True)
    n = sp.Symbol("n", positive=True)
    margin = sp.Symbol("mhat", positive=True)   # the sample's margin under w_hat
    step = sp.Symbol("n", integer=True, positive=True)
    items = (
        Derivation("G5a", "The exponential tail", "softplus(-z) / e^{-z} -> 1 as z -> infinity.",
                   lhs=sp.Limit(Softplus(-z) / sp.exp(-z), z, sp.oo), rhs=sp.Integer(1),
                   display_lhs=r"\lim_{z\to\infty}\frac{\operatorname{softplus}(-z)}{e^{-z}}"),
        Derivation("G5b", "A margin that grows like log n pulls like a power of 1/n",
                   "exp(-margin * log n) = n^(-margin).",
                   lhs=sp.exp(-margin * sp.log(n)), rhs=n ** (-margin),
                   display_lhs=r"e^{-(\tilde t_i\hat w^\top x_i)\log n}",
                   display_rhs=r"n^{-\tilde t_i\hat w^\top x_i}"),
        Derivation("G5c", "Beyond the support vectors the sum is finite",
                   "sum_n n^-2 = pi^2/6.",
                   lhs=sp.Sum(step ** (-2), (step, 1, sp.oo)), rhs=sp.pi**2 / 6,
                   display_lhs=r"\sum_{n=1}^{\infty} n^{-2}"),
    )
    return DerivationGroup("G5", "The exponential tail of the logistic loss", items)
