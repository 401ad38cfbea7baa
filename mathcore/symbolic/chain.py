r"""The chain rule as data: ``chain_rule("logistic" | "mse_sigmoid" | "softmax_ce")``.

For one sample the loss depends on a weight only through a chain of simple steps,

.. math::

    w_d \;\to\; z = w_d x_d + r \;\to\; p = \sigma(z) \;\to\; \ell(p),

so :math:`\frac{\partial\ell}{\partial w_d} = \frac{\partial\ell}{\partial p}\cdot
\frac{\partial p}{\partial z}\cdot\frac{\partial z}{\partial w_d}`.  ``r`` stands for
the rest of the score (the other weights and the intercept).

A ``ChainRule`` keeps each factor as a SymPy expression *in the intermediate
variables* (``p``, ``z``), multiplies them (``ChainRule.product``), differentiates
the composed loss directly (``ChainRule.direct``) and checks that both agree
(``ChainRule.verify``).  ``ChainRule.latex`` renders the whole chain for the
book (``IPython.display.Math(chain.latex())``).

Every factor is *computed* by SymPy from the definitions (``1/(1 + e^{-z})``, the
Bernoulli NLL, ...) and then written in terms of ``p`` by substituting
``z = logit(p)`` (softmax: ``z_k = log p_k``, with ``sum p = 1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .expressions import LOSSES, sigmoid, softmax, symbolic_matrix
from .verify import VerifyResult, verify

__all__ = ["ChainFactor", "ChainRule", "chain_rule", "CHAIN_LOSSES"]

#: Losses understood by ``chain_rule``.
CHAIN_LOSSES = LOSSES  # the one loss vocabulary of mathcore (expressions.LOSSES)


@dataclass(frozen=True)
class ChainFactor:
    r"""One factor of a chain rule.

    Attributes
    ----------
    name : str
        Plain-text name, e.g. ``"dl/dp"``.
    symbol : str
        LaTeX of the factor's name, e.g. ``\frac{\partial \ell}{\partial p}``.
    expr : sympy.Expr or sympy.Matrix
        The factor, in terms of the intermediate variables.
    description : str
        What the factor is, in words.
    """

    name: str
    symbol: str
    expr: object
    description: str = ""

    def latex(self) -> str:
        """``symbol = expr`` as LaTeX."""
        return f"{self.symbol} = {sp.latex(self.expr)}"


@dataclass(frozen=True)
class ChainRule:
    r"""A derivative written as a product of named factors, plus the direct derivative.

    Attributes
    ----------
    loss : str
        ``"logistic"``, ``"mse_sigmoid"`` or ``"softmax_ce"``.
    target : str
        LaTeX of the derivative computed, e.g. ``\frac{\partial \ell}{\partial w_d}``.
    factors : tuple of ChainFactor
        In chain order (outermost first).
    direct_derivative : sympy.Expr or sympy.Matrix
        The derivative of the composed loss, computed in one go and written in the
        intermediate variables.
    constraints : dict
        Substitutions that encode side conditions (softmax: ``sum y = 1`` and
        ``sum p = 1``); applied before comparing.
    readable : tuple
        Readable forms of the result (e.g. ``x_d (p - t)``); ``product`` returns
        one of them when SymPy proves it equal to the simplified product.
    """

    loss: str
    target: str
    factors: tuple
    direct_derivative: object
    constraints: dict = field(default_factory=dict)
    readable: tuple = ()

    def product(self):
        """The product of the factors, simplified.

        Returns
        -------
        sympy.Expr or sympy.Matrix
        """
        result = self.factors[0].expr
        for factor in self.factors[1:]:
            result = result * factor.expr
        return _tidy(result, self.constraints, self.readable)

    def direct(self):
        """The derivative of the composed loss, computed directly (no chain rule).

        Returns
        -------
        sympy.Expr or sympy.Matrix
        """
        return self.direct_derivative

    def verify(self, **kwargs) -> VerifyResult:
        """Check that the product of the factors equals the direct derivative.

        Parameters
        ----------
        **kwargs
            Passed to ``verify``.

        Returns
        -------
        VerifyResult
        """
        product = self.factors[0].expr  # the raw product, not the readable form
        for factor in self.factors[1:]:
            product = product * factor.expr
        product = _substitute(product, self.constraints)
        direct = _substitute(self.direct(), self.constraints)
        return verify(product, direct, **kwargs)

    def latex(self) -> str:
        r"""The chain as an ``aligned`` display: names, then factors, then the result.

        Returns
        -------
        str
            LaTeX such as ``\begin{aligned}\frac{\partial\ell}{\partial w_d} &= ...\end{aligned}``.
        """
        names = r"\,".join(f.symbol for f in self.factors)
        values = r" \cdot ".join(_wrapped(f.expr) for f in self.factors)
        lines = [
            f"{self.target} &= {names}",
            f"&= {values}",
            f"&= {sp.latex(self.product())}",
        ]
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _wrapped(expr) -> str:
    """LaTeX of a factor, in parentheses when it is a sum or product."""
    text = sp.latex(expr)
    if isinstance(expr, (sp.Add, sp.Mul)):
        return rf"\left({text}\right)"
    return text


def _substitute(expr, constraints):
    return expr.subs(constraints) if constraints else expr


def _tidy(expr, constraints=None, candidates=()):
    """Simplify (entry-wise for matrices) and prefer a readable candidate if it is equal."""
    if isinstance(expr, sp.MatrixBase):
        rows, cols = expr.shape
        return sp.Matrix(
            rows,
            cols,
            lambda i, j: _tidy(
                expr[i, j], constraints, [c[i, j] for c in candidates] if candidates else ()
            ),
        )
    simplified = sp.simplify(_substitute(expr, constraints))
    for candidate in candidates:
        if sp.simplify(simplified - _substitute(candidate, constraints)) == 0:
            return candidate
    factored = sp.factor(simplified)
    return factored if sp.count_ops(factored) < sp.count_ops(simplified) else simplified


def _symbols():
    t, x_d, w_d, r, z = sp.symbols("t x_d w_d r z", real=True)
    p = sp.Symbol("p", positive=True)
    return t, x_d, w_d, r, z, p


def _binary_chain(loss: str) -> ChainRule:
    """Chain rule for a sigmoid output with the Bernoulli NLL or squared error."""
    t, x_d, w_d, r, z, p = _symbols()
    if loss == "logistic":
        loss_of_p = -t * sp.log(p) - (1 - t) * sp.log(1 - p)
        first = ("dl/dp", "derivative of the Bernoulli NLL with respect to the probability")
    else:
        loss_of_p = sp.Rational(1, 2) * (p - t) ** 2
        first = ("dl/dp", "derivative of the squared error with respect to the prediction")
    to_p = {z: sp.log(p / (1 - p))}  # z = logit(p), i.e. p = sigma(z)

    dl_dp = _tidy(sp.diff(loss_of_p, p), candidates=[-t / p + (1 - t) / (1 - p), p - t])
    dp_dz = _tidy(sp.diff(sigmoid(z), z).subs(to_p), candidates=[p * (1 - p)])
    score = w_d * x_d + r
    dz_dw = sp.diff(score, w_d)

    # Direct route: differentiate l(sigma(w_d x_d + r)) and write sigma(...) as p.
    composed = loss_of_p.subs(p, sigmoid(score))
    direct = sp.diff(composed, w_d).subs(r, sp.log(p / (1 - p)) - w_d * x_d)
    readable = (x_d * (p - t), x_d * (p - t) * p * (1 - p))
    direct = _tidy(direct, candidates=readable)

    factors = (
        ChainFactor(first[0], r"\frac{\partial \ell}{\partial p}", dl_dp, first[1]),
        ChainFactor("dp/dz", r"\frac{\partial p}{\partial z}", dp_dz, "slope of the sigmoid"),
        ChainFactor("dz/dw_d", r"\frac{\partial z}{\partial w_d}", dz_dw, "z = w_d x_d + (rest)"),
    )
    return ChainRule(
        loss, r"\frac{\partial \ell}{\partial w_d}", factors, direct, readable=readable
    )


def _softmax_chain(k: int = 3) -> ChainRule:
    """Chain rule for softmax cross-entropy with K classes (weights of feature d)."""
    x_d = sp.Symbol("x_d", real=True)
    # classes are numbered 0, ..., K-1, as in the book and in the estimators' coef_ rows
    p = symbolic_matrix("p", k, 1, start=0, positive=True)
    y = symbolic_matrix("y", k, 1, start=0)
    z = symbolic_matrix("z", k, 1, start=0)
    w = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"w_d{i}", real=True))
    r = symbolic_matrix("r", k, 1, start=0)
    constraints = {y[k - 1]: 1 - sp.Add(*y[: k - 1])}  # targets sum to one
    normalise = {sp.Add(*p): 1}  # softmax outputs sum to one
    to_p = {z[i]: sp.log(p[i]) for i in range(k)}  # z_k = log p_k (up to a shift)

    loss_of_p = -sp.Add(*[y[i] * sp.log(p[i]) for i in range(k)])
    dl_dp = sp.Matrix([[sp.diff(loss_of_p, p[i]) for i in range(k)]])
    jacobian = softmax(z).jacobian(z).subs(to_p).subs(normalise)
    expected_j = sp.Matrix(k, k, lambda i, j: p[i] * (int(i == j) - p[j]))
    dp_dz = _tidy(jacobian, candidates=[expected_j])

    # Direct route: differentiate l(softmax(z(w))) with z_k = w_dk x_d + r_k.
    scores = sp.Matrix(k, 1, lambda i, j: w[i] * x_d + r[i])
    probabilities = softmax(scores)
    composed = -sp.Add(*[y[i] * sp.log(probabilities[i]) for i in range(k)])
    back_to_p = {r[i]: sp.log(p[i]) - w[i] * x_d for i in range(k)}
    direct = sp.Matrix([[sp.diff(composed, w[i]) for i in range(k)]]).subs(back_to_p)
    direct = direct.subs(normalise)
    expected = sp.Matrix([[x_d * (p[i] - y[i]) for i in range(k)]])
    direct = _tidy(direct, constraints, candidates=[expected])

    factors = (
        ChainFactor(
            "dl/dp", r"\frac{\partial \ell}{\partial p}", dl_dp,
            "derivative of the cross-entropy with respect to each probability (a row)",
        ),
        ChainFactor(
            "dp/dz", r"\frac{\partial p}{\partial z}", dp_dz,
            "softmax Jacobian diag(p) - p p^T",
        ),
        ChainFactor(
            "dz_k/dw_dk", r"\frac{\partial z_k}{\partial w_{dk}}", x_d,
            "each logit z_k = w_dk x_d + (rest) depends on its own weight",
        ),
    )
    return ChainRule(
        "softmax_ce",
        r"\frac{\partial \ell}{\partial w_{d,:}}",
        factors,
        direct,
        constraints=constraints,
        readable=(expected,),
    )


def chain_rule(loss: str) -> ChainRule:
    r"""The chain rule for one sample's loss, factor by factor.

    Parameters
    ----------
    loss : {"logistic", "mse_sigmoid", "softmax_ce"}
        ``"logistic"``: Bernoulli NLL of ``p = sigma(z)``; the product is
        :math:`(p - t)\,x_d` (the factors :math:`p(1-p)` cancel, D12b).
        ``"mse_sigmoid"``: :math:`\tfrac12(p-t)^2`; the product keeps :math:`p(1-p)` (D7a).
        ``"softmax_ce"``: cross-entropy of ``p = softmax(z)`` with K = 3 classes; the
        product is the row :math:`x_d\,(p - y)^{\mathsf T}` (D9a).

    Returns
    -------
    ChainRule

    Raises
    ------
    ValueError
        If ``loss`` is not one of the three names.

    Examples
    --------
    >>> chain = chain_rule("logistic")
    >>> [f.name for f in chain.factors]
    ['dl/dp', 'dp/dz', 'dz/dw_d']
    >>> chain.product()
    x_d*(p - t)
    >>> bool(chain.verify())
    True
    """
    if loss in ("logistic", "mse_sigmoid"):
        return _binary_chain(loss)
    if loss == "softmax_ce":
        return _softmax_chain()
    raise ValueError(f"loss: expected one of {CHAIN_LOSSES}, got {loss!r}")
