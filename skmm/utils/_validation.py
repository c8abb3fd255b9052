"""The one place that knows skmm's input forms and checks them."""

import numbers
from collections.abc import Mapping

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError

from .._data import (
    SEPARATOR,
    MultiModalData,
    _as_2d_float,
    _check_exact_integers,
    _check_exact_list,
    _check_exact_objects,
    _check_frame_dtypes,
    _is_dataframe,
    _is_torch_tensor,
)

__all__ = [
    "InvalidParameterError",
    "check_modality_param",
    "check_multimodal",
    "check_option_param",
    "check_random_state_param",
    "check_scalar_param",
]


def check_scalar_param(value, name, kind, *, low=None, high=None, include_low=True,
                       include_high=True):
    """Check one scalar argument of a function or method; raise an error naming it.

    Estimators' constructor parameters are declared in ``_parameter_constraints``
    instead (see :mod:`skmm.utils._param_validation`).

    Parameters
    ----------
    value : object
    name : str
        Parameter name, for the message.
    kind : {int, float, bool}
        ``int`` accepts integers (not bools); ``float`` accepts any finite real number
        (not bools); ``bool`` accepts True / False only.
    low, high : number, optional
        Bounds, inclusive unless ``include_low`` / ``include_high`` is False.

    Raises
    ------
    InvalidParameterError
        ``value`` is not of the kind asked for (a TypeError and a ValueError).
    ValueError
        ``value`` is NaN, infinite or out of bounds.
    """
    is_bool = isinstance(value, (bool, np.bool_))
    if kind is bool:
        if not is_bool:
            raise InvalidParameterError(f"{name} must be True or False; got {value!r}.")
        return
    if kind is int:
        ok, what = isinstance(value, numbers.Integral) and not is_bool, "an integer"
    else:
        ok, what = isinstance(value, numbers.Real) and not is_bool, "a real number"
    if not ok:
        raise InvalidParameterError(
            f"{name} must be {what}; got {value!r} of type {type(value).__name__}."
        )
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if low is not None and (value < low or (value == low and not include_low)):
        sign = ">=" if include_low else ">"
        raise ValueError(f"{name} must be {sign} {low}; got {value!r}.")
    if high is not None and (value > high or (value == high and not include_high)):
        sign = "<=" if include_high else "<"
        raise ValueError(f"{name} must be {sign} {high}; got {value!r}.")


def check_option_param(value, name, options):
    """Check that a string hyperparameter is one of ``options``; raise a ValueError.

    Parameters
    ----------
    value : object
    name : str
    options : sequence of str
    """
    if not (isinstance(value, str) and value in options):
        shown = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {shown}; got {value!r}.")


def check_random_state_param(value, name="random_state"):
    """:func:`sklearn.utils.check_random_state`, with an error that names the parameter.

    Returns
    -------
    numpy.random.RandomState
    """
    try:
        return check_random_state(value)
    except ValueError:
        raise InvalidParameterError(
            f"{name} must be None, an int or a numpy.random.RandomState; got {value!r}."
        ) from None


def _first_rows(rows, limit=5):
    rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" and {rows.size - limit} more" if rows.size > limit else ""
    return f"[{shown}{more}]"


def is_multimodal_input(X):
    """Whether ``X`` is given as modalities, not as one 2-D array (the one dispatcher).

    Multimodal: a :class:`~skmm.MultiModalData`, a mapping, a list or tuple of 2-D
    arrays or DataFrames, a DataFrame whose columns are all ``"modality__feature"``
    (skmm's pandas output) or a DataFrame with MultiIndex columns. Anything else is a
    single 2-D array-like, taken as the one modality ``"x0"``.
    """
    if sparse.issparse(X):
        return False
    if isinstance(X, Mapping):
        return True
    if isinstance(X, (list, tuple)):
        return bool(X) and all(
            _is_dataframe(a) or (isinstance(a, np.ndarray) and a.ndim == 2) for a in X
        )
    if _is_dataframe(X):
        columns = X.columns
        return getattr(columns, "nlevels", 1) > 1 or (
            len(columns) > 0 and all(isinstance(c, str) and SEPARATOR in c for c in columns)
        )
    return False


