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

Keys follow the bullet order of the content brief, section 2 (``"D7d"`` is the fourth
SymPy check of D7).  ``DERIVATIONS["D7"]()`` builds the whole group.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
from dataclasses import dataclass

import sympy as sp

from .expressions import (
    Sigmoid,
    Softplus,
    explicit,
    l2_penalty,
    logistic_loss,
    logit,
    softmax,
    softmax_cross_entropy,
    symbolic_data,
    symbolic_matrix,
)
from .verify import NUMERIC_TOLERANCE, VerifyResult, _random_value, verify

__all__ = [
    "Derivation",
    "DerivationGroup",
    "DERIVATIONS",
    "derivation_group",
    "SEPARABLE_TOY",
    # D1-D3
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
    # D4
    "bernoulli_nll_softplus_form",
    "softplus_difference",
    "stable_softplus",
    "bernoulli_product_form",
    # D5-D6
    "logistic_gradient_matrix",
    "logistic_bias_gradient",
    "logistic_hessian",
    "hessian_quadratic_form",
    "hessian_psd",
    # D7
    "mse_sigmoid_gradient",
    "mse_vanishing_limit",
    "cross_entropy_limit",
    "mse_vanishing_limits",
    "mse_second_derivative",
    "mse_inflection_point",
    "mse_negative_curvature",
    "cross_entropy_second_derivative",
    # D8-D10
    "softmax_jacobian",
    "softmax_sums_to_one",
    "softmax_shift_invariance",
    "softmax_ce_gradient",
    "softmax_ce_log_sum_exp",
    "softmax_batch_gradient",
    "two_class_softmax",
    # D11
    "relu_derivative",
    "relu_derivative_values",
    "affine_collapse",
    # D12
    "single_sample_gradient",
    "chain_rule_cancellation",
    "single_sample_stationarity",
    # D13-D17
    "newton_equals_irls",
    "newton_equals_irls_general",
    "separable_no_mle",
    "l2_gradient_hessian",
    "l2_finite_minimiser",
    "log_odds",
    "odds_ratio",
    "coordinate_split_counterexample",
    "coordinate_split_gradient",
]

_RELATIONS = {"=": "=", "!=": r"\neq", "<": "<", "<=": r"\le", ">": ">", ">=": r"\ge"}


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------


def _evaluate(side):
    """Make one side of a claim concrete: definitions in, derivatives/limits done."""
    if isinstance(side, sp.ConditionSet):
        return sp.solveset(side.condition, side.sym, side.base_set)
    if isinstance(side, sp.Set):
        return side
    if isinstance(side, sp.matrices.MatrixExpr):
        if not all(isinstance(dim, int | sp.Integer) for dim in side.shape):
            return side  # symbolic size: verify proves it by matrix algebra
        side = side.as_explicit()
    return explicit(side).doit()


