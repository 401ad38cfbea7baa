"""SymPy expressions for the course: sigmoid, softplus, logit, losses, softmax, ReLU.

Every function here returns a plain SymPy expression (or a ``sympy.Matrix`` for vector
forms).  The *definitions* are written out explicitly, e.g. ``sigmoid(z)`` is
``1/(1 + exp(-z))``, so that SymPy really differentiates them: nothing about a
derivative is assumed.

Two named functions, ``Sigmoid`` and ``Softplus``, exist only for
*display* (they print as ``\\sigma(z)`` and ``softplus(z)``) and for *code
generation* (they map to stable library calls).  ``explicit`` replaces them by
their definitions before anything is checked.

Conventions: ``sigma(z) = p(t=1 | x)``, ``z = X w + b``.  Losses here are **summed**
over samples (derivations use the sum; generated code may divide by N).
"""

from __future__ import annotations

import sympy as sp

from ._checks import (
    as_column,
    as_expr,
    as_matrix,
    elementwise,
    require_probability,
)
from .functions import Sigmoid, Softplus, explicit

__all__ = [
    "LOSSES",
    "Sigmoid",
    "Softplus",
    "explicit",
    "sigmoid",
    "softplus",
    "logit",
    "log_sigmoid",
    "bernoulli_likelihood",
    "bernoulli_nll",
    "logistic_loss",
    "mse_sigmoid",
    "softmax",
    "log_sum_exp",
    "softmax_cross_entropy",
    "relu",
    "l2_penalty",
    "symbolic_matrix",
    "symbolic_data",
]

#: The loss vocabulary of the whole package (chain rule, code generation, gradient
#: checks, the objectives and ``train_mlp``): the Bernoulli NLL of a sigmoid output, the
#: squared error of a sigmoid output, and softmax cross-entropy.
LOSSES = ("logistic", "mse_sigmoid", "softmax_ce")