def _to_container(X):
    """A new :class:`~skmm.MultiModalData` over the arrays of any accepted input."""
    if isinstance(X, MultiModalData):
        return MultiModalData(X)  # a new container: the caller's is never modified
    if sparse.issparse(X):
        raise TypeError(
            "Sparse input is not supported: skmm needs dense arrays (X.toarray())."
        )
    if X is None:
        raise TypeError("Expected multimodal data or a 2-D array; got None.")
    if isinstance(X, Mapping) and not X:
        raise ValueError("Got an empty mapping: at least one modality is needed.")
    if not is_multimodal_input(X):
        return MultiModalData({"x0": X})
    if _is_dataframe(X):
        return MultiModalData.from_frame(X)
    return MultiModalData(X)


def prepare_2d_input(X):
    """Ready a single 2-D input for scikit-learn's ``validate_data``.

    Torch tensors (with ``requires_grad`` too) and masked arrays (masked entries become
    NaN) are converted as for a modality; integers beyond 2**53 raise, since the float
    conversion would change them. Other inputs are returned unchanged, so that
    scikit-learn's own checks and messages apply.
    """
    if _is_torch_tensor(X) or np.ma.isMaskedArray(X):
        return _as_2d_float("x0", X)[0]
    if _is_dataframe(X):
        _check_frame_dtypes("x0", X)
        objects = [j for j, t in enumerate(X.dtypes) if t == object]
        if objects:
            _check_convertible_objects(X.iloc[:, objects].to_numpy())
        return X
    array = X
    if isinstance(X, (list, tuple)):
        _check_exact_list("x0", X)
        return X
    if isinstance(array, np.ndarray):
        if array.dtype.kind in "iu":
            _check_exact_integers("x0", array)
        elif array.dtype.kind == "f" and array.dtype.itemsize > 8:
            return _as_2d_float("x0", array)[0]
        elif array.dtype.kind == "O":
            _check_convertible_objects(array)
    return X


def _check_convertible_objects(objects):
    """:func:`_check_exact_objects` on object values that convert to float at all
    (others are left to scikit-learn's validation and its messages)."""
    try:
        floats = objects.astype(np.float64)
    except (TypeError, ValueError):
        return
    _check_exact_objects("x0", objects, floats)


def row_index(X):
    """The row labels of any accepted input (pandas Index or None), without validation."""
    if isinstance(X, MultiModalData) or _is_dataframe(X):
        return X.index
    if isinstance(X, Mapping) and any(_is_dataframe(v) for v in X.values()):
        return _to_container(X).index
    return None