@dataclass(frozen=True)
class Derivation:
    r"""One checkable claim ``lhs <relation> rhs``, with optional intermediate steps.

    Attributes
    ----------
    key : str
        Identifier from the content brief, e.g. ``"D1a"``.
    title : str
        Short name.
    statement : str
        The claim in words.
    lhs, rhs : sympy object
        The two sides.  They may use the display functions ``Sigmoid``/``Softplus``
        and unevaluated ``Derivative``/``Limit``/``Subs``; ``verify`` evaluates them.
    relation : str
        One of ``"="``, ``"!="``, ``"<"``, ``"<="``, ``">"``, ``">="``.
    steps : tuple
        Intermediate expressions between ``lhs`` and ``rhs`` (for ``"="`` only).
    display_lhs, display_rhs : str or None
        LaTeX to show instead of the (large) explicit sides, e.g. for matrix forms.
    scope : str or None
        What a check of this object covers when that is less than the general claim: a
        matrix identity built at one size says so ("for N = 4, D = 3 only"); copied into
        the ``VerifyResult``.
    """

    key: str
    title: str
    statement: str
    lhs: object
    rhs: object
    relation: str = "="
    steps: tuple = ()
    display_lhs: str | None = None
    display_rhs: str | None = None
    scope: str | None = None

    def __post_init__(self):
        if self.relation not in _RELATIONS:
            raise ValueError(
                f"relation: expected one of {sorted(_RELATIONS)}, got {self.relation!r}"
            )

    def _side_latex(self, side, override):
        return override if override is not None else sp.latex(side)

    def latex(self) -> str:
        r"""Display-ready LaTeX of the claim, e.g. ``\sigma(-z) = 1 - \sigma(z)``.

        With intermediate steps, an ``aligned`` environment with one step per line.

        Returns
        -------
        str
        """
        lhs = self._side_latex(self.lhs, self.display_lhs)
        rhs = self._side_latex(self.rhs, self.display_rhs)
        relation = _RELATIONS[self.relation]
        if not self.steps:
            return f"{lhs} {relation} {rhs}"
        lines = [f"{lhs} &= {sp.latex(self.steps[0])}"]
        lines += [f"&= {sp.latex(step)}" for step in self.steps[1:]]
        lines.append(f"&= {rhs}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _latex_row(self) -> str:
        lhs = self._side_latex(self.lhs, self.display_lhs)
        rhs = self._side_latex(self.rhs, self.display_rhs)
        return f"{lhs} &{_RELATIONS[self.relation]} {rhs}"

    def evaluated(self):
        """Both sides with definitions substituted and derivatives/limits evaluated.

        Returns
        -------
        tuple
            ``(lhs, rhs)``.
        """
        return _evaluate(self.lhs), _evaluate(self.rhs)

    def verify(self, **kwargs) -> VerifyResult:
        """Check the claim.

        Parameters
        ----------
        **kwargs
            Passed to ``verify`` (``n_points``, ``seed``, ``positive``, ...).

        Returns
        -------
        VerifyResult
            ``bool(result)`` is True when the claim holds; ``result.how`` says how it was
            established, with this derivation's ``scope``.
        """
        result = self._check(**kwargs)
        return dataclasses.replace(result, scope=self.scope) if self.scope else result

    def _check(self, **kwargs) -> VerifyResult:
        lhs, rhs = self.evaluated()
        if isinstance(lhs, sp.Set) or isinstance(rhs, sp.Set):
            return VerifyResult(holds=bool(lhs == rhs), method="simplify")
        if self.relation == "=":
            chain = [lhs, *(_evaluate(step) for step in self.steps), rhs]
            results = [verify(a, b, **kwargs) for a, b in itertools.pairwise(chain)]
            return _combine(results)
        if self.relation == "!=":
            equal = verify(lhs, rhs, **kwargs)
            return VerifyResult(
                holds=not equal.holds,
                method=equal.method,
                max_abs_error=equal.max_abs_error,
                counterexample=equal.counterexample,
                n_points=equal.n_points,
            )
        return _verify_inequality(lhs, rhs, self.relation, **kwargs)


@dataclass(frozen=True)
class DerivationGroup:
    r"""Several derivations shown and checked together (e.g. all of D7).

    Iterate over it, index it by position or by key (``group["D7b"]``), show it
    with ``latex`` and check it with ``verify``.
    """

    key: str
    title: str
    items: tuple

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        if isinstance(index, str):
            for item in self.items:
                if item.key == index:
                    return item
            raise KeyError(f"index: no derivation {index!r} in {self.key}; have {self.keys()}")
        return self.items[index]

    def keys(self) -> list:
        """Keys of the derivations in this group, in order."""
        return [item.key for item in self.items]

    def latex(self) -> str:
        """All claims as one ``aligned`` display, one claim per line.

        Returns
        -------
        str
        """
        rows = [item._latex_row() for item in self.items]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def verify_each(self, **kwargs) -> dict:
        """Check every claim; return ``{key: VerifyResult}``."""
        return {item.key: item.verify(**kwargs) for item in self.items}

    def verify(self, **kwargs) -> VerifyResult:
        """Check every claim; the result holds only if all of them hold.

        Returns
        -------
        VerifyResult
        """
        return _combine(list(self.verify_each(**kwargs).values()))


def _combine(results: list) -> VerifyResult:
    """One VerifyResult summarising several."""
    failed = [r for r in results if not r.holds]
    method = "simplify" if all(r.method == "simplify" for r in results) else "numeric"
    scopes = list(dict.fromkeys(r.scope for r in results if r.scope))
    return VerifyResult(
        holds=not failed,
        method=method,
        max_abs_error=max((r.max_abs_error for r in results), default=0.0),
        counterexample=failed[0].counterexample if failed else None,
        n_points=sum(r.n_points for r in results),
        scope="; ".join(scopes) or None,
    )


def _verify_inequality(lhs, rhs, relation, *, n_points=20, seed=0, positive=(), **_):
    """Check ``lhs <relation> rhs`` entry-wise at random rational points (50 digits)."""
    difference = lhs - rhs
    entries = list(difference) if isinstance(difference, sp.MatrixBase) else [difference]
    symbols = sorted(set().union(*(e.free_symbols for e in entries)), key=str)
    rng = random.Random(seed)
    compare = {
        "<": lambda v: v < 0,
        "<=": lambda v: v <= NUMERIC_TOLERANCE,
        ">": lambda v: v > 0,
        ">=": lambda v: v >= -NUMERIC_TOLERANCE,
    }[relation]
    worst, worst_point = 0.0, None
    for _ in range(n_points if symbols else 1):
        point = {s: _random_value(s, rng, s in positive) for s in symbols}
        for entry in entries:
            value = sp.N(entry.xreplace(point), 50)
            if not compare(value):
                violation = float(abs(value)) if value.is_finite else float("inf")
                if worst_point is None or violation > worst:
                    worst, worst_point = max(violation, 0.0), point
    return VerifyResult(
        holds=worst_point is None,
        method="numeric",
        max_abs_error=worst,
        counterexample=worst_point,
        n_points=n_points if symbols else 1,
    )


def _real(*names):
    return sp.symbols(names, real=True) if len(names) > 1 else sp.Symbol(names[0], real=True)


# ---------------------------------------------------------------------------
# D1. Sigmoid and its derivative
# ---------------------------------------------------------------------------


def sigmoid_derivative() -> Derivation:
    r"""D1a. :math:`\sigma'(z) = \frac{e^{-z}}{(1+e^{-z})^2} = \sigma(z)(1-\sigma(z))`."""
    z = _real("z")
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
    z = _real("z")
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
    z = _real("z")
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
    z = _real("z")
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
    x, b = _real("x", "b")
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
    z = _real("z")
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
    z = _real("z")
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
    z = _real("z")
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
    z, t = _real("z", "t")
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
    z = _real("z")
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
    z = _real("z")
    return Derivation(
        "D4c",
        "Overflow-free softplus",
        "softplus(z) = max(z, 0) + log(1 + exp(-|z|)), which never overflows.",
        lhs=sp.Max(z, 0) + sp.log(1 + sp.exp(-sp.Abs(z))),
        rhs=Softplus(z),
    )


def bernoulli_product_form() -> Derivation:
    r"""D4d. :math:`\sigma(z)^t(1-\sigma(z))^{1-t} = \left(\frac{e^z}{1+e^z}\right)^t\left(\frac{1}{1+e^z}\right)^{1-t} = \frac{e^{tz}}{1+e^{z}}`."""
    z, t = _real("z", "t")
    return Derivation(
        "D4d",
        "One likelihood factor",
        "Each factor of the likelihood is e^{tz}/(1 + e^z).",
        lhs=Sigmoid(z) ** t * (1 - Sigmoid(z)) ** (1 - t),
        rhs=sp.exp(t * z) / (1 + sp.exp(z)),
        steps=((sp.exp(z) / (1 + sp.exp(z))) ** t * (1 / (1 + sp.exp(z))) ** (1 - t),),
    )


# ---------------------------------------------------------------------------
# D5-D6. Gradient and Hessian in matrix form
# ---------------------------------------------------------------------------


def _one_size(**sizes) -> str:
    """The scope of a claim built at one fixed size, e.g. "for N = 4, D = 3 only (one size)"."""
    shown = ", ".join(f"{name} = {value}" for name, value in sizes.items())
    return f"for {shown} only (one fixed size, not every size)"


def _check_size(value, name, low=1, high=8):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"{name}: expected an int in [{low}, {high}] (symbolic sizes must stay small), "
            f"got {value!r}"
        )


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
    _check_size(n, "n")
    _check_size(d, "d")
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
        scope=_one_size(N=n, D=d),
    )


