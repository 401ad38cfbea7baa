"""scikit-learn's own estimator checks (``check_estimator``) for the two linear models.

Every check passes; no check is marked as an expected failure
(``expected_failed_checks`` below returns an empty dict and is kept as the
documented place to record one, with its reason, should a future scikit-learn add
a check that conflicts with a design decision of mathcore).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mathcore.models import LogisticRegression, SoftmaxRegression


def expected_failed_checks(estimator):
    """Checks that fail by design, ``{check_name: reason}``: none at present."""
    return {}


@parametrize_with_checks(
    [LogisticRegression(), SoftmaxRegression(), SoftmaxRegression(solver="lbfgs")],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_scikit_learn_compatible(estimator, check):
    check(estimator)
