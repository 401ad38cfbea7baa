"""Checking that two SymPy expressions are equal: ``verify(lhs, rhs)``.

Two stages, cheapest proof first:

1. **Exact**: ``simplify(lhs - rhs) == 0``.  Only tried when the difference is small
   (``count_ops`` below a limit), because ``simplify`` can run for minutes on large
   expressions.  If it returns 0 the identity is proved.
2. **Numeric**: evaluate ``lhs - rhs`` at random *rational* points with 50
   significant digits (``sp.N(expr, 50)``) and require ``|lhs - rhs| < 1e-25``
   everywhere.  This is not a proof, but a wrong identity essentially never passes
   it, and it gives a counterexample when it fails.

Matrices are compared entry by entry. Matrix expressions of *symbolic* size (``MatrixSymbol("X", n, d)``)
have no entries to sample: they are proved by matrix algebra (``(lhs - rhs).expand()`` reduces to 0,
e.g. ``(X^T S X)^{-1} X^T S X = I``) or not established at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from ._checks import describe
from .functions import explicit

__all__ = ["VerifyResult", "verify"]

#: The numeric check requires ``|lhs - rhs|`` below this at every point.
NUMERIC_TOLERANCE = 1e-25

#: ``simplify`` is only attempted on differences with at most this many operations.
MAX_SIMPLIFY_OPS = 600


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``verify``.  ``bool(result)`` is ``result.holds``.

    Attributes
    ----------
    holds : bool
        Whether the claim was confirmed.
    method : str
        ``"simplify"`` (proved exactly) or ``"numeric"`` (checked at random
        rational points with 50 digits).
    max_abs_error : float
        Largest ``|lhs - rhs|`` seen (0.0 for an exact proof).  For inequalities, the
        largest violation (0.0 when it holds); for a ``!=`` claim, the difference at
        the witness point.
    counterexample : dict or None
        A point (symbol -> rational) where the identity fails, else ``None``; for a
        ``!=`` claim, the witness point showing the two sides differ.
    n_points : int
        Number of points evaluated by the numeric check (0 if not needed).
    scope : str or None
        What the check covered when that is less than the general claim, e.g. "for N = 4,
        D = 3 only" (set by ``mathcore.symbolic`` derivations built at one fixed size).
    """

    holds: bool
    method: str
    max_abs_error: float = 0.0
    counterexample: dict | None = field(default=None)
    n_points: int = 0
    scope: str | None = None

    def __bool__(self) -> bool:
        return bool(self.holds)

    @property
    def how(self) -> str:
        """How the claim was established, in words: what the book prints instead of a bare "verified".

        "proved symbolically"; "checked exactly by symbolic algebra" followed by the ``scope``
        (e.g. one fixed matrix size); "checked numerically at 20 random rational points (50 digits;
        evidence, not a proof)"; or "does not hold".
        """
        if not self.holds and self.method == "simplify" and self.counterexample is None:
            text = "not established (the symbolic difference did not reduce to 0)"
        elif not self.holds:
            text = "does not hold" + (f" (e.g. at {self.counterexample})" if self.counterexample else "")
        elif self.method == "simplify":
            # exact algebra on a fixed-size or numeric instance is a check of that instance only
            text = "checked exactly by symbolic algebra" if self.scope else "proved symbolically"
        else:
            text = (f"checked numerically at {self.n_points} random rational points (50 digits; "
                    "evidence, not a proof)")
        return f"{text}, {self.scope}" if self.scope else text


def _check_input(value, name):
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a SymPy expression or Matrix, got bool {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value)
    if isinstance(value, sp.matrices.MatrixExpr):
        return sp.Matrix(value.as_explicit())
    if isinstance(value, sp.Expr):
        return value
    hint = " (use sp.Rational for exact numbers)" if isinstance(value, float) else ""
    raise TypeError(
        f"{name}: expected a SymPy expression or Matrix, got {describe(value)}{hint}"
    )


def _symbolic_size(value) -> bool:
    """A matrix expression whose shape has symbols in it (n x d rather than 4 x 3)."""
    return isinstance(value, sp.matrices.MatrixExpr) and not all(
        isinstance(dim, int | sp.Integer) for dim in value.shape)


def _verify_matrix_algebra(lhs, rhs) -> VerifyResult:
    """Prove ``lhs == rhs`` for matrix expressions of symbolic size, or say it was not established."""
    if not (isinstance(lhs, sp.matrices.MatrixExpr) and isinstance(rhs, sp.matrices.MatrixExpr)):
        raise ValueError(f"rhs: expected a matrix expression like lhs, got {describe(rhs)}")
    if any(sp.simplify(a - b) != 0 for a, b in zip(lhs.shape, rhs.shape, strict=True)):
        raise ValueError(f"rhs: expected shape {lhs.shape} to match lhs, got shape {rhs.shape}")
    difference = (lhs - rhs).expand().doit()
    holds = difference == 0 or isinstance(difference, sp.ZeroMatrix)
    return VerifyResult(holds=bool(holds), method="simplify")


def _exactly_zero(expr: sp.Expr, max_ops: int) -> bool:
    """True if ``simplify`` proves ``expr == 0``; False if it cannot (or is too costly)."""
    if expr == 0:
        return True
    if sp.count_ops(expr) > max_ops:
        return False
    # tanh/cosh/sin ... simplify far better once written with exponentials.
    if expr.has(HyperbolicFunction, TrigonometricFunction):
        expr = expr.rewrite(sp.exp)
    for method in (sp.ratsimp, sp.simplify):
        # ratsimp (rational-function normal form) is much cheaper than simplify and
        # settles most identities between sigmoids; simplify handles logs and the rest.
        try:
            if method(expr) == 0:
                return True
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError, RecursionError):
            pass  # this method gave up: not a proof either way
    return False


