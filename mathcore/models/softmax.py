"""Multiclass (softmax) regression, scikit-learn compatible, fitted with ``mathcore.optim``."""

import numpy as np
import torch

from .. import optim
from ._base import ATTRIBUTES_DOC, PARAMETERS_DOC, RAISES_DOC, LinearClassifierBase

__all__ = ["SoftmaxRegression"]


class SoftmaxRegression(LinearClassifierBase):
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
        + PARAMETERS_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        Weights ``W``, one row per class (also for two classes).
    intercept_ : ndarray of shape (n_classes,)
        Intercepts ``b`` (zeros when ``fit_intercept=False``)."""
        + ATTRIBUTES_DOC
        + """
    Notes
    -----"""
        + RAISES_DOC
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
                                      fit_intercept=p["fit_intercept"], sample_weight=p["sample_weight"])

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
