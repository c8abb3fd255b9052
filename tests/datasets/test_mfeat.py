import numpy as np

from skmm.datasets import load_multiple_features


def test_load_multiple_features():
    bunch = load_multiple_features()
    X = bunch.data
    assert X.modalities == ("fou", "fac", "kar", "pix", "zer", "mor")
    assert X.n_features == {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
    assert X.observed.all()
    np.testing.assert_array_equal(np.bincount(bunch.target), np.full(10, 200))
    assert "10.24432/C5HC70" in bunch.DESCR


def test_return_x_y_leaves_global_rng_alone():
    state = np.random.get_state()[1].copy()
    X, y = load_multiple_features(return_X_y=True)
    assert X.shape == (2000, 649) and y.shape == (2000,)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
