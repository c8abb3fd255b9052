"""MultiModalData: construction, indexing, and scikit-learn's splitters and estimators."""

import pickle

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline

from skmm import MultiModalData


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 3))
    b = rng.normal(size=(40, 2))
    a[::5] = np.nan
    return MultiModalData(a=a, b=b)


def test_constructors_agree():
    a, b = np.ones((4, 2)), np.zeros((4, 3))
    from_dict = MultiModalData({"a": a, "b": b})
    assert from_dict == MultiModalData(a=a, b=b)
    stacked = MultiModalData.from_array(np.hstack([a, b]), widths={"a": 2, "b": 3})
    assert from_dict == stacked
    assert MultiModalData([a, b]).modalities == ("m0", "m1")
    assert MultiModalData(MultiModalData(a=a)) == MultiModalData(a=a)


def test_dataframes_keep_column_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.ones((3, 2)), columns=["height", "width"])
    X = MultiModalData(shape=frame, other=np.zeros((3, 1)))
    assert list(X.feature_names["shape"]) == ["height", "width"]
    assert list(X.get_feature_names()) == ["shape__height", "shape__width", "other__0"]


def test_integers_converted_float32_kept_no_copy_for_float64():
    a64 = np.ones((2, 2))
    X = MultiModalData(i=np.ones((2, 2), dtype=int), f=np.ones((2, 1), np.float32), d=a64)
    assert X["i"].dtype == np.float64 and X["f"].dtype == np.float32
    assert X["d"] is a64


def test_shape_len_iteration_and_array(X):
    assert X.shape == (40, 5) and len(X) == 40 and X.ndim == 2
    assert list(X) == ["a", "b"] and list(X.keys()) == ["a", "b"]
    assert X.n_features == {"a": 3, "b": 2}
    np.testing.assert_array_equal(np.asarray(X), np.hstack([X["a"], X["b"]]))
    assert X.observed.shape == (40, 2)
    assert X.observed[:, 0].sum() == 32 and X.observed[:, 1].all()


@pytest.mark.parametrize(
    "rows",
    [[0, 3], np.array([0, 3]), np.arange(40) < 2, slice(0, 2), (np.array([1, 2]), ...)],
)
def test_row_indexing_returns_a_container(X, rows):
    sub = X[rows]
    assert isinstance(sub, MultiModalData)
    assert sub.modalities == X.modalities and sub.n_samples == 2


@pytest.mark.parametrize(
    "key",
    [(slice(None), 0), (slice(None), [0, 4]), (slice(None), slice(1, 4)),
     (slice(None), np.array([True, False, True, False, True])), ([1, 2], [0, 3]),
     (slice(None), -1)],
)
def test_column_indexing_is_that_of_the_stack(X, key):
    np.testing.assert_array_equal(X[key], np.asarray(X)[key])


def test_whole_row_keys_give_a_container(X):
    assert isinstance(X[[0, 1], :], MultiModalData)
    assert isinstance(X[:, ...], MultiModalData)


def test_row_keys_that_are_not_rows_raise(X):
    with pytest.raises(TypeError):
        X[np.array([0.5])]
    with pytest.raises(KeyError, match="'c'"):
        X["c"]


def test_repr_shows_widths_and_missing_rates(X):
    text = repr(X)
    assert "40 samples x 2 modalities" in text and "20.0% missing" in text


def test_pickle_round_trip(X):
    assert pickle.loads(pickle.dumps(X)) == X


def test_constructor_errors():
    with pytest.raises(ValueError, match="a: 3, b: 2"):
        MultiModalData(a=np.ones((3, 1)), b=np.ones((2, 1)))
    with pytest.raises(ValueError, match="at least one modality"):
        MultiModalData({})
    with pytest.raises(ValueError, match="widths add up to 3"):
        MultiModalData.from_array(np.ones((2, 4)), widths={"a": 1, "b": 2})
    with pytest.raises(TypeError, match="mapping"):
        MultiModalData(np.ones((2, 2)))


def test_splitters(X):
    y = np.arange(40) % 2
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    assert isinstance(X_tr, MultiModalData)
    assert X_tr.n_samples == 30 and X_te.n_samples == 10
    for cv in (KFold(4), StratifiedKFold(4)):
        for train, test in cv.split(X, y):
            assert X[train].n_samples + X[test].n_samples == 40


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(SimpleImputer(), LogisticRegression()),
        HistGradientBoostingClassifier(max_iter=5),
    ],
)
def test_plain_sklearn_estimators_fit_and_predict(X, model):
    y = np.arange(40) % 2
    assert model.fit(X, y).predict(X).shape == (40,)
    assert cross_val_score(model, X, y, cv=KFold(3)).shape == (3,)
    assert cross_val_predict(model, X, y, cv=3).shape == (40,)


def test_grid_search_with_processes(X):
    y = np.arange(40) % 2
    pipe = make_pipeline(SimpleImputer(), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3, n_jobs=2)
    assert search.fit(X, y).best_params_["logisticregression__C"] in (0.1, 1.0)


def test_plain_dict_through_cross_val_score_fails_as_documented(X):
    # Splitters count a dict's keys; the documented fix is to wrap it.
    with pytest.raises(ValueError):
        cross_val_score(make_pipeline(SimpleImputer(), LogisticRegression()), dict(X),
                        np.arange(40) % 2, cv=3)


def test_feature_names_and_index_at_construction():
    pd = pytest.importorskip("pandas")
    a, b = np.ones((3, 2)), np.zeros((3, 1))
    X = MultiModalData({"a": a, "b": b}, feature_names={"a": ["x", 7]},
                       index=["r0", "r1", "r2"])
    assert list(X.feature_names["a"]) == ["x", "7"]  # given names, as str
    assert list(X.feature_names["b"]) == ["0"]  # the default for the others
    assert isinstance(X.index, pd.Index) and list(X[[2, 0]].index) == ["r2", "r0"]
    frame = pd.DataFrame(a, columns=["p", "q"], index=[5, 6, 7])
    named = MultiModalData({"a": frame}, feature_names={"a": ["u", "v"]},
                           index=pd.Index([1, 2, 3]))
    assert list(named.get_feature_names()) == ["a__u", "a__v"]  # over the columns
    assert list(named.index) == [1, 2, 3]
    copied = named.copy()
    assert list(copied.index) == [1, 2, 3] and list(copied.feature_names["a"]) == ["u", "v"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"feature_names": {"c": ["x"]}}, ValueError, "modality 'c'"),
        ({"feature_names": {"a": ["x"]}}, ValueError, "1 names for the 2 features"),
        ({"feature_names": ["x", "y"]}, TypeError, "dict"),
        ({"index": [0, 1]}, ValueError, "2 labels for 3 samples"),
    ],
)
def test_feature_names_and_index_are_checked(kwargs, error, match):
    pytest.importorskip("pandas")
    with pytest.raises(error, match=match):
        MultiModalData({"a": np.ones((3, 2))}, **kwargs)


def test_from_array_keeps_a_frame_index():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.ones((3, 3)), index=list("pqr"))
    X = MultiModalData.from_array(frame, widths={"a": 1, "b": 2})
    assert list(X.index) == list("pqr")