def logistic_bias_gradient(n: int = 4, d: int = 3) -> Derivation:
    r"""D5b. :math:`\partial\ell/\partial b = \mathbf 1^{\mathsf T}(\sigma(z) - t)`, ``z = Xw + b1``."""
    _check_size(n, "n")
    _check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    b = _real("b")
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
        scope=_one_size(N=n, D=d),
    )


def _s_matrix(z: sp.Matrix) -> sp.Matrix:
    """S = diag(sigma(z_i)(1 - sigma(z_i)))."""
    return sp.diag(*[Sigmoid(zi) * (1 - Sigmoid(zi)) for zi in z])


def logistic_hessian(n: int = 4, d: int = 3) -> Derivation:
    r"""D6a. :math:`\nabla^2_w\ell = X^{\mathsf T}SX`, :math:`S=\operatorname{diag}(\sigma(z_i)(1-\sigma(z_i)))`."""
    _check_size(n, "n")
    _check_size(d, "d")
    X, w, t = symbolic_data(n, d)
    loss = logistic_loss(X, w, t)
    return Derivation(
        "D6a",
        "Hessian of the logistic loss",
        "The Hessian is X^T S X with S = diag(sigma_i (1 - sigma_i)).",
        lhs=sp.hessian(loss, list(w)),
        rhs=X.T * _s_matrix(X * w) * X,
        display_lhs=r"\nabla^{2}_{w}\,\ell(w)",
        display_rhs=r"X^{\mathsf T} S X,\quad S = \operatorname{diag}\big(\sigma(z_i)(1-\sigma(z_i))\big)",
        scope=_one_size(N=n, D=d),
    )


