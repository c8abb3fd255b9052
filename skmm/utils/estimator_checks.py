"""The multimodal contract checks, for skmm's estimators and for your own.

Modelled on :mod:`sklearn.utils.estimator_checks`: :func:`check_multimodal_estimator`
runs every check on one estimator (like ``check_estimator``), and
:func:`parametrize_with_multimodal_checks` turns a list of estimators into a pytest
parametrization with one test per ``(estimator, check)`` pair (like
``parametrize_with_checks``). Run scikit-learn's own checks as well: these checks add the
multimodal contract of :doc:`/user_guide/data_contract` (whole-row missing modalities,
containers and dicts of arrays, outputs that follow the input), they do not replace them.

Every ``check_*`` function takes an estimator instance (it is cloned, never changed;
a ``random_state`` of None is set to 0 in the clones, so that two fits agree) and raises
:class:`AssertionError` (or the unexpected exception itself) when the estimator breaks
the contract, or :class:`unittest.SkipTest` when the check does not apply. They work
on transformers, imputers, classifiers, regressors and clusterers:

- an estimator with ``transform`` is checked through ``transform``, any other through
  ``predict``; classifiers and regressors are fitted with binary labels;
- an estimator whose class name ends in ``"Imputer"`` is an imputer (as in
  scikit-learn): its ``transform`` must return a :class:`~skmm.MultiModalData` with the
  same modalities, the observed rows bit for bit and the missing rows filled.

The data come from this module: three modalities ``"a"`` (4 features), ``"b"`` (3) and
``"c"`` (5), 60 samples with a two-class signal, about 30% of the (sample, modality)
slots missing as whole rows of NaN.

No check needs pytest or its fixtures. The checks rely on public behaviour, with one
exception: a part of :func:`check_failed_fit_leaves_estimator_unchanged` applies to
estimators built on :class:`skmm.base.MultiModalMixin`: it makes their private
``_validate_multimodal`` fail after validating (with
:func:`unittest.mock.patch.object`), to test a failure in the middle of ``fit``; other
estimators get the other part only (a fit refused for invalid data).
skmm's scikit-learn checks, parameter-validation check and registration test stay in
``tests/test_common.py``; they rely on skmm's registry of test parameters.

See :ref:`checking-your-own-estimator` for an example.
"""

import copy
import functools
import pickle
import re
import warnings
from unittest import SkipTest, mock

import numpy as np
from scipy import sparse
from sklearn.base import clone, is_clusterer

from .._data import MultiModalData

__all__ = [
    "check_bad_parameter_reported_first",
    "check_clone_round_trip",
    "check_failed_fit_leaves_estimator_unchanged",
    "check_fit_rejects_bad_input",
    "check_huge_values",
    "check_imputer_keeps_observed_values",
    "check_inputs_not_mutated",
    "check_model_selection_on_multimodal_data",
    "check_multimodal_estimator",
    "check_output_follows_input_kind",
    "check_pandas_output",
    "check_pickle_round_trip",
    "check_transform_rejects_bad_input",
    "check_unusual_valid_inputs",
    "parametrize_with_multimodal_checks",
]


# --- data and small helpers ---------------------------------------------------------------
def _data(n=60, seed=0):
    """Three modalities with a class signal and ~30% of slots missing."""
    from ..datasets import make_missing_modalities

    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = MultiModalData(
        a=rng.normal(size=(n, 4)) + y[:, None],
        b=rng.normal(size=(n, 3)) - y[:, None],
        c=rng.normal(size=(n, 5)) + 0.5 * y[:, None],
    )
    return make_missing_modalities(X, 0.3, random_state=seed), y


def _clone(estimator):
    """A clone, with ``random_state=0`` if its ``random_state`` is None (so that two
    clones fitted on the same data agree, as scikit-learn's checks arrange)."""
    est = clone(estimator)
    if est.get_params(deep=False).get("random_state", 0) is None:
        est.set_params(random_state=0)
    return est


