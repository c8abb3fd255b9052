"""The multimodal container: one 2-D array per modality, rows aligned across modalities."""

from collections.abc import Mapping
import numbers

import numpy as np
from scipy import sparse

__all__ = ["MultiModalData"]

SEPARATOR = "__"
# Integers beyond this magnitude are not all exactly representable in float64.
_MAX_EXACT_INTEGER = 2**53


def _is_dataframe(obj):
    return hasattr(obj, "columns") and hasattr(obj, "iloc") and hasattr(obj, "index")


def _is_torch_tensor(obj):
    return type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach")


def is_dask_array(obj):
    """Whether ``obj`` is a ``dask.array.Array`` (without importing dask)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "chunks")


def _dask_2d_float(name, values):
    """A Dask modality, checked from its metadata only and left lazy: 2-D, real
    floats (bool and integers up to 32 bits become float64, exactly), one column block,
    known row blocks. Its values are checked where they are computed."""
    if values.ndim != 2:
        raise ValueError(
            f"Modality {name!r} must be a 2-D array of shape (n_samples, n_features); "
            f"got a {values.ndim}-D Dask array."
        )
    dtype = values.dtype
    if dtype.kind in "iu" and dtype.itemsize > 4:
        raise TypeError(
            f"Modality {name!r} is a Dask array of {dtype}: its values beyond 2**53 "
            "would change in float64 and cannot be checked without computing them; "
            "convert it first (a.astype('float64'))."
        )
    if dtype.kind in "biu" or (dtype.kind == "f" and dtype.itemsize < 4):
        values = values.astype(np.float64)
    elif dtype.kind != "f" or dtype.itemsize > 8:
        raise TypeError(
            f"Modality {name!r} is a Dask array of {dtype}; skmm needs float32 or "
            "float64 (a.astype('float64'))."
        )
    if any(np.isnan(c) for c in values.chunks[0]):
        raise ValueError(
            f"Modality {name!r} is a Dask array with unknown row blocks; call "
            "a.compute_chunk_sizes() first."
        )
    if values.numblocks[1] > 1:  # whole rows in every block
        values = values.rechunk({1: -1})
    names = np.asarray([str(j) for j in range(values.shape[1])], dtype=object)
    return values, names


def check_modality_name(name):
    """Raise unless ``name`` survives the ``"modality__feature"`` round trip.

    Names are non-empty strings that neither contain the separator ``"__"`` nor end
    in ``"_"`` (``"img_" + "__" + "f"`` would read back as modality ``"img"``).
    """
    if not isinstance(name, str):
        raise TypeError(f"Modality names must be str; got {name!r}.")
    if not name or SEPARATOR in name or name.endswith("_"):
        raise ValueError(
            f"Modality name {name!r} is not supported: names must be non-empty, must "
            f"not contain {SEPARATOR!r} and must not end in '_' (skmm's column names "
            f"are 'modality{SEPARATOR}feature' and must split back losslessly). "
            "Rename the modality."
        )


def _check_frame_dtypes(name, frame):
    """Refuse a DataFrame's date/time columns, and integers float64 would round."""
    temporal = sorted({str(t) for t in frame.dtypes if getattr(t, "kind", "") in "mM"})
    if temporal:
        raise TypeError(
            f"Modality {name!r} has date or time columns ({temporal}); convert them "
            "to numbers first."
        )
    integer = [j for j, t in enumerate(frame.dtypes) if getattr(t, "kind", "") in "iu"]
    if integer:
        columns = frame.iloc[:, integer]
        extremes = [columns.max().max(), columns.min().min()]
        extremes = [int(v) for v in extremes if v is not None and v == v]  # not NA
        _check_exact_integers(name, np.asarray(extremes, dtype=object))


def _frame_to_array(name, frame):
    """A DataFrame's values as a float array; pandas' nullable dtypes give NaN for NA."""
    dtypes = list(frame.dtypes)
    _check_frame_dtypes(name, frame)
    if all(isinstance(t, np.dtype) and t.kind in "fiub" for t in dtypes):
        return frame.to_numpy()
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        try:  # object columns holding pd.NA: replace it before the float conversion
            values = frame.to_numpy(dtype=object, na_value=np.nan).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Modality {name!r} has columns of non-numeric dtype "
                f"({sorted({str(t) for t in dtypes})}); convert them to numbers first."
            ) from exc
    objects = [j for j, t in enumerate(dtypes) if t == object]
    if objects:
        _check_exact_objects(
            name, frame.iloc[:, objects].to_numpy(dtype=object, na_value=np.nan),
            values[:, objects],
        )
    return values


