"""Tests for PartialModalityKMeans, against a per-sample reference of the specification."""

import tracemalloc

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skmm import MultiModalData
from skmm.cluster import PartialModalityKMeans
from skmm.cluster import _partial_distance


# --- reference: UL4M4 stage 1 straight from the specification (loops, no tricks) -------
def standardise(X):
    """Samples as {modality: z vector or None}, and {modality: (mean, std + 1e-8)}."""
    stats = {}
    for m, a in X.items():
        rows = a[~np.isnan(a).all(axis=1)]
        stats[m] = (rows.mean(axis=0), rows.std(axis=0) + 1e-8)
    n = len(next(iter(X.values())))
    samples = [
        {
            m: None if np.isnan(a[i]).all() else (a[i] - stats[m][0]) / stats[m][1]
            for m, a in X.items()
        }
        for i in range(n)
    ]
    return samples, stats


def partial_d2(u, v):
    """Squared partial-modality distance between two {modality: vector or None}."""
    shared = [m for m in u if u[m] is not None and v[m] is not None]
    if not shared:
        return np.inf
    return sum(np.sum((u[m] - v[m]) ** 2) / u[m].size for m in shared) / len(shared)


def reference_kmeans(X, k, max_iter=100, tol=0.0, seed=0):
    """Returns centres (z-space dicts), labels, inertia, n_iter, stats."""
    samples, stats = standardise(X)
    n = len(samples)
    rng = np.random.RandomState(seed)
    centres = [dict(samples[rng.randint(n)])]
    while len(centres) < k:
        d2 = np.array([min(partial_d2(s, c) for c in centres) for s in samples])
        far = np.flatnonzero(np.isinf(d2))
        if far.size:
            chosen = far[rng.randint(far.size)]
        elif d2.sum() == 0:
            chosen = rng.randint(n)
        else:
            cumulative = np.cumsum(d2)
            chosen = np.searchsorted(cumulative, rng.uniform() * cumulative[-1], "right")
        centres.append(dict(samples[chosen]))
    labels = None
    for n_iter in range(1, max_iter + 1):
        new = [int(np.argmin([partial_d2(s, c) for c in centres])) for s in samples]
        if new == labels:
            break
        labels = new
        old, centres = centres, []
        for j, c in enumerate(old):
            c = dict(c)
            for m in c:
                members = [s[m] for s, lab in zip(samples, labels) if lab == j]
                members = [v for v in members if v is not None]
                if members:
                    c[m] = np.mean(members, axis=0)
            centres.append(c)
        shift = max(
            np.inf
            if [v is None for v in a.values()] != [v is None for v in b.values()]
            else partial_d2(a, b)
            for a, b in zip(old, centres)
        )
        if shift <= tol:
            break
    d2 = np.array([[partial_d2(s, c) for c in centres] for s in samples])
    return centres, d2.argmin(axis=1), d2.min(axis=1).sum(), n_iter, stats


def to_input_space(z_dicts, stats):
    """{modality: array} in input space from z-space dicts (NaN rows for None)."""
    out = {}
    for m, (mean, scale) in stats.items():
        out[m] = np.array(
            [np.full(mean.shape, np.nan) if z[m] is None else z[m] * scale + mean
             for z in z_dicts]
        )
    return out


# --- data -------------------------------------------------------------------------------
def make_data(n=60, seed=0, partial_groups=False, dtype=np.float64):
    """Three modalities (widths 2, 3, 4), several missing patterns, offset features.

    With ``partial_groups``, a third of the samples form a far group with only "a" and
    another third a far group with only "b", so that fitted centres lack modalities.
    """
    rng = np.random.default_rng(seed)
    widths = {"a": 2, "b": 3, "c": 4}
    group = rng.integers(3, size=n)
    X = {
        m: rng.normal(size=(n, d)) + 3.0 * group[:, None] * (j + 1) + 10.0 * j
        for j, (m, d) in enumerate(widths.items())
    }
    observed = rng.random((n, 3)) < 0.6
    if partial_groups:
        observed[group == 1] = [True, False, False]
        observed[group == 2] = [False, True, False]
        X["a"][group == 1] += 20.0
        X["b"][group == 2] -= 20.0
    observed[~observed.any(axis=1), rng.integers(3)] = True
    for j, m in enumerate(widths):
        X[m][~observed[:, j]] = np.nan
        X[m] = X[m].astype(dtype)
    return MultiModalData(X)


