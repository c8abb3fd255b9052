"""Tests of the benchmark's transductive peers, SoftImpute and MOFA+ (private)."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.impute import SimpleImputer

from skmm import MultiModalData
from skmm._transductive import MOFAImputer, SoftImputeImputer
from skmm.datasets import make_missing_modalities, make_shared_latent
from skmm.metrics import imputation_rmse

WIDTHS = {"a": 8, "b": 12, "c": 10}
# On near-noiseless data MOFA's ELBO keeps rising slowly past the few iterations used here.
MOFA_QUIET = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=200, noise=0.01, rate=0.4, seed=0):
    """Rank-3 data (plus small noise) and the same with modality rows hidden."""
    X = make_shared_latent(n, WIDTHS, n_components=3, noise=noise, random_state=seed)
    Xm, hidden = make_missing_modalities(X, rate, random_state=seed, return_mask=True)
    return X, Xm, hidden


def _mofa(**params):
    pytest.importorskip("mofapy2")
    return MOFAImputer(**{"n_factors": 3, "max_iter": 100, "random_state": 0, **params})


def _soft(**params):
    return SoftImputeImputer(**{"max_iter": 500, **params})


def _mean_rmse(X, Xm, hidden):
    filled = SimpleImputer().fit_transform(np.asarray(Xm))
    return imputation_rmse(X, filled, hidden)["overall"]


@pytest.fixture(params=["softimpute", pytest.param("mofa", marks=MOFA_QUIET)])
def make(request):
    return _soft if request.param == "softimpute" else _mofa


def test_output_contract(make):
    _, Xm, hidden = _data()
    Xm = MultiModalData({m: a.astype(np.float32) if m == "b" else a
                         for m, a in Xm.items()})
    copies = {m: a.copy() for m, a in Xm.items()}
    imputer = make()
    train, test = Xm[:150], Xm[150:]
    for out, X in [(imputer.fit_transform(train), train), (imputer.transform(test), test)]:
        assert isinstance(out, MultiModalData)
        assert out.modalities == X.modalities and out.n_features == X.n_features
        for j, m in enumerate(X.modalities):
            assert out[m].dtype == X[m].dtype
            assert np.isfinite(out[m]).all()
            seen = X.observed[:, j]
            np.testing.assert_array_equal(out[m][seen], X[m][seen])
    for m, a in Xm.items():  # inputs not modified
        np.testing.assert_array_equal(a, copies[m])


def test_array_and_dict_inputs(make):
    X, Xm, _ = _data(n=120)
    # a 2-D array is one modality: every training row is observed, a transformed row
    # is either observed or empty
    array = np.asarray(X)
    imputer = make().fit(array[:100])
    new = array[100:].copy()
    new[::3] = np.nan
    out = imputer.transform(new)
    assert isinstance(out, np.ndarray) and out.shape == new.shape
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[1::3], new[1::3])
    out = make().fit(dict(Xm)).transform(dict(Xm[:20]))
    assert isinstance(out, MultiModalData) and out.n_samples == 20


def test_empty_rows_at_transform_get_about_the_mean(make):
    _, Xm, _ = _data(n=150)
    imputer = make().fit(Xm)
    empty = MultiModalData({m: np.full((2, d), np.nan) for m, d in WIDTHS.items()})
    out = imputer.transform(empty)
    for m in WIDTHS:
        mean = np.nanmean(Xm[m], axis=0)
        assert np.abs(out[m] - mean).max() < 0.5 * np.nanstd(Xm[m], axis=0).max()


def test_softimpute_recovers_low_rank_and_converges():
    X, Xm, hidden = _data(n=300, rate=0.4)
    imputer = _soft()
    out = imputer.fit_transform(Xm)
    assert imputer.converged_ and imputer.n_iter_ < imputer.max_iter
    baseline = _mean_rmse(X, Xm, hidden)
    assert imputation_rmse(X, out, hidden)["overall"] < 0.5 * baseline
    # held-out rows, completed transductively
    imputer = clone(imputer).fit(Xm[:200])
    out = imputer.transform(Xm[200:])
    held_out = imputation_rmse(X[200:], out, hidden[200:])["overall"]
    assert held_out < 0.5 * _mean_rmse(X[200:], Xm[200:], hidden[200:])


def test_softimpute_truncated_svd_and_shrinkage():
    X, Xm, hidden = _data(n=300, rate=0.4)
    baseline = _mean_rmse(X, Xm, hidden)
    out = _soft(max_rank=5, random_state=0).fit_transform(Xm)
    assert imputation_rmse(X, out, hidden)["overall"] < 0.5 * baseline
    # a huge shrinkage removes every component: mean imputation
    out = _soft(shrinkage=1e6).fit_transform(Xm)
    mean = SimpleImputer().fit_transform(np.asarray(Xm))
    np.testing.assert_allclose(np.asarray(out), mean, atol=1e-10)


def test_softimpute_warns_when_not_converged():
    _, Xm, _ = _data(n=100)
    with pytest.warns(Warning, match="did not converge"):
        imputer = SoftImputeImputer(max_iter=2).fit(Xm)
    assert not imputer.converged_ and imputer.n_iter_ == 2


@pytest.mark.parametrize("params", [{"shrinkage": -1.0}, {"max_rank": 0},
                                    {"max_iter": 0}, {"tol": "x"}])
def test_softimpute_bad_params(params):
    _, Xm, _ = _data(n=50)
    with pytest.raises((ValueError, TypeError)):
        SoftImputeImputer(**params).fit(Xm)


@MOFA_QUIET
def test_mofa_beats_mean_and_is_quiet(capsys):
    X, Xm, hidden = _data(n=200, rate=0.4)
    state = np.random.get_state()
    filters = list(warnings.filters)
    imputer = _mofa()
    out = imputer.fit_transform(Xm)
    assert capsys.readouterr().out == ""
    assert warnings.filters == filters
    # mofapy2 seeds numpy's global generator; the imputer puts it back
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]
    assert imputation_rmse(X, out, hidden)["overall"] < 0.5 * _mean_rmse(X, Xm, hidden)
    # the same seed gives the same imputation
    np.testing.assert_array_equal(np.asarray(clone(imputer).fit_transform(Xm)),
                                  np.asarray(out))


def test_mofa_missing_dependency(monkeypatch):
    monkeypatch.setitem(sys.modules, "mofapy2", None)
    monkeypatch.delitem(sys.modules, "mofapy2.run.entry_point", raising=False)
    monkeypatch.delitem(sys.modules, "mofapy2.run", raising=False)
    _, Xm, _ = _data(n=50)
    with pytest.raises(ImportError, match=r"pip install 'skmm\[mofa\]'"):
        MOFAImputer().fit(Xm)


def test_mofa_too_many_factors():
    _, Xm, _ = _data(n=50)
    with pytest.raises(ValueError, match="n_factors"):
        _mofa(n_factors=31).fit(Xm)