def _check_exact_integers(name, array):
    if array.size and (
        array.max() > _MAX_EXACT_INTEGER or array.min() < -_MAX_EXACT_INTEGER
    ):
        raise ValueError(
            f"Modality {name!r} holds integers of magnitude above 2**53, which float64 "
            "cannot represent exactly (observed values would change). Rescale them or "
            "convert them to float yourself."
        )


def _check_exact_objects(name, objects, converted=None):
    """Refuse object values that float64 does not hold exactly (large Python ints,
    numeric strings, Decimals): the conversion would change an observed value."""
    if not objects.size:
        return
    floats = objects.astype(np.float64) if converted is None else converted
    changed = (objects != floats) & ~np.isnan(floats)
    if np.any(changed):
        example = objects[changed][0]
        raise ValueError(
            f"Modality {name!r} holds values that float64 cannot represent exactly "
            f"(e.g. {example!r} of type {type(example).__name__}); convert them to "
            "float yourself (integers beyond 2**53 and strings are not converted "
            "silently)."
        )


def _check_exact_list(name, values):
    """:func:`_check_exact_objects` on nested lists, before numpy rounds mixed ints and
    floats to float64; lists that are not numbers are left to the caller's checks."""
    try:
        objects = np.asarray(values, dtype=object)
        floats = objects.astype(np.float64)
    except (TypeError, ValueError):
        return
    _check_exact_objects(name, objects, floats)


def _as_2d_float(name, values):
    """Return ``(array, feature_names)`` for one modality; no copy for float arrays.

    Accepts array-likes, DataFrames (nullable dtypes included: ``pd.NA`` is missing),
    masked arrays (masked entries are missing) and torch tensors. Integers and bools
    become float64; float32 and float64 are kept.
    """
    feature_names = None
    if is_dask_array(values):
        return _dask_2d_float(name, values)
    if sparse.issparse(values):
        raise TypeError(
            f"Modality {name!r} is a scipy sparse matrix; skmm needs dense arrays "
            "(pass X.toarray())."
        )
    if _is_dataframe(values):
        feature_names = np.asarray([str(c) for c in values.columns], dtype=object)
        values = _frame_to_array(name, values)
    elif _is_torch_tensor(values):
        values = values.detach().cpu()
        try:
            values = values.numpy()
        except TypeError:  # bfloat16 and other dtypes numpy lacks
            values = values.double().numpy()
    elif isinstance(values, (list, tuple)):
        _check_exact_list(name, values)
    mask = np.ma.getmask(values) if np.ma.isMaskedArray(values) else np.ma.nomask
    array = np.asarray(values)
    if type(array) is not np.ndarray:  # np.matrix and other subclasses
        array = array.view(np.ndarray)
    if array.ndim != 2:
        raise ValueError(
            f"Modality {name!r} must be a 2-D array of shape (n_samples, n_features); "
            f"got {array.ndim}-D with shape {array.shape}. Reshape a single feature "
            "with array.reshape(-1, 1)."
        )
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"Modality {name!r} has complex dtype; skmm needs real numbers.")
    if kind not in "fiubO":
        raise TypeError(
            f"Modality {name!r} has non-numeric dtype {array.dtype}; convert it to "
            "float first."
        )
    unmasked = array if mask is np.ma.nomask else array[~np.broadcast_to(mask, array.shape)]
    if kind in "iu":
        _check_exact_integers(name, unmasked)
    if kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Modality {name!r} has non-numeric dtype {array.dtype}; "
                "convert it to float first."
            ) from exc
        _check_exact_objects(name, unmasked, array if mask is np.ma.nomask else None)
    elif kind != "f" or array.dtype.itemsize < 4:
        array = array.astype(np.float64)
    elif array.dtype.itemsize > 8:
        wide, array = array, array.astype(np.float64)
        if not np.array_equal(array.astype(wide.dtype), wide, equal_nan=True):
            raise ValueError(
                f"Modality {name!r} has {wide.dtype} values that float64 cannot hold "
                "exactly; convert it to float64 first."
            )
    if mask is not np.ma.nomask and mask.any():
        array = array.copy()
        array[np.broadcast_to(mask, array.shape)] = np.nan
    if feature_names is None:
        feature_names = np.asarray([str(j) for j in range(array.shape[1])], dtype=object)
    return array, feature_names


