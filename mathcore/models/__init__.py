r"""Estimators: logistic and softmax regression (scikit-learn compatible) and a small MLP.

``LogisticRegression`` and ``SoftmaxRegression`` follow scikit-learn's
estimator API (``fit``, ``predict``, ``predict_proba``, ``decision_function``,
``score``, ``get_params``...) and pass its ``check_estimator`` suite. They fit on
torch tensors with the solvers of ``mathcore.optim``, on the CPU by default
(``device="cuda"`` or ``"auto"`` to use a GPU).

Both minimise the **mean** negative log-likelihood plus an L2 penalty on the
weights (never on the intercept)::

    f(w, b) = (1/N) sum_i loss_i(w, b)  +  1/(2 C N) * ||w||^2

which is scikit-learn's ``C * sum_i loss_i + 0.5 * ||w||^2`` divided by ``C * N``
(same minimiser), so ``C`` means what it means in scikit-learn and
``lambda = 1/C``.

``MLP`` is a plain ``torch.nn.Module`` (ReLU hidden layers, logit outputs) and
``train_mlp`` trains it with Adam or SGD, reproducibly for a given seed.
"""

from ._base import SeparationWarning
from .logistic import LogisticRegression
from .mlp import MLP, TrainingHistory, train_mlp
from .softmax import SoftmaxRegression

__all__ = [
    "SeparationWarning",
    "LogisticRegression",
    "SoftmaxRegression",
    "MLP",
    "TrainingHistory",
    "train_mlp",
]
