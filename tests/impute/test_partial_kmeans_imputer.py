"""Tests for PartialModalityKMeansImputer, against a per-sample reference of the spec."""

import numpy as np
import pytest

from skmm.cluster import PartialModalityKMeans
from skmm.impute import PartialModalityKMeansImputer
from skmm import MultiModalData
from tests.cluster.test_partial_kmeans import (
    HUGE_CASES,
    make_data,
    make_huge,
    partial_d2,
    reference_kmeans,
    to_input_space,
)


# --- reference: UL4M4 stage 2 straight from the specification (loops, no tricks) -------
def reference_complete(sample, centres, widths):
    """Greedy completion of one z-space sample {modality: vector or None}."""
    missing = [m for m in sample if sample[m] is None]
    if len(missing) == len(sample):  # no modality: training mean (documented choice)
        return {m: np.zeros(widths[m]) for m in sample}
    candidates = [
        {m: sample[m] if sample[m] is not None else c[m] for m in sample} for c in centres
    ]
    out = dict(sample)
    remaining = list(range(len(centres)))
    while any(out[m] is None for m in missing) and remaining:
        # Globally closest (candidate, centre) pair; ties: lowest candidate, then centre.
        _, f, _ = min(
            (partial_d2(candidates[f], c), f, j)
            for f in remaining
            for j, c in enumerate(centres)
        )
        remaining.remove(f)
        for m in missing:
            if out[m] is None and candidates[f][m] is not None:
                out[m] = candidates[f][m]
    return {m: np.zeros(widths[m]) if v is None else v for m, v in out.items()}


def reference_impute(X, centres, stats):
    """Complete every sample of ``X`` given z-space centres and training statistics."""
    samples = [
        {m: None if np.isnan(X[m][i]).all() else (X[m][i] - stats[m][0]) / stats[m][1]
         for m in X}
        for i in range(len(X))
    ]
    widths = {m: X[m].shape[1] for m in X}
    done = [reference_complete(s, centres, widths) for s in samples]
    return to_input_space(done, stats)


def z_centres(km):
    centres = km.cluster_centers_
    return [
        {m: None if np.isnan(centres[m][j]).all()
         else (centres[m][j] - km.mean_[m]) / km.scale_[m] for m in centres}
        for j in range(len(centres))
    ]