def assert_matches_reference(X, k, max_iter, seed, tol=0.0):
    km = PartialModalityKMeans(k, max_iter=max_iter, tol=tol, random_state=seed).fit(X)
    centres, labels, inertia, n_iter, stats = reference_kmeans(X, k, max_iter, tol, seed)
    np.testing.assert_array_equal(km.labels_, labels)
    expected = to_input_space(centres, stats)
    for m in X.modalities:
        np.testing.assert_allclose(km.mean_[m], stats[m][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(km.scale_[m], stats[m][1], rtol=1e-12)
        np.testing.assert_allclose(
            km.cluster_centers_[m], expected[m], rtol=1e-9, atol=1e-9
        )
    assert km.inertia_ == pytest.approx(inertia, rel=1e-9, abs=1e-12)
    assert km.n_iter_ == n_iter
    return km


# --- equality with the reference --------------------------------------------------------
# Some runs end with an empty cluster (which keeps its centre): a warning, and tested too.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_on_random_missing_patterns(seed):
    X = make_data(seed=seed)
    assert len({tuple(r) for r in X.observed}) >= 5  # several missing patterns
    assert_matches_reference(X, k=4, max_iter=20, seed=seed)


@pytest.mark.parametrize("seed", range(3))
def test_matches_reference_with_partial_centres(seed):
    X = make_data(seed=seed, partial_groups=True)
    km = assert_matches_reference(X, k=5, max_iter=20, seed=seed)
    assert not km.cluster_centers_.observed.all()  # some centre lacks a modality


def test_matches_reference_after_one_iteration_and_with_tolerance():
    X = make_data(seed=5, partial_groups=True)
    assert_matches_reference(X, k=6, max_iter=1, seed=1)
    assert_matches_reference(X, k=6, max_iter=50, seed=2, tol=1e-2)


def test_seeding_draws_samples_sharing_no_modality_first():
    # "a"-only and "b"-only samples: after a first centre of one kind, every sample of
    # the other kind is at infinite distance, so the second centre must be one of them.
    rng = np.random.default_rng(0)
    a = np.r_[rng.normal(size=(10, 2)), np.full((10, 2), np.nan)]
    b = np.r_[np.full((10, 2), np.nan), rng.normal(size=(10, 2))]
    X = MultiModalData(a=a, b=b)
    for seed in range(5):
        km = PartialModalityKMeans(2, max_iter=1, random_state=seed).fit(X)
        assert len(set(km.labels_[:10])) == len(set(km.labels_[10:])) == 1
        assert km.labels_[0] != km.labels_[10]
        assert np.isfinite(km.inertia_)
    assert_matches_reference(X, k=2, max_iter=5, seed=3)


# --- greedy k-means++ (n_local_trials) ----------------------------------------------------
def test_one_local_trial_is_the_plain_seeding_of_the_reference():
    # n_local_trials=1 (the default) makes the same draws as the single-trial seeding
    # of the reference, including the uniform draw among samples at infinite distance.
    assert PartialModalityKMeans().n_local_trials == 1
    for seed in range(3):
        X = make_data(seed=20 + seed, partial_groups=bool(seed % 2))
        km = PartialModalityKMeans(5, n_local_trials=1, max_iter=20, random_state=seed)
        centres, labels, inertia, _, _ = reference_kmeans(X, 5, 20, 0.0, seed)
        km.fit(X)
        np.testing.assert_array_equal(km.labels_, labels)
        assert km.inertia_ == pytest.approx(inertia, rel=1e-9)


def record_greedy_steps(monkeypatch):
    """Record ``(candidates, closest before the choice, chosen)`` of each greedy step."""
    steps = []
    original = _partial_distance.best_candidate

    def recording(arrays, obs, stacked, mean, scale, candidates, closest, threads):
        chosen = original(arrays, obs, stacked, mean, scale, candidates, closest, threads)
        steps.append((candidates.copy(), closest.copy(), int(chosen)))
        return chosen

    monkeypatch.setattr(_partial_distance, "best_candidate", recording)
    return steps


@pytest.mark.parametrize("partial_groups", [False, True])
def test_greedy_seeding_keeps_the_candidate_with_the_lowest_potential(
    monkeypatch, partial_groups
):
    X = make_data(n=90, seed=30, partial_groups=partial_groups)
    samples, _ = standardise(X)
    n, k, seed = X.n_samples, 6, 4
    steps = record_greedy_steps(monkeypatch)
    PartialModalityKMeans(k, n_local_trials=None, max_iter=1, random_state=seed).fit(X)
    assert len(steps) == k - 1  # every centre after the first
    chosen = [np.random.RandomState(seed).randint(n)]  # the first centre: uniform
    saw_far = False
    for candidates, closest, best in steps:
        assert candidates.size == 2 + int(np.log(k))
        # the state the candidates were drawn from is the reference's
        expected = np.array(
            [min(partial_d2(s, samples[c]) for c in chosen) for s in samples]
        )
        expected[chosen] = 0.0
        np.testing.assert_array_equal(np.isinf(closest), np.isinf(expected))
        finite = np.isfinite(expected)
        np.testing.assert_allclose(closest[finite], expected[finite], rtol=1e-9, atol=1e-12)
        far = np.isinf(expected)
        if far.any():  # drawn uniformly among the samples at infinite distance
            saw_far = True
            assert far[candidates].all()
        # potential of each candidate: samples left at infinite distance, then the sum
        potentials = []
        for c in candidates:
            d2 = np.array([partial_d2(s, samples[c]) for s in samples])
            d2[c] = 0.0
            d2 = np.minimum(expected, d2)
            potentials.append((int(np.isinf(d2).sum()), d2[np.isfinite(d2)].sum()))
        order = sorted(range(len(potentials)), key=lambda i: potentials[i])
        first, second = potentials[order[0]], potentials[order[1]]
        if candidates[order[0]] != candidates[order[1]] and first[0] == second[0]:
            # a margin far above rounding, so the comparison is decided
            assert second[1] - first[1] > 1e-6 * second[1]
        assert best == candidates[order[0]]
        chosen.append(best)
    assert saw_far or not partial_groups  # the far-sample draw was exercised


def test_greedy_seeding_is_reproducible_and_passed_through_by_the_imputer():
    from skmm.impute import PartialModalityKMeansImputer

    X = make_data(n=120, seed=31, partial_groups=True)
    a = PartialModalityKMeans(6, n_local_trials=None, n_init=2, random_state=5).fit(X)
    b = PartialModalityKMeans(6, n_local_trials=None, n_init=2, random_state=5).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.cluster_centers_ == b.cluster_centers_
    assert a.inertia_ == b.inertia_
    # None is 2 + int(log(6)) = 3 trials
    c = PartialModalityKMeans(6, n_local_trials=3, n_init=2, random_state=5).fit(X)
    assert c.cluster_centers_ == a.cluster_centers_
    imputer = PartialModalityKMeansImputer(
        6, n_local_trials=3, n_init=2, random_state=5
    ).fit(X)
    assert imputer.kmeans_.n_local_trials == 3
    assert imputer.cluster_centers_ == a.cluster_centers_
    # more trials draw other seeds: the seeding is not the single-trial one
    plain = PartialModalityKMeans(6, max_iter=1, random_state=5).fit(X)
    greedy = PartialModalityKMeans(
        6, n_local_trials=3, max_iter=1, random_state=5
    ).fit(X)
    assert plain.cluster_centers_ != greedy.cluster_centers_


def test_greedy_seeding_with_chunks_and_threads(monkeypatch):
    X = make_data(n=300, seed=32, partial_groups=True)
    with threadpool_limits(1, user_api="blas"):
        one = PartialModalityKMeans(6, n_local_trials=4, random_state=0).fit(X)
    monkeypatch.setattr(_partial_distance, "_TABLE_ENTRIES", 4 * 7)
    with threadpool_limits(2, user_api="blas"):
        many = PartialModalityKMeans(6, n_local_trials=4, random_state=0).fit(X)
    np.testing.assert_array_equal(one.labels_, many.labels_)
    for m in X.modalities:
        np.testing.assert_allclose(one.cluster_centers_[m], many.cluster_centers_[m])


# --- behaviour --------------------------------------------------------------------------
def test_fitted_attributes_and_methods_agree():
    X = make_data(seed=1)
    km = PartialModalityKMeans(4, random_state=0).fit(X)
    centres = km.cluster_centers_
    assert isinstance(centres, MultiModalData)
    assert centres.modalities == X.modalities
    assert centres.shape == (4, X.shape[1])
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)
    D = km.transform(X)
    assert D.shape == (X.n_samples, 4)
    np.testing.assert_array_equal(D.argmin(axis=1), km.labels_)
    assert km.score(X) == pytest.approx(-km.inertia_)
    assert (D.min(axis=1) ** 2).sum() == pytest.approx(km.inertia_)
    np.testing.assert_allclose(km.fit_transform(X), D)
    names = [f"partialmodalitykmeans{j}" for j in range(4)]
    assert list(km.get_feature_names_out()) == names


@pytest.mark.parametrize("partial_groups", [False, True])
def test_presence_and_standardized_centres_are_those_of_the_centres(partial_groups):
    X = make_data(n=90, seed=12, partial_groups=partial_groups)
    km = PartialModalityKMeans(5, random_state=0)
    assert not hasattr(km, "cluster_presence_")
    assert not hasattr(km, "standardized_centers_")
    km.fit(X)
    centres = km.cluster_centers_
    assert km.cluster_presence_.dtype == bool
    np.testing.assert_array_equal(km.cluster_presence_, centres.observed)
    assert km.cluster_presence_.all() != partial_groups
    z = km.standardized_centers_
    assert isinstance(z, MultiModalData) and z.modalities == X.modalities
    np.testing.assert_array_equal(z.observed, km.cluster_presence_)
    for m in X.modalities:
        np.testing.assert_allclose(z[m], (centres[m] - km.mean_[m]) / km.scale_[m],
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("partial_groups", [False, True])
def test_map_distance_tables_give_the_partial_distances_chunk_by_chunk(
    partial_groups, monkeypatch
):
    from skmm.utils import check_multimodal

    X = make_data(n=90, seed=13, partial_groups=partial_groups)
    km = PartialModalityKMeans(5, random_state=0).fit(X)
    new = make_data(n=70, seed=14, partial_groups=partial_groups)
    for a in new.values():
        a[:2] = np.nan  # samples with no modality: sums 0 and counts 0
    checked = check_multimodal(new, modalities=km.modalities_,
                               n_features=km.n_features_per_modality_)
    monkeypatch.setattr(_partial_distance, "_TABLE_ENTRIES", 4 * 5)  # several chunks

    def tables(rows, observed, sums, counts):
        if counts is None:
            counts = np.broadcast_to(observed.sum(axis=1)[:, None], sums.shape)
        return rows, observed.copy(), sums.copy(), np.array(counts, dtype=float)

    chunks = km.map_distance_tables(checked, tables)
    assert len(chunks) > 1  # in row order, covering every row once
    bounds = [(c[0].start, c[0].stop) for c in chunks]
    assert bounds[0][0] == 0 and bounds[-1][1] == new.n_samples
    assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:]))
    observed = np.concatenate([c[1] for c in chunks])
    sums = np.concatenate([c[2] for c in chunks])
    counts = np.concatenate([c[3] for c in chunks])
    np.testing.assert_array_equal(observed, new.observed)
    assert np.array_equal(counts == 0, ~(new.observed @ km.cluster_presence_.T > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.sqrt(np.where(counts > 0, sums / counts, np.inf))
    np.testing.assert_allclose(d, km.transform(new), rtol=1e-12, atol=1e-12)
    # the observed mask given by the caller, and ranking scores (complete centres
    # only): the labels of predict

    def nearest(rows, observed, sums, counts):
        assert (counts is None) == km.cluster_presence_.all()
        if counts is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                sums = np.where(counts > 0, sums / counts, np.inf)
        return sums.argmin(axis=1)

    labels = km.map_distance_tables(checked, nearest, observed=new.observed, rank=True)
    np.testing.assert_array_equal(np.concatenate(labels)[2:], km.predict(new)[2:])
    with pytest.raises(ValueError, match="MultiModalData with the fitted modalities"):
        km.map_distance_tables(dict(new), tables)
    with pytest.raises(ValueError, match="MultiModalData with the fitted modalities"):
        km.map_distance_tables(MultiModalData({"a": new["a"], "b": new["b"]}), tables)


def test_transform_is_the_partial_distance_to_the_centres():
    X = make_data(seed=2, partial_groups=True)
    km = PartialModalityKMeans(5, random_state=0).fit(X)
    samples, _ = standardise(X)
    z_centres = [
        {m: None if np.isnan(km.cluster_centers_[m][j]).all()
         else (km.cluster_centers_[m][j] - km.mean_[m]) / km.scale_[m] for m in X}
        for j in range(5)
    ]
    expected = np.sqrt([[partial_d2(s, c) for c in z_centres] for s in samples])
    np.testing.assert_allclose(km.transform(X), expected, rtol=1e-9, atol=1e-9)


def test_sample_with_no_modality_at_predict_transform_score():
    X = make_data(seed=3)
    km = PartialModalityKMeans(3, random_state=0).fit(X)
    Y = {m: a[:4].copy() for m, a in X.items()}
    for a in Y.values():
        a[1] = np.nan
    assert np.isinf(km.transform(Y)[1]).all()
    assert np.isfinite(km.transform(Y)[[0, 2, 3]]).all()
    labels = km.predict(Y)
    assert labels[1] == -1 and (labels[[0, 2, 3]] >= 0).all()
    with pytest.raises(ValueError, match=r"no observed modality: rows \[1\]"):
        km.score(Y)


def test_n_clusters_larger_than_n_samples_is_a_clear_error():
    X = make_data(n=5)
    with pytest.raises(ValueError, match="n_clusters=6"):
        PartialModalityKMeans(6).fit(X)
    PartialModalityKMeans(5, random_state=0).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"n_init": 0}, "n_init"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"init": "random"}, "init"),
        ({"n_local_trials": 0}, "n_local_trials"),
        ({"n_local_trials": 2.5}, "n_local_trials"),
        ({"n_local_trials": True}, "n_local_trials"),
        ({"n_local_trials": "auto"}, "n_local_trials"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        PartialModalityKMeans(**params).fit(make_data())


def test_every_observed_modality_joins_a_centre():
    # Modality "c" is observed by a single sample: a centre gets it, so no sample is at
    # infinite distance from every centre and the imputer always has a value for it.
    X = make_data(seed=4, partial_groups=True)
    a, b = X["a"].copy(), X["b"].copy()
    a[np.isnan(a).all(axis=1) & np.isnan(b).all(axis=1)] = 0.0
    c = np.full_like(X["c"], np.nan)
    c[7] = 1.0
    X = MultiModalData(a=a, b=b, c=c)
    km = PartialModalityKMeans(4, random_state=0).fit(X)
    assert km.cluster_centers_.observed[:, 2].any()
    assert np.isfinite(km.inertia_)


def test_explicit_init_with_partial_centres():
    X = make_data(seed=6, partial_groups=True)
    init = {m: X[m][[0, 1, 2]].copy() for m in X.modalities}
    km = PartialModalityKMeans(3, init=init, max_iter=10).fit(X)
    ref = PartialModalityKMeans(3, init=MultiModalData(init), max_iter=10).fit(X)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    with pytest.warns(RuntimeWarning, match="only one init"):
        PartialModalityKMeans(3, init=init, n_init=3).fit(X)
    with pytest.raises(ValueError, match="n_clusters=4"):
        PartialModalityKMeans(4, init=init).fit(X)


def test_n_init_keeps_the_lowest_inertia():
    X = make_data(n=80, seed=7)
    one = PartialModalityKMeans(5, n_init=1, random_state=3).fit(X)
    many = PartialModalityKMeans(5, n_init=6, random_state=3).fit(X)
    assert many.inertia_ <= one.inertia_


def test_reproducible_with_random_state():
    X = make_data(n=80, seed=8)
    a = PartialModalityKMeans(5, n_init=2, random_state=11).fit(X)
    b = PartialModalityKMeans(5, n_init=2, random_state=11).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.cluster_centers_ == b.cluster_centers_
    assert a.inertia_ == b.inertia_


def test_row_permutation_permutes_transform_and_predict():
    X = make_data(n=80, seed=9, partial_groups=True)
    km = PartialModalityKMeans(5, random_state=0).fit(X)
    perm = np.random.default_rng(0).permutation(X.n_samples)
    np.testing.assert_array_equal(km.transform(X[perm]), km.transform(X)[perm])
    np.testing.assert_array_equal(km.predict(X[perm]), km.predict(X)[perm])


def test_chunks_and_threads_do_not_change_the_result(monkeypatch):
    X = make_data(n=300, seed=10, partial_groups=True)
    with threadpool_limits(1, user_api="blas"):
        one = PartialModalityKMeans(6, random_state=0).fit(X)
    monkeypatch.setattr(_partial_distance, "_TABLE_ENTRIES", 6 * 7)
    monkeypatch.setattr(_partial_distance, "_INPUT_ENTRIES", 20)
    with threadpool_limits(2, user_api="blas"):
        many = PartialModalityKMeans(6, random_state=0).fit(X)
        D = many.transform(X)
    np.testing.assert_array_equal(one.labels_, many.labels_)
    for m in X.modalities:
        np.testing.assert_allclose(one.cluster_centers_[m], many.cluster_centers_[m])
    np.testing.assert_allclose(one.transform(X), D)


def test_float32_input_and_2d_array():
    X = make_data(seed=11, dtype=np.float32)
    km = PartialModalityKMeans(3, random_state=0).fit(X)
    ref = PartialModalityKMeans(3, random_state=0).fit(
        {m: a.astype(np.float64) for m, a in X.items()}
    )
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    flat = np.random.default_rng(0).normal(size=(30, 4))
    km = PartialModalityKMeans(3, random_state=0).fit(flat)
    assert km.cluster_centers_.modalities == ("x0",)
    np.testing.assert_array_equal(km.predict(flat), km.labels_)


def test_no_sample_by_centre_by_feature_tensor():
    # n x k x d float64 would be 20000 * 16 * 96 * 8 bytes = 245 MB.
    rng = np.random.default_rng(0)
    X = {m: rng.normal(size=(20000, 32)) for m in "abc"}
    for j, a in enumerate(X.values()):
        a[rng.random(20000) < 0.3] = np.nan
    X["a"][np.isnan(X["b"]).all(1) & np.isnan(X["c"]).all(1)] = 0.0
    tracemalloc.start()
    km = PartialModalityKMeans(16, max_iter=3, random_state=0).fit(X)
    km.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"


# --- huge finite values ----------------------------------------------------------------
HUGE_CASES = {
    "1e200 feature": (np.float64, 1e200, "feature"),
    "1e300 outlier": (np.float64, 1e300, "outlier"),
    "float32 3e38 outlier": (np.float32, 3e38, "outlier"),
    "float32 fill value": (np.float32, 9.96921e36, "fill"),
    "float64 fill value": (np.float64, 9.96921e36, "fill"),
}


def make_huge(case, X=None):
    """``X`` (default :func:`make_data`) with huge values in modality "b", the same
    data rescaled by powers of two ``unit`` (per feature of "b") and the huge rows.

    "feature": the first feature of "b" in huge units; "outlier": one huge entry;
    "fill": whole observed rows of "b" set to a fill value (netCDF's 9.96921e36).
    """
    dtype, value, kind = HUGE_CASES[case]
    X = make_data(dtype=dtype) if X is None else X
    b = X["b"].copy()
    rows = np.flatnonzero(X.observed[:, 1])
    unit = np.ones(b.shape[1])
    if kind == "feature":
        b[rows, 0] *= value
        unit[0] = 2.0 ** np.floor(np.log2(value))
    elif kind == "outlier":
        rows = rows[:1]
        b[rows, 0] = value
        unit[0] = 2.0 ** np.floor(np.log2(value))
    else:
        rows = rows[:8]
        b[rows] = value
        unit[:] = 2.0 ** np.floor(np.log2(value))
    huge = MultiModalData({**X, "b": b})
    small = MultiModalData({**X, "b": (b / unit.astype(dtype)).astype(dtype)})
    return huge, small, unit, rows


@pytest.mark.parametrize("case", list(HUGE_CASES))
def test_huge_values_at_fit_give_the_clustering_of_the_rescaled_data(case):
    huge, small, unit, _ = make_huge(case)
    # float32 distances near 0 carry cancellation noise of about sqrt(eps32)
    rtol, atol = (1e-5, 1e-2) if huge["b"].dtype == np.float32 else (1e-7, 1e-6)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        km = PartialModalityKMeans(3, n_init=2, random_state=0).fit(huge)
        ref = PartialModalityKMeans(3, n_init=2, random_state=0).fit(small)
        d, labels, score = km.transform(huge), km.predict(huge), km.score(huge)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(labels, ref.predict(small))
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=rtol)
    np.testing.assert_allclose(score, ref.score(small), rtol=rtol)
    np.testing.assert_allclose(d, ref.transform(small), rtol=rtol, atol=atol)
    assert np.isfinite(d).all() and np.isfinite(km.inertia_)
    for m in km.modalities_:
        scale = unit if m == "b" else 1.0
        centres = np.asarray(km.cluster_centers_[m])
        assert not np.isinf(centres).any()
        # centres are kept standardised: their error is relative to the largest values
        atol = rtol * np.nanmax(np.abs(centres))
        np.testing.assert_allclose(
            centres, np.asarray(ref.cluster_centers_[m]) * scale, rtol=rtol, atol=atol
        )
        np.testing.assert_allclose(km.mean_[m], ref.mean_[m] * scale, rtol=rtol)
        np.testing.assert_allclose(km.scale_[m], ref.scale_[m] * scale, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fill_values_at_transform_are_far_but_finite(dtype):
    X = make_data(dtype=dtype)
    huge, _, _, rows = make_huge(
        "float32 fill value" if dtype == np.float32 else "float64 fill value", X
    )
    km = PartialModalityKMeans(3, random_state=0).fit(X)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        d = km.transform(huge)
        labels = km.predict(huge)
    assert np.isfinite(d).all() and d.dtype == dtype
    assert (d[rows] > 1e30).all()
    np.testing.assert_array_equal(labels, d.argmin(axis=1))
    others = np.setdiff1d(np.arange(X.n_samples), rows)
    np.testing.assert_array_equal(d[others], km.transform(X)[others])
    assert np.isfinite(km.score(huge))


def test_distances_beyond_float64_at_transform_raise_naming_rows_and_modality():
    X = make_data()
    huge = MultiModalData({**X, "b": X["b"].copy()})
    row = int(np.flatnonzero(X.observed[:, 1])[3])
    huge["b"][row, 1] = 1e200
    km = PartialModalityKMeans(3, random_state=0).fit(X)
    for method in (km.transform, km.predict, km.score):
        with pytest.raises(ValueError, match=rf"modality 'b' of rows \[{row}\]"):
            method(huge)


def test_float32_distances_beyond_float32_raise():
    X = MultiModalData({m: a * np.float32(1e-6) for m, a in make_data().items()})
    X = MultiModalData({m: a.astype(np.float32) for m, a in X.items()})
    huge = MultiModalData({**X, "b": X["b"].copy()})
    row = int(np.flatnonzero(X.observed[:, 1])[0])
    huge["b"][row] = 3e38  # 1e44 standard deviations away
    km = PartialModalityKMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match=rf"'b' of rows \[{row}\].*float32 range"):
        km.transform(huge)
    assert km.predict(huge).shape == (X.n_samples,)  # float64 distances are fine
    as64 = MultiModalData({m: a.astype(np.float64) for m, a in huge.items()})
    np.testing.assert_array_equal(km.transform(as64).argmin(axis=1), km.predict(huge))


