"""skmm.base: the output wrapping the transformer mixin installs, and one validation
per call."""

from unittest import mock

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from skmm import MultiModalData
from skmm.base import MultiModalMixin, MultiModalTransformerMixin
from skmm.impute import CalMRLImputer, PartialModalityKMeansImputer
from skmm.utils import _validation


class Doubler(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """A user's transformer: ``transform`` returns a plain MultiModalData."""

    def fit(self, X, y=None):
        self._validate_multimodal(X, reset=True)
        return self

    def transform(self, X):
        X, _ = self._validate_multimodal(X, reset=False)
        return MultiModalData({m: 2 * a for m, a in X.items()})


class Pairs(Doubler):
    """Lists an extra output method, returning a list of containers."""

    _output_methods = ("both",)

    def both(self, X):
        X, _ = self._validate_multimodal(X, reset=False)
        return [MultiModalData(dict(X)), MultiModalData(dict(X))]


def _data(n=30):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    a[::4] = np.nan
    return {"a": a, "b": b}


def test_a_subclass_gets_its_output_wrapped():
    X = _data()
    est = Doubler().fit(X)
    assert isinstance(est.transform(X), MultiModalData)
    assert isinstance(est.fit_transform(X), MultiModalData)
    flat = np.ones((5, 2))
    out = Doubler().fit(flat).transform(flat)
    assert type(out) is np.ndarray and out.shape == (5, 2)


def test_pandas_output_for_transform_fit_transform_and_listed_methods():
    pd = pytest.importorskip("pandas")
    index = pd.Index([f"s{i}" for i in range(30)])
    X = {m: pd.DataFrame(a, index=index) for m, a in _data().items()}
    est = Pairs().set_output(transform="pandas")
    out = est.fit_transform(X)
    assert isinstance(out, pd.DataFrame) and out.index.equals(index)
    assert list(out.columns) == list(est.get_feature_names_out())
    both = est.both(X)
    assert isinstance(both, list) and len(both) == 2
    assert all(isinstance(part, pd.DataFrame) and part.index.equals(index)
               for part in both)


def test_calmrl_draws_follow_the_output_config():
    pd = pytest.importorskip("pandas")
    X = _data(60)
    imputer = CalMRLImputer(2, random_state=0).fit(X)
    assert all(isinstance(d, MultiModalData) for d in imputer.sample_imputations(X, 2))
    imputer.set_output(transform="pandas")
    assert all(isinstance(d, pd.DataFrame) for d in imputer.sample_imputations(X, 2))


@pytest.mark.parametrize("make", [
    lambda: CalMRLImputer(2, random_state=0),
    lambda: PartialModalityKMeansImputer(n_clusters=3, random_state=0),
], ids=["CalMRLImputer", "PartialModalityKMeansImputer"])
def test_imputers_validate_once_and_reuse_the_mask(make):
    """fit_transform and transform scan the data once (the validation), and use the
    observed mask that validation found instead of computing it again."""
    X = MultiModalData(_data(60))
    expected = make().fit(X).transform(X)
    calls = mock.patch.object(
        _validation, "_nan_inf_rows", wraps=_validation._nan_inf_rows
    )
    no_mask = mock.patch.object(
        MultiModalData, "observed",
        property(lambda self: pytest.fail("the observed mask was computed again")),
    )
    for method in ("fit_transform", "transform"):
        est = make() if method == "fit_transform" else make().fit(X)
        with calls as scans, no_mask:
            out = getattr(est, method)(X)
        assert scans.call_count == len(X.modalities), method  # one validation
        for m in X.modalities:
            np.testing.assert_allclose(out[m], expected[m], rtol=1e-10)
