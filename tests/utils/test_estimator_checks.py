"""The public multimodal checks pass on a correct estimator and fail on broken ones."""

import subprocess
import sys
from unittest import SkipTest

import numpy as np
import pytest

from skmm import MultiModalData
from skmm.impute import PartialModalityKMeansImputer
from skmm.utils.estimator_checks import (
    _yield_multimodal_checks,
    check_failed_fit_leaves_estimator_unchanged,
    check_imputer_keeps_observed_values,
    check_inputs_not_mutated,
    check_multimodal_estimator,
    parametrize_with_multimodal_checks,
)

PARAMS = {"n_clusters": 3, "random_state": 0}


class MyImputer(PartialModalityKMeansImputer):
    """A correct user estimator (the example of the data-contract guide)."""


class MutatingImputer(PartialModalityKMeansImputer):
    """Fills the missing rows of its input in place."""

    def transform(self, X):
        out = super().transform(X)
        for a in X.values() if isinstance(X, dict) else ():
            a[np.isnan(a)] = 0.0
        return out


class AlteringImputer(PartialModalityKMeansImputer):
    """Moves every output value, observed ones included, by one unit in the last place."""

    def transform(self, X):
        out = super().transform(X)
        if not isinstance(out, MultiModalData):  # pandas output stays right
            return out
        return MultiModalData({m: np.nextafter(a, np.inf) for m, a in out.items()})


class HalfFitImputer(PartialModalityKMeansImputer):
    """Records the new modality names before validating the data."""

    def fit(self, X, y=None):
        self.modalities_ = tuple(X)
        return super().fit(X, y)


def test_checks_pass_on_a_correct_estimator():
    # the example of doc/user_guide/data_contract.rst
    results = check_multimodal_estimator(MyImputer(n_clusters=3))  # random_state=None
    assert {r["status"] for r in results} == {"passed"}
    assert len(results) == len(list(_yield_multimodal_checks(MyImputer())))
    assert "check_imputer_keeps_observed_values" in {r["check"] for r in results}


@pytest.mark.parametrize("broken, check, message", [
    (MutatingImputer, check_inputs_not_mutated, "modified in place"),
    (AlteringImputer, check_imputer_keeps_observed_values, "observed values of 'a'"),
    (HalfFitImputer, check_failed_fit_leaves_estimator_unchanged,
     r"a failed fit changed \['modalities_'\]"),
])
def test_checks_fail_on_broken_estimators(broken, check, message):
    with pytest.raises(AssertionError, match=message):
        check(broken(**PARAMS))
    # check_multimodal_estimator stops at that check and names it
    with pytest.raises(AssertionError, match=rf"(?s)^{check.__name__} failed for "
                       rf"{broken.__name__}: AssertionError: .*{message}"):
        check_multimodal_estimator(broken(**PARAMS))


def test_expected_failures_are_recorded_not_raised():
    # the two checks that see the half-set attribute (the second: bad parameters)
    expected = {"check_failed_fit_leaves_estimator_unchanged": "by design",
                "check_bad_parameter_reported_first": "by design"}
    results = check_multimodal_estimator(
        HalfFitImputer(**PARAMS), expected_failed_checks=expected
    )
    status = {r["check"]: r["status"] for r in results}
    assert {name for name, s in status.items() if s == "xfail"} == set(expected)
    assert set(status.values()) == {"passed", "xfail"}


def test_skipped_checks_warn(monkeypatch):
    from sklearn.exceptions import SkipTestWarning
    from sklearn.impute import SimpleImputer

    from skmm.utils import estimator_checks

    est = SimpleImputer()  # none of the probed parameters
    with pytest.raises(SkipTest, match="none of the probed parameters"):
        estimator_checks.check_bad_parameter_reported_first(est)
    monkeypatch.setattr(estimator_checks, "_yield_multimodal_checks", lambda est: [
        estimator_checks.check_bad_parameter_reported_first,
        estimator_checks.check_clone_round_trip,
    ])
    with pytest.warns(SkipTestWarning, match="check_bad_parameter_reported_first"):
        results = check_multimodal_estimator(est)
    assert [r["status"] for r in results] == ["skipped", "passed"]


@parametrize_with_multimodal_checks(
    [MyImputer(**PARAMS)],
    expected_failed_checks=lambda est: {"check_pickle_round_trip": "an example"},
)
def test_parametrize_gives_readable_ids_and_marks(estimator, check, request):
    node = request.node
    assert node.callspec.id.startswith("MyImputer-check_")
    if node.callspec.id == "MyImputer-check_pickle_round_trip":
        assert node.get_closest_marker("xfail").kwargs["reason"] == "an example"
        pytest.xfail("an example")
    if "(" in node.callspec.id:  # a check with cases shows the case
        assert node.callspec.id.endswith(")")


def test_import_skmm_does_not_import_pytest():
    code = ("import sys, skmm, skmm.utils.estimator_checks; "
            "assert 'pytest' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