def test_huge_explicit_init_is_a_clear_error():
    X = make_data()
    init = {m: np.asarray(a[:3]).copy() for m, a in X.items()}
    init["a"] = np.where(np.isnan(init["a"]), np.nan, 1e300)
    init["a"][np.isnan(init["a"]).all(axis=1)] = 1e300
    with pytest.raises(ValueError, match="init: centres .* modality 'a'"):
        PartialModalityKMeans(3, init=init).fit(X)


# --- parameters before data; a failed fit changes nothing -------------------------------
def test_bad_parameter_is_reported_before_bad_data():
    X = make_data()
    X["a"][np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan  # a partly NaN row
    km = PartialModalityKMeans(n_clusters=-1)
    with pytest.raises(ValueError, match="n_clusters"):
        km.fit(X)
    assert not hasattr(km, "modalities_")


@pytest.mark.parametrize("method", ["fit", "fit_predict", "fit_transform"])
def test_failed_fit_changes_nothing(method):
    X = make_data()
    km = PartialModalityKMeans(8, random_state=0).fit(X)
    before = dict(vars(km))
    expected = km.transform(X), km.predict(X)
    renamed = {f"new_{m}": a[:5] for m, a in X.items()}  # fewer samples than clusters
    with pytest.raises(ValueError, match="n_clusters=8"):
        getattr(km, method)(renamed)
    assert vars(km).keys() == before.keys()
    assert all(vars(km)[k] is v for k, v in before.items())
    np.testing.assert_array_equal(km.transform(X), expected[0])
    np.testing.assert_array_equal(km.predict(X), expected[1])
    with pytest.raises(ValueError, match="new_a"):
        km.predict(renamed)


def test_validated_observed_mask_is_handed_over_once():
    # check_multimodal leaves its mask on the container it creates; it is taken once,
    # so a later change to the (shared, uncopied) arrays is seen.
    from skmm.utils._validation import check_multimodal

    X = make_data()
    checked = check_multimodal(X)
    np.testing.assert_array_equal(checked._validated_observed(), X.observed)
    row = int(np.flatnonzero(X.observed[:, 0])[0])
    X["a"][row] = np.nan
    assert not checked._validated_observed()[row, 0]
    km = PartialModalityKMeans(3, random_state=0).fit(make_data())
    labels = km.predict(X)
    for m in X.modalities:  # now empty: -1 at the next call
        X[m][row] = np.nan
    assert labels[row] >= 0 and km.predict(X)[row] == -1


def test_predict_ranks_complete_centres_as_the_distances_do():
    # Every centre complete: predict ranks by the scores (no ||z||**2 terms), rows
    # far out by the tables; the labels equal the argmin of transform, with rows
    # 1e3 and 1e7 standard deviations out (both sides of the bound).
    X = make_data(n=300, seed=3)
    km = PartialModalityKMeans(4, random_state=0).fit(X)
    assert km.cluster_presence_.all()
    far = MultiModalData({m: a.copy() for m, a in X.items()})
    far["a"][:5] *= 1e3
    far["b"][5:10] *= 1e7
    for data in (X, far):
        np.testing.assert_array_equal(km.predict(data), km.transform(data).argmin(axis=1))
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("case", [None, *HUGE_CASES])
def test_units_and_stats_from_the_one_pass_match_max_abs_and_plain_stats(case):
    from skmm.utils._scaling import dtype_limit, max_abs, power_of_two_scale

    X = make_data() if case is None else make_huge(case)[0]
    km = PartialModalityKMeans(3, max_iter=1, random_state=0).fit(X)
    for j, m in enumerate(X.modalities):
        a = X[m]
        unit = power_of_two_scale(max_abs(a, axis=0), dtype_limit(a.dtype))
        np.testing.assert_array_equal(km._input_scale[m], unit)
        rows = a[X.observed[:, j]].astype(np.float64) / unit
        for got, want in [(km.mean_[m], rows.mean(axis=0) * unit),
                          (km.scale_[m], (rows.std(axis=0) + 1e-8 / unit) * unit)]:
            np.testing.assert_allclose(got, want, rtol=1e-10,
                                       atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [0.6, 0.99, 1.01])
def test_units_near_the_limit_match_max_abs(dtype, factor):
    # The statistics pass bounds the magnitudes; a bound near the limit takes the
    # exact max_abs pass, so values just below the limit stay unscaled and values
    # just above it are rescaled, as from max_abs itself.
    from skmm.utils._scaling import dtype_limit, is_unit, max_abs, power_of_two_scale

    X = make_data(dtype=dtype)
    b = X["b"].copy()
    row = np.flatnonzero(X.observed[:, 1])[0]
    b[row, 1] = factor * dtype_limit(dtype)
    X = MultiModalData({**X, "b": b})
    km = PartialModalityKMeans(3, max_iter=1, random_state=0).fit(X)
    for m in X.modalities:
        unit = power_of_two_scale(max_abs(X[m], axis=0), dtype_limit(dtype))
        np.testing.assert_array_equal(km._input_scale[m], unit)
    assert is_unit(km._input_scale["b"]) == (factor < 1)
