import numpy as np
import pytest

from skmm.datasets import load_multiple_features


def test_load_multiple_features():
    bunch = load_multiple_features()
    X = bunch.data
    assert X.modalities == ("fou", "fac", "kar", "pix", "zer", "mor")
    assert X.n_features == {
        "fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6
    }
    assert X.observed.all()
    np.testing.assert_array_equal(np.bincount(bunch.target), np.full(10, 200))
    assert "10.24432/C5HC70" in bunch.DESCR


def test_return_x_y_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()
    X, y = load_multiple_features(return_X_y=True)
    assert X.shape == (2000, 649) and y.shape == (2000,)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_default_order_is_sorted_by_class_and_unchanged():
    X, y = load_multiple_features(return_X_y=True)
    np.testing.assert_array_equal(y, np.repeat(np.arange(10), 200))
    X_again, _ = load_multiple_features(return_X_y=True, shuffle=False, random_state=3)
    for m in X.modalities:
        np.testing.assert_array_equal(X_again[m], X[m])


def test_shuffle_permutes_every_modality_and_target_alike():
    X, y = load_multiple_features(return_X_y=True)
    bunch = load_multiple_features(shuffle=True, random_state=0)
    Xs, ys = bunch.data, bunch.target
    assert not np.array_equal(ys, y)
    np.testing.assert_array_equal(np.sort(ys), y)
    # the permutation of RandomState(0), applied to every modality and to y
    order = np.random.RandomState(0).permutation(len(y))
    for m in X.modalities:
        assert Xs[m].flags.c_contiguous
        np.testing.assert_array_equal(Xs[m], X[m][order])
    np.testing.assert_array_equal(ys, y[order])
    # every 400-row block (one fold of an unshuffled 5-fold KFold) now holds all digits
    for block in np.split(ys, 5):
        assert set(block.tolist()) == set(range(10))


def test_shuffle_is_reproducible_with_an_int_seed():
    X1, y1 = load_multiple_features(return_X_y=True, shuffle=True, random_state=42)
    X2, y2 = load_multiple_features(return_X_y=True, shuffle=True, random_state=42)
    X3, y3 = load_multiple_features(return_X_y=True, shuffle=True, random_state=43)
    np.testing.assert_array_equal(y1, y2)
    for m in X1.modalities:
        np.testing.assert_array_equal(X1[m], X2[m])
    assert not np.array_equal(y1, y3)
    rs = np.random.RandomState(42)
    _, y4 = load_multiple_features(return_X_y=True, shuffle=True, random_state=rs)
    np.testing.assert_array_equal(y4, y1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shuffle": 1}, "shuffle must be True or False; got 1"),
        ({"shuffle": "yes"}, "shuffle must be True or False; got 'yes'"),
        ({"shuffle": True, "random_state": "seed"}, "random_state must be None, an int"),
        ({"shuffle": True, "random_state": -1}, "random_state must be None, an int"),
        ({"shuffle": True, "random_state": 1.5}, "random_state must be None, an int"),
    ],
)
def test_bad_shuffle_and_random_state_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_multiple_features(**kwargs)
