"""What the two linear classifiers share: parameters, validation, fitting, warnings and docs."""

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import optim
from .._validation import (
    check_bool,
    check_choice,
    check_class_weight,
    check_device,
    check_dtype,
    check_features,
    check_finite,
    check_int,
    check_real,
    check_sample_weight,
    check_targets,
    encode_labels,
    to_tensor,
)

__all__ = ["SeparationWarning", "LinearClassifierBase", "PARAMETERS_DOC", "ATTRIBUTES_DOC", "RAISES_DOC"]


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


class LinearClassifierBase(ClassifierMixin, BaseEstimator):
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
        class_weight=None,
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
        self.class_weight = class_weight

    # -- checks ------------------------------------------------------------- #
    def _check_params(self):
        """Validate every hyper-parameter; return them in canonical form."""
        p = {}
        p["penalty"] = check_choice("penalty", self.penalty, ("l2", None))
        p["C"] = check_real("C", self.C, positive=True, allow_inf=True,
                            meaning=" (inverse L2 strength, lambda = 1/C)")
        p["fit_intercept"] = check_bool("fit_intercept", self.fit_intercept)
        p["solver"] = check_choice("solver", self.solver, ("auto", *optim.SOLVERS))
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
    def fit(self, X, y, sample_weight=None):
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
        sample_weight : array-like of shape (n_samples,), optional
            Weight ``s_i >= 0`` of each sample's loss (finite, not all zero);
            multiplied by the weight ``class_weight`` gives its class. The
            objective becomes ``(1/N) sum_i s_i loss_i + ||w||^2 / (2 C N)``, which
            has the minimiser of scikit-learn's weighted fit with the same ``C``.

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
        weights = check_sample_weight(sample_weight, n_samples, p["np_dtype"])
        classes, y_idx = encode_labels(y)
        self._check_classes(classes)
        per_class = check_class_weight(self.class_weight, classes, y_idx, weights)
        if per_class is not None:
            weights = per_class.astype(p["np_dtype"]) * (1.0 if weights is None else weights)
        self.classes_ = classes

        device, dtype = p["device"], p["torch_dtype"]
        X_t = to_tensor(X, dtype=dtype, device=device)
        p["sample_weight"] = None if weights is None else to_tensor(weights, dtype=dtype, device=device)
        objective = self._objective(X_t, y_idx, p)
        del y_idx  # the objective holds the targets as a tensor
        theta, history, solver = self._run_solver(objective, p)

        self._set_coefficients(theta.detach().cpu().numpy(), objective)
        self.history_ = history
        self.n_iter_ = history.n_iter
        self.solver_ = solver
        self.device_ = device
        self._warn_if_needed(objective, theta, history, p, solver)
        return self

    def _run_solver(self, objective, p):
        """``optim.solve`` with this estimator's settings (and a progress bar if ``verbose``)."""
        solver = optim.choose_solver(objective) if p["solver"] == "auto" else p["solver"]
        bar = callback = None
        if p["verbose"]:
            from tqdm import tqdm

            bar = tqdm(total=p["max_iter"], desc=f"{type(self).__name__} ({solver})")

            def callback(h):
                if len(h.loss) > 1:
                    bar.update(1)
                # a dict keeps this order (older tqdm sorts keyword arguments, putting grad first)
                bar.set_postfix({"loss": f"{h.loss[-1]:.6g}", "grad": f"{h.grad_norm[-1]:.2e}"}, refresh=False)

        seed = 0
        if solver == "sgd":  # drawn only where used, so other solvers leave a RandomState alone
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        settings = optim.SolverSettings(tol=p["tol"], max_iter=p["max_iter"], callback=callback,
                                        learning_rate=p["learning_rate"], batch_size=p["batch_size"],
                                        seed=seed)
        try:
            return optim.solve(objective, solver, settings)
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
            if what:  # nothing to converge to: the SeparationWarning says why
                hint = "The data are separated (see the SeparationWarning): use an L2 penalty."
            elif history.message == "max_iter reached":
                hint = f"Increase max_iter (now {p['max_iter']}) or scale the features"
                hint += "." if "newton" in solver else ", or use solver='newton'."
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
        device = self.device_  # where fit ran; not resolved again
        X_t = to_tensor(X, dtype=torch.float64 if self.coef_.dtype == np.float64 else torch.float32,
                        device=device)
        W = torch.from_numpy(self.coef_).to(device)
        b = torch.from_numpy(self.intercept_).to(device)
        return torch.addmm(b, X_t, W.T)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


PARAMETERS_DOC = """
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
    class_weight : None, "balanced" or dict, default=None
        Weight of each class's samples in the loss: ``{label: weight}`` (labels not
        named keep weight 1), or ``"balanced"``, ``n_samples / (n_classes * n_k)``
        for class ``k`` with ``n_k`` its (sample-weighted) count, scikit-learn's
        rule. Multiplies ``sample_weight``.
"""

ATTRIBUTES_DOC = """
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Iterations done by the solver.
    history_ : mathcore.optim.history.History
        Per iteration (entry 0 is the start): ``loss`` (the objective above),
        ``grad_norm`` (max absolute gradient entry), ``time`` (seconds since the
        start), ``coef_norm`` (``||w||``), plus ``converged`` and ``message``.
    solver_ : str
        The solver used: ``"auto"`` resolves to ``"newton"``, ``"lbfgs"`` or
        ``"lbfgs+newton"``.
    device_ : torch.device
        Where ``fit`` computed (``device`` resolved once); prediction runs there too.
"""

RAISES_DOC = """
    Bad input raises before any computation, with the argument named: ``TypeError``
    for the wrong kind of object (strings or other non-numbers in ``X``, sparse
    matrices, ...), ``ValueError`` for wrong values (NaN or inf in ``X`` or ``y``,
    ``X`` not 2-D, no samples or features, lengths of ``X`` and ``y`` that differ,
    fewer than two classes, ``C <= 0``, an unknown ``solver`` or ``penalty``, a
    ``device`` that does not exist). Predicting before ``fit`` raises
    ``sklearn.exceptions.NotFittedError``.
"""