def check_multimodal(
    X,
    *,
    modalities=None,
    n_features=None,
    feature_names=None,
    allow_empty_samples=True,
    require_all_observed=False,
    scan_lazy=True,
    row_offset=0,
):
    """Turn any accepted input into a validated :class:`~skmm.MultiModalData`.

    Accepted inputs: a :class:`~skmm.MultiModalData`, a mapping ``{name: 2-D array or
    DataFrame}``, a list of 2-D arrays (names ``m0, m1, ...``), a DataFrame whose columns
    are all ``"modality__feature"`` (the pandas output of skmm transformers), or any
    other 2-D array-like, taken as a single modality named ``"x0"``.

    Parameters
    ----------
    X : multimodal data or array-like
    modalities : sequence of str, optional
        Expected modality names (those seen at fit). Unknown or absent names raise.
        The result follows this order.
    n_features : dict, optional
        Expected width of each modality.
    feature_names : dict, optional
        Expected feature names of each modality (those seen at fit). When both these
        and the input's names are real column names (not the default ``"0", "1",
        ..."``), they must be equal, in order: reordered or renamed columns raise.
    allow_empty_samples : bool, default=True
        Whether a sample may have no modality at all.
    require_all_observed : bool, default=False
        Whether every modality must be observed in at least one sample (true at fit).
    scan_lazy : bool, default=True
        Whether the values of Dask modalities are checked now, block by block (their
        observed mask is then kept, as for arrays), or left to whoever computes their
        blocks (lazy inference checks each block with ``row_offset``).
    row_offset : int, default=0
        Added to the row numbers of the messages: the position of ``X``'s first row in
        a larger input of which ``X`` is a block.

    Returns
    -------
    MultiModalData
        A new container over the same arrays (never copied unless converted).

    Raises
    ------
    ValueError
        Differing row counts, zero samples, inf values, rows partly NaN, samples with
        no modality (unless allowed), unobserved modalities (if required), unknown or
        absent modality names, width mismatches. Each message names the modality and
        the first offending rows.
    TypeError
        Non-numeric data, or an input that is not array-like.
    """
    X = _to_container(X)
    if modalities is not None:
        expected = list(modalities)
        unknown = [m for m in X.modalities if m not in expected]
        absent = [m for m in expected if m not in X.modalities]
        if unknown or absent:
            parts = []
            if unknown:
                parts.append(f"unknown modalities {unknown}")
            if absent:
                parts.append(f"missing modalities {absent}")
            hint = ". Pass every fitted modality (all-NaN rows mark missing samples)."
            if X.modalities == ("x0",) and expected != ["x0"]:
                hint = (
                    f". A single 2-D array or DataFrame was given where the modalities "
                    f"{expected} are expected: split it with MultiModalData.from_array("
                    "X, widths=est.n_features_per_modality_) or MultiModalData."
                    "from_frame(df, groups={modality: [columns]})."
                )
            raise ValueError(
                f"Modalities do not match those seen at fit {expected}: "
                + " and ".join(parts)
                + hint
            )
        if list(X.modalities) != expected:
            X = MultiModalData(
                {m: X[m] for m in expected}, feature_names=X.feature_names,
                index=X.index,
            )
    if n_features is not None:
        for m, d in X.n_features.items():
            if m in n_features and d != n_features[m]:
                raise ValueError(
                    f"Modality {m!r} has {d} features, but {n_features[m]} were seen "
                    "at fit."
                )
    if feature_names is not None:
        for m, names in X.feature_names.items():
            seen = feature_names.get(m)
            if (seen is None or _default_names(seen) or _default_names(names)
                    or np.array_equal(np.asarray(seen, dtype=object), names)):
                continue
            raise ValueError(
                f"Modality {m!r} has columns {list(names)[:8]} but "
                f"{list(seen)[:8]} were seen at fit: columns are matched by position, "
                "so they must have the same names in the same order (reorder or "
                "rename them)."
            )
    if X.n_samples == 0:
        raise ValueError(
            f"Found 0 samples (modalities {list(X.modalities)}); at least 1 is required."
        )
    for m, a in X.items():
        if a.shape[1] == 0:
            raise ValueError(f"Modality {m!r} has 0 features; at least 1 is required.")
    if X.lazy and not scan_lazy:
        return X
    observed = []
    for m, (rows, all_nan, any_nan, inf) in zip(X.modalities, _scan_modalities(X)):
        partial = any_nan & ~all_nan
        if partial.any():
            raise ValueError(
                f"Modality {m!r} has rows that are only partly NaN: rows "
                f"{_first_rows(rows[partial] + row_offset)}. A missing modality is a "
                "whole row of NaN; impute single features first or mark the whole row "
                "missing."
            )
        if inf.any():
            raise ValueError(
                f"Modality {m!r} contains infinite values in rows "
                f"{_first_rows(rows[inf] + row_offset)}."
            )
        seen = np.ones(X.n_samples, dtype=bool)
        seen[rows[any_nan]] = False
        observed.append(seen)
    observed = np.column_stack(observed)
    if require_all_observed:
        never = [m for m, seen in zip(X.modalities, observed.any(axis=0)) if not seen]
        if never:
            raise ValueError(
                f"Modalities {never} are missing in every sample; nothing can be "
                "learnt from them. Drop them before fitting."
            )
    if not allow_empty_samples:
        empty = ~observed.any(axis=1)
        if empty.any():
            raise ValueError(
                f"{int(empty.sum())} samples have no observed modality: rows "
                f"{_first_rows(np.flatnonzero(empty) + row_offset)}. Drop them first."
            )
    X._observed_at_validation = observed  # see MultiModalData._validated_observed
    return X


