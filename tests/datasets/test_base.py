"""What every bundled real-data loader shares (skmm.datasets._base)."""

import numpy as np
import pytest

from skmm import MultiModalData
from skmm.datasets import (
    BENCHMARK_DATASETS,
    load_breast_cancer_views,
    load_diabetes_views,
    load_digits_views,
    load_multiple_features,
    load_nutrimouse,
)

LOADERS = [load_nutrimouse, load_breast_cancer_views, load_digits_views,
           load_diabetes_views]


@pytest.fixture(params=LOADERS, ids=lambda f: f.__name__)
def loader(request):
    return request.param


def test_bunch_holds_complete_float64_views(loader):
    state = np.random.get_state()[1].copy()
    bunch = loader()
    X = bunch.data
    assert isinstance(X, MultiModalData) and X.observed.all()
    assert set(bunch.modality_descriptions) == set(X.modalities)
    assert {m: len(names) for m, names in bunch.feature_names.items()} == X.n_features
    for m in X.modalities:
        assert X[m].dtype == np.float64 and X[m].flags.c_contiguous
        assert np.isfinite(X[m]).all()
    assert bunch.target.shape == (X.n_samples,)
    assert "Cite" in bunch.DESCR and "licen" in bunch.DESCR
    X2, y2 = loader(return_X_y=True)
    np.testing.assert_array_equal(np.asarray(X2), np.asarray(X))
    np.testing.assert_array_equal(y2, bunch.target)
    # loading draws nothing from the global random state
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_shuffle_permutes_every_view_and_the_target_alike(loader):
    X, y = loader(return_X_y=True)
    Xs, ys = loader(return_X_y=True, shuffle=True, random_state=0)
    order = np.random.RandomState(0).permutation(len(y))
    assert not np.array_equal(order, np.arange(len(y)))
    for m in X.modalities:
        assert Xs[m].flags.c_contiguous
        np.testing.assert_array_equal(Xs[m], X[m][order])
    np.testing.assert_array_equal(ys, y[order])
    # the default keeps the order whatever random_state is
    X_again, _ = loader(return_X_y=True, random_state=3)
    np.testing.assert_array_equal(np.asarray(X_again), np.asarray(X))


def test_shuffle_is_reproducible(loader):
    _, y1 = loader(return_X_y=True, shuffle=True, random_state=42)
    _, y2 = loader(return_X_y=True, shuffle=True, random_state=42)
    _, y3 = loader(return_X_y=True, shuffle=True,
                   random_state=np.random.RandomState(42))
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, y3)
    X4, _ = loader(return_X_y=True, shuffle=True, random_state=43)
    X5, _ = loader(return_X_y=True, shuffle=True, random_state=42)
    assert not np.array_equal(np.asarray(X4), np.asarray(X5))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shuffle": 1}, "shuffle must be True or False; got 1"),
        ({"return_X_y": "yes"}, "return_X_y must be True or False; got 'yes'"),
        ({"shuffle": True, "random_state": -1}, "random_state must be None, an int"),
    ],
)
def test_bad_parameters_are_rejected(loader, kwargs, match):
    with pytest.raises(ValueError, match=match):
        loader(**kwargs)


def test_benchmark_datasets_are_the_bundled_loaders():
    from skmm.benchmark import benchmark_task

    assert list(BENCHMARK_DATASETS) == ["mfeat", "nutrimouse", "breast-cancer", "digits",
                                        "diabetes"]
    assert BENCHMARK_DATASETS["nutrimouse"].func is load_nutrimouse
    assert BENCHMARK_DATASETS["nutrimouse"].keywords == {"target": "diet"}
    for name, loader in [("mfeat", load_multiple_features),
                         ("breast-cancer", load_breast_cancer_views),
                         ("digits", load_digits_views),
                         ("diabetes", load_diabetes_views)]:
        assert BENCHMARK_DATASETS[name] is loader
    with pytest.raises(TypeError):
        BENCHMARK_DATASETS["wine"] = load_diabetes_views
    for name in ("nutrimouse", "breast-cancer", "digits"):
        X, y = BENCHMARK_DATASETS[name](return_X_y=True)
        assert y.dtype == np.int64 and len(np.unique(y)) >= 2 and len(y) == len(X)
        assert benchmark_task(y) == "classification"
    # the diabetes progression is integer-valued floats: the benchmark regresses on it
    X, y = BENCHMARK_DATASETS["diabetes"](return_X_y=True)
    assert y.dtype == np.float64 and benchmark_task(y) == "regression"


def test_docstrings_hold_the_shared_parameters():
    for func in LOADERS + [load_multiple_features]:
        assert "{loader" not in func.__doc__
        assert "\n    Parameters\n    ----------\n" in func.__doc__
        assert "\n    shuffle : bool, default=False\n" in func.__doc__
        assert "\n    (X, y) : tuple of (MultiModalData, ndarray)\n" in func.__doc__


def test_data_carries_the_bunch_feature_names(loader):
    bunch = loader()
    for m, names in bunch.feature_names.items():
        assert list(bunch.data.feature_names[m]) == [str(n) for n in names]
