"""A small multilayer perceptron (``MLP``) and its training loop (``train_mlp``)."""

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_choice, check_features, check_int, check_real
from ..device import torch_threads

__all__ = ["MLP", "TrainingHistory", "train_mlp"]


_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


class MLP(torch.nn.Module):
    """A multilayer perceptron with logit outputs: ``Linear -> act -> ... -> Linear``.

    There is no sigmoid or softmax at the end: the network returns logits, and the
    losses (``binary_cross_entropy_with_logits``, ``cross_entropy``) take logits,
    which is both cheaper and numerically stable.

    Parameters
    ----------
    in_features : int
        Number of input features.
    hidden : tuple of int, default=(16,)
        Width of each hidden layer; ``()`` gives a linear model (logistic regression).
    out_features : int, default=1
        1 for a binary classifier (one logit), ``K`` for ``K`` classes.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Nonlinearity after each hidden layer.
    seed : int, optional
        Seed for the initial weights (PyTorch's default initialisation, drawn from
        a private generator state so the global random state is left alone).
        ``None`` uses the global generator.

    Examples
    --------
    >>> import torch
    >>> net = MLP(2, hidden=(8, 8), seed=0)
    >>> net(torch.zeros(5, 2)).shape
    torch.Size([5, 1])
    """

    def __init__(self, in_features, hidden=(16,), out_features=1, activation="relu", seed=None):
        super().__init__()
        in_features = check_int("in_features", in_features, low=1)
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        if not isinstance(hidden, (tuple, list)):
            raise TypeError(f"hidden: expected a tuple of layer widths, got {hidden!r}")
        hidden = tuple(check_int(f"hidden[{i}]", h, low=1) for i, h in enumerate(hidden))
        out_features = check_int("out_features", out_features, low=1)
        check_choice("activation", activation, tuple(_ACTIVATIONS))
        seed = check_int("seed", seed, low=0, allow_none=True)
        self.in_features, self.hidden, self.out_features = in_features, hidden, out_features
        self.activation = activation

        def build():
            layers, width = [], in_features
            for h in hidden:
                layers += [torch.nn.Linear(width, h), _ACTIVATIONS[activation]()]
                width = h
            layers.append(torch.nn.Linear(width, out_features))
            return torch.nn.Sequential(*layers)

        if seed is None:
            self.net = build()
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.net = build()

    def forward(self, x):
        """Logits of shape ``(n_samples, out_features)``."""
        return self.net(x)


@dataclass
class TrainingHistory:
    """Per-epoch record of ``train_mlp`` (entry 0: before training).

    Attributes
    ----------
    loss : list of float
        Mean training loss on all the data after each epoch.
    accuracy : list of float
        Training accuracy after each epoch.
    time : list of float
        Seconds since the start of training.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    time: list = field(default_factory=list)


def train_mlp(model, X, y, loss="logistic", epochs=1000, lr=0.01, batch_size=None, seed=0,
              optimizer="adam"):
    """Train ``model`` in place on ``(X, y)`` and return its ``TrainingHistory``.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits, e.g. an ``MLP``; trained in place.
    X : array-like or torch.Tensor of shape (n_samples, in_features)
        Features (converted to the dtype and device of the model's parameters).
    y : array-like or torch.Tensor of shape (n_samples,)
        For ``loss="logistic"``: labels 0/1 and a model with one output. For
        ``loss="softmax_ce"``: class indices ``0 .. K-1`` and a model with ``K`` outputs.
    loss : {"logistic", "softmax_ce"}, default="logistic"
        Binary cross-entropy with logits, or (softmax) cross-entropy; both mean
        over the samples.
    epochs : int, default=1000
        Passes over the data.
    lr : float, default=0.01
        Learning rate.
    batch_size : int, optional
        Mini-batch size; ``None`` uses all the data in each step (full batch).
    seed : int, default=0
        Seeds the mini-batch shuffling (the initial weights come from the model:
        build it with ``MLP(..., seed=...)``). With the same model and seed,
        training is reproducible on the CPU.
    optimizer : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam`` or plain ``torch.optim.SGD``.

    Returns
    -------
    TrainingHistory
        Loss, accuracy and time per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 0])  # XOR
    >>> net = MLP(2, hidden=(8,), seed=0)
    >>> hist = train_mlp(net, X, y, epochs=500, lr=0.05)
    >>> hist.accuracy[-1]
    1.0
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    check_choice("loss", loss, ("logistic", "softmax_ce"))
    check_choice("optimizer", optimizer, ("adam", "sgd"))
    epochs = check_int("epochs", epochs, low=0)
    lr = check_real("lr", lr, positive=True)
    batch_size = check_int("batch_size", batch_size, low=1, allow_none=True)
    seed = check_int("seed", seed, low=0)
    param = next(model.parameters(), None)
    if param is None:
        raise ValueError("model: expected a module with parameters, got one without any")
    dtype, device = param.dtype, param.device

    X_t = _as_features(X, dtype, device)
    y_t = _as_targets(y, X_t.shape[0], loss, dtype, device)
    with torch.no_grad():
        out = model(X_t)
    if out.ndim != 2 or (loss == "logistic" and out.shape[1] != 1):
        raise ValueError(
            f"model: loss='logistic' expected one output (logits of shape (n, 1)), got output shape "
            f"{tuple(out.shape)}; use loss='softmax_ce' for several classes"
        )
    if loss == "softmax_ce" and int(y_t.max()) >= out.shape[1]:
        raise ValueError(
            f"y: class index {int(y_t.max())} needs at least {int(y_t.max()) + 1} outputs, "
            f"but the model has {out.shape[1]}"
        )

    def loss_fn(logits, target):
        if loss == "logistic":
            return F.binary_cross_entropy_with_logits(logits[:, 0], target)
        return F.cross_entropy(logits, target)

    def accuracy(logits):
        pred = (logits[:, 0] > 0).to(y_t.dtype) if loss == "logistic" else logits.argmax(dim=1)
        return float((pred == y_t).to(torch.float64).mean())

    n_params = sum(q.numel() for q in model.parameters())
    if device.type == "cpu" and X_t.numel() < 2**18 and n_params < 2**16:
        # small networks on small data gain nothing from threads, and lose a lot on a busy machine
        with torch_threads(1):
            return _train_loop(model, X_t, y_t, loss_fn, accuracy, epochs, lr, batch_size, seed, optimizer)
    return _train_loop(model, X_t, y_t, loss_fn, accuracy, epochs, lr, batch_size, seed, optimizer)


