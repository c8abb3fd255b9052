"""Shared checks run on every registered public estimator (see skmm.utils._testing).

The multimodal contract checks live in :mod:`skmm.utils.estimator_checks`, so that users
can run them on their own estimators; scikit-learn's checks and the registration test
are here.
"""

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skmm.utils import all_estimators
from skmm.utils._testing import expected_failed_checks, registered_instances
from skmm.utils.estimator_checks import parametrize_with_multimodal_checks

ESTIMATORS = registered_instances()
IDS = [type(est).__name__ for est in ESTIMATORS]


def test_every_public_estimator_is_registered():
    registered = {type(est).__name__ for est in ESTIMATORS}
    assert registered == {name for name, _ in all_estimators()}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_parameters_are_declared_and_checked(est):
    # scikit-learn's check: every parameter has a constraint, and a value of a wrong
    # type or out of range raises InvalidParameterError naming it, at every fit method
    check_param_validation(type(est).__name__, est)


@parametrize_with_multimodal_checks(ESTIMATORS)
def test_multimodal_contract(estimator, check):
    check(estimator)