# ---------------------------------------------------------------------------
# Scalar building blocks (each also works entry-wise on a Matrix)
# ---------------------------------------------------------------------------


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1/(1+e^{-z})`, written out explicitly.

    Parameters
    ----------
    z : sympy.Expr, int or sympy.Matrix
        Score(s); a Matrix is mapped entry-wise.

    Returns
    -------
    sympy.Expr or sympy.Matrix

    Raises
    ------
    TypeError
        If ``z`` is not a SymPy object or int (floats are refused).

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> sigmoid(z)
    1/(1 + exp(-z))
    """
    return elementwise(lambda a: 1 / (1 + sp.exp(-a)), z, "z")


def softplus(z):
    r"""Softplus :math:`\log(1 + e^{z})`, explicitly; entry-wise on a Matrix.

    Note :math:`-\log\sigma(z) = \operatorname{softplus}(-z)` and
    :math:`-\log(1-\sigma(z)) = \operatorname{softplus}(z)`.

    Parameters
    ----------
    z : sympy.Expr, int or sympy.Matrix

    Returns
    -------
    sympy.Expr or sympy.Matrix
    """
    return elementwise(lambda a: sp.log(1 + sp.exp(a)), z, "z")


def logit(p):
    r"""Log-odds :math:`\operatorname{logit}(p) = \log\frac{p}{1-p}` for ``p`` in (0, 1).

    Parameters
    ----------
    p : sympy.Expr or int
        A probability.  SymPy must be able to prove it positive (declare the symbol
        with ``positive=True``); values known to be >= 1 are refused.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If ``p`` is not provably positive, or is known to be >= 1.

    Examples
    --------
    >>> import sympy as sp
    >>> p = sp.Symbol("p", positive=True)
    >>> logit(p)
    log(p/(1 - p))
    """
    p = as_expr(p, "p")
    require_probability(p, "p")
    return sp.log(p / (1 - p))


def log_sigmoid(z):
    r"""Log-sigmoid :math:`\log\sigma(z) = -\log(1 + e^{-z}) = -\operatorname{softplus}(-z)`.

    Parameters
    ----------
    z : sympy.Expr, int or sympy.Matrix

    Returns
    -------
    sympy.Expr or sympy.Matrix
    """
    return elementwise(lambda a: -sp.log(1 + sp.exp(-a)), z, "z")


def bernoulli_likelihood(z, t):
    r"""Bernoulli likelihood :math:`\prod_i \sigma(z_i)^{t_i}(1-\sigma(z_i))^{1-t_i}`.

    Parameters
    ----------
    z, t : sympy.Expr or column sympy.Matrix
        Scores and labels (``t`` in {0, 1}, or soft labels in [0, 1]).  Either both
        scalars or both column vectors of the same length.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    TypeError, ValueError
        On non-SymPy input or mismatched lengths.
    """
    zs, ts = _paired_columns(z, t)
    return sp.Mul(*[sigmoid(a) ** b * (1 - sigmoid(a)) ** (1 - b) for a, b in zip(zs, ts, strict=True)])


def bernoulli_nll(z, t, form: str = "softplus"):
    r"""Negative log-likelihood of Bernoulli labels, summed over samples.

    ``form="softplus"`` (default, the numerically stable form):
    :math:`\sum_i \operatorname{softplus}(z_i) - t_i z_i`.

    ``form="probability"`` (the textbook form):
    :math:`-\sum_i t_i\log\sigma(z_i) + (1-t_i)\log(1-\sigma(z_i))`.

    Derivation D4a proves the two are equal.

    Parameters
    ----------
    z, t : sympy.Expr or column sympy.Matrix
        Scores and labels, both scalars or both columns of the same length.
    form : {"softplus", "probability"}

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        On an unknown ``form`` or mismatched lengths.
    """
    zs, ts = _paired_columns(z, t)
    if form == "softplus":
        return sp.Add(*[softplus(a) - b * a for a, b in zip(zs, ts, strict=True)])
    if form == "probability":
        return -sp.Add(
            *[b * sp.log(sigmoid(a)) + (1 - b) * sp.log(1 - sigmoid(a)) for a, b in zip(zs, ts, strict=True)]
        )
    raise ValueError(f"form: expected 'softplus' or 'probability', got {form!r}")


def _paired_columns(z, t):
    """Return two equal-length lists of entries from scalars or column vectors."""
    if isinstance(z, sp.MatrixBase) or isinstance(t, sp.MatrixBase):
        zc = as_column(z, "z")
        tc = as_column(t, "t", length=zc.shape[0])
        return list(zc), list(tc)
    return [as_expr(z, "z")], [as_expr(t, "t")]


def _scores(X, w, b=None) -> sp.Matrix:
    """Scores ``z = X w + b 1`` with shape checks."""
    X = as_matrix(X, "X")
    w = as_column(w, "w")
    if w.shape[0] != X.shape[1]:
        raise ValueError(
            f"w: expected shape ({X.shape[1]}, 1) to match X with {X.shape[1]} columns, "
            f"got shape {w.shape}"
        )
    z = X * w
    if b is not None:
        z = z + as_expr(b, "b") * sp.ones(X.shape[0], 1)
    return z


def logistic_loss(X, w, t, b=None):
    r"""Summed logistic loss :math:`\ell(w) = \sum_i \operatorname{softplus}(z_i) - t_i z_i`, ``z = Xw (+ b)``.

    Parameters
    ----------
    X : sympy.Matrix, shape (n, d)
    w : sympy.Matrix, shape (d, 1)
    t : sympy.Matrix, shape (n, 1)
    b : sympy.Expr, optional
        Intercept, added to every score.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If the shapes do not match.

    Examples
    --------
    >>> X, w, t = symbolic_data(2, 2)
    >>> logistic_loss(X, w, t)
    -t_1*(w_1*x_1,1 + w_2*x_1,2) - t_2*(w_1*x_2,1 + w_2*x_2,2) + log(exp(w_1*x_1,1 + w_2*x_1,2) + 1) + log(exp(w_1*x_2,1 + w_2*x_2,2) + 1)
    """
    z = _scores(X, w, b)
    t = as_column(t, "t", length=z.shape[0])
    return bernoulli_nll(z, t)


def mse_sigmoid(z, t):
    r"""Squared error on a sigmoid output, :math:`E = \tfrac12\sum_i(\sigma(z_i)-t_i)^2`.

    Parameters
    ----------
    z, t : sympy.Expr or column sympy.Matrix

    Returns
    -------
    sympy.Expr
    """
    zs, ts = _paired_columns(z, t)
    return sp.Rational(1, 2) * sp.Add(*[(sigmoid(a) - b) ** 2 for a, b in zip(zs, ts, strict=True)])


def softmax(z) -> sp.Matrix:
    r"""Softmax of a column of logits, :math:`p_k = e^{z_k}/\sum_j e^{z_j}`.

    Parameters
    ----------
    z : sympy.Matrix, shape (K, 1)

    Returns
    -------
    sympy.Matrix, shape (K, 1)
    """
    z = as_column(z, "z")
    denominator = sp.Add(*[sp.exp(a) for a in z])
    return z.applyfunc(lambda a: sp.exp(a) / denominator)


def log_sum_exp(z) -> sp.Expr:
    r"""Log-sum-exp :math:`\log\sum_k e^{z_k}` of a column of logits.

    Parameters
    ----------
    z : sympy.Matrix, shape (K, 1)

    Returns
    -------
    sympy.Expr
    """
    z = as_column(z, "z")
    return sp.log(sp.Add(*[sp.exp(a) for a in z]))


def softmax_cross_entropy(z, y) -> sp.Expr:
    r"""Cross-entropy of a one-hot (or probability) target ``y`` against softmax(``z``).

    :math:`\ell = -\sum_k y_k \log p_k` with ``p = softmax(z)``.

    Parameters
    ----------
    z : sympy.Matrix, shape (K, 1)
    y : sympy.Matrix, shape (K, 1)

    Returns
    -------
    sympy.Expr
    """
    z = as_column(z, "z")
    y = as_column(y, "y", length=z.shape[0])
    p = softmax(z)
    return -sp.Add(*[y[k] * sp.log(p[k]) for k in range(z.shape[0])])


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`; entry-wise on a Matrix.

    SymPy differentiates it to ``Heaviside(z)``, whose value at 0 is 1/2 (PyTorch
    uses 0 there); never rely on the value at the kink.
    """
    return elementwise(lambda a: sp.Max(0, a), z, "z")


def l2_penalty(w, lam) -> sp.Expr:
    r"""L2 penalty :math:`\tfrac{\lambda}{2}\lVert w\rVert^2` (``lam = 1/C`` in scikit-learn terms).

    Parameters
    ----------
    w : sympy.Matrix, shape (d, 1)
    lam : sympy.Expr or int

    Returns
    -------
    sympy.Expr
    """
    w = as_column(w, "w")
    lam = as_expr(lam, "lam")
    return lam / 2 * sp.Add(*[a**2 for a in w])


# ---------------------------------------------------------------------------
# Symbolic data for small, fully explicit instances
# ---------------------------------------------------------------------------


def symbolic_matrix(name: str, rows: int, cols: int, *, start: int = 1, **assumptions) -> sp.Matrix:
    """A Matrix of distinct symbols ``name_{i,j}`` (or ``name_{i}`` for one column).

    Parameters
    ----------
    name : str
        Base name, e.g. ``"x"``.
    rows, cols : int
        Shape, both >= 1.
    start : int, default 1
        Index of the first row and column: 1 for data (samples and features, as in textbooks),
        0 for classes, which the book and the estimators number 0, ..., K-1 (row k of ``coef_``).
    **assumptions
        SymPy assumptions; ``real=True`` is the default.

    Returns
    -------
    sympy.Matrix

    Examples
    --------
    >>> symbolic_matrix("w", 2, 1)
    Matrix([
    [w_1],
    [w_2]])
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected an identifier such as 'x', got {name!r}")
    for arg, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{arg}: expected a positive int, got {value!r}")
    if type(start) is not int or start not in (0, 1):
        raise ValueError(f"start: expected 0 or 1, got {start!r}")
    assumptions = {"real": True, **assumptions}
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"{name}_{i + start}", **assumptions))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + start},{j + start}", **assumptions))


def symbolic_data(n: int = 4, d: int = 3):
    """Symbolic data ``X`` (n x d), weights ``w`` (d x 1) and labels ``t`` (n x 1).

    All symbols are real.  Keep the sizes small: simplification cost grows quickly.

    Parameters
    ----------
    n, d : int

    Returns
    -------
    tuple of sympy.Matrix
        ``(X, w, t)``.
    """
    return symbolic_matrix("x", n, d), symbolic_matrix("w", d, 1), symbolic_matrix("t", n, 1)
