"""Tests for the partial-distance kernel (skmm.cluster._partial_distance), on arrays."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skmm.cluster import _partial_distance
from skmm.cluster._partial_distance import (
    CentreGeometry,
    Threads,
    add_member_sums,
    centre_shift,
    draw_candidates,
    far_rows,
    modality_stats,
    norm_bounds,
    stacked_norms,
)


def make_arrays(n=40, widths=(3, 2, 4), seed=0, dtype=np.float64):
    """Arrays in modality order with NaN rows, their mask and their statistics."""
    rng = np.random.default_rng(seed)
    obs = rng.random((n, len(widths))) < 0.6
    obs[~obs.any(axis=1), 0] = True
    arrays = [(rng.normal(size=(n, d)) * 3 + 1).astype(dtype) for d in widths]
    for m, a in enumerate(arrays):
        a[~obs[:, m]] = np.nan
    mean, scale = modality_stats(arrays, obs, [1e-8] * len(widths))
    return arrays, obs, mean, scale


def plain_tables(arrays, obs, mean, scale, centres, presence):
    """Per-sample sums and counts of the partial distance terms, by loops."""
    n, k = obs.shape[0], presence.shape[0]
    num, count = np.zeros((n, k)), np.zeros((n, k))
    for i in range(n):
        for j in range(k):
            for m, a in enumerate(arrays):
                if obs[i, m] and presence[j, m]:
                    z = (a[i].astype(np.float64) - mean[m]) / scale[m]
                    num[i, j] += ((z - centres[m][j]) ** 2).sum() / a.shape[1]
                    count[i, j] += 1
    return num, count


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("partial", [False, True])
def test_geometry_tables_and_squared_are_the_partial_distance(dtype, partial):
    arrays, obs, mean, scale = make_arrays(dtype=dtype)
    rng = np.random.default_rng(1)
    k = 5
    presence = rng.random((k, 3)) < 0.6 if partial else np.ones((k, 3), dtype=bool)
    presence[:, 0] |= ~presence.any(axis=1)
    centres = [rng.normal(size=(k, a.shape[1])) for a in arrays]
    geometry = CentreGeometry(centres, presence, mean, scale, [dtype] * 3)
    assert geometry.full == (not partial)
    stacked = stacked_norms(arrays, obs, mean, scale)
    num, count = geometry.tables(arrays, obs, stacked)
    expected_num, expected_count = plain_tables(arrays, obs, mean, scale, centres,
                                                presence)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(num, expected_num, rtol=rtol, atol=rtol)
    if partial:
        np.testing.assert_array_equal(count, expected_count)
    else:
        assert count is None
    d2 = geometry.squared(num, count, obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(expected_count > 0, expected_num / expected_count, np.inf)
    np.testing.assert_allclose(d2, expected, rtol=rtol, atol=rtol)
    if not partial:  # the scores rank the centres as the distances do
        scores = geometry.scores(arrays, obs)
        np.testing.assert_array_equal(scores.argmin(axis=1), expected.argmin(axis=1))


def test_far_rows_flag_rows_far_from_the_training_range():
    arrays, obs, mean, scale = make_arrays()
    obs[:] = True
    arrays = [np.nan_to_num(a, nan=0.0) for a in arrays]
    arrays[1][3] = 1e9  # about 1e8 standard deviations out
    geometry = CentreGeometry([np.zeros((2, a.shape[1])) for a in arrays],
                              np.ones((2, 3), dtype=bool), mean, scale, [np.float64] * 3)
    scores = geometry.scores(arrays, obs)
    np.testing.assert_array_equal(far_rows(arrays, obs, scores, norm_bounds(mean, scale)),
                                  [3])


@pytest.mark.parametrize("n_trials", [1, 4])
def test_draw_candidates_takes_samples_at_infinite_distance_first(n_trials):
    closest = np.array([0.5, np.inf, 2.0, np.inf, 0.0])
    draws = draw_candidates(closest, n_trials, np.random.RandomState(0))
    assert draws.shape == (n_trials,) and set(draws) <= {1, 3}
    # finite: proportional to the distance (never a sample at distance 0)
    draws = draw_candidates(np.array([0.0, 1.0, 0.0, 3.0]), 200, np.random.RandomState(0))
    assert set(draws) == {1, 3}
    # all zero: uniform
    draws = draw_candidates(np.zeros(4), 200, np.random.RandomState(0))
    assert set(draws) == {0, 1, 2, 3}


def test_one_draw_makes_the_calls_of_a_scalar_draw():
    closest = np.array([0.5, 1.0, 2.0])
    rng = np.random.RandomState(3)
    draw = draw_candidates(closest, 1, rng)
    scalar = np.random.RandomState(3).uniform() * closest.sum()
    assert draw[0] == np.searchsorted(np.cumsum(closest), scalar, side="right")
    assert rng.uniform() == np.random.RandomState(3).uniform(size=2)[1]


def test_centre_shift_is_the_largest_partial_distance_or_inf_on_new_modalities():
    old = [np.zeros((2, 2)), np.zeros((2, 4))]
    new = [np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[0.0] * 4, [2.0] * 4])]
    presence = np.array([[True, True], [False, True]])
    # centre 0: (2 / 2 + 0) / 2 = 0.5; centre 1: only modality 1, 16 / 4 = 4
    assert centre_shift(old, presence, new, presence) == 4.0
    assert centre_shift(old, presence, new, np.ones((2, 2), dtype=bool)) == np.inf


def test_threads_map_groups_contiguous_chunks_in_row_order():
    seen = []

    def work(chunks):
        seen.append(chunks)
        return [(sl.start, sl.stop) for sl in chunks]

    for n_threads in (1, 2):
        with threadpool_limits(n_threads, user_api="blas"), Threads() as threads:
            results = threads.map(work, 23, 4)
        rows = [r for group in results for r in group]
        assert rows[0][0] == 0 and rows[-1][1] == 23
        assert all(a[1] == b[0] for a, b in zip(rows[:-1], rows[1:]))
        assert len(results) <= max(1, threads.n_threads)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("moved_share", [0.0, 0.1, 0.9])
def test_member_sums_from_scratch_and_by_moved_rows(dtype, moved_share, monkeypatch):
    # Small blocks so that several are used; the sums against a plain loop.
    monkeypatch.setattr(_partial_distance, "_INPUT_ENTRIES", 8)
    rng = np.random.default_rng(0)
    n, k = 50, 4
    obs = rng.random((n, 2)) < 0.7
    arrays = [rng.normal(size=(n, d)).astype(dtype) for d in (3, 2)]
    for m, a in enumerate(arrays):
        a[~obs[:, m]] = np.nan
    previous = rng.integers(k, size=n)
    labels = np.where(rng.random(n) < moved_share, rng.integers(k, size=n), previous)

    def plain(lab):
        return [
            np.array([a[(lab == j) & obs[:, m]].astype(np.float64).sum(axis=0)
                      for j in range(k)])
            for m, a in enumerate(arrays)
        ]

    sums = [np.zeros((k, a.shape[1])) for a in arrays]
    add_member_sums(sums, previous, obs, arrays)
    for got, expected in zip(sums, plain(previous)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    add_member_sums(sums, labels, obs, arrays, previous)
    for got, expected in zip(sums, plain(labels)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
