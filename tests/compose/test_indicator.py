"""Tests of MissingModalityIndicator: both bit conventions, against scikit-learn's
MissingIndicator."""

import numpy as np
import pytest
from sklearn.impute import MissingIndicator

from skmm import MultiModalData
from skmm.compose import MissingModalityIndicator


def _data():
    rng = np.random.default_rng(0)
    X = {"a": rng.normal(size=(6, 2)), "b": rng.normal(size=(6, 3)),
         "c": rng.normal(size=(6, 1))}
    X["a"][[1, 4]] = np.nan
    X["b"][[2]] = np.nan  # "c" is always observed
    return MultiModalData(X)


def test_default_bits_mark_presence():
    X = _data()
    ind = MissingModalityIndicator().fit(X)
    assert ind.presence is True and ind.features == "all"
    out = ind.transform(X)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, X.observed.astype(float))
    assert list(ind.get_feature_names_out()) == ["present__a", "present__b", "present__c"]


@pytest.mark.parametrize("features", ["all", "missing-only"])
def test_presence_false_is_scikit_learns_convention(features):
    # one column per modality, as MissingIndicator on one feature of each modality
    X = _data()
    ind = MissingModalityIndicator(features=features, presence=False).fit(X)
    firsts = np.column_stack([X[m][:, 0] for m in X.modalities])
    ref = MissingIndicator(features=features).fit(firsts)
    np.testing.assert_array_equal(ind.features_, ref.features_)
    np.testing.assert_array_equal(ind.transform(X), ref.transform(firsts).astype(float))
    names = [f"missing__{m}" for m in np.asarray(X.modalities)[ref.features_]]
    assert list(ind.get_feature_names_out()) == names
    # the two conventions are complements of each other
    presence = MissingModalityIndicator(features=features).fit(X)
    np.testing.assert_array_equal(presence.transform(X), 1.0 - ind.transform(X))


def test_missing_only_keeps_the_modalities_missing_at_fit():
    X = _data()
    ind = MissingModalityIndicator(features="missing-only").fit(X)
    np.testing.assert_array_equal(ind.features_, [0, 1])
    assert list(ind.get_feature_names_out()) == ["present__a", "present__b"]
    # a modality missing only at transform gets no column (as MissingIndicator with
    # error_on_new=False)
    Y = MultiModalData({m: X[m].copy() for m in X.modalities})
    Y["c"][0] = np.nan
    np.testing.assert_array_equal(
        ind.transform(Y), X.observed[:, :2].astype(float)
    )


def test_pandas_output_keeps_the_names():
    pd = pytest.importorskip("pandas")
    X = _data()
    ind = MissingModalityIndicator(presence=False).set_output(transform="pandas")
    out = ind.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["missing__a", "missing__b", "missing__c"]
    np.testing.assert_array_equal(out.to_numpy(), (~X.observed).astype(float))
