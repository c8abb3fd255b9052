"""CalMRLImputer on Dask modalities: the fit over row blocks equals the in-memory fit,
inference stays lazy, and bad blocks raise with the rows of the whole input."""

import numpy as np
import pytest

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities
from skmm.utils._testing import as_dask, forbidden_scheduler
from skmm.impute import CalMRLImputer

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

# Sums over blocks and over all rows at once differ in their rounding only (1e-13 here):
# the margins hold on any CPU, seed and thread count.
RTOL, ATOL = 1e-8, 1e-8


def _data(n=2500, seed=0, rate=0.4):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    X = MultiModalData({
        f"m{j}": latent @ rng.normal(size=(3, 5 + j)) + 0.3 * rng.normal(size=(n, 5 + j))
        + 10.0 * j
        for j in range(3)
    })
    return make_missing_modalities(X, rate, random_state=seed)


def _lazy(X, rows=700):
    return as_dask(X, rows)


def assert_same_fit(a, b):
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_
    np.testing.assert_allclose(b.log_likelihood_, a.log_likelihood_, rtol=RTOL, atol=ATOL)
    for m in a.modalities_:
        np.testing.assert_allclose(b.loadings_[m], a.loadings_[m], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b.mean_[m], a.mean_[m], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b.noise_variance_[m], a.noise_variance_[m],
                                   rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(b.data_min_[m], a.data_min_[m])
        np.testing.assert_array_equal(b.data_max_[m], a.data_max_[m])


@pytest.mark.parametrize("noise", ["modality", "feature"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("init", ["pca", "random"])
def test_block_fit_equals_in_memory_fit(noise, standardize, init):
    X = _data()
    params = dict(n_components=3, noise=noise, standardize=standardize, init=init,
                  max_iter=30, random_state=0)
    with dask.config.set(scheduler="threads"):
        lazy = CalMRLImputer(**params).fit(_lazy(X))
    assert_same_fit(CalMRLImputer(**params).fit(X), lazy)


def test_pca_start_from_a_sample_of_rows_equals_in_memory():
    # beyond 20,000 rows the PCA start reads a random 20,000: the same ones
    X = _data(n=21000, rate=0.3)
    params = dict(n_components=3, max_iter=5, tol=0, random_state=1)
    with pytest.warns(Warning):  # not converged in 5 iterations, both
        memory = CalMRLImputer(**params).fit(X)
    with pytest.warns(Warning):
        lazy = CalMRLImputer(**params).fit(_lazy(X, rows=5000))
    assert_same_fit(memory, lazy)


def test_blocks_of_any_shape_and_in_memory_modalities_mix():
    X = _data()
    mixed = MultiModalData({
        "m0": da.from_array(X["m0"], chunks=(600, 2)),  # rows re-cut, columns joined
        "m1": da.from_array(X["m1"], chunks=(1000, -1)),
        "m2": X["m2"],
    })
    assert_same_fit(CalMRLImputer(n_components=2, random_state=0).fit(X),
                    CalMRLImputer(n_components=2, random_state=0).fit(mixed))


def test_values_too_large_to_square():
    X = _data()
    huge = MultiModalData({m: a * 2.0**700 for m, a in X.items()})
    memory = CalMRLImputer(n_components=2, random_state=0).fit(huge)
    lazy = CalMRLImputer(n_components=2, random_state=0).fit(_lazy(huge))
    np.testing.assert_allclose(lazy.log_likelihood_, memory.log_likelihood_, rtol=1e-8)
    for m in X.modalities:
        np.testing.assert_allclose(lazy.loadings_[m], memory.loadings_[m], rtol=1e-6)
    Z = lazy.transform(_lazy(huge))
    assert all(np.isfinite(np.asarray(Z[m])).all() for m in X.modalities)


def test_inference_is_lazy_and_equals_in_memory():
    X = _data()
    memory = CalMRLImputer(n_components=3, random_state=0).fit(X)
    lazy = CalMRLImputer(n_components=3, random_state=0).fit(_lazy(X))
    Xd = _lazy(X, rows=500)
    # building the results computes nothing
    with dask.config.set(scheduler=forbidden_scheduler):
        filled, std = lazy.transform(Xd, return_std=True)
        latent = lazy.transform_latent(Xd)
        scores = lazy.score_samples(Xd)
        draws = lazy.sample_imputations(Xd, 2, random_state=0)
    assert all(isinstance(filled[m], da.Array) for m in X.modalities)
    expected, expected_std = memory.transform(X, return_std=True)
    for m in X.modalities:
        np.testing.assert_allclose(filled[m].compute(), expected[m], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(std[m].compute(), expected_std[m], rtol=RTOL,
                                   atol=ATOL)
        observed = X.observed[:, X.modalities.index(m)]
        np.testing.assert_array_equal(filled[m].compute()[observed], X[m][observed])
        for draw in draws:
            values = draw[m].compute()
            np.testing.assert_array_equal(values[observed], X[m][observed])
            assert np.isfinite(values).all()
    np.testing.assert_allclose(latent.compute(), memory.transform_latent(X), rtol=RTOL,
                               atol=ATOL)
    np.testing.assert_allclose(scores.compute(), memory.score_samples(X), rtol=RTOL,
                               atol=ATOL)
    np.testing.assert_allclose(lazy.score(Xd), memory.score(X), rtol=RTOL)
    again = lazy.sample_imputations(Xd, 2, random_state=0)
    np.testing.assert_array_equal(np.asarray(again[1]), np.asarray(draws[1]))
    assert isinstance(CalMRLImputer(n_components=2).fit_transform(Xd)["m0"], da.Array)


def test_inputs_are_not_modified():
    X = _data()
    before = X.copy()
    imputer = CalMRLImputer(n_components=2, random_state=0).fit(_lazy(X))
    for m in X.modalities:
        np.asarray(imputer.transform(_lazy(X))[m])
    assert X == before


def _bad(kind):
    X = _data()
    row = np.flatnonzero(X.observed[:, 1])[-3]  # in the last block
    if kind == "partial":
        X["m1"][row, 0] = np.nan
    else:
        X["m1"][row, 0] = np.inf
    return X, row


@pytest.mark.parametrize("kind, message", [("partial", "only partly NaN"),
                                           ("inf", "infinite values")])
def test_bad_rows_are_named_in_the_whole_input(kind, message):
    X, row = _bad(kind)
    imputer = CalMRLImputer(n_components=2, random_state=0)
    with pytest.raises(ValueError, match=rf"{message}.*\[{row}\]"):
        imputer.fit(_lazy(X))
    assert not hasattr(imputer, "modalities_")  # a failed fit leaves nothing
    imputer.fit(_lazy(_data()))
    lazy_out = imputer.transform(_lazy(X))  # inference checks each block it computes
    with pytest.raises(ValueError, match=rf"Modality .m1. .*{message}.*\[{row}\]"):
        lazy_out["m1"].compute()


def test_samples_with_no_modality_at_fit():
    X = _data()
    X["m0"][7] = X["m1"][7] = X["m2"][7] = np.nan
    with pytest.raises(ValueError, match=r"no observed modality: rows \[7\]"):
        CalMRLImputer(n_components=2).fit(_lazy(X))


def test_dask_inputs_that_cannot_be_taken():
    X = _data()
    with pytest.raises(TypeError, match="'m0' is a Dask array of int64"):
        CalMRLImputer().fit({"m0": da.ones((10, 3), dtype=np.int64, chunks=5)})
    with pytest.raises(TypeError, match="one Dask array"):
        CalMRLImputer().fit(da.from_array(X["m0"], chunks=500))
    unknown = da.from_array(X["m0"], chunks=500)
    unknown = unknown[unknown[:, 0] > -np.inf]  # row blocks of unknown size
    with pytest.raises(ValueError, match="unknown row blocks"):
        CalMRLImputer().fit({"m0": unknown})
