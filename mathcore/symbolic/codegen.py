r"""From a SymPy expression to a fast NumPy or PyTorch function.

The recipe the course teaches (and the only one that scales):

1. Derive the loss's derivative with respect to the **scalar score** ``z`` once,
   whatever the number of features:  ``dl/dz = sigma(z) - t``  (``dloss_dz``).
2. Generate element-wise code for it: ``f(z, t) = sigmoid(z) - t``
   (``generate``, ``to_numpy``, ``to_torch``).
3. Compose it with two matrix products: ``grad = X.T @ f(X @ w, t)``
   (``logistic_loss_gradient``, ``gradient_function``).

Differentiating with respect to every weight separately (one symbol per weight)
gives expressions that grow like ``D**2`` and code that is far slower; the
benchmark ``benchmarks/bench_codegen.py`` measures both.

The printer is small and readable.  Two details make the generated code as fast
and as safe as hand-written code:

* ``Sigmoid`` and ``Softplus`` print as ``sigmoid(...)`` and ``softplus(...)``,
  which the backend maps to stable library functions (``scipy.special.expit``,
  ``torch.sigmoid``, ``numpy.logaddexp``), never to ``1/(1 + exp(-z))``.
* Sums print positive terms first: ``sigmoid(z) - t`` rather than SymPy's
  ``-t + sigmoid(z)``, which costs an extra element-wise pass (negate ``t``, then add).

The generated source is kept on the function as ``f.source``.
"""

from __future__ import annotations

import functools
import keyword

import sympy as sp

from ._checks import describe
from ._printer import BACKENDS, NAMESPACES, ArrayCodePrinter, check_backend
from .derivations import Derivation
from .expressions import LOSSES, Sigmoid, l2_penalty, sigmoid, softmax

__all__ = [
    "BACKENDS",
    "LOSSES",
    "GRADIENT_LOSSES",
    "generate",
    "to_numpy",
    "to_torch",
    "dloss_dz",
    "gradient_function",
    "logistic_loss_gradient",
]


#: Losses accepted by ``gradient_function``: ``LOSSES`` and the logistic loss with an L2 penalty.
GRADIENT_LOSSES = (*LOSSES, "logistic_l2")


def _safe_names(args, reserved) -> list:
    """Python identifiers for the arguments (SymPy names like 'x_1,2' are not)."""
    names = []
    for i, symbol in enumerate(args):
        name = symbol.name
        if not name.isidentifier() or keyword.iskeyword(name) or name in reserved or name in names:
            name = f"arg{i}"
        names.append(name)
    return names


