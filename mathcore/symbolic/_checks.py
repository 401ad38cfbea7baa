"""Input checks shared by the symbolic subpackage (private): every error names the argument."""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

__all__ = ["describe"]


def describe(value) -> str:
    """Short description of a received value for error messages."""
    if isinstance(value, sp.MatrixBase):
        return f"Matrix of shape {value.shape}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def as_expr(value, name: str) -> sp.Expr:
    """Return ``value`` as a scalar SymPy expression, or raise TypeError.

    Python ``int`` and ``fractions.Fraction`` are converted exactly.  Floats are
    rejected on purpose: ``0.1`` is not exactly one tenth, and exact identities
    need exact numbers (use ``sp.Rational(1, 10)``).
    """
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a SymPy expression, got bool {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Expr):
        return value
    hint = " (use sp.Rational for exact numbers)" if isinstance(value, float) else ""
    raise TypeError(
        f"{name}: expected a scalar SymPy expression or int, got {describe(value)}{hint}"
    )


def as_column(value, name: str, length: int | None = None) -> sp.Matrix:
    """Return ``value`` as a SymPy column vector (k x 1 Matrix), or raise."""
    if not isinstance(value, sp.MatrixBase):
        raise TypeError(f"{name}: expected a SymPy column Matrix, got {describe(value)}")
    if value.shape[1] != 1:
        raise ValueError(f"{name}: expected a column vector of shape (k, 1), got shape {value.shape}")
    if length is not None and value.shape[0] != length:
        raise ValueError(f"{name}: expected shape ({length}, 1), got shape {value.shape}")
    return sp.Matrix(value)


def as_matrix(value, name: str) -> sp.Matrix:
    """Return ``value`` as a SymPy Matrix, or raise TypeError."""
    if not isinstance(value, sp.MatrixBase):
        raise TypeError(f"{name}: expected a SymPy Matrix, got {describe(value)}")
    return sp.Matrix(value)


def require_positive(value: sp.Expr, name: str) -> None:
    """A log needs a positive argument: refuse anything SymPy cannot prove positive."""
    if value.is_positive is not True:
        raise ValueError(
            f"{name}: expected a positive expression (a probability inside a log; declare "
            f"symbols with positive=True), got {value} whose sign SymPy cannot prove positive"
        )


def require_probability(value: sp.Expr, name: str) -> None:
    """Refuse values known to lie outside (0, 1) and symbols not declared positive."""
    require_positive(value, name)
    if (1 - value).is_positive is False:
        raise ValueError(f"{name}: expected a probability in (0, 1), got {value}")


def elementwise(func, value, name):
    """Apply the scalar ``func`` to an expression or to every entry of a Matrix."""
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value).applyfunc(lambda entry: func(as_expr(entry, name)))
    return func(as_expr(value, name))
