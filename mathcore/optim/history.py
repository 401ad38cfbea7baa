"""What a solver did (``History``), and the bookkeeping the solvers and objectives share."""

import time
from dataclasses import dataclass, field

import torch

__all__ = ["History"]


@dataclass
class History:
    """What a solver did, one entry per iteration.

    Entry 0 describes the starting point, entry ``k`` the iterate after ``k``
    iterations (epochs for ``sgd``), so every list has ``n_iter + 1`` entries.

    Attributes
    ----------
    loss : list of float
        Objective value ``f`` (mean loss plus penalty, see the module docstring).
    grad_norm : list of float
        Largest absolute entry of the gradient of ``f`` (the infinity norm); the
        solvers stop when it is ``<= tol``.
    time : list of float
        Seconds since the solver started.
    coef_norm : list of float
        Euclidean norm of the weights ``w`` (intercept excluded). On linearly
        separable data without penalty it keeps growing.
    converged : bool
        Whether the stopping rule ``max |grad f| <= tol`` was met.
    message : str
        Why the solver stopped.
    """

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    time: list = field(default_factory=list)
    coef_norm: list = field(default_factory=list)
    converged: bool = False
    message: str = ""

    @property
    def n_iter(self):
        """Number of iterations done (``len(loss) - 1``)."""
        return max(len(self.loss) - 1, 0)


class Recorder:
    """Fills a ``History`` and calls the user's callback."""

    def __init__(self, objective, callback):
        self.objective = objective
        self.callback = callback
        self.history = History()
        self.start = time.perf_counter()

    def __call__(self, theta, f, g):
        """Record one iterate; return its gradient norm as a float."""
        h = self.history
        gnorm = float(g.abs().max())  # one device synchronisation per iteration
        h.loss.append(float(f))
        h.grad_norm.append(gnorm)
        h.coef_norm.append(float(self.objective.coef_norm(theta)))
        h.time.append(time.perf_counter() - self.start)
        if self.callback is not None:
            self.callback(h)
        return gnorm

    def finish(self, converged, message):
        self.history.converged = bool(converged)
        self.history.message = message
        return self.history


def start_point(objective, theta0):
    """A fresh starting vector (zeros by default); ``theta0`` itself is not modified."""
    X = objective.X
    if theta0 is None:
        return torch.zeros(objective.n_params, dtype=X.dtype, device=X.device)
    theta0 = torch.as_tensor(theta0)
    if theta0.shape != (objective.n_params,):
        raise ValueError(
            f"theta0: expected a vector of shape ({objective.n_params},), got shape {tuple(theta0.shape)}"
        )
    return theta0.to(dtype=X.dtype, device=X.device).clone()


def concatenate(first, second):
    """One History for two solver runs, the second starting where the first stopped."""
    offset = first.time[-1]
    return History(
        loss=first.loss + second.loss[1:],
        grad_norm=first.grad_norm + second.grad_norm[1:],
        time=first.time + [offset + t for t in second.time[1:]],
        coef_norm=first.coef_norm + second.coef_norm[1:],
        converged=second.converged,
        message=second.message,
    )


def check_weights(sample_weight, targets, X):
    """``sample_weight`` (None or a tensor shaped like ``targets``, of X's dtype and device), checked."""
    if sample_weight is not None and (sample_weight.shape != targets.shape or sample_weight.dtype != X.dtype
                                      or sample_weight.device != X.device):
        raise ValueError(f"sample_weight: expected a tensor of shape {tuple(targets.shape)} and dtype {X.dtype} "
                         f"on {X.device}, got shape {tuple(sample_weight.shape)}, {sample_weight.dtype} "
                         f"on {sample_weight.device}")
    return sample_weight