def generate(expr, args, backend: str = "numpy", *, name: str = "generated", cse: bool = True):
    """Generate an element-wise NumPy or PyTorch function from a SymPy expression.

    Parameters
    ----------
    expr : sympy.Expr
        A scalar expression; it is applied element-wise to arrays.  It may use
        ``exp``, ``log``, powers, ``Sigmoid``, ``Softplus``, ``Max``, ``Abs`` and
        ``Heaviside``.
    args : sequence of sympy.Symbol
        The function's parameters, in order.  Every free symbol of ``expr`` must be
        listed.
    backend : {"numpy", "torch"}
        ``"numpy"`` maps ``Sigmoid`` to ``scipy.special.expit``; ``"torch"`` to
        ``torch.sigmoid``.
    name : str
        Name of the generated function.
    cse : bool, default True
        Compute repeated sub-expressions once (``x0 = sigmoid(z)``).

    Returns
    -------
    callable
        ``f(*arrays)``; its source code is in ``f.source``.

    Raises
    ------
    TypeError
        If ``expr`` is not a scalar SymPy expression or an argument is not a Symbol.
    ValueError
        If ``backend`` is unknown, ``args`` repeats a symbol or misses a free
        symbol, or ``expr`` uses a function that cannot be generated.

    Examples
    --------
    >>> import sympy as sp
    >>> z, t = sp.symbols("z t", real=True)
    >>> f = generate(Sigmoid(z) - t, [z, t])
    >>> print(f.source)
    def generated(z, t):
        return sigmoid(z) - t
    <BLANKLINE>
    """
    backend = check_backend(backend)
    if isinstance(expr, sp.MatrixBase) or not isinstance(expr, sp.Expr):
        raise TypeError(
            f"expr: expected a scalar SymPy expression (code is element-wise), got {describe(expr)}"
        )
    if isinstance(args, sp.Symbol) or not hasattr(args, "__iter__"):
        raise TypeError(f"args: expected a sequence of SymPy Symbols, got {describe(args)}")
    args = list(args)
    for arg in args:
        if not isinstance(arg, sp.Symbol):
            raise TypeError(f"args: expected SymPy Symbols, got {describe(arg)}")
    if len(set(args)) != len(args):
        raise ValueError(f"args: expected distinct symbols, got {args}")
    missing = expr.free_symbols - set(args)
    if missing:
        raise ValueError(
            f"args: expected every free symbol of expr, missing {sorted(map(str, missing))}"
        )
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected a Python identifier, got {name!r}")

    namespace = NAMESPACES[backend]()
    names = _safe_names(args, reserved=set(namespace) | {name})
    renamed = {a: sp.Symbol(n, **a.assumptions0) for a, n in zip(args, names, strict=True)}
    expr = expr.xreplace(renamed)

    if cse:
        temporaries, (body,) = sp.cse(expr, symbols=sp.numbered_symbols("x"), optimizations=None)
        taken = set(names)
        temporaries = [(s, v) for s, v in temporaries]
        if any(str(s) in taken for s, _ in temporaries):  # avoid clashes with arguments
            fresh = sp.numbered_symbols("tmp")
            mapping = {s: next(fresh) for s, _ in temporaries}
            temporaries = [(mapping[s], v.xreplace(mapping)) for s, v in temporaries]
            body = body.xreplace(mapping)
    else:
        temporaries, body = [], expr

    printer = ArrayCodePrinter()
    try:
        lines = [f"    {s} = {printer.doprint(v)}" for s, v in temporaries]
        lines.append(f"    return {printer.doprint(body)}")
    except Exception as error:  # sympy raises its own PrintMethodNotImplementedError
        raise ValueError(f"expr: cannot generate code for {expr}: {error}") from None
    source = f"def {name}({', '.join(names)}):\n" + "\n".join(lines) + "\n"

    exec(compile(source, f"<mathcore.symbolic.{name}>", "exec"), namespace)  # noqa: S102
    function = namespace[name]
    function.source = source
    function.backend = backend
    return function


def to_numpy(expr, args, **kwargs):
    """Generate a NumPy/SciPy function; see ``generate`` (``backend="numpy"``).

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> f = to_numpy(Sigmoid(z), [z])
    >>> f(np.array([-800.0, 0.0, 800.0]))
    array([0. , 0.5, 1. ])
    """
    return generate(expr, args, "numpy", **kwargs)


def to_torch(expr, args, **kwargs):
    """Generate a PyTorch function; see ``generate`` (``backend="torch"``)."""
    return generate(expr, args, "torch", **kwargs)


# ---------------------------------------------------------------------------
# Derive once: the derivative with respect to the score
# ---------------------------------------------------------------------------


def _in_terms_of_sigmoid(raw: sp.Expr, z: sp.Symbol) -> sp.Expr:
    """Rewrite an expression in e^{z} as a rational function of p = sigma(z).

    Substitute ``z = log(p/(1-p))`` (so ``e^z = p/(1-p)``), simplify, and put
    ``Sigmoid(z)`` back in place of ``p``.
    """
    p = sp.Dummy("p", positive=True)
    in_p = raw.subs(z, sp.log(p / (1 - p)))
    rational = sp.factor(sp.cancel(in_p))  # the normal form of a rational function of p
    if rational.has(sp.exp, sp.log):
        rational = sp.factor(sp.simplify(in_p))
    return rational.subs(p, Sigmoid(z))