def _align_on_index(items):
    """Align per-modality DataFrames on their row index.

    Returns ``(items, index)``: when the frames' indexes differ they are reindexed on
    the union of their indexes, so a modality's frame may simply lack the rows of
    samples that miss it (those become NaN rows). The order is that of the first frame
    holding every sample, else of first appearance. Plain
    arrays have no index: beside frames whose indexes differ they are an error, as
    their rows cannot be matched. ``index`` is None when no modality is a DataFrame.
    """
    frames = [(k, v) for k, v in items if _is_dataframe(v)]
    if not frames:
        return items, None
    for k, v in frames:
        if not v.index.is_unique:
            duplicated = list(v.index[v.index.duplicated()][:5])
            raise ValueError(
                f"Modality {k!r} has duplicate row index labels {duplicated}; rows are "
                "matched across modalities by index, so labels must be unique."
            )
    index = frames[0][1].index
    if all(v.index.equals(index) for _, v in frames):
        return items, index
    plain = [k for k, v in items if not _is_dataframe(v)]
    if plain:
        raise ValueError(
            f"Modalities {plain} have no row index, while the DataFrames of the other "
            "modalities have different indexes, so their rows cannot be matched. Give "
            "every modality as a DataFrame indexed by sample, or reindex the frames "
            "to one index."
        )
    for _, v in frames[1:]:
        index = index.append(v.index.difference(index, sort=False))
    # A frame holding every sample fixes the row order (so labels given in that
    # frame's order, such as ``y``, stay aligned).
    index = next((v.index for _, v in frames if len(v.index) == len(index)), index)
    for k, v in frames:  # reindexing turns integer columns into float64
        _check_frame_dtypes(k, v)
    return [(k, v.reindex(index)) for k, v in items], index


