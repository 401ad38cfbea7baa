r"""Objectives and solvers for logistic and softmax regression, written on torch tensors.

Two pieces, kept apart so that each stays small:

* an **objective** knows the data and computes the loss, its gradient and (for
  Newton) its Hessian: ``LogisticObjective`` for two classes and
  ``SoftmaxObjective`` for ``K >= 2`` classes;
* a **solver** only sees a flat parameter vector ``theta`` and the objective:
  ``gradient_descent``, ``sgd``, ``lbfgs`` and ``newton``.
  Each returns ``(theta, history)``; the ``History`` lists, per iteration,
  the loss, the gradient norm, the elapsed time and the coefficient norm.

**The objective (binary case).** With ``z = X w + b`` and labels ``t`` in {0, 1}, the solvers minimise the **mean**
negative log-likelihood plus an L2 penalty on ``w`` (the intercept ``b`` is not
penalised)::

    f(w, b) = (1/N) sum_i [softplus(z_i) - t_i z_i]  +  lam / (2N) * ||w||^2

``softplus(z) - t z`` is the Bernoulli negative log-likelihood
``-t log sigma(z) - (1 - t) log(1 - sigma(z))`` written without logarithms of
probabilities, so it never evaluates ``log(0)``. With ``lam = 1/C`` this is
scikit-learn's objective ``C * sum_i loss_i + 0.5 * ||w||^2`` divided by
``C * N``: both have the same minimiser, and the mean form keeps the gradient's
scale independent of ``N``. Gradient and Hessian::

    grad_w = X^T (sigma(z) - t) / N + (lam/N) w,     grad_b = sum(sigma(z) - t) / N
    H      = X~^T S X~ / N + (lam/N) diag(1, ..., 1, 0),   S = diag(sigma(z)(1 - sigma(z)))

where ``X~ = [X, 1]`` when there is an intercept. ``S`` is never formed as an
``N x N`` matrix: the Hessian is accumulated block by block as
``X~_b^T (s_b[:, None] * X~_b)``.

The softmax objective is the same with ``softplus(z) - t z`` replaced by
``logsumexp(z_i) - z_{i, y_i}`` (the cross-entropy) and ``||w||^2`` by the squared
Frobenius norm of the ``K x D`` weight matrix.

Stopping rule, the same for every solver: stop when the largest absolute entry of
the gradient of ``f`` (the mean form above) is ``<= tol``. This is the rule of
scikit-learn's ``lbfgs`` and ``newton-cholesky`` solvers, so equal ``tol`` means
roughly equal accuracy.

**Where the loss and gradient come from.** The per-sample loss and its derivative
with respect to the score are the functions ``mathcore.symbolic`` generates from
the derivations (``objective_functions``); the objectives compose them with two
matrix products.

**Layout** (one idea per module; see ARCHITECTURE.md at the repository root):
``logistic`` and ``softmax`` (the objectives), ``solvers`` (gradient descent, SGD,
L-BFGS, Newton), ``linesearch``, ``history``, ``registry`` (the solver names, the
"auto" policy, ``solve``) and two private CPU fast paths with the contract of the
plain one-expression path that GPUs and mini-batches use: ``_fused``, a numba kernel
that computes loss and gradient in one read of a large ``X`` (when numba is
installed: ``fused_kernel_available()``), and ``_blocked``, cache-sized blocks of
rows split across threads, its fallback. Small ``X`` (at most ``SMALL_MAX_ENTRIES``
entries) is evaluated with the generated NumPy functions. No copy of ``X`` is ever
made (in particular no column of ones is appended for the intercept).
"""

from ._fused import available as fused_kernel_available
from .history import History
from .logistic import SMALL_MAX_ENTRIES, LogisticObjective
from .registry import (
    AUTO_FALLBACK_MAX_PARAMS,
    AUTO_LBFGS_ITERS,
    AUTO_NEWTON_MAX_PARAMS,
    SGD_LR_DECAY,
    SOLVERS,
    SolverSettings,
    choose_solver,
    solve,
)
from .softmax import SoftmaxObjective
from .solvers import gradient_descent, lbfgs, newton, sgd

__all__ = [
    "History",
    "LogisticObjective",
    "SoftmaxObjective",
    "gradient_descent",
    "sgd",
    "lbfgs",
    "newton",
    "SOLVERS",
    "SolverSettings",
    "choose_solver",
    "solve",
    "AUTO_NEWTON_MAX_PARAMS",
    "AUTO_LBFGS_ITERS",
    "AUTO_FALLBACK_MAX_PARAMS",
    "SGD_LR_DECAY",
    "SMALL_MAX_ENTRIES",
    "fused_kernel_available",
]