@functools.cache
def dloss_dz(loss: str = "logistic") -> Derivation:
    r"""Derive the loss's derivative with respect to the score, once, and simplify it.

    * ``"logistic"``: :math:`\frac{d}{dz}\big[-t\log\sigma(z) - (1-t)\log(1-\sigma(z))\big] = \sigma(z) - t`.
    * ``"mse_sigmoid"``: :math:`\frac{d}{dz}\tfrac12(\sigma(z)-t)^2 = (\sigma(z)-t)\,\sigma(z)(1-\sigma(z))`.
    * ``"softmax_ce"``: :math:`\frac{\partial}{\partial z_k}\big[-\sum_j y_j\log p_j\big] = p_k - y_k`
      (element-wise in ``p = softmax(z)`` and ``y``; derived for K = 3).

    The raw derivative is rewritten in terms of the output probability (substituting
    ``z = logit(p)``, or ``z_k = log p_k`` for softmax) and simplified; the result is
    checked against the raw derivative before it is returned.

    Parameters
    ----------
    loss : {"logistic", "mse_sigmoid", "softmax_ce"}

    Returns
    -------
    Derivation
        ``lhs`` is the derivative (unevaluated), ``steps[0]`` SymPy's raw result and
        ``rhs`` the simplified form used for code generation.

    Raises
    ------
    ValueError
        If ``loss`` is unknown.
    """
    z, t = sp.symbols("z t", real=True)
    if loss == "logistic":
        s = sigmoid(z)
        definition = -t * sp.log(s) - (1 - t) * sp.log(1 - s)
        lhs = sp.Derivative(-t * sp.log(Sigmoid(z)) - (1 - t) * sp.log(1 - Sigmoid(z)), z)
        raw = sp.diff(definition, z)
        simplified = _in_terms_of_sigmoid(raw, z)
    elif loss == "mse_sigmoid":
        definition = sp.Rational(1, 2) * (sigmoid(z) - t) ** 2
        lhs = sp.Derivative(sp.Rational(1, 2) * (Sigmoid(z) - t) ** 2, z)
        raw = sp.diff(definition, z)
        simplified = _in_terms_of_sigmoid(raw, z)
    elif loss == "softmax_ce":
        return _softmax_dloss_dz()
    else:
        raise ValueError(f"loss: expected 'logistic', 'mse_sigmoid' or 'softmax_ce', got {loss!r}")
    derivation = Derivation(
        f"dl/dz {loss}",
        f"Derivative of the {loss} loss with respect to the score",
        "Derived once for a scalar score z; the gradient is X^T (dl/dz evaluated at Xw).",
        lhs=lhs,
        rhs=simplified,
        steps=(raw,),
    )
    if not derivation.verify():
        raise RuntimeError(f"internal error: the simplified dl/dz for {loss} does not check out")
    return derivation


def _softmax_dloss_dz(k: int = 3) -> Derivation:
    """D9a in the form used for code generation: dl/dz = softmax(z) - y (K = 3)."""
    z = sp.Matrix(sp.symbols(f"z_1:{k + 1}", real=True))
    y_free = sp.symbols(f"y_1:{k}", real=True)
    y = sp.Matrix([*y_free, 1 - sp.Add(*y_free)])  # a target distribution sums to one
    probabilities = softmax(z)
    loss = -sp.Add(*[y[j] * sp.log(probabilities[j]) for j in range(k)])
    derivation = Derivation(
        "dl/dz softmax_ce",
        "Derivative of softmax cross-entropy with respect to the logits",
        "Each component is p_k - y_k, so the batch gradient is X^T (P - Y).",
        lhs=sp.Matrix([sp.Derivative(loss, zj) for zj in z]),
        rhs=probabilities - y,
        display_lhs=r"\frac{\partial \ell}{\partial z}",
        display_rhs="p - y",
    )
    if not derivation.verify():
        raise RuntimeError("internal error: softmax cross-entropy gradient is not p - y")
    return derivation


@functools.cache
def softmax_elementwise(k: int = 3) -> sp.Expr:
    """Discover the element-wise form P - Y of the softmax cross-entropy gradient.

    Differentiate the loss, write every component in terms of p_j = softmax(z)_j
    (substitute z_j = log p_j, then sum(p) = 1) and check that all components have
    the same form f(p_j, y_j).
    """
    z = sp.Matrix(sp.symbols(f"z_1:{k + 1}", real=True))
    p = sp.Matrix(sp.symbols(f"p_1:{k + 1}", positive=True))
    y_free = sp.symbols(f"y_1:{k}", real=True)
    y = sp.Matrix([*y_free, 1 - sp.Add(*y_free)])
    probabilities = softmax(z)
    loss = -sp.Add(*[y[j] * sp.log(probabilities[j]) for j in range(k)])
    in_p = [
        sp.simplify(sp.diff(loss, z[j]).subs({z[i]: sp.log(p[i]) for i in range(k)}).subs(sp.Add(*p), 1))
        for j in range(k)
    ]
    P, Y = sp.symbols("P Y", real=True)
    elementwise = in_p[0].subs({p[0]: P, y[0]: Y})
    for j in range(k):
        if sp.simplify(in_p[j] - elementwise.subs({P: p[j], Y: y[j]})) != 0:
            raise RuntimeError("internal error: softmax gradient components differ in form")
    return elementwise


