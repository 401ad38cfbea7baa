"""scikit-learn's own estimator checks (``check_estimator``) for the two linear models.

Every check passes; no check is marked as an expected failure
(``expected_failed_checks`` below returns an empty dict and is kept as the
documented place to record one, with its reason, should a future scikit-learn add
a check that conflicts with a design decision of mathcore).
"""

import inspect

from sklearn.utils.estimator_checks import parametrize_with_checks

from mathcore.models import LogisticRegression, SoftmaxRegression


def expected_failed_checks(estimator):
    """Checks that fail by design, ``{check_name: reason}``: none at present."""
    return {}


# xfail_strict (scikit-learn >= 1.7): an expected failure that starts passing fails the run.
STRICT = {"xfail_strict": True} if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters else {}


@parametrize_with_checks(
    [LogisticRegression(), SoftmaxRegression(), SoftmaxRegression(solver="lbfgs")],
    expected_failed_checks=expected_failed_checks,
    **STRICT,
)
def test_scikit_learn_compatible(estimator, check):
    check(estimator)