def _train_loop(model, X_t, y_t, loss_fn, accuracy, epochs, lr, batch_size, seed, optimizer):
    """The epochs of ``train_mlp`` (its arguments already checked)."""
    n, device = X_t.shape[0], X_t.device
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    hist = TrainingHistory()
    start = time.perf_counter()

    def record():
        with torch.no_grad():
            logits = model(X_t)
            hist.loss.append(float(loss_fn(logits, y_t)))
            hist.accuracy.append(accuracy(logits))
        hist.time.append(time.perf_counter() - start)

    record()
    for _ in range(epochs):
        if batch_size is None or batch_size >= n:
            batches = [None]
        else:
            order = torch.randperm(n, generator=gen).to(device)
            batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
        for rows in batches:
            xb, yb = (X_t, y_t) if rows is None else (X_t[rows], y_t[rows])
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        record()
    return hist


def _as_features(X, dtype, device):
    if isinstance(X, torch.Tensor):
        X_t = X.detach()
    else:
        check_features(X)
        X_t = torch.as_tensor(np.asarray(X, dtype=np.float64))
    if X_t.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n_samples, n_features), got shape {tuple(X_t.shape)}")
    if not X_t.is_floating_point():
        X_t = X_t.to(torch.float64)
    if not bool(torch.isfinite(X_t).all()):
        raise ValueError("X: expected finite values, got NaN or inf")
    return X_t.to(dtype=dtype, device=device)  # a copy when dtype/device differ; X is untouched


def _as_targets(y, n, loss, dtype, device):
    y_t = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if y_t.shape != (n,):
        raise ValueError(f"y: expected shape ({n},) to match X, got {tuple(y_t.shape)}")
    if y_t.is_floating_point() and not bool(torch.isfinite(y_t).all()):
        raise ValueError("y: expected finite labels, got NaN or inf")
    if y_t.is_floating_point() and not bool((y_t == y_t.round()).all()):
        raise ValueError("y: expected integer class labels, got non-integer values")
    y_t = y_t.to(torch.int64)
    if loss == "logistic":
        if not bool(((y_t == 0) | (y_t == 1)).all()):
            raise ValueError(f"y: loss='logistic' expected labels 0 and 1, got {torch.unique(y_t).tolist()}")
        return y_t.to(dtype=dtype, device=device)
    if int(y_t.min()) < 0:
        raise ValueError(f"y: loss='softmax_ce' expected class indices >= 0, got {int(y_t.min())}")
    return y_t.to(device)
