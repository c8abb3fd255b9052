"""Estimators and MultiModalData through joblib's process backend and a real Dask
cluster."""

import os

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmm import MultiModalData
from skmm.compose import MissingModalityIndicator, ModalityTransformer
from skmm.datasets import make_missing_modalities
from skmm.utils._testing import as_dask


def _search():
    pipe = make_pipeline(
        ModalityTransformer(), SimpleImputer(), LogisticRegression()
    )
    return GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3, n_jobs=2)


def _data():
    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    X = MultiModalData(a=rng.normal(size=(90, 4)) + y[:, None], b=rng.normal(size=(90, 2)))
    return make_missing_modalities(X, 0.3, random_state=0), y


def test_grid_search_with_loky_processes():
    X, y = _data()
    with parallel_config(backend="loky"):
        search = _search().fit(X, y)
    assert search.best_score_ > 0.5


@pytest.mark.dask
@pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" in os.environ,
    reason="a LocalCluster's worker processes can hang inside a pytest-xdist worker; "
    "`make test` runs this test in its own pytest call (-m dask -p no:xdist)",
)
def test_grid_search_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    X, y = _data()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster):
        with parallel_config(backend="dask"):
            search = _search().fit(X, y)
    with parallel_config(backend="loky"):
        local = _search().fit(X, y)
    assert search.best_params_ == local.best_params_
    np.testing.assert_allclose(search.best_score_, local.best_score_)
    assert MissingModalityIndicator().fit_transform(X).shape == (90, 2)


@pytest.mark.dask
@pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" in os.environ,
    reason="a LocalCluster's worker processes can hang inside a pytest-xdist worker",
)
def test_calmrl_em_on_a_local_dask_cluster_equals_the_in_memory_fit():
    """Each EM iteration's statistics computed by two worker processes, block by
    block: the same log-likelihoods and parameters as one in-memory fit."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.array")
    from skmm.impute import CalMRLImputer

    rng = np.random.default_rng(0)
    latent = rng.normal(size=(3000, 3))
    X = make_missing_modalities(MultiModalData({
        f"m{j}": latent @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(3000, 6))
        for j in range(3)
    }), 0.4, random_state=0)
    lazy = as_dask(X, 500)
    memory = CalMRLImputer(n_components=3, random_state=0).fit(X)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster):
        spread = CalMRLImputer(n_components=3, random_state=0).fit(lazy)
        filled = spread.transform(lazy)["m1"].compute()
    assert spread.n_iter_ == memory.n_iter_
    np.testing.assert_allclose(spread.log_likelihood_, memory.log_likelihood_,
                               rtol=1e-8, atol=1e-8)
    for m in X.modalities:
        np.testing.assert_allclose(spread.loadings_[m], memory.loadings_[m],
                                   rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(filled, memory.transform(X)["m1"], rtol=1e-8, atol=1e-8)


@pytest.mark.dask
@pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" in os.environ,
    reason="a LocalCluster's worker processes can hang inside a pytest-xdist worker",
)
def test_partial_kmeans_on_a_local_dask_cluster_equals_the_in_memory_fit():
    """Each Lloyd pass assigned by two worker processes, block by block: the same
    labels and centres as the in-memory fit from the same initial centres."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.array")
    from skmm.cluster import PartialModalityKMeans

    rng = np.random.default_rng(1)
    labels = rng.integers(4, size=3000)
    centres = 4.0 * rng.normal(size=(4, 5))
    X = make_missing_modalities(MultiModalData({
        f"m{j}": centres[labels] + rng.normal(size=(3000, 5)) for j in range(3)
    }), 0.4, random_state=0)
    init = X[np.flatnonzero(X.observed.all(axis=1))[:4]]
    lazy = as_dask(X, 500)
    memory = PartialModalityKMeans(4, init=init).fit(X)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster):
        spread = PartialModalityKMeans(4, init=init).fit(lazy)
        predicted = spread.predict(lazy).compute()
    np.testing.assert_array_equal(spread.labels_, memory.labels_)
    np.testing.assert_array_equal(predicted, memory.labels_)
    for m in X.modalities:
        np.testing.assert_allclose(spread.cluster_centers_[m], memory.cluster_centers_[m],
                                   rtol=1e-10, atol=1e-10)