# ---------------------------------------------------------------------------
# Compose: vectorised gradients
# ---------------------------------------------------------------------------


def _check_arrays(backend, **arrays):
    """Type and dimension checks at the boundary of a generated gradient."""
    if backend == "numpy":
        import numpy as np

        array_type, type_name = np.ndarray, "numpy.ndarray"
    else:
        import torch

        array_type, type_name = torch.Tensor, "torch.Tensor"
    for arg, (value, ndim) in arrays.items():
        if not isinstance(value, array_type):
            raise TypeError(f"{arg}: expected a {type_name}, got {type(value).__name__}")
        if value.ndim not in ndim:
            wanted = " or ".join(f"{n}-D" for n in ndim)
            raise ValueError(f"{arg}: expected a {wanted} array, got shape {tuple(value.shape)}")


def _check_shapes(X, w, t, w_ndim=1):
    n, d = X.shape
    if w.shape[0] != d:
        raise ValueError(f"w: expected {d} rows to match X with {d} columns, got shape {tuple(w.shape)}")
    if t.shape[0] != n:
        raise ValueError(f"t: expected {n} rows to match X with {n} rows, got shape {tuple(t.shape)}")
    if w_ndim == 2 and t.shape[1:] != w.shape[1:]:
        raise ValueError(
            f"t: expected shape ({n}, {w.shape[1]}) (one-hot, one column per class of W), "
            f"got shape {tuple(t.shape)}"
        )


@functools.cache
def score_function(loss: str, backend: str):
    """Generated element-wise dl/dz for ``loss`` on ``backend`` (cached)."""
    if loss == "softmax_ce":
        P, Y = sp.symbols("P Y", real=True)
        return generate(softmax_elementwise(), [P, Y], backend, name="dloss_dz_softmax_ce")
    z, t = sp.symbols("z t", real=True)
    return generate(dloss_dz(loss).rhs, [z, t], backend, name=f"dloss_dz_{loss}")


@functools.cache
def penalty_function(backend: str):
    """Generated derivative of the L2 penalty lambda/2 * w^2 (= lambda * w)."""
    w, lam = sp.Symbol("w", real=True), sp.Symbol("lam", positive=True)
    derivative = sp.diff(l2_penalty(sp.Matrix([w]), lam), w)
    return generate(derivative, [w, lam], backend, name="dpenalty_dw")


