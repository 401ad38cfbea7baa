"""mathcore: the companion package of *Logistic regression from first principles*.

One idea per module:

- ``mathcore.symbolic``: SymPy derivations (D1-D17), ``verify``, the chain rule as data, code generation;
- ``mathcore.functional``: numerically stable sigmoid, softplus, softmax and losses (NumPy and torch);
- ``mathcore.models``: scikit-learn-compatible ``LogisticRegression`` and ``SoftmaxRegression``, a small ``MLP``;
- ``mathcore.optim``: gradient descent, mini-batch SGD, L-BFGS and Newton/IRLS on torch tensors;
- ``mathcore.device``: which device to compute on;
- ``mathcore.data``: the course's data sets; ``mathcore.plotting``: its figures;
- ``mathcore.gradcheck``: one gradient three ways; ``mathcore.bench``: correct timing;
  ``mathcore.parallel``: the data-parallel gradient on ``torch.distributed``.

The most used names are re-exported here, e.g. ``mathcore.LogisticRegression`` and ``mathcore.sigmoid``.
"""

from . import data, device, functional, gradcheck, plotting, symbolic
from .device import default_device, describe_device, resolve_device, synchronize
from .functional import (
    binary_cross_entropy_with_logits,
    log_sigmoid,
    log_softmax,
    logit,
    logsumexp,
    mse,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
)
from .gradcheck import check_gradient, finite_difference_gradient
from .models import MLP, LogisticRegression, SeparationWarning, SoftmaxRegression, train_mlp
from .symbolic import verify

__version__ = "0.1.0"

__all__ = [
    "data", "device", "functional", "gradcheck", "plotting", "symbolic",
    "default_device", "describe_device", "resolve_device", "synchronize",
    "binary_cross_entropy_with_logits", "log_sigmoid", "log_softmax", "logit", "logsumexp", "mse", "relu",
    "sigmoid", "softmax", "softmax_cross_entropy_with_logits", "softplus",
    "check_gradient", "finite_difference_gradient",
    "LogisticRegression", "SoftmaxRegression", "MLP", "SeparationWarning", "train_mlp",
    "verify",
]