def hessian_quadratic_form(n: int = 4, d: int = 3) -> Derivation:
    r"""D6b. :math:`u^{\mathsf T}X^{\mathsf T}SXu = \sum_i s_i (x_i^{\mathsf T}u)^2` (a sum of squares).

    With every :math:`s_i = \sigma_i(1-\sigma_i) > 0` this shows :math:`H \succeq 0`: the
    loss is convex.
    """
    _check_size(n, "n")
    _check_size(d, "d")
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
        scope=_one_size(N=n, D=d),
    )


def hessian_psd(n: int = 4, d: int = 3) -> Derivation:
    r"""D6c. :math:`u^{\mathsf T}\nabla^2\ell(w)\,u \ge 0` for all ``X, w, u`` (checked at random rationals)."""
    _check_size(n, "n")
    _check_size(d, "d")
    X, w, _ = symbolic_data(n, d)
    u = symbolic_matrix("u", d, 1)
    return Derivation(
        "D6c",
        "The logistic loss is convex",
        "u^T H u >= 0 at every X, w and direction u.",
        lhs=(u.T * X.T * _s_matrix(X * w) * X * u)[0, 0],
        rhs=sp.Integer(0),
        relation=">=",
        display_lhs=r"u^{\mathsf T}\,\nabla^{2}_{w}\ell(w)\,u",
        scope=_one_size(N=n, D=d),
    )


# ---------------------------------------------------------------------------
# D7. MSE on a sigmoid output
# ---------------------------------------------------------------------------