def gradient_function(loss: str = "logistic", backend: str = "numpy", mean: bool = False):
    r"""Vectorised gradient built from the generated scalar derivative ``dl/dz``.

    * ``"logistic"``: objective :math:`\sum_i \operatorname{softplus}(z_i) - t_i z_i`,
      gradient ``X.T @ f(X @ w, t)``.
    * ``"mse_sigmoid"``: objective :math:`\tfrac12\sum_i(\sigma(z_i)-t_i)^2`, gradient
      ``X.T @ f(X @ w, t)``.
    * ``"softmax_ce"``: objective :math:`-\sum_{i,k} Y_{ik}\log P_{ik}`, gradient
      ``X.T @ f(softmax(X @ W), Y)``.
    * ``"logistic_l2"``: logistic plus :math:`\tfrac\lambda2\lVert w\rVert^2`, gradient
      ``X.T @ f(X @ w, t) + g(w, lam)``.

    ``f`` (and ``g``) are generated from SymPy; with ``mean=True`` the whole
    objective, penalty included, is divided by N (so the penalty is
    :math:`\lambda/(2N)\lVert w\rVert^2`, the convention of ``mathcore``'s solvers).
    There is no separate intercept: include a column of ones in ``X`` (its weight
    is then penalised too).

    Parameters
    ----------
    loss : {"logistic", "mse_sigmoid", "softmax_ce", "logistic_l2"}
    backend : {"numpy", "torch"}
    mean : bool, default False
        Divide by the number of samples.

    Returns
    -------
    callable
        ``grad(X, w, t)`` (``grad(X, w, t, lam)`` for ``"logistic_l2"``; for
        ``"softmax_ce"`` ``w`` is ``W`` of shape (D, K) and ``t`` one-hot (N, K)).
        ``grad.source`` is the code it runs, as text, without the input checks: the
        generated element-wise function(s) and the composition with the matrix
        products, runnable given ``sigmoid`` and ``softmax`` (``grad.generated``
        holds the generated functions themselves).

    Raises
    ------
    ValueError
        On an unknown ``loss`` or ``backend``.
    """
    backend = check_backend(backend)
    if loss not in GRADIENT_LOSSES:
        raise ValueError(f"loss: expected one of {GRADIENT_LOSSES}, got {loss!r}")
    if not isinstance(mean, bool):
        raise TypeError(f"mean: expected a bool, got {type(mean).__name__}")

    if loss == "softmax_ce":
        f = score_function("softmax_ce", backend)
        if backend == "numpy":
            from scipy.special import softmax as softmax_rows

            def probabilities(Z):
                return softmax_rows(Z, axis=1)
        else:
            import torch

            def probabilities(Z):
                return torch.softmax(Z, dim=1)

        def grad(X, W, Y):
            _check_arrays(backend, X=(X, (2,)), W=(W, (2,)), Y=(Y, (2,)))
            _check_shapes(X, W, Y, w_ndim=2)
            G = X.T @ f(probabilities(X @ W), Y)
            return G / X.shape[0] if mean else G

        return _with_source(grad, "X, W, Y", f"X.T @ {f.__name__}(softmax(X @ W, {'axis' if backend == 'numpy' else 'dim'}=1), Y)", mean, [f])

    f = score_function("logistic" if loss == "logistic_l2" else loss, backend)

    if loss == "logistic_l2":
        g = penalty_function(backend)

        def grad(X, w, t, lam):
            _check_arrays(backend, X=(X, (2,)), w=(w, (1,)), t=(t, (1,)))
            _check_shapes(X, w, t)
            if isinstance(lam, bool) or not isinstance(lam, (int, float)) or lam < 0:
                raise ValueError(f"lam: expected a non-negative number, got {lam!r}")
            total = X.T @ f(X @ w, t) + g(w, lam)
            return total / X.shape[0] if mean else total

        return _with_source(grad, "X, w, t, lam", f"X.T @ {f.__name__}(X @ w, t) + {g.__name__}(w, lam)", mean,
                            [f, g])

    def grad(X, w, t):
        _check_arrays(backend, X=(X, (2,)), w=(w, (1,)), t=(t, (1,)))
        _check_shapes(X, w, t)
        total = X.T @ f(X @ w, t)
        return total / X.shape[0] if mean else total

    return _with_source(grad, "X, w, t", f"X.T @ {f.__name__}(X @ w, t)", mean, [f])


def _with_source(grad, args, expression, mean, generated):
    """Attach ``grad.source`` (what the returned function computes, with the generated code it calls)."""
    body = f"({expression}) / X.shape[0]" if mean else expression
    parts = [g.source.rstrip() for g in generated]
    grad.source = "\n\n".join([*parts, f"def grad({args}):\n    return {body}"]) + "\n"
    grad.generated = tuple(generated)
    return grad


def logistic_loss_gradient(backend: str = "numpy", mean: bool = False):
    r"""Gradient of the logistic loss, generated from ``dl/dz = sigma(z) - t``.

    Returns ``grad(X, w, t) = X.T @ f(X @ w, t)`` where ``f`` is generated from the
    simplified scalar derivative and prints as ``sigmoid(z) - t`` (stable
    ``scipy.special.expit`` / ``torch.sigmoid``).  This is exactly the hand-written
    ``X.T @ (expit(X @ w) - t)``, and as fast.

    Parameters
    ----------
    backend : {"numpy", "torch"}
    mean : bool, default False
        ``False``: gradient of the summed loss (as in the derivations);
        ``True``: of the mean loss.

    Returns
    -------
    callable
        ``grad(X, w, t)`` with ``X`` (N, D), ``w`` (D,), ``t`` (N,); ``grad.source``
        shows the generated code and the composition (see ``gradient_function``).

    Raises
    ------
    ValueError
        If ``backend`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> grad = logistic_loss_gradient("numpy")
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> grad(X, np.zeros(2), np.array([1.0, 0.0]))
    array([ 1. , -1.5])
    """
    return gradient_function("logistic", backend, mean)
