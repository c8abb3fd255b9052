"""Shared checks run on every registered public estimator (see skmm.utils._testing)."""

import copy
import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities
from skmm.utils import all_estimators
from skmm.utils._testing import IMPUTERS, expected_failed_checks, registered_instances

ESTIMATORS = registered_instances()
IDS = [type(est).__name__ for est in ESTIMATORS]


def _data(n=60, seed=0):
    """Three modalities with a class signal and ~30% of slots missing."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = MultiModalData(
        a=rng.normal(size=(n, 4)) + y[:, None],
        b=rng.normal(size=(n, 3)) - y[:, None],
        c=rng.normal(size=(n, 5)) + 0.5 * y[:, None],
    )
    return make_missing_modalities(X, 0.3, random_state=seed), y


def _output(est, X):
    out = est.transform(X) if hasattr(est, "transform") else est.predict(X)
    return np.asarray(out)


def _fit_output(est, X, y=None):
    est.fit(X, y)
    return _output(est, X)


def test_every_public_estimator_is_registered():
    registered = {type(est).__name__ for est in ESTIMATORS}
    assert registered == {name for name, _ in all_estimators()}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_parameters_are_declared_and_checked(est):
    # scikit-learn's check: every parameter has a constraint, and a value of a wrong
    # type or out of range raises InvalidParameterError naming it, at every fit method
    check_param_validation(type(est).__name__, est)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_clone_and_params_round_trip(est):
    params = est.get_params(deep=False)
    cloned = clone(est)
    assert cloned is not est
    assert set(cloned.get_params(deep=False)) == set(params)
    cloned.set_params(**params)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pickle_round_trip_gives_identical_output(est):
    X, y = _data()
    est = clone(est)
    expected = _fit_output(est, X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(restored, X), expected)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_inputs_never_mutated(est):
    X, y = _data()
    plain = {m: a.copy() for m, a in X.items()}
    before = copy.deepcopy(plain)
    est = clone(est).fit(plain, y)
    _output(est, plain)
    for m in before:
        np.testing.assert_array_equal(plain[m], before[m])


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pipeline_cross_val_and_grid_search_on_multimodal_data(est):
    X, y = _data()
    if hasattr(est, "transform"):
        pipe = make_pipeline(
            clone(est), SimpleImputer(keep_empty_features=True), LogisticRegression()
        )
        grid = {"logisticregression__C": [0.1, 1.0]}
    else:  # a classifier or a regressor ends the pipeline
        pipe = make_pipeline(clone(est))
        grid = {f"{pipe.steps[0][0]}__random_state": [0, 1]}
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.isfinite(scores).all()
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_output_follows_input_kind(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    if not hasattr(est, "transform"):
        return
    out = est.transform(dict(X))
    if type(est).__name__ in IMPUTERS:
        assert isinstance(out, MultiModalData)
        assert out.modalities == X.modalities
    assert len(out) == X.n_samples
    assert len(est.get_feature_names_out()) == np.asarray(out).shape[1]


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_pandas_output(est):
    """pandas output: a DataFrame named by get_feature_names_out, with the row labels
    of per-modality frames (aligned on their index) and of a 2-D frame."""
    pd = pytest.importorskip("pandas")
    X, y = _data()
    est = clone(est)
    if not hasattr(est, "set_output"):
        return
    labels = [f"s{i}" for i in range(X.n_samples)]
    frames = {m: pd.DataFrame(a, index=labels) for m, a in X.items()}
    est.set_output(transform="pandas").fit(frames, y)
    out = est.transform(frames)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert list(out.index) == labels
    single = pd.DataFrame(np.nan_to_num(X["a"]), index=labels)
    assert list(clone(est).set_output(transform="pandas").fit(single, y)
                .transform(single).index) == labels


@pytest.mark.parametrize(
    "est", [e for e in ESTIMATORS if type(e).__name__ in IMPUTERS],
    ids=[i for i in IDS if i in IMPUTERS],
)
def test_imputers_keep_observed_values_and_fill_missing_rows(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    out = est.transform(X)
    observed = X.observed
    for j, m in enumerate(X.modalities):
        rows = observed[:, j]
        assert out[m].dtype == X[m].dtype
        np.testing.assert_array_equal(out[m][rows], X[m][rows])
        assert np.isfinite(out[m]).all(), f"missing rows of {m!r} left unfilled"


def _bad_fit_inputs():
    X, _ = _data()
    a, b, c = (X[m] for m in X.modalities)
    partial = a.copy()
    partial[np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan
    inf = b.copy()
    inf[np.flatnonzero(X.observed[:, 1])[0], 1] = np.inf
    empty_row = {m: x.copy() for m, x in X.items()}
    for x in empty_row.values():
        x[3] = np.nan
    return {
        "row counts differ": ({"a": a, "b": b[:-1], "c": c}, ValueError, "rows"),
        "partly NaN row": ({"a": partial, "b": b, "c": c}, ValueError, "'a'"),
        "inf": ({"a": a, "b": inf, "c": c}, ValueError, "'b'"),
        "sample with no modality": (empty_row, ValueError, "[3]"),
        "modality never observed": (
            {"a": a, "b": b, "c": np.full_like(c, np.nan)}, ValueError, "'c'"
        ),
        "empty mapping": ({}, ValueError, "modality"),
        "1-D array": ({"a": a[:, 0], "b": b, "c": c}, ValueError, "'a'"),
        "3-D array": ({"a": a[:, :, None], "b": b, "c": c}, ValueError, "'a'"),
        "non-numeric": ({"a": a.astype(str).astype(object) + "x", "b": b, "c": c},
                        TypeError, "'a'"),
        "zero samples": ({"a": a[:0], "b": b[:0], "c": c[:0]}, ValueError, "0 samples"),
        "sparse modality": ({"a": sparse.csr_matrix(np.nan_to_num(a)), "b": b, "c": c},
                            TypeError, "'a'"),
        "integers beyond 2**53": (
            {"a": np.full((len(a), 2), 2**60, dtype=np.int64), "b": b, "c": c},
            ValueError, "'a'",
        ),
        "complex": ({"a": a.astype(complex), "b": b, "c": c}, TypeError, "'a'"),
        "strings": ({"a": a.astype(str), "b": b, "c": c}, TypeError, "'a'"),
        "name with separator": ({"a__1": a, "b": b, "c": c}, ValueError, "'a__1'"),
        "name ending in _": ({"a_": a, "b": b, "c": c}, ValueError, "'a_'"),
        "None modality": ({"a": None, "b": b, "c": c}, ValueError, "'a'"),
    }


BAD_FIT = _bad_fit_inputs()


@pytest.mark.parametrize("case", list(BAD_FIT))
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_input_at_fit_raises_a_clear_error(est, case):
    X, error, fragment = BAD_FIT[case]
    with pytest.raises(error) as info:
        clone(est).fit(X, np.arange(len(X["b"])) % 2 if "b" in X else None)
    assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_input_at_transform_raises_a_clear_error(est):
    X, y = _data()
    est = clone(est).fit(X, y)
    method = est.transform if hasattr(est, "transform") else est.predict
    extra = dict(X, d=np.zeros((X.n_samples, 2)))
    with pytest.raises(ValueError, match="'d'"):
        method(extra)
    absent = {m: X[m] for m in ("a", "b")}
    with pytest.raises(ValueError, match="'c'"):
        method(absent)
    narrow = dict(X, b=X["b"][:, :2])
    with pytest.raises(ValueError, match="'b' has 2 features"):
        method(narrow)


# --- unusual but valid inputs give the same answer as plain arrays ------------------------
def _valid_variants(X):
    """``{name: input}`` forms of the same samples that every estimator must accept."""
    variants = {
        "read-only": {m: _read_only(a) for m, a in X.items()},
        "fortran order": {m: np.asfortranarray(a) for m, a in X.items()},
        "strided": {m: np.repeat(a, 2, axis=1)[:, ::2] for m, a in X.items()},
        "masked arrays": {
            m: np.ma.masked_invalid(np.where(np.isnan(a), -999.0, a)) for m, a in X.items()
        },
        "nested lists": {m: a.tolist() for m, a in X.items()},
    }
    variants["masked arrays"] = {
        m: np.ma.masked_array(np.where(np.isnan(a), -999.0, a), mask=np.isnan(a))
        for m, a in X.items()
    }
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None:
        variants["torch tensors"] = {
            m: torch.tensor(a, requires_grad=True) for m, a in X.items()
        }
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a test dependency
        return variants
    labels = [f"s{i}" for i in range(X.n_samples)]
    order = np.random.default_rng(1).permutation(X.n_samples)
    frames = {}
    for j, (m, a) in enumerate(X.items()):
        rows = order[X.observed[order, j]]  # each frame lacks its missing rows, shuffled
        frames[m] = pd.DataFrame(a[rows], index=[labels[r] for r in rows])
    frames["a"] = frames["a"].reindex(labels)  # the first frame fixes the row order
    variants["frames aligned by index"] = frames
    variants["nullable Float64 frames"] = {
        m: pd.DataFrame(a).astype("Float64").mask(np.isnan(a), pd.NA) for m, a in X.items()
    }
    return variants


def _read_only(a):
    a = a.copy()
    a.setflags(write=False)
    return a


VARIANTS = list(_valid_variants(_data()[0]))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_unusual_valid_inputs_match_plain_arrays(est, variant):
    X, y = _data()
    expected = _fit_output(clone(est), X, y)
    given = _valid_variants(X)[variant]
    np.testing.assert_allclose(
        _fit_output(clone(est), given, y), expected, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        _output(clone(est).fit(X, y), given), expected, rtol=1e-9, atol=1e-12
    )


# --- a failed fit changes nothing ---------------------------------------------------------
def _fitted_state(est):
    return {k: v for k, v in vars(est).items()}


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_failed_fit_leaves_the_estimator_as_it_was(est, monkeypatch):
    """A fit that fails after its data was validated (here: an injected error) leaves
    every attribute as it was and the old model working on the old modalities."""
    X, y = _data()
    est = clone(est).fit(X, y)
    before, expected = _fitted_state(est), _output(est, X)
    renamed = {f"new{j}": a for j, a in enumerate(X.values())}
    real = type(est)._validate_multimodal

    def validate_then_fail(self, *args, **kwargs):
        real(self, *args, **kwargs)
        if kwargs.get("reset"):
            raise RuntimeError("injected failure after validation")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(est), "_validate_multimodal", validate_then_fail)
    methods = [getattr(est, name) for name in ("fit", "fit_transform", "fit_predict",
                                               "partial_fit") if hasattr(est, name)]
    for method in methods:
        # partial_fit of a fitted estimator continues it: the new names fail its
        # validation (a ValueError) instead of the injected error.
        with pytest.raises((RuntimeError, ValueError), match="injected|new0"):
            method(renamed, y)
        after = _fitted_state(est)
        assert after.keys() == before.keys(), method.__name__
        assert all(after[k] is before[k] for k in before), method.__name__
    monkeypatch.undo()
    np.testing.assert_array_equal(_output(est, X), expected)
    with pytest.raises(ValueError, match="new0"):
        _output(est, renamed)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_parameter_is_reported_before_bad_data(est):
    X, _ = BAD_FIT["partly NaN row"][0], None
    params = {
        name: value for name, value in [("max_epochs", -1), ("n_clusters", -1),
                                        ("n_components", -1), ("features", "nope"),
                                        ("modalities", 3), ("transformers", 3)]
        if name in est.get_params()
    }
    if not params:
        pytest.skip(f"{type(est).__name__} has none of the probed parameters")
    bad = clone(est).set_params(**params)
    with pytest.raises((ValueError, TypeError)) as info:
        bad.fit(X, np.arange(len(X["a"])) % 2)
    assert any(name in str(info.value) for name in params), str(info.value)
    assert not hasattr(bad, "modalities_")


# --- huge finite values never become NaN or inf -------------------------------------------
HUGE = {
    "1e20 at transform": (1e20, "transform", np.float64),
    "netCDF fill value": (9.96921e36, "both", np.float64),
    "1e200": (1e200, "both", np.float64),
    "1e300": (1e300, "both", np.float64),
    "float32 1e30": (1e30, "both", np.float32),
    "float32 max": (3e38, "both", np.float32),
}


@pytest.mark.parametrize("case", list(HUGE))
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_huge_values_compute_or_raise_clearly(est, case):
    value, where, dtype = HUGE[case]
    X, y = _data()
    X = MultiModalData({m: a.astype(dtype) for m, a in X.items()})
    row = int(np.flatnonzero(X.observed[:, 1])[0])
    huge = {m: a.copy() for m, a in X.items()}
    huge["b"][row, 0] = value
    fit_on = huge if where == "both" else X
    try:
        fitted = clone(est).fit(fit_on, y)
        if hasattr(fitted, "transform"):
            out = fitted.transform(huge)
        else:
            out = fitted.predict(huge)
    except ValueError as exc:
        assert "'b'" in str(exc) and str(row) in str(exc), str(exc)
        return
    if isinstance(out, MultiModalData):  # NaN only in the rows of missing modalities
        for j, m in enumerate(out.modalities):
            rows = slice(None) if type(est).__name__ in IMPUTERS else X.observed[:, j]
            assert np.isfinite(out[m][rows]).all(), f"non-finite {m!r} ({case})"
        if type(est).__name__ in IMPUTERS:
            for j, m in enumerate(X.modalities):
                rows = X.observed[:, j]
                np.testing.assert_array_equal(out[m][rows], huge[m][rows])
    elif type(est).__name__ == "PartialModalityKMeans":
        assert not np.isnan(np.asarray(out, dtype=np.float64)).any()
    else:
        assert np.isfinite(out).all(), f"non-finite output for finite input ({case})"
