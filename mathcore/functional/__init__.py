"""Numerically stable activation and loss functions for NumPy arrays and torch tensors.

Every function here takes either a NumPy array or a torch tensor and returns the
same kind, with the same floating-point dtype (float32 stays float32).

Input rules (the same for every function):

* **Arrays and tensors** must have a floating-point dtype. Integer and boolean
  inputs are refused with a ``TypeError``: an integer array usually holds labels
  or class indices, so converting it silently could hide a mistake. Convert it
  yourself, e.g. ``z.astype(np.float64)`` or ``z.double()``.
  Targets are the exception: ``t`` in ``binary_cross_entropy_with_logits`` and
  ``target`` in ``mse`` may be integer or boolean (0/1 labels are the usual case)
  and are converted to the dtype of the first argument; the values are unchanged.
* **Python numbers** (``int`` or ``float``, not ``bool``) are accepted as scalars
  and treated as float64, so ``sigmoid(0)`` returns ``np.float64(0.5)``.
  A 0-d NumPy input also gives a NumPy scalar; a 0-d tensor gives a 0-d tensor.
* **Anything else** (lists, strings, ...) raises a ``TypeError`` naming the
  argument. Wrap lists with ``np.asarray(...)`` first.
* **Two-argument losses** need both arguments of the same kind (both NumPy or
  both torch, on the same device) and of exactly the same shape; there is no
  broadcasting.
* NaN in the first argument propagates to the result, as in NumPy.
* Value checks (``p`` in ``logit``, the targets of the losses) read the data;
  for a tensor on a GPU that waits for the device, so keep such calls out of
  code you are timing.

Stability: no intermediate step overflows, so every result that fits in the
dtype is computed (tested for ``|z|`` up to 1e4 in float32 and float64), and the
torch versions have finite gradients there. Results smaller than the smallest
float round to zero (``exp(-1e4)`` is 0 in any float format); that underflow is
the correct answer, so the functions here ignore NumPy's underflow flag (a
decorator, ``quiet_underflow``), also when the caller runs under
``np.errstate(all="raise")``. Overflow, invalid operations and division by zero
are never silenced, except in ``logit`` where ``log(0) = -inf`` is the answer.

The torch versions are built on torch's own stable kernels (``torch.sigmoid``,
``torch.nn.functional.logsigmoid``, ``torch.logsumexp``, ...) rather than on
re-typed NumPy formulas: torch's autograd differentiates those kernels
correctly everywhere, whereas ``max(z, 0)`` or ``abs(z)`` written out would get
a one-sided (wrong) derivative at ``z = 0``.
"""

from .activations import (
    log_sigmoid,
    log_softmax,
    logit,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    softplus,
)
from .losses import binary_cross_entropy_with_logits, mse, softmax_cross_entropy_with_logits

__all__ = [
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "logit",
    "softmax",
    "log_softmax",
    "logsumexp",
    "relu",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "mse",
]
