r"""What the estimators train with: the per-sample loss and ``dl/dz``, generated from SymPy.

``objective_functions("logistic", "torch")`` returns the functions that
``mathcore.optim.LogisticObjective`` composes with two matrix products; the
softmax objective uses ``objective_functions("softmax_ce", "torch")``. Each
comes in two forms, without and with per-sample weights ``s_i`` (``sample_weight``
and ``class_weight`` of the estimators):

* logistic: :math:`\ell(z, t) = \operatorname{softplus}((1 - 2t) z)` and
  :math:`\partial\ell/\partial z = \sigma(z) - t`; weighted, :math:`s\,\ell` and
  :math:`\partial (s\ell)/\partial z = s(\sigma(z) - t)`, differentiated by SymPy;
* softmax: :math:`\ell(z, y) = \log\sum_k e^{z_k - z_y}` per row and
  :math:`\partial\ell/\partial z = p - y`; weighted, :math:`s\,\ell` and :math:`s(p - y)`.

The penalty's gradient :math:`\lambda w` is generated too. The functions are the
same objects on every call (cached), so a test can check that the training
gradient *is* the generated one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import sympy as sp

from .codegen import (
    check_backend,
    dloss_dz,
    generate,
    penalty_function,
    score_function,
    softmax_elementwise,
)
from .derivations import Derivation
from .expressions import Softplus, sigmoid

__all__ = ["ObjectiveFunctions", "objective_functions", "logistic_loss_expression"]


class ObjectiveFunctions(NamedTuple):
    """The generated loss and its derivative with respect to the score, plain and weighted.

    ``loss(z, t)``, ``dloss_dz(z, t)``, ``weighted_loss(z, t, s)`` and
    ``weighted_dloss_dz(z, t, s)`` are element-wise for ``"logistic"`` (``t`` in
    {0, 1}). For ``"softmax_ce"``, ``loss(Z, Y)`` gives one value per row,
    ``dloss_dz(P, Y)`` is element-wise in the probabilities ``P = softmax(Z)`` and
    the one-hot ``Y``, and the weighted forms take ``s`` with one weight per row.
    ``penalty_gradient(w, lam)`` is ``lam * w``.
    """

    loss: Callable
    dloss_dz: Callable
    weighted_loss: Callable
    weighted_dloss_dz: Callable
    penalty_gradient: Callable


def logistic_loss_expression() -> sp.Expr:
    """``softplus((1 - 2t) z)``: the Bernoulli NLL for t in {0, 1} (``tests/test_symbolic.py`` proves it).

    A sum of these non-negative terms has no cancellation (unlike softplus(z) - t z),
    so even a tiny loss keeps its relative accuracy.
    """
    z, t = sp.symbols("z t", real=True)
    return Softplus((1 - 2 * t) * z)


def _weighted_logistic_dloss_dz() -> sp.Expr:
    """d(s l)/dz for the Bernoulli NLL, differentiated by SymPy, checked to be s (sigma(z) - t)."""
    z, t, s = sp.symbols("z t s", real=True)
    nll = -t * sp.log(sigmoid(z)) - (1 - t) * sp.log(1 - sigmoid(z))
    weighted = s * dloss_dz("logistic").rhs
    derivation = Derivation("dl/dz weighted", "", "", lhs=sp.diff(s * nll, z), rhs=weighted)
    if not derivation.verify():
        raise RuntimeError("internal error: the weighted dl/dz is not s (sigma(z) - t)")
    return weighted


def _softmax_rows(backend: str, weighted: bool):
    """Cross-entropy per row, ``logsumexp(z - z . y)`` (D9b: CE = logsumexp(z) - z . y for one-hot y)."""
    if backend == "numpy":
        from scipy.special import logsumexp

        def rows(Z, Y):
            return logsumexp(Z - (Z * Y).sum(axis=1, keepdims=True), axis=1)
    else:
        import torch

        def rows(Z, Y):
            # the margins z_k - z_y, so no two large numbers are subtracted
            return torch.logsumexp(Z - (Z * Y).sum(dim=1, keepdim=True), dim=1)
    if not weighted:
        return rows

    def weighted_rows(Z, Y, s):
        return s * rows(Z, Y)

    return weighted_rows


@functools.cache
def objective_functions(loss: str = "logistic", backend: str = "torch") -> ObjectiveFunctions:
    """The loss, ``dl/dz`` and penalty gradient that ``mathcore``'s estimators train with.

    The same function objects every call (cached): ``dloss_dz`` is the one inside
    ``gradient_function(loss, backend)``, generated from ``dloss_dz(loss)``.

    Parameters
    ----------
    loss : {"logistic", "softmax_ce"}
    backend : {"numpy", "torch"}

    Returns
    -------
    ObjectiveFunctions

    Raises
    ------
    ValueError
        If ``loss`` or ``backend`` is unknown.

    Examples
    --------
    >>> import torch
    >>> fns = objective_functions("logistic", "torch")
    >>> z, t = torch.tensor([0.0, 50.0]), torch.tensor([1.0, 0.0])
    >>> fns.dloss_dz(z, t)
    tensor([-0.5000,  1.0000])
    >>> fns.loss(z, t)
    tensor([ 0.6931, 50.0000])
    >>> fns.weighted_dloss_dz(z, t, torch.tensor([2.0, 0.5]))
    tensor([-1.0000,  0.5000])
    """
    backend = check_backend(backend)
    penalty = penalty_function(backend)
    if loss == "logistic":
        z, t, s = sp.symbols("z t s", real=True)
        form = logistic_loss_expression()
        return ObjectiveFunctions(
            loss=generate(form, [z, t], backend, name="loss_logistic"),
            dloss_dz=score_function("logistic", backend),
            weighted_loss=generate(s * form, [z, t, s], backend, name="weighted_loss_logistic"),
            weighted_dloss_dz=generate(_weighted_logistic_dloss_dz(), [z, t, s], backend,
                                       name="weighted_dloss_dz_logistic"),
            penalty_gradient=penalty,
        )
    if loss == "softmax_ce":
        P, Y, s = sp.symbols("P Y s", real=True)
        return ObjectiveFunctions(
            loss=_softmax_rows(backend, weighted=False),
            dloss_dz=score_function("softmax_ce", backend),
            weighted_loss=_softmax_rows(backend, weighted=True),
            # one weight per row, broadcast over the K columns: pass s[:, None]
            weighted_dloss_dz=generate(s * softmax_elementwise(), [P, Y, s], backend,
                                       name="weighted_dloss_dz_softmax_ce"),
            penalty_gradient=penalty,
        )
    raise ValueError(f"loss: expected 'logistic' or 'softmax_ce', got {loss!r}")