def mse_sigmoid_gradient() -> Derivation:
    r"""D7a. For :math:`E=\tfrac12(\sigma(wx+b)-t)^2`: :math:`(\partial_w E, \partial_b E) = (\sigma-t)\sigma(1-\sigma)\,(x, 1)`.

    Compared with cross-entropy (``(sigma - t) x``) there is an extra factor
    :math:`\sigma(1-\sigma)\le\tfrac14`, which vanishes when the sigmoid saturates.
    """
    w, x, b, t = _real("w", "x", "b", "t")
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
    z = _real("z")
    return Derivation(
        "D7b",
        "MSE gradient vanishes when confidently wrong",
        "With t = 1 and z -> -infinity, the MSE gradient tends to 0 although the prediction is wrong.",
        lhs=sp.Limit(sp.Derivative(sp.Rational(1, 2) * (Sigmoid(z) - 1) ** 2, z), z, -sp.oo),
        rhs=sp.Integer(0),
    )


def cross_entropy_limit() -> Derivation:
    r"""D7c. For ``t = 1``: :math:`\lim_{z\to-\infty}\frac{d}{dz}[\operatorname{softplus}(z)-z] = -1`."""
    z = _real("z")
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
    z = _real("z")
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
    z, t = _real("z", "t")
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
    z, t = _real("z", "t")
    s = Sigmoid(z)
    return Derivation(
        "D7g",
        "Curvature of cross-entropy",
        "The cross-entropy second derivative sigma(1 - sigma) is never negative.",
        lhs=sp.Derivative(Softplus(z) - t * z, (z, 2)),
        rhs=s * (1 - s),
    )


# ---------------------------------------------------------------------------
# D8-D10. Softmax
# ---------------------------------------------------------------------------


def _logits(k: int):
    _check_size(k, "k", low=2, high=6)
    return symbolic_matrix("z", k, 1, start=0)  # classes are numbered 0, ..., K-1


def softmax_jacobian(k: int = 3) -> Derivation:
    r"""D8a. :math:`\partial p_i/\partial z_j = p_i(\delta_{ij}-p_j)`, i.e. :math:`J = \operatorname{diag}(p) - pp^{\mathsf T}`."""
    z = _logits(k)
    p = softmax(z)
    return Derivation(
        "D8a",
        "Jacobian of the softmax",
        "The softmax Jacobian is diag(p) - p p^T.",
        lhs=p.jacobian(z),
        rhs=sp.diag(*p) - p * p.T,
        display_lhs=r"\frac{\partial p}{\partial z}",
        display_rhs=r"\operatorname{diag}(p) - p\,p^{\mathsf T}",
        scope=_one_size(K=k),
    )


def softmax_sums_to_one(k: int = 3) -> Derivation:
    r"""D8b. :math:`\sum_k p_k = 1`."""
    z = _logits(k)
    return Derivation(
        "D8b",
        "Softmax probabilities sum to one",
        "The K softmax outputs always sum to 1.",
        lhs=sp.Add(*softmax(z)),
        rhs=sp.Integer(1),
        display_lhs=r"\sum_{k} p_k",
        scope=_one_size(K=k),
    )


def softmax_shift_invariance(k: int = 3) -> Derivation:
    r"""D8c. :math:`\operatorname{softmax}(z + c\mathbf 1) = \operatorname{softmax}(z)`.

    This is why subtracting :math:`\max_k z_k` before exponentiating is safe.
    """
    z = _logits(k)
    c = _real("c")
    return Derivation(
        "D8c",
        "Softmax is shift invariant",
        "Adding the same constant to every logit leaves the softmax unchanged.",
        lhs=softmax(z + c * sp.ones(k, 1)),
        rhs=softmax(z),
        display_lhs=r"\operatorname{softmax}(z + c\mathbf 1)",
        display_rhs=r"\operatorname{softmax}(z)",
        scope=_one_size(K=k),
    )


def _probability_target(k: int) -> sp.Matrix:
    """A target y with y_0 + ... + y_{k-1} = 1 (the last entry is 1 - the others)."""
    free = symbolic_matrix("y", k - 1, 1, start=0) if k > 2 else sp.Matrix([_real("y_0")])
    return sp.Matrix([*free, 1 - sp.Add(*free)])


