import numpy as np
import pytest

from skmm.utils._patterns import missing_patterns


@pytest.mark.parametrize("n_modalities", [1, 2, 5, 62, 70])
def test_missing_patterns_matches_numpy_unique(n_modalities):
    rng = np.random.default_rng(n_modalities)
    # few distinct rows, so that patterns repeat
    distinct = rng.random((7, n_modalities)) < 0.5
    observed = distinct[rng.integers(0, 7, size=300)]
    patterns, index, rows = missing_patterns(observed)
    expected, expected_index = np.unique(observed, axis=0, return_inverse=True)
    np.testing.assert_array_equal(patterns, expected)
    np.testing.assert_array_equal(index, expected_index.reshape(-1))
    np.testing.assert_array_equal(patterns[index], observed)
    assert sum(r.size for r in rows) == len(observed)
    for p, r in enumerate(rows):
        np.testing.assert_array_equal(r, np.flatnonzero(index == p))


def test_missing_patterns_of_no_rows():
    patterns, index, rows = missing_patterns(np.zeros((0, 3), dtype=bool))
    assert patterns.shape == (0, 3) and index.shape == (0,) and rows == ()
