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

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import optim
from ._validation import (
    check_bool,
    check_choice,
    check_device,
    check_dtype,
    check_features,
    check_finite,
    check_int,
    check_real,
    check_targets,
    encode_labels,
    to_tensor,
)

__all__ = [
    "SeparationWarning",
    "LogisticRegression",
    "SoftmaxRegression",
    "MLP",
    "TrainingHistory",
    "train_mlp",
]

_SOLVERS = ("auto", "newton", "lbfgs", "gd", "sgd")

# solver="auto". A Newton step costs about 2 N P^2 flops for the Hessian (P
# parameters) against 2 N P for an L-BFGS step, but Newton needs ~5 iterations
# whatever the conditioning, L-BFGS ~10 on well-conditioned data and hundreds on
# ill-conditioned data (unscaled, correlated features). Measured on a 2-core CPU:
# N=1e5, P=100, well conditioned: L-BFGS 0.2 s, Newton 0.75 s; ill conditioned:
# L-BFGS 6.7 s (786 iterations), Newton 0.3 s. Hence:
#   P <= 50:  Newton (cheap, and robust);
#   P > 50:   L-BFGS for up to 20 iterations, then, if not converged and P <= 2000,
#             Newton from where L-BFGS stopped ("lbfgs+newton").
_AUTO_NEWTON_MAX_PARAMS = 50
_AUTO_LBFGS_ITERS = 20
_AUTO_FALLBACK_MAX_PARAMS = 2000

# solver="sgd" takes steps learning_rate / (1 + epoch): a constant step would leave
# the iterates wandering at a noise floor instead of converging.
_SGD_LR_DECAY = 1.0


def _concatenate(first, second):
    """One History for two solver runs, the second starting where the first stopped."""
    offset = first.time[-1]
    return optim.History(
        loss=first.loss + second.loss[1:],
        grad_norm=first.grad_norm + second.grad_norm[1:],
        time=first.time + [offset + t for t in second.time[1:]],
        coef_norm=first.coef_norm + second.coef_norm[1:],
        converged=second.converged,
        message=second.message,
    )


class SeparationWarning(UserWarning):
    """The training data are (quasi-completely) separated, so the unpenalised fit has no finite optimum.

    If some ``w`` classifies every training sample correctly with a positive
    margin, then ``c * w`` does so with a larger margin for every ``c > 1`` and a
    smaller loss: the loss tends to 0 as ``||w||`` grows without bound, and the
    maximum-likelihood estimate does not exist. The fitted coefficients are then
    an arbitrary point on that path (their size depends on ``tol``, ``max_iter``
    and the solver). With more than two classes it is enough that one class can
    be cut off from the others by a hyperplane, even when the other classes
    overlap (quasi-complete separation, as in the iris data). Remedy: an L2 penalty,
    ``penalty="l2"`` with a finite ``C``.

    The estimators warn when the fitted model itself proves the separation (see
    ``LogisticObjective.separates`` and ``SoftmaxObjective.separated_classes`` in
    ``mathcore.optim``); separation that leaves some samples exactly on the
    boundary is not detected.
    """