def softmax_ce_gradient(k: int = 3) -> Derivation:
    r"""D9a. :math:`\partial\ell/\partial z = p - y` for :math:`\ell = -\sum_k y_k\log p_k`, :math:`\sum_k y_k = 1`.

    :math:`\frac{\partial\ell}{\partial z_j} = -\sum_k \frac{y_k}{p_k}p_k(\delta_{kj}-p_j) = p_j\sum_k y_k - y_j = p_j - y_j`.
    The target may be one-hot or any probability vector (the last entry is
    written as one minus the others).
    """
    z = _logits(k)
    y = _probability_target(k)
    loss = softmax_cross_entropy(z, y)
    return Derivation(
        "D9a",
        "Gradient of softmax cross-entropy",
        "The gradient of cross-entropy with respect to the logits is p - y.",
        lhs=sp.Matrix([sp.Derivative(loss, zj) for zj in z]),
        rhs=softmax(z) - y,
        display_lhs=r"\frac{\partial \ell}{\partial z}",
        display_rhs="p - y",
        scope=_one_size(K=k),
    )


def softmax_ce_log_sum_exp(k: int = 3) -> Derivation:
    r"""D9b. :math:`-\sum_k y_k\log p_k = -\sum_k y_k z_k + \log\sum_j e^{z_j}` (``= -z_c + LSE`` for one-hot ``y``)."""
    z = _logits(k)
    y = _probability_target(k)
    return Derivation(
        "D9b",
        "Cross-entropy as log-sum-exp",
        "Softmax cross-entropy is log-sum-exp of the logits minus the target's logit.",
        lhs=softmax_cross_entropy(z, y),
        rhs=-(y.T * z)[0, 0] + sp.log(sp.Add(*[sp.exp(a) for a in z])),
        display_lhs=r"-\sum_k y_k \log p_k",
        display_rhs=r"-\sum_k y_k z_k + \log\sum_j e^{z_j}",
        scope=_one_size(K=k),
    )


def softmax_batch_gradient(n: int = 2, d: int = 2, k: int = 3) -> Derivation:
    r"""D9c. :math:`\nabla_W\ell = X^{\mathsf T}(P-Y)` for :math:`Z = XW`, ``P`` the row-wise softmax.

    ``Y`` is one-hot; here sample ``i`` has class ``i mod k``.
    """
    _check_size(n, "n")
    _check_size(d, "d")
    _check_size(k, "k", low=2, high=6)
    X = symbolic_matrix("x", n, d)
    W = symbolic_matrix("W", d, k)
    Y = sp.Matrix(n, k, lambda i, j: int(j == i % k))
    Z = X * W
    rows = [Z[i, :].T for i in range(n)]
    loss = sp.Add(*[softmax_cross_entropy(rows[i], Y[i, :].T) for i in range(n)])
    P = sp.Matrix.vstack(*[softmax(r).T for r in rows])
    return Derivation(
        "D9c",
        "Batch gradient of softmax regression",
        "The gradient of the summed cross-entropy with respect to W is X^T (P - Y).",
        lhs=sp.Matrix(d, k, lambda a, c: sp.Derivative(loss, W[a, c])),
        rhs=X.T * (P - Y),
        display_lhs=r"\nabla_{W}\,\ell(W)",
        display_rhs=r"X^{\mathsf T}(P - Y)",
        scope=_one_size(N=n, D=d, K=k),
    )


def two_class_softmax() -> Derivation:
    r"""D10. :math:`\frac{e^{z_1}}{e^{z_0}+e^{z_1}} = \sigma(z_1 - z_0)`: two-class softmax is the sigmoid.

    Classes are numbered 0 and 1, class 1 the positive one, so the binary logistic weight is
    :math:`w = w_1 - w_0`.
    """
    z0, z1 = _real("z_0", "z_1")
    return Derivation(
        "D10a",
        "Two-class softmax is the sigmoid",
        "With classes 0 and 1, the softmax probability of class 1 is the sigmoid of z_1 - z_0.",
        lhs=sp.exp(z1) / (sp.exp(z0) + sp.exp(z1)),
        rhs=Sigmoid(z1 - z0),
        steps=(1 / (1 + sp.exp(-(z1 - z0))),),
        display_rhs=r"\sigma(z_1 - z_0)",  # SymPy would print sigma(-z_0 + z_1)
    )


