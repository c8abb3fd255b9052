"""Shared checks run on every registered public estimator (see skmm.utils._testing)."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities
from skmm.utils import all_estimators
from skmm.utils._testing import IMPUTERS, expected_failed_checks, registered_instances

ESTIMATORS = registered_instances()
IDS = [type(est).__name__ for est in ESTIMATORS]


def _data(n=60, seed=0):
    """Three modalities with a class signal and ~30% of slots missing."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = MultiModalData(
        a=rng.normal(size=(n, 4)) + y[:, None],
        b=rng.normal(size=(n, 3)) - y[:, None],
        c=rng.normal(size=(n, 5)) + 0.5 * y[:, None],
    )
    return make_missing_modalities(X, 0.3, random_state=seed), y


def _output(est, X):
    out = est.transform(X) if hasattr(est, "transform") else est.predict(X)
    return np.asarray(out)


def _fit_output(est, X, y=None):
    est.fit(X, y)
    return _output(est, X)


def test_every_public_estimator_is_registered():
    registered = {type(est).__name__ for est in ESTIMATORS}
    assert registered == {name for name, _ in all_estimators()}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_clone_and_params_round_trip(est):
    params = est.get_params(deep=False)
    cloned = clone(est)
    assert cloned is not est
    assert set(cloned.get_params(deep=False)) == set(params)
    cloned.set_params(**params)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pickle_round_trip_gives_identical_output(est):
    X, y = _data()
    est = clone(est)
    expected = _fit_output(est, X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(restored, X), expected)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_inputs_never_mutated(est):
    X, y = _data()
    plain = {m: a.copy() for m, a in X.items()}
    before = copy.deepcopy(plain)
    est = clone(est).fit(plain, y)
    _output(est, plain)
    for m in before:
        np.testing.assert_array_equal(plain[m], before[m])


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pipeline_cross_val_and_grid_search_on_multimodal_data(est):
    X, y = _data()
    pipe = make_pipeline(
        clone(est), SimpleImputer(keep_empty_features=True), LogisticRegression()
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.isfinite(scores).all()
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert search.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_output_follows_input_kind(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    if not hasattr(est, "transform"):
        return
    out = est.transform(dict(X))
    if type(est).__name__ in IMPUTERS:
        assert isinstance(out, MultiModalData)
        assert out.modalities == X.modalities
    assert len(out) == X.n_samples
    assert len(est.get_feature_names_out()) == np.asarray(out).shape[1]


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pandas_output(est):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    est = clone(est)
    if not hasattr(est, "set_output"):
        return
    est.set_output(transform="pandas").fit(X, y)
    out = est.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())


@pytest.mark.parametrize(
    "est", [e for e in ESTIMATORS if type(e).__name__ in IMPUTERS],
    ids=[i for i in IDS if i in IMPUTERS],
)
def test_imputers_keep_observed_values_and_fill_missing_rows(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    out = est.transform(X)
    observed = X.observed
    for j, m in enumerate(X.modalities):
        rows = observed[:, j]
        assert out[m].dtype == X[m].dtype
        np.testing.assert_array_equal(out[m][rows], X[m][rows])
        assert np.isfinite(out[m]).all(), f"missing rows of {m!r} left unfilled"


def _bad_fit_inputs():
    X, _ = _data()
    a, b, c = (X[m] for m in X.modalities)
    partial = a.copy()
    partial[np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan
    inf = b.copy()
    inf[np.flatnonzero(X.observed[:, 1])[0], 1] = np.inf
    empty_row = {m: x.copy() for m, x in X.items()}
    for x in empty_row.values():
        x[3] = np.nan
    return {
        "row counts differ": ({"a": a, "b": b[:-1], "c": c}, ValueError, "rows"),
        "partly NaN row": ({"a": partial, "b": b, "c": c}, ValueError, "'a'"),
        "inf": ({"a": a, "b": inf, "c": c}, ValueError, "'b'"),
        "sample with no modality": (empty_row, ValueError, "[3]"),
        "modality never observed": (
            {"a": a, "b": b, "c": np.full_like(c, np.nan)}, ValueError, "'c'"
        ),
        "empty mapping": ({}, ValueError, "modality"),
        "1-D array": ({"a": a[:, 0], "b": b, "c": c}, ValueError, "'a'"),
        "3-D array": ({"a": a[:, :, None], "b": b, "c": c}, ValueError, "'a'"),
        "non-numeric": ({"a": a.astype(str).astype(object) + "x", "b": b, "c": c},
                        TypeError, "'a'"),
        "zero samples": ({"a": a[:0], "b": b[:0], "c": c[:0]}, ValueError, "0 samples"),
    }


BAD_FIT = _bad_fit_inputs()


@pytest.mark.parametrize("case", list(BAD_FIT))
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_input_at_fit_raises_a_clear_error(est, case):
    X, error, fragment = BAD_FIT[case]
    with pytest.raises(error) as info:
        clone(est).fit(X, np.arange(len(next(iter(X.values()), []))) % 2 if X else None)
    assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_input_at_transform_raises_a_clear_error(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    method = est.transform if hasattr(est, "transform") else est.predict
    extra = dict(X, d=np.zeros((X.n_samples, 2)))
    with pytest.raises(ValueError, match="'d'"):
        method(extra)
    absent = {m: X[m] for m in ("a", "b")}
    with pytest.raises(ValueError, match="'c'"):
        method(absent)
    narrow = dict(X, b=X["b"][:, :2])
    with pytest.raises(ValueError, match="'b' has 2 features"):
        method(narrow)