def _scan_modalities(X):
    """``(rows, all_nan, any_nan, inf)`` of each modality: the rows that are not all
    finite, and whether each is all NaN, has a NaN, has an inf. Dask modalities are
    scanned block by block, all in one computation."""
    scans = [_scan_array(a) if isinstance(a, np.ndarray) else _scan_lazy(a)
             for a in X.values()]
    lazy = [j for j, scan in enumerate(scans) if not isinstance(scan, tuple)]
    if lazy:
        import dask

        for j, flags in zip(lazy, dask.compute(*[scans[j] for j in lazy])):
            rows = np.flatnonzero(flags[:, 1] | flags[:, 2])
            scans[j] = (rows, *flags[rows].T)
    return scans


def _scan_array(a):
    # A finite row sum (one BLAS product) proves a row finite; only the other rows
    # (NaN, inf, or finite values whose sum overflows) take the exact scans.
    with np.errstate(over="ignore", invalid="ignore"):
        row_sums = a @ np.ones(a.shape[1], dtype=a.dtype)
    rows = np.flatnonzero(~np.isfinite(row_sums))
    return (rows, *_nan_inf_rows(a, rows))


def _row_flags(block):
    """``(n, 3)`` bool: each row of ``block`` is all NaN, has a NaN, has an inf."""
    rows, *flags = _scan_array(block)
    out = np.zeros((block.shape[0], 3), dtype=bool)
    out[rows] = np.column_stack(flags)
    return out


def _scan_lazy(a):
    return a.map_blocks(_row_flags, dtype=bool, chunks=(a.chunks[0], (3,)))


def _nan_inf_rows(a, rows, block=1 << 16):
    """Whether each of ``a[rows]`` is all NaN, has a NaN, has an inf (three bool arrays).

    Scanned through reused buffers of about ``block`` values, which stay in cache
    (one copy of all the rows would cost more in page faults than the scans).
    """
    flags = np.empty((3, rows.size), dtype=bool)
    step = max(1, block // a.shape[1])
    buf = np.empty((min(step, rows.size), a.shape[1]), dtype=a.dtype)
    hit = np.empty(buf.shape, dtype=bool)
    for start in range(0, rows.size, step):
        part = rows[start:start + step]
        b, h, out = buf[:part.size], hit[:part.size], flags[:, start:start + part.size]
        np.take(a, part, axis=0, out=b, mode="clip")  # indices are valid
        np.isnan(b, out=h)
        h.all(axis=1, out=out[0])
        h.any(axis=1, out=out[1])
        np.isinf(b, out=h)
        h.any(axis=1, out=out[2])
    return flags[0], flags[1], flags[2]


def _default_names(names):
    """Whether ``names`` are the default ``"0", "1", ...`` of an array without columns."""
    return all(str(n) == str(j) for j, n in enumerate(names))


def check_modality_param(value, modalities, name):
    """Expand a per-modality hyperparameter (scalar or ``{modality: value}``) to a dict.

    Parameters
    ----------
    value : scalar or dict
    modalities : sequence of str
    name : str
        Parameter name, for error messages.

    Returns
    -------
    dict
        ``{modality: value}`` for every modality.
    """
    if isinstance(value, Mapping):
        unknown = [m for m in value if m not in modalities]
        absent = [m for m in modalities if m not in value]
        if unknown or absent:
            raise ValueError(
                f"Parameter {name!r}: unknown modalities {unknown}, missing modalities "
                f"{absent}; give a value for every modality {list(modalities)} or a "
                "single scalar."
            )
        return {m: value[m] for m in modalities}
    if isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(
            f"Parameter {name!r} takes a scalar or a dict {{modality: value}}, not a "
            f"{type(value).__name__}."
        )
    return {m: value for m in modalities}