# ---------------------------------------------------------------------------
# D11. ReLU
# ---------------------------------------------------------------------------


def relu_derivative() -> Derivation:
    r"""D11a. :math:`\frac{d}{dz}\max(0,z) = 1` for :math:`z>0` and :math:`0` for :math:`z<0`.

    Undefined at :math:`z = 0` (the subdifferential there is :math:`[0, 1]`).  SymPy
    returns ``Heaviside(z)``, whose value at 0 is 1/2, while PyTorch uses 0: never
    rely on the value at the kink.  The check samples non-zero points only.
    """
    z = _real("z")
    return Derivation(
        "D11a",
        "Derivative of ReLU away from 0",
        "ReLU's derivative is 1 for z > 0 and 0 for z < 0 (undefined at 0).",
        lhs=sp.Derivative(sp.Max(0, z), z),
        rhs=sp.Piecewise((0, z < 0), (1, z > 0)),
    )


def relu_derivative_values() -> Derivation:
    r"""D11b. SymPy's :math:`\frac{d}{dz}\max(0,z)` at :math:`\tfrac13, 2, 17, -\tfrac13, -2, -17` is ``1, 1, 1, 0, 0, 0``."""
    z = _real("z")
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
        _check_size(value, name)
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
        scope=_one_size(inputs=d_in, hidden=hidden, outputs=d_out),
    )


# ---------------------------------------------------------------------------
# D12. The one-sample chain rule, and why its stationarity equation has no solution
# ---------------------------------------------------------------------------


def single_sample_gradient() -> Derivation:
    r"""D12a. :math:`\frac{\partial}{\partial w}\left[-t\,wx + \ln(1+e^{wx})\right] = -tx + \frac{xe^{wx}}{1+e^{wx}} = x(\sigma(wx)-t)`."""
    w, x, t = _real("w", "x", "t")
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
    t, x = _real("t", "x")
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
    a = _real("a")
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
    _check_size(n, "n", high=20)
    _check_size(d, "d")
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
    _check_size(n, "n")
    _check_size(d, "d")
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
            scope=_one_size(N=n, D=d),
        ),
        Derivation(
            "D15b",
            "Hessian of the L2-penalised loss",
            "The penalty adds lambda I to the Hessian, making it positive definite.",
            lhs=sp.hessian(loss, list(w)),
            rhs=X.T * _s_matrix(X * w) * X + lam * sp.eye(d),
            display_lhs=r"\nabla^{2}_{w}\,\ell_{\lambda}(w)",
            display_rhs=r"X^{\mathsf T} S X + \lambda I",
            scope=_one_size(N=n, D=d),
        ),
    )
    return DerivationGroup("D15 gradient", "L2-penalised gradient and Hessian", items)


def l2_finite_minimiser() -> DerivationGroup:
    r"""D15c-d. With :math:`\lambda = 1` the separable toy of D14 has a finite minimiser.

    :math:`\ell_1(w) = L(w) + w^2/2`: its derivative is negative at ``w = 1/10`` and
    positive at ``w = 10``, so it vanishes in between.
    """
    w = _real("w")
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
    z = _real("z")
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
    z, w_d = _real("z", "w_d")

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
    w1, w2, x1, x2 = _real("w_1", "w_2", "x_1", "x_2")
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
    w1, w2, x1, x2 = _real("w_1", "w_2", "x_1", "x_2")
    z = w1 * x1 + w2 * x2
    return Derivation(
        "D17b",
        "Each partial derivative sees the whole score",
        "d/dw1 softplus(w1 x1 + w2 x2) = x1 sigma(w1 x1 + w2 x2).",
        lhs=sp.Derivative(Softplus(z), w1),
        rhs=x1 * Sigmoid(z),
    )


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


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
    "D5": ("Gradient in matrix form", (logistic_gradient_matrix, logistic_bias_gradient)),
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