# --- equality with the reference --------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("partial_groups", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_matches_reference_end_to_end(seed, partial_groups):
    X = make_data(seed=seed, partial_groups=partial_groups)
    imp = PartialModalityKMeansImputer(5, max_iter=20, tol=0.0, random_state=seed).fit(X)
    # Complete centres take the nearest-centre shortcut, partial ones the k x k tables.
    assert imp.cluster_centers_.observed.all() != partial_groups
    centres, labels, *_, stats = reference_kmeans(X, 5, 20, 0.0, seed)
    np.testing.assert_array_equal(imp.labels_, labels)
    expected = reference_impute(X, centres, stats)
    out = imp.transform(X)
    for m in X.modalities:
        np.testing.assert_allclose(out[m], expected[m], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_completion_matches_reference_on_new_data_with_partial_centres(seed):
    # Partial centres make candidates lack modalities and shared counts vary.
    X = make_data(n=60, seed=seed, partial_groups=True)
    imp = PartialModalityKMeansImputer(6, random_state=seed).fit(X)
    assert not imp.cluster_centers_.observed.all()
    new = make_data(n=40, seed=100 + seed, partial_groups=True)
    expected = reference_impute(new, z_centres(imp.kmeans_), {
        m: (imp.kmeans_.mean_[m], imp.kmeans_.scale_[m]) for m in X.modalities
    })
    out = imp.transform(new)
    for m in X.modalities:
        np.testing.assert_allclose(out[m], expected[m], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_completion_matches_reference_for_arbitrary_partial_centres(seed):
    # Random centres with random presence masks, so that candidates and centres share
    # different numbers of modalities; every missing pattern, empty samples included.
    rng = np.random.default_rng(seed)
    X = make_data(n=60, seed=seed)
    imp = PartialModalityKMeansImputer(7, random_state=seed).fit(X)
    km = imp.kmeans_
    presence = rng.random((7, 3)) < 0.5
    presence[np.arange(7), rng.integers(3, size=7)] = True
    km.cluster_presence_ = presence
    km.standardized_centers_ = MultiModalData(
        {m: rng.normal(size=(7, X[m].shape[1])) for m in X.modalities}
    )  # values in the rows of absent modalities too: they must be ignored
    km.cluster_centers_ = km._centres_in_input_space()
    assert not presence.all() and (imp.cluster_centers_.observed == presence).all()
    new = make_data(n=50, seed=200 + seed)
    for a in new.values():
        a[:2] = np.nan
    stats = {m: (km.mean_[m], km.scale_[m]) for m in X.modalities}
    expected = reference_impute(new, z_centres(km), stats)
    out = imp.transform(new)
    for m in X.modalities:
        np.testing.assert_allclose(out[m], expected[m], rtol=1e-9, atol=1e-9)


def test_filled_rows_are_rows_of_the_centres():
    X = make_data(n=80, seed=1, partial_groups=True)
    imp = PartialModalityKMeansImputer(6, random_state=0).fit(X)
    out = imp.transform(X)
    for j, m in enumerate(X.modalities):
        filled = out[m][~X.observed[:, j]]
        centres = imp.cluster_centers_[m]
        assert all((np.abs(centres - row).max(axis=1) == 0).any() for row in filled)


# --- properties -------------------------------------------------------------------------
def test_observed_values_bit_for_bit_and_complete_samples_unchanged():
    X = make_data(n=80, seed=2)
    X["a"][3] = [0.1 + 0.2, np.nextafter(1.0, 2.0)]  # values that a round trip would change
    imp = PartialModalityKMeansImputer(4, random_state=0).fit(X)
    out = imp.transform(X)
    complete = X.observed.all(axis=1)
    for j, m in enumerate(X.modalities):
        rows = X.observed[:, j]
        assert np.array_equal(out[m][rows], X[m][rows])
        assert np.array_equal(out[m][complete], X[m][complete])
        assert np.isfinite(out[m]).all()
        assert out[m] is not X[m]


def test_float32_is_preserved():
    X = make_data(seed=3, dtype=np.float32)
    out = PartialModalityKMeansImputer(3, random_state=0).fit_transform(X)
    assert all(out[m].dtype == np.float32 for m in X.modalities)


def test_row_permutation_permutes_the_output():
    X = make_data(n=80, seed=4, partial_groups=True)
    imp = PartialModalityKMeansImputer(5, random_state=0).fit(X)
    perm = np.random.default_rng(1).permutation(X.n_samples)
    assert imp.transform(X[perm]) == imp.transform(X)[perm]


def test_reproducible_with_random_state():
    X = make_data(n=80, seed=5)
    a = PartialModalityKMeansImputer(5, n_init=2, random_state=3).fit_transform(X)
    b = PartialModalityKMeansImputer(5, n_init=2, random_state=3).fit_transform(X)
    assert a == b


def test_sample_with_no_modality_gets_the_training_mean():
    X = make_data(n=60, seed=6)
    imp = PartialModalityKMeansImputer(4, random_state=0).fit(X)
    Y = {m: a[:3].copy() for m, a in X.items()}
    for a in Y.values():
        a[1] = np.nan
    out = imp.transform(Y)
    for m in X.modalities:
        np.testing.assert_array_equal(out[m][1], imp.kmeans_.mean_[m])
    with pytest.raises(ValueError, match="no observed modality"):
        imp.fit(Y)


def test_exposes_the_fitted_clusterer():
    X = make_data(n=60, seed=7)
    imp = PartialModalityKMeansImputer(4, max_iter=5, random_state=0).fit(X)
    km = PartialModalityKMeans(4, max_iter=5, random_state=0).fit(X)
    assert isinstance(imp.kmeans_, PartialModalityKMeans)
    assert imp.cluster_centers_ is imp.kmeans_.cluster_centers_
    assert imp.cluster_centers_ == km.cluster_centers_
    np.testing.assert_array_equal(imp.labels_, km.labels_)
    assert (imp.inertia_, imp.n_iter_) == (km.inertia_, km.n_iter_)
    assert imp.score(X) == pytest.approx(-imp.inertia_)
    with pytest.raises(ValueError, match="n_clusters=61"):
        PartialModalityKMeansImputer(61).fit(X)


def test_parameters_are_the_clusterers_passed_on_unchanged():
    import inspect

    assert (inspect.signature(PartialModalityKMeansImputer)
            == inspect.signature(PartialModalityKMeans))
    params = dict(n_clusters=3, n_local_trials=2, n_init=2, max_iter=7, tol=1e-3,
                  random_state=np.random.RandomState(1))
    imp = PartialModalityKMeansImputer(**params).fit(make_data(n=40, seed=8))
    assert imp.kmeans_.get_params() == imp.get_params()
    assert imp.kmeans_.random_state is params["random_state"]


def test_2d_array_round_trip():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    Y = X.copy()
    Y[[2, 5]] = np.nan
    imp = PartialModalityKMeansImputer(3, random_state=0).fit(X)
    out = imp.transform(Y)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out[[2, 5]], np.tile(imp.kmeans_.mean_["x0"], (2, 1)))
    np.testing.assert_array_equal(np.delete(out, [2, 5], 0), np.delete(X, [2, 5], 0))


# --- huge finite values ----------------------------------------------------------------
@pytest.mark.parametrize("case", list(HUGE_CASES))
def test_huge_values_at_fit_fill_as_on_the_rescaled_data(case):
    huge, small, unit, _ = make_huge(case)
    rtol = 1e-5 if huge["b"].dtype == np.float32 else 1e-7
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = PartialModalityKMeansImputer(3, random_state=0).fit_transform(huge)
    ref = PartialModalityKMeansImputer(3, random_state=0).fit_transform(small)
    for j, m in enumerate(huge.modalities):
        assert np.isfinite(out[m]).all() and out[m].dtype == huge[m].dtype
        observed = huge.observed[:, j]
        np.testing.assert_array_equal(out[m][observed], huge[m][observed])
        scale = unit if m == "b" else 1.0
        expected = ref[m][~observed] * scale
        atol = rtol * np.abs(out[m]).max()  # centres are kept standardised
        np.testing.assert_allclose(out[m][~observed], expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", ["float32 fill value", "float64 fill value"])
def test_fill_values_at_transform_give_finite_imputations(case):
    X = make_data(dtype=HUGE_CASES[case][0])
    huge, _, _, rows = make_huge(case, X)
    imputer = PartialModalityKMeansImputer(3, random_state=0).fit(X)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = imputer.transform(huge)
    for j, m in enumerate(huge.modalities):
        assert np.isfinite(out[m]).all()
        observed = huge.observed[:, j]
        np.testing.assert_array_equal(out[m][observed], huge[m][observed])
    others = np.setdiff1d(np.arange(X.n_samples), rows)
    expected = imputer.transform(X)
    for m in huge.modalities:
        if m != "b":
            np.testing.assert_array_equal(out[m][others], expected[m][others])


def test_overflowing_distances_at_transform_raise_naming_rows_and_modality():
    X = make_data()
    huge = MultiModalData({**X, "b": X["b"].copy()})
    row = int(np.flatnonzero(X.observed[:, 1] & ~X.observed[:, 0])[0])
    huge["b"][row, 0] = 1e200
    imputer = PartialModalityKMeansImputer(3, random_state=0).fit(X)
    for method in (imputer.transform, imputer.score):
        with pytest.raises(ValueError, match=rf"modality 'b' of rows \[{row}\]"):
            method(huge)


# --- parameters before data; a failed fit changes nothing -------------------------------
def test_bad_parameter_is_reported_before_bad_data():
    X = make_data()
    X["a"][np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan  # a partly NaN row
    imputer = PartialModalityKMeansImputer(n_clusters=-1)
    with pytest.raises(ValueError, match="n_clusters"):
        imputer.fit(X)
    assert not hasattr(imputer, "modalities_")


def _inner_failure(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("failure inside the clusterer")

    monkeypatch.setattr(PartialModalityKMeans, "_run", fail)
    return RuntimeError, "inside the clusterer", None


def _too_few_samples(monkeypatch):
    return ValueError, "n_clusters=8", 5  # fewer samples than clusters


@pytest.mark.parametrize("failure", [_too_few_samples, _inner_failure])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_failed_fit_changes_nothing(method, failure, monkeypatch):
    X = make_data()
    imputer = PartialModalityKMeansImputer(8, random_state=0).fit(X)
    before, inner = dict(vars(imputer)), dict(vars(imputer.kmeans_))
    expected = imputer.transform(X)
    error, match, n = failure(monkeypatch)
    renamed = {f"new_{m}": a[:n] for m, a in X.items()}
    with pytest.raises(error, match=match):
        getattr(imputer, method)(renamed)
    monkeypatch.undo()
    assert vars(imputer).keys() == before.keys()
    assert all(vars(imputer)[k] is v for k, v in before.items())
    assert all(vars(imputer.kmeans_)[k] is v for k, v in inner.items())
    out = imputer.transform(X)
    for m in X.modalities:
        np.testing.assert_array_equal(out[m], expected[m])
    with pytest.raises(ValueError, match="new_a"):
        imputer.transform(renamed)
