"""PartialModalityKMeans and its imputer on Dask modalities: the Lloyd passes over row
blocks give the in-memory clustering, inference stays lazy."""

import numpy as np
import pytest

from skmm import MultiModalData
from skmm.cluster import PartialModalityKMeans
from skmm.cluster import _partial_kmeans
from skmm.datasets import make_missing_modalities
from skmm.utils._testing import as_dask, forbidden_scheduler
from skmm.impute import PartialModalityKMeansImputer

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

# Sums over blocks and over all rows differ by rounding only (1e-14 here).
RTOL, ATOL = 1e-10, 1e-10


def _data(n=3000, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.normal(size=(5, 3))
    labels = rng.integers(5, size=n)
    X = MultiModalData({
        f"m{j}": (centres[labels] @ rng.normal(size=(3, 4 + j))
                  + rng.normal(size=(n, 4 + j))).astype(dtype)
        for j in range(3)
    })
    return make_missing_modalities(X, 0.4, random_state=seed)


def _lazy(X, rows=700):
    return as_dask(X, rows)


def assert_same_clustering(a, b):
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(b.labels_, a.labels_)
    np.testing.assert_array_equal(b.cluster_presence_, a.cluster_presence_)
    np.testing.assert_allclose(b.inertia_, a.inertia_, rtol=RTOL)
    for m in a.modalities_:
        np.testing.assert_allclose(b.cluster_centers_[m], a.cluster_centers_[m],
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b.mean_[m], a.mean_[m], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b.scale_[m], a.scale_[m], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_plusplus_on_blocks_equals_in_memory(dtype):
    # up to SEEDING_ROWS samples k-means++ reads every row, as in memory
    X = _data(dtype=dtype)
    params = dict(n_clusters=5, n_init=2, random_state=0)
    with dask.config.set(scheduler="threads"):
        lazy = PartialModalityKMeans(**params).fit(_lazy(X))
    assert_same_clustering(PartialModalityKMeans(**params).fit(X), lazy)


def test_explicit_partial_centres_on_blocks_equal_in_memory():
    X = _data()
    init = X[:5].copy()  # the first samples, some of them missing modalities
    assert not init.observed.all()
    params = dict(n_clusters=5, init=init, max_iter=50)
    assert_same_clustering(PartialModalityKMeans(**params).fit(X),
                           PartialModalityKMeans(**params).fit(_lazy(X, rows=400)))


def test_seeding_from_a_sample_of_rows(monkeypatch):
    monkeypatch.setattr(_partial_kmeans, "SEEDING_ROWS", 500)
    X = _data()
    first = PartialModalityKMeans(5, random_state=0).fit(_lazy(X))
    again = PartialModalityKMeans(5, random_state=0).fit(_lazy(X))
    np.testing.assert_array_equal(first.labels_, again.labels_)
    memory = PartialModalityKMeans(5, random_state=0, n_init=3).fit(X)
    assert first.inertia_ <= 1.1 * memory.inertia_  # well separated: as good a fit


def test_features_too_large_to_square():
    X = _data()
    huge = MultiModalData({"m0": X["m0"] * 2.0**700, "m1": X["m1"], "m2": X["m2"]})
    assert_same_clustering(PartialModalityKMeans(5, random_state=0).fit(huge),
                           PartialModalityKMeans(5, random_state=0).fit(_lazy(huge)))


def test_inference_is_lazy_and_equals_in_memory():
    X = _data()
    memory = PartialModalityKMeans(5, random_state=0).fit(X)
    lazy = PartialModalityKMeans(5, random_state=0).fit(_lazy(X))
    Xd = _lazy(X, rows=1000)
    with dask.config.set(scheduler=forbidden_scheduler):
        labels, distances = lazy.predict(Xd), lazy.transform(Xd)
    np.testing.assert_array_equal(labels.compute(), memory.predict(X))
    np.testing.assert_allclose(distances.compute(), memory.transform(X), rtol=RTOL)
    np.testing.assert_allclose(lazy.score(Xd), memory.score(X), rtol=RTOL)


def test_imputer_on_blocks():
    X = _data()
    before = X.copy()
    memory = PartialModalityKMeansImputer(n_clusters=5, random_state=0).fit(X)
    imputer = PartialModalityKMeansImputer(n_clusters=5, random_state=0)
    filled = imputer.fit_transform(_lazy(X))
    assert isinstance(filled["m0"], da.Array)
    expected = memory.transform(X)
    for j, m in enumerate(X.modalities):
        values = filled[m].compute()
        np.testing.assert_allclose(values, expected[m], rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(values[X.observed[:, j]], X[m][X.observed[:, j]])
    assert X == before
    np.testing.assert_allclose(imputer.score(_lazy(X)), memory.score(X), rtol=RTOL)


def test_bad_blocks_name_their_rows_in_the_whole_input():
    X = _data()
    kmeans = PartialModalityKMeans(5, random_state=0).fit(_lazy(X))
    row = np.flatnonzero(X.observed[:, 2])[-2]
    X["m2"][row, 1] = np.inf
    with pytest.raises(ValueError, match=rf"'m2' contains infinite values .*\[{row}\]"):
        kmeans.fit(_lazy(X))
    labels = kmeans.predict(_lazy(X))
    with pytest.raises(ValueError, match=rf"'m2' contains infinite values .*\[{row}\]"):
        labels.compute()