def _fitted(estimator):
    """``(clone fitted on the module's data, X, y)``."""
    X, y = _data()
    return _clone(estimator).fit(X, y), X, y


def _is_imputer(estimator):
    return type(estimator).__name__.endswith("Imputer")


def _output(est, X):
    out = est.transform(X) if hasattr(est, "transform") else est.predict(X)
    return np.asarray(out)


def _fit_output(est, X, y=None):
    est.fit(X, y)
    return _output(est, X)


class _raises:
    """``with _raises(errors, match=regex):`` like ``pytest.raises`` (no pytest needed).

    An exception of another type propagates; ``info.value`` is the one raised.
    """

    def __init__(self, errors, match=None):
        self.errors, self.match, self.value = errors, match, None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise AssertionError(f"did not raise {self.errors}")
        if not issubclass(exc_type, self.errors):
            return False
        self.value = exc
        if self.match is not None and not re.search(self.match, str(exc)):
            raise AssertionError(
                f"{exc_type.__name__} message {str(exc)!r} does not match {self.match!r}"
            ) from exc
        return True


# --- the checks ---------------------------------------------------------------------------
def check_clone_round_trip(estimator):
    """Check that ``clone`` and ``get_params`` / ``set_params`` round trip.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (not changed).
    """
    params = estimator.get_params(deep=False)
    cloned = clone(estimator)
    assert cloned is not estimator
    assert set(cloned.get_params(deep=False)) == set(params)
    cloned.set_params(**params)


def check_pickle_round_trip(estimator):
    """Check that a fitted estimator pickles and gives identical output afterwards.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted on multimodal data with missing rows).
    """
    X, y = _data()
    est = _clone(estimator)
    expected = _fit_output(est, X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(restored, X), expected)


def check_inputs_not_mutated(estimator):
    """Check that ``fit`` and ``transform`` (or ``predict``) leave their input as it was.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted on a dict of arrays).
    """
    X, y = _data()
    plain = {m: a.copy() for m, a in X.items()}
    before = copy.deepcopy(plain)
    est = _clone(estimator).fit(plain, y)
    _output(est, plain)
    for m in before:
        np.testing.assert_array_equal(
            plain[m], before[m], err_msg=f"modality {m!r} was modified in place"
        )


def check_model_selection_on_multimodal_data(estimator):
    """Check ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` on ``MultiModalData``.

    A transformer is followed by ``SimpleImputer`` and ``LogisticRegression``; any other
    estimator ends the pipeline (its ``random_state`` is searched over, if it has one).

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned into the pipeline).
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline

    X, y = _data()
    if hasattr(estimator, "transform"):
        pipe = make_pipeline(
            _clone(estimator), SimpleImputer(keep_empty_features=True), LogisticRegression()
        )
        grid = {"logisticregression__C": [0.1, 1.0]}
    else:  # a classifier or a regressor ends the pipeline
        pipe = make_pipeline(_clone(estimator))
        name = f"{pipe.steps[0][0]}__random_state"
        grid = {name: [0, 1]} if name in pipe.get_params() else {}
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.isfinite(scores).all(), f"non-finite cross-validation scores {scores}"
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.predict(X[:5]).shape == (5,)


def check_output_follows_input_kind(estimator):
    """Check what ``transform`` returns for a dict: one row per sample, as many columns
    as ``get_feature_names_out`` names, and a ``MultiModalData`` with the same
    modalities for an imputer. Estimators without ``transform`` pass.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted).
    """
    est, X, y = _fitted(estimator)
    if not hasattr(est, "transform"):
        return
    out = est.transform(dict(X))
    if _is_imputer(est):
        assert isinstance(out, MultiModalData), f"an imputer returned {type(out)}"
        assert out.modalities == X.modalities
    assert len(out) == X.n_samples
    assert len(est.get_feature_names_out()) == np.asarray(out).shape[1]


def check_pandas_output(estimator):
    """Check ``set_output(transform="pandas")``: a DataFrame named by
    ``get_feature_names_out``, with the row labels of per-modality frames (aligned on
    their index) and of a 2-D frame. Estimators without ``set_output`` pass; without
    pandas the check is skipped.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted).
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a test dependency
        raise SkipTest("pandas is not installed")
    X, y = _data()
    est = _clone(estimator)
    if not hasattr(est, "set_output"):
        return
    labels = [f"s{i}" for i in range(X.n_samples)]
    frames = {m: pd.DataFrame(a, index=labels) for m, a in X.items()}
    est.set_output(transform="pandas").fit(frames, y)
    out = est.transform(frames)
    assert isinstance(out, pd.DataFrame), f"pandas output is a {type(out)}"
    assert list(out.columns) == list(est.get_feature_names_out())
    assert list(out.index) == labels
    single = pd.DataFrame(np.nan_to_num(X["a"]), index=labels)
    assert list(clone(est).set_output(transform="pandas").fit(single, y)
                .transform(single).index) == labels