class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """Shared parameters, validation and fitting of the two linear classifiers."""

    def __init__(
        self,
        penalty="l2",
        C=1.0,
        fit_intercept=True,
        solver="auto",
        tol=1e-4,
        max_iter=100,
        batch_size=None,
        learning_rate=None,
        random_state=None,
        device="cpu",
        dtype="float64",
        verbose=False,
    ):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose

    # -- checks ------------------------------------------------------------- #
    def _check_params(self):
        """Validate every hyper-parameter; return them in canonical form."""
        p = {}
        p["penalty"] = check_choice("penalty", self.penalty, ("l2", None))
        p["C"] = check_real("C", self.C, positive=True, allow_inf=True,
                            meaning=" (inverse L2 strength, lambda = 1/C)")
        p["fit_intercept"] = check_bool("fit_intercept", self.fit_intercept)
        p["solver"] = check_choice("solver", self.solver, _SOLVERS)
        p["tol"] = check_real("tol", self.tol, nonnegative=True)
        p["max_iter"] = check_int("max_iter", self.max_iter, low=1)
        p["batch_size"] = check_int("batch_size", self.batch_size, low=1, allow_none=True)
        p["learning_rate"] = check_real("learning_rate", self.learning_rate, positive=True, allow_none=True)
        if not (self.random_state is None or isinstance(self.random_state, np.random.RandomState)):
            check_int("random_state", self.random_state, low=0)
        if isinstance(self.verbose, (bool, np.bool_)):
            p["verbose"] = bool(self.verbose)
        else:
            p["verbose"] = check_int("verbose", self.verbose, low=0) > 0
        p["device"] = check_device(self.device)
        p["torch_dtype"], p["np_dtype"] = check_dtype(self.dtype)
        p["lam"] = 0.0 if p["penalty"] is None else 1.0 / p["C"]
        return p

    def _check_X(self, X, *, reset, np_dtype):
        """Kind checks, scikit-learn conversion (n_features_in_), finiteness."""
        check_features(X)
        X = validate_data(self, X, reset=reset, dtype=np_dtype, ensure_all_finite=False)
        check_finite(X)
        return X

    # -- fitting ------------------------------------------------------------ #
    def fit(self, X, y):
        """Fit the model to ``X`` and ``y``.

        Every argument and hyper-parameter is checked before any computation.
        ``X`` and ``y`` are never modified; a float ``X`` of the requested
        ``dtype`` is not copied on the CPU.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features: finite real numbers.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).

        Returns
        -------
        self
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            For bad input (see the class docstring), naming the argument.

        Warns
        -----
        SeparationWarning
            Without penalty, when the fitted model separates the training data
            perfectly: the maximum-likelihood estimate does not exist.
        sklearn.exceptions.ConvergenceWarning
            When the solver stops before ``max |gradient| <= tol``.
        """
        p = self._check_params()
        n_samples, _ = check_features(X)
        y = check_targets(y, n_samples)
        X, y = validate_data(self, X, y, dtype=p["np_dtype"], ensure_all_finite=False)
        check_finite(X)
        classes, y_idx = encode_labels(y)
        self._check_classes(classes)
        self.classes_ = classes

        device, dtype = p["device"], p["torch_dtype"]
        X_t = to_tensor(X, dtype=dtype, device=device)
        objective = self._objective(X_t, y_idx, p)
        del y_idx  # the objective holds the targets as a tensor
        solver = p["solver"]
        if solver == "auto":
            solver = "newton" if objective.n_params <= _AUTO_NEWTON_MAX_PARAMS else "lbfgs"
            if solver == "lbfgs" and objective.n_params <= _AUTO_FALLBACK_MAX_PARAMS:
                solver = "lbfgs+newton"

        theta, history = self._run_solver(objective, solver, p, n_samples)
        if solver == "lbfgs+newton" and history.n_iter < _AUTO_LBFGS_ITERS:
            solver = "lbfgs"  # converged (or stopped) before the switch

        self._set_coefficients(theta.detach().cpu().numpy(), objective)
        self.history_ = history
        self.n_iter_ = history.n_iter
        self.solver_ = solver
        self._warn_if_needed(objective, theta, history, p, solver)
        return self

    def _run_solver(self, objective, solver, p, n_samples):
        bar = None
        callback = None
        if p["verbose"]:
            from tqdm import tqdm

            bar = tqdm(total=p["max_iter"], desc=f"{type(self).__name__} ({solver})")

            def callback(h):
                if len(h.loss) > 1:
                    bar.update(1)
                # a dict keeps this order (older tqdm sorts keyword arguments, putting grad first)
                bar.set_postfix({"loss": f"{h.loss[-1]:.6g}", "grad": f"{h.grad_norm[-1]:.2e}"}, refresh=False)

        common = {"tol": p["tol"], "max_iter": p["max_iter"], "callback": callback}
        try:
            if solver == "lbfgs+newton":
                first = dict(common, max_iter=min(_AUTO_LBFGS_ITERS, p["max_iter"]))
                theta, h1 = optim.lbfgs(objective, **first)
                if h1.converged or h1.n_iter < first["max_iter"] or p["max_iter"] <= h1.n_iter:
                    return theta, h1
                rest = dict(common, max_iter=p["max_iter"] - h1.n_iter)
                theta, h2 = optim.newton(objective, theta0=theta, **rest)
                return theta, _concatenate(h1, h2)
            if solver == "newton":
                return optim.newton(objective, **common)
            if solver == "lbfgs":
                return optim.lbfgs(objective, **common)
            if solver == "gd":
                return optim.gradient_descent(objective, learning_rate=p["learning_rate"], **common)
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            batch_size = p["batch_size"] if p["batch_size"] is not None else min(256, n_samples)
            return optim.sgd(objective, learning_rate=p["learning_rate"], batch_size=batch_size,
                             lr_decay=_SGD_LR_DECAY, seed=seed, **common)
        finally:
            if bar is not None:
                bar.close()

    def _warn_if_needed(self, objective, theta, history, p, solver):
        name = type(self).__name__
        what = self._separation(objective, theta) if p["lam"] == 0.0 else None
        if what:
            warnings.warn(
                f"{name}: {what}, so the unpenalised maximum-likelihood estimate does not exist: "
                "the loss keeps decreasing while ||w|| grows without bound (||w|| went from "
                f"{history.coef_norm[min(1, history.n_iter)]:.3g} to {history.coef_norm[-1]:.3g} "
                f"in {history.n_iter} iterations, see history_.coef_norm). The coefficients "
                "are arbitrary in size. Use an L2 penalty: penalty='l2' with a finite C "
                "(e.g. C=1.0).",
                SeparationWarning,
                stacklevel=3,
            )
        if not history.converged:
            if history.message == "max_iter reached":
                hint = (f"Increase max_iter (now {p['max_iter']}), scale the features, "
                        "or use solver='newton'.")
            else:
                hint = "Centre and scale the features, use dtype='float64', or loosen tol."
            warnings.warn(
                f"{name}: solver {solver!r} did not converge ({history.message}): after "
                f"{history.n_iter} iteration(s) max |gradient| = {history.grad_norm[-1]:.3g} "
                f"> tol = {p['tol']:g}. {hint}",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -- prediction --------------------------------------------------------- #
    def _logits(self, X):
        """Decision values as a torch tensor: (n,) for binary, (n, K) for softmax."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False, np_dtype=self.coef_.dtype)
        device = check_device(self.device)
        X_t = to_tensor(X, dtype=torch.float64 if self.coef_.dtype == np.float64 else torch.float32,
                        device=device)
        W = torch.from_numpy(self.coef_).to(device)
        b = torch.from_numpy(self.intercept_).to(device)
        return torch.addmm(b, X_t, W.T)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


_PARAMETERS_DOC = """
    Parameters
    ----------
    penalty : {"l2", None}, default="l2"
        L2 penalty ``||w||^2 / (2 C N)`` on the weights (never on the intercept), or
        none. Without penalty the fit does not exist on linearly separable data; a
        ``SeparationWarning`` says so.
    C : float, default=1.0
        Inverse penalty strength, ``lambda = 1/C`` (as in scikit-learn), ``> 0``;
        ``np.inf`` means no penalty.
    fit_intercept : bool, default=True
        Whether to fit an intercept (handled separately, ``X`` is not copied to
        append a column of ones).
    solver : {"auto", "newton", "lbfgs", "gd", "sgd"}, default="auto"
        ``"newton"``: Newton/IRLS with step halving; ``"lbfgs"``: L-BFGS with a
        strong-Wolfe line search; ``"gd"``: gradient descent; ``"sgd"``:
        mini-batch SGD (one iteration is one epoch). ``"auto"`` picks Newton when the
        model has at most 50 parameters (cheap, and robust on ill-conditioned data);
        with more, L-BFGS (the fastest on well-conditioned wide data), switching to
        Newton if L-BFGS has not converged after 20 iterations (a sign of
        ill-conditioning; up to 2000 parameters, because of the Hessian's size). The
        solver actually used is stored in ``solver_`` (``"lbfgs+newton"`` after a
        switch).
    tol : float, default=1e-4
        Stop when the largest absolute gradient entry of the mean objective is
        ``<= tol`` (scikit-learn's rule for its ``lbfgs`` and ``newton-cholesky``).
    max_iter : int, default=100
        Maximum number of iterations (epochs for ``"sgd"``).
    batch_size : int, optional
        Mini-batch size for ``"sgd"``; default ``min(256, n_samples)``.
    learning_rate : float, optional
        Step size for ``"gd"``, initial step size for ``"sgd"`` (which uses
        ``learning_rate / (1 + epoch)``); default ``1/L`` with ``L`` an upper bound
        on the Hessian's largest eigenvalue. Ignored by the other solvers.
    random_state : int, RandomState or None, default=None
        Seeds the shuffling of ``"sgd"``; the other solvers are deterministic.
    device : str or torch.device, default="cpu"
        Where to compute: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or
        ``"auto"`` (CUDA if available, then MPS, then CPU). The CPU default keeps
        results identical from machine to machine; a device that does not exist
        raises ``ValueError``.
    dtype : {"float64", "float32"}, default="float64"
        Floating-point type of the computation and of the fitted arrays.
    verbose : bool or int, default=False
        Show a tqdm progress bar with the loss and gradient norm during ``fit``.
"""

_ATTRIBUTES_DOC = """
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Iterations done by the solver.
    history_ : mathcore.optim.History
        Per iteration (entry 0 is the start): ``loss`` (the objective above),
        ``grad_norm`` (max absolute gradient entry), ``time`` (seconds since the
        start), ``coef_norm`` (``||w||``), plus ``converged`` and ``message``.
    solver_ : str
        The solver used: ``"auto"`` resolves to ``"newton"``, ``"lbfgs"`` or
        ``"lbfgs+newton"``.
"""

_RAISES_DOC = """
    Bad input raises before any computation, with the argument named: ``TypeError``
    for the wrong kind of object (strings or other non-numbers in ``X``, sparse
    matrices, ...), ``ValueError`` for wrong values (NaN or inf in ``X`` or ``y``,
    ``X`` not 2-D, no samples or features, lengths of ``X`` and ``y`` that differ,
    fewer than two classes, ``C <= 0``, an unknown ``solver`` or ``penalty``, a
    ``device`` that does not exist). Predicting before ``fit`` raises
    ``sklearn.exceptions.NotFittedError``.
"""


class LogisticRegression(_LinearClassifier):
    __doc__ = (
        r"""Binary logistic regression ``p(t=1 | x) = sigma(x . w + b)``, fitted with torch.

    Minimises ``(1/N) sum_i [softplus(z_i) - t_i z_i] + ||w||^2 / (2 C N)`` with
    ``z_i = x_i . w + b`` and ``t_i = 1`` for the second class in ``classes_``
    (the labels are sorted, as in scikit-learn), ``0`` for the first.
    """
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights ``w`` (2-D, like scikit-learn's binary ``LogisticRegression``).
    intercept_ : ndarray of shape (1,)
        Intercept ``b`` (0 when ``fit_intercept=False``)."""
        + _ATTRIBUTES_DOC
        + """
    Notes
    -----"""
        + _RAISES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from mathcore.models import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array(["no", "no", "yes", "yes"])
    >>> clf = LogisticRegression(C=10.0).fit(X, y)
    >>> clf.predict([[0.5], [2.5]]).tolist()
    ['no', 'yes']
    """
    )

    def _check_classes(self, classes):
        if len(classes) < 2:
            raise ValueError(
                f"y: expected two classes, got 1 class ({classes.tolist()[0]!r}); a classifier "
                "needs examples of both classes"
            )
        if len(classes) > 2:
            raise ValueError(
                f"y: LogisticRegression expected two classes, got {len(classes)} classes "
                f"{classes.tolist()}. Only binary classification is supported. The type of "
                "the target is multiclass; use SoftmaxRegression for more than two classes."
            )

    def _separation(self, objective, theta):
        if objective.separates(theta):
            return ("the training data are linearly separable (a hyperplane has all samples of one class "
                    "on one side, all of the other on the other)")
        return None

    def _objective(self, X_t, y_idx, p):
        t = torch.from_numpy(y_idx.astype(p["np_dtype"])).to(X_t.device)
        return optim.LogisticObjective(X_t, t, lam=p["lam"], fit_intercept=p["fit_intercept"])

    def _set_coefficients(self, theta, objective):
        D = objective.n_features
        self.coef_ = theta[:D].reshape(1, D).copy()
        self.intercept_ = theta[D:].copy() if objective.fit_intercept else np.zeros(1, dtype=theta.dtype)

    def decision_function(self, X):
        """Log-odds ``z = X w + b`` of the positive class ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._logits(X)[:, 0].cpu().numpy()

    def predict_proba(self, X):
        """Class probabilities ``[1 - sigma(z), sigma(z)]``, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        z = self._logits(X)[:, 0]
        return torch.stack([torch.sigmoid(-z), torch.sigmoid(z)], dim=1).cpu().numpy()

    def predict_log_proba(self, X):
        """Log-probabilities ``[log sigma(-z), log sigma(z)]``, computed without ``log(0)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        z = self._logits(X)[:, 0]
        return torch.stack([F.logsigmoid(-z), F.logsigmoid(z)], dim=1).cpu().numpy()

    def predict(self, X):
        """Predicted labels: ``classes_[1]`` where ``z > 0``, else ``classes_[0]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        z = self._logits(X)[:, 0]
        return self.classes_[(z > 0).long().cpu().numpy()]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class SoftmaxRegression(_LinearClassifier):
    __doc__ = (
        r"""Multinomial (softmax) logistic regression ``p(k | x) = softmax(W x + b)_k``, fitted with torch.

    Minimises ``(1/N) sum_i [logsumexp(z_i) - z_{i, y_i}] + ||W||_F^2 / (2 C N)``
    with ``z_i = W x_i + b``, one row of ``W`` per class: the symmetric
    parametrisation of scikit-learn's multinomial ``LogisticRegression``, with the
    same coefficients. As adding one vector to every row does not change the
    probabilities, the fit keeps the rows of ``[W, b]`` summing to zero over the
    classes where the penalty does not already fix them (the intercepts; all of
    ``[W, b]`` without penalty).
    """
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        Weights ``W``, one row per class (also for two classes).
    intercept_ : ndarray of shape (n_classes,)
        Intercepts ``b`` (zeros when ``fit_intercept=False``)."""
        + _ATTRIBUTES_DOC
        + """
    Notes
    -----"""
        + _RAISES_DOC
        + """
    For two classes, ``decision_function`` returns ``z_1 - z_0`` (one column), as
    scikit-learn's binary convention requires.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mathcore.models import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression(C=1.0).fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> round(clf.score(X, y), 2)
    0.97
    """
    )

    def _check_classes(self, classes):
        if len(classes) < 2:
            raise ValueError(
                f"y: expected at least two classes, got 1 class ({classes.tolist()[0]!r}); a "
                "classifier needs examples of several classes"
            )

    def _separation(self, objective, theta):
        found = objective.separated_classes(theta)
        if not found:
            return None
        if len(found) == len(self.classes_):
            return ("the training data are linearly separable (the fitted model classifies every training "
                    "sample correctly with a positive margin)")
        names = ", ".join(repr(c) for c in self.classes_[found].tolist())
        return (f"a hyperplane cuts off class {names} from the other classes: the training data are "
                "quasi-completely separated, though not linearly separable as a whole")

    def _objective(self, X_t, y_idx, p):
        y = torch.from_numpy(y_idx.astype(np.int64)).to(X_t.device)
        return optim.SoftmaxObjective(X_t, y, len(self.classes_), lam=p["lam"],
                                      fit_intercept=p["fit_intercept"])

    def _set_coefficients(self, theta, objective):
        K, D = objective.n_classes, objective.n_features
        M = theta.reshape(K, objective.n_cols)
        self.coef_ = M[:, :D].copy()
        self.intercept_ = M[:, D].copy() if objective.fit_intercept else np.zeros(K, dtype=theta.dtype)

    def decision_function(self, X):
        """Logits ``z = X W^T + b``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, ``z_1 - z_0``: positive means ``classes_[1]``.
        """
        Z = self._logits(X)
        if Z.shape[1] == 2:
            return (Z[:, 1] - Z[:, 0]).cpu().numpy()
        return Z.cpu().numpy()

    def predict_proba(self, X):
        """Class probabilities ``softmax(z)``, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return torch.softmax(self._logits(X), dim=1).cpu().numpy()

    def predict_log_proba(self, X):
        """Log-probabilities ``log_softmax(z)`` (stable, never ``log(0)``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return torch.log_softmax(self._logits(X), dim=1).cpu().numpy()

    def predict(self, X):
        """Predicted labels: the class with the largest logit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        index = self._logits(X).argmax(dim=1).cpu().numpy()  # checks fitted first
        return self.classes_[index]


# --------------------------------------------------------------------------- #
# A small multilayer perceptron
# --------------------------------------------------------------------------- #
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


def train_mlp(model, X, y, loss="bce", epochs=1000, lr=0.01, batch_size=None, seed=0,
              optimizer="adam"):
    """Train ``model`` in place on ``(X, y)`` and return its ``TrainingHistory``.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits, e.g. an ``MLP``; trained in place.
    X : array-like or torch.Tensor of shape (n_samples, in_features)
        Features (converted to the dtype and device of the model's parameters).
    y : array-like or torch.Tensor of shape (n_samples,)
        For ``loss="bce"``: labels 0/1 and a model with one output. For
        ``loss="ce"``: class indices ``0 .. K-1`` and a model with ``K`` outputs.
    loss : {"bce", "ce"}, default="bce"
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
    check_choice("loss", loss, ("bce", "ce"))
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
    if out.ndim != 2 or (loss == "bce" and out.shape[1] != 1):
        raise ValueError(
            f"model: loss='bce' expected one output (logits of shape (n, 1)), got output shape "
            f"{tuple(out.shape)}; use loss='ce' for several classes"
        )
    if loss == "ce" and int(y_t.max()) >= out.shape[1]:
        raise ValueError(
            f"y: class index {int(y_t.max())} needs at least {int(y_t.max()) + 1} outputs, "
            f"but the model has {out.shape[1]}"
        )

    def loss_fn(logits, target):
        if loss == "bce":
            return F.binary_cross_entropy_with_logits(logits[:, 0], target)
        return F.cross_entropy(logits, target)

    def accuracy(logits):
        pred = (logits[:, 0] > 0).to(y_t.dtype) if loss == "bce" else logits.argmax(dim=1)
        return float((pred == y_t).to(torch.float64).mean())

    def train():
        return _train_loop(model, X_t, y_t, loss_fn, accuracy, epochs, lr, batch_size, seed, optimizer)

    n_params = sum(q.numel() for q in model.parameters())
    if device.type == "cpu" and X_t.numel() < 2**18 and n_params < 2**16:
        # small networks on small data gain nothing from threads (see mathcore.optim)
        return optim._single_threaded(train)
    return train()


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
        if optim._stop_requested():  # Ctrl-C in the caller
            raise KeyboardInterrupt
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
    if loss == "bce":
        if not bool(((y_t == 0) | (y_t == 1)).all()):
            raise ValueError(f"y: loss='bce' expected labels 0 and 1, got {torch.unique(y_t).tolist()}")
        return y_t.to(dtype=dtype, device=device)
    if int(y_t.min()) < 0:
        raise ValueError(f"y: loss='ce' expected class indices >= 0, got {int(y_t.min())}")
    return y_t.to(device)
