"""The named functions ``Sigmoid`` and ``Softplus``, for display and code generation, and ``explicit``.

They print as :math:`\\sigma(z)` and :math:`\\operatorname{softplus}(z)` in LaTeX and as
``sigmoid(...)``/``softplus(...)`` in generated code (stable library functions);
``explicit`` replaces them by their definitions before SymPy proves anything.
"""

from __future__ import annotations

import sympy as sp

from ._checks import describe

__all__ = ["Sigmoid", "Softplus", "explicit"]


class Sigmoid(sp.Function):
    r"""The logistic sigmoid as a *named* SymPy function, printed as :math:`\sigma(z)`.

    Use it to display formulas and to generate code (it becomes
    ``scipy.special.expit`` or ``torch.sigmoid``).  For derivations use
    ``sigmoid``, which returns the explicit definition ``1/(1 + exp(-z))``.
    ``Sigmoid(z).rewrite(sp.exp)`` gives that definition.

    Its derivative is known to SymPy as ``Sigmoid(z)*(1 - Sigmoid(z))``; derivation
    D1a proves this from the definition.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> Sigmoid(z).rewrite(sp.exp)
    1/(1 + exp(-z))
    >>> Sigmoid(0)
    1/2
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.Rational(1, 2)
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        if exp is not None:
            return rf"\sigma^{{{exp}}}\left({inner}\right)"
        return rf"\sigma\left({inner}\right)"


class Softplus(sp.Function):
    r"""``softplus(z) = log(1 + e^z)`` as a *named* SymPy function.

    Printed as :math:`\operatorname{softplus}(z)`; in generated code it becomes the
    stable ``numpy.logaddexp(0, z)`` (or its torch equivalent), never
    ``log(1 + exp(z))``, which overflows for large ``z``.  Derivations use
    ``softplus``; ``Softplus(z).rewrite(sp.exp)`` gives the definition.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> Softplus(z).rewrite(sp.exp)
    log(exp(z) + 1)
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.log(2)
        return None

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return sp.log(1 + sp.exp(arg))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        if exp is not None:
            return rf"\operatorname{{softplus}}^{{{exp}}}\left({inner}\right)"
        return rf"\operatorname{{softplus}}\left({inner}\right)"


def explicit(expr):
    """Replace the named functions ``Sigmoid`` and ``Softplus`` by their definitions.

    Parameters
    ----------
    expr : sympy.Basic
        Any expression or Matrix.

    Returns
    -------
    sympy.Basic
        The same object with ``Sigmoid(a) -> 1/(1 + exp(-a))`` and
        ``Softplus(a) -> log(1 + exp(a))``.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> explicit(Sigmoid(z) - 1)
    -1 + 1/(1 + exp(-z))
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(explicit)
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expr: expected a SymPy expression or Matrix, got {describe(expr)}")
    return expr.replace(Sigmoid, lambda a: 1 / (1 + sp.exp(-a))).replace(
        Softplus, lambda a: sp.log(1 + sp.exp(a))
    )