def random_value(symbol: sp.Symbol, rng: random.Random, positive: bool) -> sp.Rational:
    """A random rational suited to the symbol's assumptions, never exactly 0."""
    q = rng.choice([7, 11, 13, 17, 19, 23, 29])
    if symbol.is_integer:
        value = rng.choice([1, 2, 3]) if (positive or symbol.is_nonnegative) else rng.choice(
            [-3, -2, -1, 1, 2, 3]
        )
        return sp.Integer(value)
    if positive or symbol.is_positive:
        return sp.Rational(rng.randint(1, q - 1), q)  # in (0, 1): valid for probabilities
    if symbol.is_nonnegative:
        return sp.Rational(rng.randint(1, 3 * q), q)
    numerator = 0
    while numerator == 0:
        numerator = rng.randint(-3 * q, 3 * q)
    return sp.Rational(numerator, q)


def _evaluate(entries: list[sp.Expr], point: dict) -> float | None:
    """Largest ``|entry|`` at ``point`` with 50 digits; None if undefined (nan) there."""
    worst = 0.0
    for entry in entries:
        value = sp.N(entry.xreplace(point), 50)
        if value.has(sp.nan):
            return None
        if value.free_symbols:
            raise ValueError(
                f"symbols: the expression still depends on {sorted(map(str, value.free_symbols))} "
                "after substitution; list every free symbol"
            )
        if value.has(sp.zoo, sp.oo, -sp.oo):
            return float("inf")
        worst = max(worst, float(sp.Abs(value)))
    return worst


def verify(
    lhs,
    rhs,
    *,
    symbols=None,
    n_points: int = 20,
    seed: int = 0,
    positive=(),
    max_ops: int = MAX_SIMPLIFY_OPS,
) -> VerifyResult:
    r"""Check the identity ``lhs == rhs`` exactly if possible, else numerically.

    Parameters
    ----------
    lhs, rhs : sympy.Expr, sympy.Matrix or int
        The two sides.  Matrices must have the same shape and are compared entry-wise.
        Named functions (``Sigmoid``, ``Softplus``) are replaced by their definitions
        and unevaluated objects (``Derivative``, ``Limit``) are evaluated first.
    symbols : sequence of sympy.Symbol, optional
        Symbols to sample in the numeric check; default: every free symbol.
    n_points : int, default 20
        Number of random rational points for the numeric check.
    seed : int, default 0
        Seed of the point generator (results are reproducible).
    positive : sequence of sympy.Symbol, default ()
        Symbols to sample in (0, 1) even if they were not declared positive.  Symbols
        declared ``positive=True`` are always sampled in (0, 1).
    max_ops : int, default 600
        ``simplify`` is skipped for differences with more operations (time guard).

    Returns
    -------
    VerifyResult
        ``holds``, ``method`` (``"simplify"`` or ``"numeric"``), ``max_abs_error``,
        ``counterexample``.

    Raises
    ------
    TypeError
        If a side is not a SymPy object (floats are refused: use ``sp.Rational``).
    ValueError
        If matrix shapes differ, ``n_points < 1``, or ``symbols`` misses a free symbol.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> s = 1 / (1 + sp.exp(-z))
    >>> verify(sp.diff(s, z), s * (1 - s)).method
    'simplify'
    >>> bool(verify(sp.diff(s, z), s))
    False
    """
    if _symbolic_size(lhs) or _symbolic_size(rhs):
        return _verify_matrix_algebra(lhs, rhs)
    lhs = _check_input(lhs, "lhs")
    rhs = _check_input(rhs, "rhs")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 1:
        raise ValueError(f"n_points: expected a positive int, got {n_points!r}")
    lhs_is_matrix = isinstance(lhs, sp.MatrixBase)
    if lhs_is_matrix != isinstance(rhs, sp.MatrixBase):
        raise ValueError(
            f"rhs: expected a {'Matrix' if lhs_is_matrix else 'scalar'} like lhs, got {describe(rhs)}"
        )
    if lhs_is_matrix and lhs.shape != rhs.shape:
        raise ValueError(f"rhs: expected shape {lhs.shape} to match lhs, got shape {rhs.shape}")
    for name, value in (("symbols", symbols or ()), ("positive", positive)):
        for item in value:
            if not isinstance(item, sp.Symbol):
                raise TypeError(f"{name}: expected SymPy Symbols, got {describe(item)}")

    difference = explicit(lhs - rhs).doit()
    entries = list(difference) if lhs_is_matrix else [difference]

    # 1. exact
    if all(_exactly_zero(entry, max_ops) for entry in entries):
        return VerifyResult(holds=True, method="simplify")

    # 2. numeric, at random rational points
    free = set().union(*(entry.free_symbols for entry in entries))
    if symbols is None:
        symbols = sorted(free, key=str)
    else:
        missing = free - set(symbols)
        if missing:
            raise ValueError(
                f"symbols: expected every free symbol, missing {sorted(map(str, missing))}"
            )
    positive = set(positive)
    rng = random.Random(seed)
    worst, worst_point, n_done = 0.0, None, 0
    for _ in range(5 * n_points):  # undefined points (nan) are skipped and redrawn
        point = {s: random_value(s, rng, s in positive) for s in symbols}
        error = _evaluate(entries, point)
        if error is None:
            continue
        n_done += 1
        if worst_point is None or error > worst:
            worst, worst_point = error, point
        if n_done == n_points:
            break
    if n_done == 0:
        return VerifyResult(False, "numeric", float("nan"), None, 0)
    holds = worst < NUMERIC_TOLERANCE
    return VerifyResult(
        holds=holds,
        method="numeric",
        max_abs_error=worst,
        counterexample=None if holds else worst_point,
        n_points=n_done,
    )
