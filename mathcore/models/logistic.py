"""Binary logistic regression, scikit-learn compatible, fitted with ``mathcore.optim``."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import optim
from ._base import ATTRIBUTES_DOC, PARAMETERS_DOC, RAISES_DOC, LinearClassifierBase

__all__ = ["LogisticRegression"]


class LogisticRegression(LinearClassifierBase):
    __doc__ = (
        r"""Binary logistic regression ``p(t=1 | x) = sigma(x . w + b)``, fitted with torch.

    Minimises ``(1/N) sum_i [softplus(z_i) - t_i z_i] + ||w||^2 / (2 C N)`` with
    ``z_i = x_i . w + b`` and ``t_i = 1`` for the second class in ``classes_``
    (the labels are sorted, as in scikit-learn), ``0`` for the first.
    """
        + PARAMETERS_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights ``w`` (2-D, like scikit-learn's binary ``LogisticRegression``).
    intercept_ : ndarray of shape (1,)
        Intercept ``b`` (0 when ``fit_intercept=False``)."""
        + ATTRIBUTES_DOC
        + """
    Notes
    -----"""
        + RAISES_DOC
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
        return optim.LogisticObjective(X_t, t, lam=p["lam"], fit_intercept=p["fit_intercept"],
                                       sample_weight=p["sample_weight"])

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