class MultiModalData(Mapping):
    """Aligned per-modality feature arrays in which whole rows may be missing.

    A mapping ``{modality name: 2-D float array (n_samples, d_m)}``; a modality is
    *missing* for a sample when its whole row is NaN. The container also behaves like a
    2-D array of shape ``(n_samples, sum d_m)`` so that scikit-learn's splitters,
    ``cross_val_score``, ``GridSearchCV``, ``ColumnTransformer`` and plain estimators
    accept it.

    Parameters
    ----------
    data : mapping, MultiModalData or list of arrays, optional
        ``{name: array-like or DataFrame}``; a list or tuple of arrays gets names
        ``m0, m1, ...``. DataFrame column names are kept as feature names, pandas'
        nullable dtypes are accepted (``pd.NA`` is missing), masked entries of numpy
        masked arrays are missing, torch tensors are copied to the CPU.
    feature_names : dict, optional
        ``{modality: names}`` for some or all modalities, overriding DataFrame columns
        and the default ``"0", "1", ...``; each needs one name per feature.
    index : pandas.Index or array-like, optional
        Row labels (one per sample), overriding those of DataFrame modalities.
    **modalities : array-like
        Further modalities as keyword arguments (so no modality given this way may be
        called ``feature_names`` or ``index``; pass such names in ``data``).

    Attributes
    ----------
    modalities : tuple of str
        Modality names, in order.
    n_features : dict
        Width ``d_m`` of each modality.
    feature_names : dict
        Feature names of each modality (DataFrame columns, else ``"0", "1", ...``).
    observed : ndarray of shape (n_samples, n_modalities), dtype bool
        Whether each modality is observed (its row is not all NaN) for each sample.
    index : pandas.Index or None
        Row labels when modalities were given as DataFrames, else None. Kept by row
        indexing and by skmm's pandas output.

    Notes
    -----
    **Rows are samples, matched by index.** When modalities are DataFrames whose
    indexes differ (another order, or a frame that lacks the rows of samples missing
    that modality), they are aligned on the union of their indexes; rows a frame lacks
    are missing. Rows follow the order of the first frame that holds every sample (else
    the order of first appearance), so labels given in that order stay aligned. Index
    labels must be unique. Plain arrays beside frames with differing indexes raise,
    since their rows cannot be matched.

    ``len(X)`` is the number of samples (as for arrays), while iterating yields the
    modality names (as for mappings). ``X[name]`` returns a modality's array;
    ``X[rows]``, ``X[rows, ...]`` or ``X[rows, :]`` a new container with those rows;
    any other ``X[rows, columns]`` indexes the horizontal stack and returns an ndarray,
    as the stack would (this is how ``ColumnTransformer`` selects columns). Arrays are
    stored without copying: integer and boolean inputs are converted to float64,
    float32 is kept. Integers beyond 2**53 (which float64 would round) raise.

    Modality names must be non-empty strings that neither contain ``"__"`` nor end in
    ``"_"``, so that ``"modality__feature"`` column names split back losslessly.

    A plain ``dict`` cannot go through scikit-learn's splitters (they would count its
    keys); wrap it: ``cross_val_score(est, MultiModalData(d), y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm import MultiModalData
    >>> X = MultiModalData(image=np.ones((3, 2)), text=np.zeros((3, 4)))
    >>> X.shape
    (3, 6)
    >>> X[[0, 2]]["text"].shape
    (2, 4)
    >>> X[:, 1:3].shape
    (3, 2)
    """

    def __init__(self, data=None, /, *, feature_names=None, index=None, **modalities):
        if isinstance(data, MultiModalData):
            items = list(data._arrays.items())
            names = dict(data.feature_names)
            labels = data.index
        else:
            if data is None:
                items = []
            elif isinstance(data, Mapping):
                items = list(data.items())
            elif isinstance(data, (list, tuple)):
                items = [(f"m{i}", a) for i, a in enumerate(data)]
            else:
                hint = (
                    "For a DataFrame use MultiModalData.from_frame(df) (columns "
                    "'modality__feature', MultiIndex columns or groups={modality: "
                    "[columns]})"
                    if _is_dataframe(data)
                    else "For one stacked array use MultiModalData.from_array(X, "
                    "widths={modality: n_features})"
                )
                raise TypeError(
                    "MultiModalData expects a mapping {modality: array}, a list of "
                    f"arrays or keyword arrays; got {type(data).__name__}. {hint}."
                )
            names, labels = {}, None
        for key, value in modalities.items():
            if any(key == k for k, _ in items):
                raise ValueError(f"Modality {key!r} given twice.")
            items.append((key, value))
        if not items:
            raise ValueError("MultiModalData needs at least one modality; got none.")
        for key, _ in items:
            if key not in names:
                check_modality_name(key)
        if not names:
            items, labels = _align_on_index(items)

        arrays = {}
        for key, value in items:
            if key in names:
                arrays[key] = value
                continue
            arrays[key], names[key] = _as_2d_float(key, value)
        counts = {k: a.shape[0] for k, a in arrays.items()}
        if len(set(counts.values())) > 1:
            raise ValueError(
                "All modalities must have the same number of rows; got "
                + ", ".join(f"{k}: {n}" for k, n in counts.items())
                + "."
            )
        self._arrays = arrays
        self.feature_names = names
        self.index = labels
        if feature_names is not None:
            self._set_feature_names(feature_names)
        if index is not None:
            self._set_index(index)

    def _set_feature_names(self, feature_names):
        if not isinstance(feature_names, Mapping):
            raise TypeError(
                "feature_names must be a dict {modality: names}; got "
                f"{type(feature_names).__name__}."
            )
        for m, names in feature_names.items():
            if m not in self._arrays:
                raise ValueError(
                    f"feature_names names modality {m!r}, which is not one of "
                    f"{list(self._arrays)}."
                )
            names = np.asarray([str(n) for n in names], dtype=object)
            if names.shape != (self._arrays[m].shape[1],):
                raise ValueError(
                    f"feature_names[{m!r}] has {names.size} names for the "
                    f"{self._arrays[m].shape[1]} features of modality {m!r}."
                )
            self.feature_names[m] = names

    def _set_index(self, index):
        if not hasattr(index, "is_unique"):  # array-like: a pandas Index, if there
            import pandas as pd

            index = pd.Index(index)
        if len(index) != self.n_samples:
            raise ValueError(
                f"index has {len(index)} labels for {self.n_samples} samples."
            )
        self.index = index

    @classmethod
    def from_array(cls, X, widths):
        """Split a horizontally stacked 2-D array into modalities.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum of widths)
        widths : dict
            ``{modality: width}`` in column order (e.g. a fitted estimator's
            ``n_features_per_modality_``).

        Returns
        -------
        MultiModalData
        """
        if not isinstance(widths, Mapping) or not widths:
            raise TypeError("widths must be a non-empty dict {modality: n_features}.")
        array, _ = _as_2d_float("X", X)
        total = sum(int(w) for w in widths.values())
        if total != array.shape[1]:
            raise ValueError(
                f"widths add up to {total} columns but X has {array.shape[1]}."
            )
        bounds = np.cumsum([0] + [int(w) for w in widths.values()])
        return cls(
            {k: array[:, a:b] for k, a, b in zip(widths, bounds[:-1], bounds[1:])},
            index=X.index if _is_dataframe(X) else None,
        )

    @classmethod
    def from_frame(cls, frame, groups=None):
        """Split a wide DataFrame into modalities; the row index is kept.

        Parameters
        ----------
        frame : pandas.DataFrame
        groups : dict, optional
            ``{modality: [column labels]}``; every column must belong to exactly one
            group. Without it, MultiIndex columns give one modality per first-level
            label, and otherwise every column must be named ``"modality__feature"``
            (the pandas output of skmm's transformers).

        Returns
        -------
        MultiModalData
        """
        if not _is_dataframe(frame):
            raise TypeError(
                f"from_frame expects a pandas DataFrame; got {type(frame).__name__}."
            )
        columns = list(frame.columns)
        if groups is not None:
            if not isinstance(groups, Mapping) or not groups:
                raise TypeError("groups must be a non-empty dict {modality: [columns]}.")
            position = {c: j for j, c in enumerate(columns)}
            if len(position) != len(columns):
                raise ValueError("The frame's column labels must be unique.")
            spans, seen = {}, set()
            for modality, labels in groups.items():
                single = isinstance(labels, (str, numbers.Number))
                labels = [labels] if single else list(labels)
                unknown = [c for c in labels if c not in position]
                twice = [c for c in labels if c in seen]
                if unknown or twice or not labels:
                    raise ValueError(
                        f"groups[{modality!r}]: "
                        + (f"unknown columns {unknown}" if unknown
                           else f"columns {twice} are in another group" if twice
                           else "no columns")
                        + "."
                    )
                seen.update(labels)
                spans[modality] = ([position[c] for c in labels], [str(c) for c in labels])
            rest = [c for c in columns if c not in seen]
            if rest:
                raise ValueError(
                    f"Columns {rest[:10]} are in no group of groups=; drop them from the "
                    "frame or add them to a group."
                )
        elif getattr(frame.columns, "nlevels", 1) > 1:
            spans = {}
            for j, label in enumerate(columns):
                modality = str(label[0])
                feature = "_".join(str(part) for part in label[1:])
                spans.setdefault(modality, ([], []))
                spans[modality][0].append(j)
                spans[modality][1].append(feature)
        else:
            plain = [c for c in columns if not (isinstance(c, str) and SEPARATOR in c)]
            if plain or not columns:
                raise ValueError(
                    f"Cannot tell the modalities of columns {plain[:5]}: name columns "
                    f"'modality{SEPARATOR}feature', use MultiIndex columns (modality "
                    "first), or pass groups={modality: [columns]}. For a single "
                    "modality use MultiModalData({'name': frame})."
                )
            spans = {}
            for j, label in enumerate(columns):
                modality, _, feature = label.partition(SEPARATOR)
                spans.setdefault(modality, ([], []))
                spans[modality][0].append(j)
                spans[modality][1].append(feature)
        return cls(
            {m: frame.iloc[:, cols] for m, (cols, _) in spans.items()},
            feature_names={m: features for m, (_, features) in spans.items()},
        )

    # --- mapping interface -------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._arrays[key]
            except KeyError:
                raise KeyError(
                    f"No modality {key!r}; modalities are {list(self._arrays)}."
                ) from None
        if isinstance(key, tuple):
            whole_rows = len(key) == 2 and (
                key[1] is Ellipsis or (isinstance(key[1], slice) and key[1] == slice(None))
            )
            if not whole_rows:
                # Columns of the horizontal stack, exactly as numpy indexes it.
                return np.asarray(self)[key]
            key = key[0]
        return self._take_rows(key)

    def _take_rows(self, rows):
        if isinstance(rows, numbers.Integral) and not isinstance(rows, (bool, np.bool_)):
            rows = [int(rows)]
        elif not isinstance(rows, slice):
            rows = np.asarray(rows)
            if rows.dtype.kind not in "iub" and rows.size:
                raise TypeError(
                    "Rows must be selected with integers, a boolean mask or a slice; "
                    f"got dtype {rows.dtype}. Select a modality with X[name]."
                )
            if rows.dtype.kind == "b" and rows.shape != (self.n_samples,):
                raise IndexError(
                    f"Boolean row mask has shape {rows.shape}; expected "
                    f"({self.n_samples},)."
                )
            if rows.ndim != 1:
                raise TypeError("Row indices must be one-dimensional.")
            if not rows.size:
                rows = rows.astype(np.intp)
        out = object.__new__(type(self))
        out._arrays = {k: a[rows] for k, a in self._arrays.items()}
        out.feature_names = dict(self.feature_names)
        out.index = None if self.index is None else self.index[rows]
        return out

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return self.n_samples

    def __contains__(self, key):
        return key in self._arrays

    def keys(self):
        return self._arrays.keys()

    def values(self):
        return self._arrays.values()

    def items(self):
        return self._arrays.items()

    def __eq__(self, other):
        if not isinstance(other, MultiModalData) or self.modalities != other.modalities:
            return False
        return all(
            a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            for a, b in zip(self.values(), other.values())
        )

    __hash__ = None

    def __setstate__(self, state):
        state.setdefault("index", None)  # containers pickled before rows had labels
        self.__dict__.update(state)

    # --- array-like interface ----------------------------------------------------
    @property
    def modalities(self):
        return tuple(self._arrays)

    @property
    def n_samples(self):
        return next(iter(self._arrays.values())).shape[0]

    @property
    def n_features(self):
        return {k: a.shape[1] for k, a in self._arrays.items()}

    @property
    def shape(self):
        return (self.n_samples, sum(a.shape[1] for a in self._arrays.values()))

    @property
    def ndim(self):
        return 2

    @property
    def dtype(self):
        return np.result_type(*self._arrays.values())

    @property
    def lazy(self):
        """Whether some modality is a Dask array, computed block by block on demand
        (see :ref:`out_of_core`)."""
        return any(is_dask_array(a) for a in self._arrays.values())

    @property
    def observed(self):
        """Boolean ``(n_samples, n_modalities)`` mask: which rows are not all NaN
        (a NumPy array, computed from lazy modalities too)."""
        return np.column_stack(
            [np.asarray(~np.isnan(a).all(axis=1)) for a in self._arrays.values()]
        ).reshape(self.n_samples, len(self._arrays))

    def _validated_observed(self):
        """:attr:`observed`, handed over once by the validation that created ``self``.

        :func:`~skmm.utils._validation.check_multimodal` leaves the mask it computed on
        the container it returns; the first call takes it (and forgets it, so a later
        change to the arrays cannot make it stale), later calls compute it afresh.
        """
        mask = self.__dict__.pop("_observed_at_validation", None)
        return self.observed if mask is None else mask

    def __array__(self, dtype=None, copy=None):
        stacked = np.hstack([np.asarray(a) for a in self._arrays.values()])  # computed
        return stacked if dtype is None else stacked.astype(dtype, copy=False)

    def to_numpy(self):
        """Horizontal stack of the modalities, in modality order."""
        return np.asarray(self)

    def get_feature_names(self):
        """Flat ``"modality__feature"`` names of the stacked columns."""
        return np.asarray(
            [f"{m}{SEPARATOR}{f}" for m in self.modalities for f in self.feature_names[m]],
            dtype=object,
        )

    def copy(self):
        """Deep copy (the arrays are copied)."""
        return type(self)(
            {k: a.copy() for k, a in self._arrays.items()},
            feature_names=self.feature_names, index=self.index,
        )

    def __repr__(self):
        n = self.n_samples
        width = max(len(k) for k in self._arrays)
        lines = [f"MultiModalData: {n} samples x {len(self._arrays)} modalities"]
        if self.lazy:  # a repr must not read the data
            for k, a in self._arrays.items():
                blocks = f"Dask, {len(a.chunks[0])} row blocks" if is_dask_array(a) else ""
                lines.append(f"  {k:<{width}}  {a.shape[1]:>5} features  {a.dtype}  "
                             f"{blocks}".rstrip())
            return "\n".join(lines)
        missing = 1.0 - self.observed.mean(axis=0) if n else np.zeros(len(self._arrays))
        for (k, a), rate in zip(self._arrays.items(), missing):
            lines.append(
                f"  {k:<{width}}  {a.shape[1]:>5} features  {a.dtype}  "
                f"{100 * rate:5.1f}% missing"
            )
        return "\n".join(lines)