def check_imputer_keeps_observed_values(estimator):
    """Check that an imputer returns the observed rows bit for bit, in their dtype, and
    fills every missing row with finite values.

    Parameters
    ----------
    estimator : estimator instance
        An imputer (cloned, then fitted).
    """
    est, X, y = _fitted(estimator)
    out = est.transform(X)
    observed = X.observed
    for j, m in enumerate(X.modalities):
        rows = observed[:, j]
        assert out[m].dtype == X[m].dtype
        np.testing.assert_array_equal(
            out[m][rows], X[m][rows], err_msg=f"observed values of {m!r} changed"
        )
        assert np.isfinite(out[m]).all(), f"missing rows of {m!r} left unfilled"


def _bad_fit_inputs():
    """``{case: (input, error type, fragment of its message)}`` that fit must refuse."""
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


def check_fit_rejects_bad_input(estimator, case=None):
    """Check that ``fit`` refuses invalid multimodal input with a clear error.

    Each case (a partly-NaN row, inf, a sample with no modality, a modality never
    observed, row counts that differ, sparse, complex or string data, integers beyond
    2**53, invalid modality names, ...) must raise a ``ValueError`` or ``TypeError``
    whose message names the offending modality or rows.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned for each case).
    case : str or None, default=None
        One case (a test id of :func:`parametrize_with_multimodal_checks` names it,
        for instance ``"partly NaN row"``); None runs them all.
    """
    inputs = _bad_fit_inputs()
    for name in inputs if case is None else (case,):
        X, error, fragment = inputs[name]
        y = np.arange(len(X["b"])) % 2 if "b" in X else None
        with _raises(error, match=re.escape(fragment)):
            _clone(estimator).fit(X, y)


def check_transform_rejects_bad_input(estimator):
    """Check that ``transform`` (or ``predict``) refuses an extra modality, a missing
    one and a wrong width, naming the modality.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted).
    """
    est, X, y = _fitted(estimator)
    method = est.transform if hasattr(est, "transform") else est.predict
    extra = dict(X, d=np.zeros((X.n_samples, 2)))
    with _raises(ValueError, match="'d'"):
        method(extra)
    absent = {m: X[m] for m in ("a", "b")}
    with _raises(ValueError, match="'c'"):
        method(absent)
    narrow = dict(X, b=X["b"][:, :2])
    with _raises(ValueError, match="'b' has 2 features"):
        method(narrow)


