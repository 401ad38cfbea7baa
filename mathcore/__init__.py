"""mathcore: the companion package of *Logistic regression from first principles*.

One idea per module:

- ``mathcore.symbolic``: SymPy derivations (D1-D17), ``verify``, the chain rule as data, code generation;
- ``mathcore.functional``: numerically stable sigmoid, softplus, softmax and losses (NumPy and torch);
- ``mathcore.models``: scikit-learn-compatible ``LogisticRegression`` and ``SoftmaxRegression``, a small ``MLP``;
- ``mathcore.optim``: gradient descent, mini-batch SGD, L-BFGS and Newton/IRLS on torch tensors;
- ``mathcore.device``: which device to compute on;
- ``mathcore.data``: the course's data sets; ``mathcore.plotting``: its figures;
- ``mathcore.gradcheck``: one gradient three ways; ``mathcore.bench``: correct timing;
  ``mathcore.parallel``: the data-parallel gradient on ``torch.distributed``;
- ``mathcore.inference``: standard errors, Wald and likelihood-ratio tests, deviance, metric intervals and
  decision thresholds (Chapter 10); ``mathcore.alternatives``: LDA coefficients, the L1 fit and the
  implicit bias of gradient descent (Chapter 11).

The most used names are re-exported here, e.g. ``mathcore.LogisticRegression`` and ``mathcore.sigmoid``.
Submodules are imported lazily, on first use: ``import mathcore`` itself is instant, and a worker process
that only needs ``mathcore.parallel`` does not pay for SymPy and scikit-learn.
"""

from importlib import import_module

__version__ = "0.3.0"

_SUBMODULES = ("alternatives", "bench", "data", "device", "functional", "gradcheck", "inference", "models",
               "optim", "parallel", "notebook", "plotting", "symbolic")

_EXPORTS = {
    "default_device": "device", "describe_device": "device", "resolve_device": "device",
    "synchronize": "device",
    "binary_cross_entropy_with_logits": "functional", "log_sigmoid": "functional",
    "log_softmax": "functional", "logit": "functional", "logsumexp": "functional", "mse": "functional",
    "relu": "functional", "sigmoid": "functional", "softmax": "functional",
    "softmax_cross_entropy_with_logits": "functional", "softplus": "functional",
    "check_gradient": "gradcheck", "finite_difference_gradient": "gradcheck",
    "LogisticRegression": "models", "SoftmaxRegression": "models", "MLP": "models",
    "SeparationWarning": "models", "train_mlp": "models",
    "verify": "symbolic",
}

__all__ = [*_SUBMODULES, *_EXPORTS]


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # cache: later lookups skip this function
        return value
    raise AttributeError(f"module 'mathcore' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
