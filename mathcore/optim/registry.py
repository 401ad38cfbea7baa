"""One place for the choice of solver: the registry, the "auto" policy and ``solve``.

Every entry of ``SOLVERS`` has the same signature, ``run(objective, settings)``
returning ``(theta, history, used)``, ``used`` naming the solver that did the work. To add a solver: write it in ``solvers.py`` (or
its own module), add one line to ``SOLVERS``; the estimators accept its name and
report it in ``solver_`` without further changes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .history import concatenate
from .solvers import gradient_descent, lbfgs, newton, sgd

__all__ = [
    "SOLVERS",
    "SolverSettings",
    "choose_solver",
    "solve",
    "AUTO_NEWTON_MAX_PARAMS",
    "AUTO_LBFGS_ITERS",
    "AUTO_FALLBACK_MAX_PARAMS",
    "SGD_LR_DECAY",
]

# solver="auto". A Newton step costs about 2 N P^2 flops for the Hessian (P
# parameters) against 2 N P for an L-BFGS step, but Newton needs ~5 iterations
# whatever the conditioning, L-BFGS ~10 on well-conditioned data and hundreds on
# ill-conditioned data (unscaled, correlated features). Measured on a 2-core CPU:
# N=1e5, P=100, well conditioned: L-BFGS 0.2 s, Newton 0.75 s; ill conditioned:
# L-BFGS 6.7 s (786 iterations), Newton 0.3 s. Hence:
#   P <= 50:  Newton (cheap, and robust);
#   P > 50:   L-BFGS for up to 20 iterations, then, if not converged and P <= 2000,
#             Newton from where L-BFGS stopped ("lbfgs+newton").
AUTO_NEWTON_MAX_PARAMS = 50
AUTO_LBFGS_ITERS = 20
AUTO_FALLBACK_MAX_PARAMS = 2000

# solver="sgd" takes steps learning_rate / (1 + epoch): a constant step would leave
# the iterates wandering at a noise floor instead of converging.
SGD_LR_DECAY = 1.0


@dataclass(frozen=True)
class SolverSettings:
    """What every solver is given besides the objective (already validated by the caller)."""

    tol: float = 1e-4
    max_iter: int = 100
    callback: Callable | None = None
    learning_rate: float | None = None  # gd, sgd: None means 1/M (M from objective.lipschitz())
    batch_size: int | None = None  # sgd: None means min(256, N)
    seed: int = 0  # sgd: the shuffling seed


def _newton(objective, s):
    return (*newton(objective, tol=s.tol, max_iter=s.max_iter, callback=s.callback), "newton")


def _lbfgs(objective, s):
    return (*lbfgs(objective, tol=s.tol, max_iter=s.max_iter, callback=s.callback), "lbfgs")


def _gd(objective, s):
    theta, history = gradient_descent(objective, learning_rate=s.learning_rate, tol=s.tol,
                                      max_iter=s.max_iter, callback=s.callback)
    return theta, history, "gd"


def _sgd(objective, s):
    batch_size = s.batch_size if s.batch_size is not None else min(256, objective.n_samples)
    theta, history = sgd(objective, learning_rate=s.learning_rate, batch_size=batch_size,
                         max_iter=s.max_iter, tol=s.tol, lr_decay=SGD_LR_DECAY, seed=s.seed,
                         callback=s.callback)
    return theta, history, "sgd"


def _lbfgs_then_newton(objective, s):
    """L-BFGS for up to ``AUTO_LBFGS_ITERS`` iterations, then Newton from where it stopped."""
    first = min(AUTO_LBFGS_ITERS, s.max_iter)
    theta, h1 = lbfgs(objective, tol=s.tol, max_iter=first, callback=s.callback)
    if h1.converged or h1.n_iter < first or s.max_iter <= h1.n_iter:
        return theta, h1, "lbfgs"  # finished (or stopped) before the switch
    theta, h2 = newton(objective, theta0=theta, tol=s.tol, max_iter=s.max_iter - h1.n_iter, callback=s.callback)
    return theta, concatenate(h1, h2), "lbfgs+newton"


#: name -> run(objective, settings) -> (theta, history, used)
SOLVERS = {
    "newton": _newton,
    "lbfgs": _lbfgs,
    "gd": _gd,
    "sgd": _sgd,
    "lbfgs+newton": _lbfgs_then_newton,
}


def choose_solver(objective):
    """The "auto" policy: Newton up to 50 parameters, else L-BFGS (then Newton up to 2000)."""
    if objective.n_params <= AUTO_NEWTON_MAX_PARAMS:
        return "newton"
    return "lbfgs+newton" if objective.n_params <= AUTO_FALLBACK_MAX_PARAMS else "lbfgs"


def solve(objective, solver="auto", settings=SolverSettings()):
    """Minimise ``objective`` with the named solver.

    Returns
    -------
    theta : torch.Tensor
    history : History
    used : str
        The solver that did the work: "auto" resolved, and "lbfgs+newton" reported
        as "lbfgs" when L-BFGS finished before the switch to Newton.
    """
    name = choose_solver(objective) if solver == "auto" else solver
    if name not in SOLVERS:
        raise ValueError(f"solver: expected 'auto' or one of {tuple(SOLVERS)}, got {solver!r}")
    return SOLVERS[name](objective, settings)