def _read_only(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def _valid_variants(X):
    """``{name: input}`` forms of the same samples that every estimator must accept."""
    variants = {
        "read-only": {m: _read_only(a) for m, a in X.items()},
        "fortran order": {m: np.asfortranarray(a) for m, a in X.items()},
        "strided": {m: np.repeat(a, 2, axis=1)[:, ::2] for m, a in X.items()},
        "masked arrays": {
            m: np.ma.masked_array(np.where(np.isnan(a), -999.0, a), mask=np.isnan(a))
            for m, a in X.items()
        },
        "nested lists": {m: a.tolist() for m, a in X.items()},
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


def check_unusual_valid_inputs(estimator, variant=None):
    """Check that unusual but valid inputs give the answer of plain float arrays.

    Read-only, Fortran-ordered and strided arrays, masked arrays, nested lists, torch
    tensors (when torch is installed), per-modality DataFrames that lack their missing
    rows in shuffled order (aligned on their index) and nullable ``Float64`` frames,
    both at fit and at transform (or predict).

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned).
    variant : str or None, default=None
        One form of input (for instance ``"read-only"`` or ``"nested lists"``, as in
        the test ids); None runs them all.
    """
    X, y = _data()
    expected = _fit_output(_clone(estimator), X, y)
    variants = _valid_variants(X)
    for name in variants if variant is None else (variant,):
        given = variants[name]
        np.testing.assert_allclose(
            _fit_output(_clone(estimator), given, y), expected, rtol=1e-9, atol=1e-12,
            err_msg=f"fit on {name}",
        )
        np.testing.assert_allclose(
            _output(_clone(estimator).fit(X, y), given), expected, rtol=1e-9,
            atol=1e-12, err_msg=f"{name} at transform",
        )


def _fit_methods(est):
    return [getattr(est, name) for name in ("fit", "fit_transform", "fit_predict",
                                            "partial_fit") if hasattr(est, name)]


def _assert_state_kept(est, before, method):
    after = vars(est)
    assert after.keys() == before.keys(), (
        f"a failed {method.__name__} added or removed attributes: "
        f"{sorted(set(after) ^ set(before))}"
    )
    changed = sorted(k for k in before if after[k] is not before[k])
    assert not changed, f"a failed {method.__name__} changed {changed}"


def check_failed_fit_leaves_estimator_unchanged(estimator):
    """Check that a failed fit leaves a fitted estimator as it was.

    Every fitting method (``fit``, ``fit_transform``, ``fit_predict``, ``partial_fit``)
    of a fitted estimator is given data with new modality names that fail validation
    (a partly-NaN row). For estimators built on :class:`skmm.base.MultiModalMixin`, the
    methods are called again with valid data while ``_validate_multimodal`` is made to
    fail after validating, a failure in the middle of fitting. Each time every attribute
    must be the object it was, and the old model must still work on the old modalities
    and refuse the new ones.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned, then fitted).
    """
    est, X, y = _fitted(estimator)
    before, expected = dict(vars(est)), _output(est, X)
    renamed = {f"new{j}": a for j, a in enumerate(X.values())}
    invalid = {m: a.copy() for m, a in renamed.items()}
    invalid["new0"][np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan
    for method in _fit_methods(est):
        with _raises((ValueError, TypeError)):
            method(invalid, y)
        _assert_state_kept(est, before, method)

    real = getattr(type(est), "_validate_multimodal", None)
    if real is not None:
        def validate_then_fail(self, *args, **kwargs):
            real(self, *args, **kwargs)
            if kwargs.get("reset"):
                raise RuntimeError("injected failure after validation")
            return real(self, *args, **kwargs)

        with mock.patch.object(type(est), "_validate_multimodal", validate_then_fail):
            for method in _fit_methods(est):
                # partial_fit of a fitted estimator continues it: the new names fail its
                # validation (a ValueError) instead of the injected error.
                with _raises((RuntimeError, ValueError), match="injected|new0"):
                    method(renamed, y)
                _assert_state_kept(est, before, method)
    np.testing.assert_array_equal(_output(est, X), expected)
    with _raises(ValueError, match="new0"):
        _output(est, renamed)


_PROBED_BAD_PARAMS = [("max_epochs", -1), ("n_clusters", -1), ("n_components", -1),
                      ("features", "nope"), ("modalities", 3), ("transformers", 3)]


def check_bad_parameter_reported_first(estimator):
    """Check that an invalid parameter is reported before invalid data, and that the
    failed fit sets no fitted attribute. Skipped unless the estimator has one of the
    probed parameters (``max_epochs``, ``n_clusters``, ``n_components``, ``features``,
    ``modalities``, ``transformers``).

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned).
    """
    X = _bad_fit_inputs()["partly NaN row"][0]
    params = {
        name: value for name, value in _PROBED_BAD_PARAMS if name in estimator.get_params()
    }
    if not params:
        raise SkipTest(f"{type(estimator).__name__} has none of the probed parameters")
    bad = _clone(estimator).set_params(**params)
    with _raises((ValueError, TypeError)) as info:
        bad.fit(X, np.arange(len(X["a"])) % 2)
    assert any(name in str(info.value) for name in params), str(info.value)
    assert not hasattr(bad, "modalities_"), "a failed fit set modalities_"


_HUGE = {
    "1e20 at transform": (1e20, "transform", np.float64),
    "netCDF fill value": (9.96921e36, "both", np.float64),
    "1e200": (1e200, "both", np.float64),
    "1e300": (1e300, "both", np.float64),
    "float32 1e30": (1e30, "both", np.float32),
    "float32 max": (3e38, "both", np.float32),
}


def check_huge_values(estimator, case=None):
    """Check that huge finite values compute (finite output where the input is
    observed) or raise a ``ValueError`` naming the modality and the row.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned).
    case : str or None, default=None
        One value: ``"1e20 at transform"``, ``"netCDF fill value"``, ``"1e200"``,
        ``"1e300"``, ``"float32 1e30"`` or ``"float32 max"``; None runs them all.
    """
    for name in _HUGE if case is None else (case,):
        _check_huge_value(estimator, name)


def _check_huge_value(estimator, case):
    value, where, dtype = _HUGE[case]
    X, y = _data()
    X = MultiModalData({m: a.astype(dtype) for m, a in X.items()})
    row = int(np.flatnonzero(X.observed[:, 1])[0])
    huge = {m: a.copy() for m, a in X.items()}
    huge["b"][row, 0] = value
    fit_on = huge if where == "both" else X
    imputer = _is_imputer(estimator)
    try:
        fitted = _clone(estimator).fit(fit_on, y)
        if hasattr(fitted, "transform"):
            out = fitted.transform(huge)
        else:
            out = fitted.predict(huge)
    except ValueError as exc:
        assert "'b'" in str(exc) and str(row) in str(exc), str(exc)
        return
    if isinstance(out, MultiModalData):  # NaN only in the rows of missing modalities
        for j, m in enumerate(out.modalities):
            rows = slice(None) if imputer else X.observed[:, j]
            assert np.isfinite(out[m][rows]).all(), f"non-finite {m!r} ({case})"
        if imputer:
            for j, m in enumerate(X.modalities):
                rows = X.observed[:, j]
                np.testing.assert_array_equal(out[m][rows], huge[m][rows])
    elif is_clusterer(estimator):  # distances to centres may overflow to inf
        assert not np.isnan(np.asarray(out, dtype=np.float64)).any(), f"NaN ({case})"
    else:
        assert np.isfinite(out).all(), f"non-finite output for finite input ({case})"


# --- running them -------------------------------------------------------------------------
def _yield_multimodal_checks(estimator):
    """The checks that apply to ``estimator``, one-case partials where a check has cases.

    The order puts the checks that pinpoint a defect (input mutated, observed values
    changed, a failed fit leaving attributes) before the broader ones.
    """
    yield check_clone_round_trip
    yield check_inputs_not_mutated
    if _is_imputer(estimator):
        yield check_imputer_keeps_observed_values
    yield check_failed_fit_leaves_estimator_unchanged
    yield check_bad_parameter_reported_first
    yield check_pickle_round_trip
    yield check_output_follows_input_kind
    yield check_pandas_output
    yield check_model_selection_on_multimodal_data
    for case in _bad_fit_inputs():
        yield functools.partial(check_fit_rejects_bad_input, case=case)
    yield check_transform_rejects_bad_input
    for variant in _valid_variants(_data()[0]):
        yield functools.partial(check_unusual_valid_inputs, variant=variant)
    for case in _HUGE:
        yield functools.partial(check_huge_values, case=case)


def _check_name(check):
    """``check_name`` or ``check_name(case)`` for a one-case partial."""
    if isinstance(check, functools.partial):
        cases = ", ".join(str(v) for v in check.keywords.values())
        return f"{check.func.__name__}({cases})"
    return check.__name__


def check_multimodal_estimator(estimator, *, expected_failed_checks=None):
    """Run every multimodal contract check on ``estimator``.

    Like :func:`sklearn.utils.estimator_checks.check_estimator`: the checks run one
    after the other on clones of ``estimator``, and the first failure raises an
    :class:`AssertionError` that names the check and the estimator (the check's own
    exception is chained as its ``__cause__``). A check that does not apply is skipped
    with a :class:`~sklearn.exceptions.SkipTestWarning`.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check; it is not changed.
    expected_failed_checks : dict or None, default=None
        ``{check name: reason}`` of checks expected to fail (the name as reported, for
        instance ``"check_huge_values(1e300)"``); their failure is recorded, not raised.

    Returns
    -------
    results : list of dict
        One dict per check: ``"check"`` (its name), ``"status"`` (``"passed"``,
        ``"skipped"`` or ``"xfail"``) and ``"reason"`` (why it was skipped or expected
        to fail, else None).

    Raises
    ------
    AssertionError
        If a check fails that is not in ``expected_failed_checks``.

    Examples
    --------
    >>> from skmm.impute import PartialModalityKMeansImputer
    >>> from skmm.utils.estimator_checks import check_multimodal_estimator
    >>> results = check_multimodal_estimator(
    ...     PartialModalityKMeansImputer(n_clusters=3, random_state=0))  # doctest: +SKIP
    """
    from sklearn.exceptions import SkipTestWarning

    expected_failed_checks = expected_failed_checks or {}
    results = []
    for check in _yield_multimodal_checks(estimator):
        name = _check_name(check)
        try:
            check(estimator)
        except SkipTest as exc:
            warnings.warn(f"{name} skipped: {exc}", SkipTestWarning)
            results.append({"check": name, "status": "skipped", "reason": str(exc)})
            continue
        except Exception as exc:
            if name in expected_failed_checks:
                results.append({"check": name, "status": "xfail",
                                "reason": expected_failed_checks[name]})
                continue
            raise AssertionError(
                f"{name} failed for {type(estimator).__name__}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        results.append({"check": name, "status": "passed", "reason": None})
    return results


def parametrize_with_multimodal_checks(estimators, *, expected_failed_checks=None):
    """Pytest parametrization with one test per estimator and multimodal check.

    Like :func:`sklearn.utils.estimator_checks.parametrize_with_checks`: decorate a test
    taking ``estimator`` and ``check`` arguments, whose body calls ``check(estimator)``.
    Test ids read ``"EstimatorName-check_name"`` (``"check_name(case)"`` for checks
    with cases). Needs pytest (imported here only).

    Parameters
    ----------
    estimators : list of estimator instances
        The estimators to check.
    expected_failed_checks : callable or None, default=None
        ``expected_failed_checks(estimator)`` returns ``{check name: reason}``; those
        tests are marked ``xfail`` with the reason.

    Returns
    -------
    decorator : pytest.mark.parametrize

    Examples
    --------
    >>> from skmm.impute import CalMRLImputer
    >>> from skmm.utils.estimator_checks import parametrize_with_multimodal_checks
    >>> @parametrize_with_multimodal_checks([CalMRLImputer(n_components=1)])
    ... def test_multimodal_contract(estimator, check):
    ...     check(estimator)
    """
    import pytest

    params = []
    for estimator in estimators:
        expected = expected_failed_checks(estimator) if expected_failed_checks else {}
        for check in _yield_multimodal_checks(estimator):
            name = _check_name(check)
            marks = [pytest.mark.xfail(reason=expected[name])] if name in expected else []
            params.append(pytest.param(estimator, check, marks=marks,
                                       id=f"{type(estimator).__name__}-{name}"))
    return pytest.mark.parametrize("estimator, check", params)
