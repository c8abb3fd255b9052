"""Property-based tests (hypothesis) over every registered estimator.

Random numbers of modalities (1-6), widths, sample counts and missing patterns (single
modality samples, modalities observed in very few rows, complete data).
"""

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier, is_regressor

from skmm import MultiModalData
from skmm.utils._testing import IMPUTERS, registered_instances

# The unsupervised estimators (fitted without labels); the classifiers' and regressors'
# properties are in tests/test_common.py and tests/ensemble.
ESTIMATORS = [
    e for e in registered_instances() if not (is_classifier(e) or is_regressor(e))
]
IDS = [type(e).__name__ for e in ESTIMATORS]
SETTINGS = settings(
    max_examples=8, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def multimodal_data(draw, min_samples=12, max_samples=30):
    n = draw(st.integers(min_samples, max_samples))
    n_modalities = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 5), min_size=n_modalities, max_size=n_modalities))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["mcar", "complete", "rare", "singles"]))
    observed = np.ones((n, n_modalities), dtype=bool)
    if n_modalities > 1:
        if kind == "mcar":
            observed = rng.random((n, n_modalities)) > 0.4
        elif kind == "rare":  # the last modality is seen in only two rows
            observed[:, -1] = False
            observed[rng.choice(n, 2, replace=False), -1] = True
        elif kind == "singles":  # every sample has exactly one modality
            observed = np.zeros((n, n_modalities), dtype=bool)
            observed[np.arange(n), np.arange(n) % n_modalities] = True
        empty = ~observed.any(axis=1)
        observed[empty, rng.integers(0, n_modalities, empty.sum())] = True
        for j in np.flatnonzero(~observed.any(axis=0)):
            observed[rng.integers(0, n), j] = True
    arrays = {}
    for j, d in enumerate(widths):
        a = rng.normal(size=(n, d)) * rng.uniform(0.5, 3) + rng.normal()
        a[~observed[:, j]] = np.nan
        arrays[f"mod{j}"] = a
    return MultiModalData(arrays)


def _out(est, X):
    return np.asarray(est.transform(X) if hasattr(est, "transform") else est.predict(X))


# Documented refusals of valid-looking data; any other error fails the test.
DOCUMENTED_REFUSALS = (
    # OVA-IB / pairwise CLIP: embedding_dim must exceed n_modalities - 1
    "must exceed n_modalities - 1",
)


def _fit(est, X):
    """Fit a clone; a documented refusal discards the example (``hypothesis.reject``,
    so Hypothesis draws another one: ``pytest.skip`` would end the whole test)."""
    try:
        return clone(est).fit(X)
    except ValueError as exc:
        if not any(reason in str(exc) for reason in DOCUMENTED_REFUSALS):
            raise
        reject()


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
@SETTINGS
@given(X=multimodal_data())
def test_outputs_finite_shape_and_inputs_untouched(est, X):
    before = {m: a.copy() for m, a in X.items()}
    fitted = _fit(est, X)
    out = _out(fitted, X)
    assert out.shape[0] == X.n_samples
    for m, a in X.items():
        np.testing.assert_array_equal(a, before[m])
    if type(est).__name__ in IMPUTERS:
        filled = fitted.transform(X)
        assert np.isfinite(np.asarray(filled)).all()
        for j, m in enumerate(X.modalities):
            rows = X.observed[:, j]
            np.testing.assert_array_equal(filled[m][rows], X[m][rows])
    elif type(est).__module__.startswith("skmm.embed"):
        assert np.isfinite(out).all()
    elif type(est).__module__.startswith("skmm.cluster"):
        assert not np.isnan(out).any()  # partial distances are inf with nothing shared


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
@SETTINGS
@given(X=multimodal_data(), seed=st.integers(0, 1000))
def test_row_subsets_permutations_order_and_pickle(est, X, seed):
    fitted = _fit(est, X)
    full = _out(fitted, X)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.n_samples)
    np.testing.assert_allclose(_out(fitted, X[perm]), full[perm], rtol=1e-5, atol=1e-6)
    subset = np.sort(perm[: max(1, X.n_samples // 3)])
    np.testing.assert_allclose(_out(fitted, X[subset]), full[subset], rtol=1e-5, atol=1e-6)
    reordered = {m: X[m] for m in reversed(X.modalities)}
    np.testing.assert_array_equal(_out(fitted, reordered), full)
    np.testing.assert_array_equal(_out(pickle.loads(pickle.dumps(fitted)), X), full)


# --- dtypes ------------------------------------------------------------------------------
def _dtype_data(dtype, n=30):
    """Two modalities of ``dtype``, the first missing in a third of the rows (0 there
    for integer dtypes, which cannot hold NaN, so that modality is then complete)."""
    rng = np.random.default_rng(0)
    X = {"a": 10 * rng.normal(size=(n, 3)), "b": 10 * rng.normal(size=(n, 2))}
    if np.dtype(dtype).kind == "f":
        X["a"][: n // 3] = np.nan
    return {m: a.astype(dtype) for m, a in X.items()}


def _preserved(est):
    tags = est.__sklearn_tags__().transformer_tags
    return [] if tags is None else list(tags.preserves_dtype)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int8])
def test_output_dtype_follows_the_preserves_dtype_tag(est, dtype):
    """float64 by default; a dtype listed in ``preserves_dtype`` comes out unchanged;
    integer and half-precision input is converted to float64."""
    X = _dtype_data(dtype)
    fitted = clone(est).fit(X)
    out = fitted.transform(X)
    name = np.dtype(dtype).name
    expected = np.dtype(dtype) if name in _preserved(est) else np.dtype(np.float64)
    arrays = out.values() if isinstance(out, MultiModalData) else [out]
    dtypes = {a.dtype for a in arrays}
    if name in _preserved(est) or name not in ("float32", "float64"):
        assert dtypes == {expected}
    else:  # float32 into an estimator that does not promise to keep it
        assert dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}
    if type(est).__name__ in IMPUTERS:
        a = np.asarray(X["a"], dtype=expected)
        observed = ~np.isnan(a).any(axis=1)
        np.testing.assert_array_equal(out["a"][observed], a[observed])
        assert np.isfinite(np.asarray(out)).all()


@pytest.mark.parametrize(
    "est", [e for e in ESTIMATORS if type(e).__name__ in IMPUTERS],
    ids=[i for i in IDS if i in IMPUTERS],
)
def test_imputers_keep_each_modality_dtype(est):
    X = _dtype_data(np.float64)
    X["b"] = X["b"].astype(np.float32)
    out = clone(est).fit(X).transform(X)
    assert out["a"].dtype == np.float64 and out["b"].dtype == np.float32
    # a 2-D array is one modality: float32 stays float32, integers become float64
    b = X["b"]
    assert clone(est).fit(b).transform(b).dtype == np.float32
    counts = np.random.default_rng(0).integers(0, 5, size=(30, 3)).astype(np.int32)
    filled = clone(est).fit(counts).transform(counts)
    assert filled.dtype == np.float64
    np.testing.assert_array_equal(filled, counts)
