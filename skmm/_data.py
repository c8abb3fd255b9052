"""The multimodal container: one 2-D array per modality, rows aligned across modalities."""

from collections.abc import Mapping
import numbers

import numpy as np

__all__ = ["MultiModalData"]

SEPARATOR = "__"


def _is_dataframe(obj):
    return hasattr(obj, "columns") and hasattr(obj, "iloc")


def _as_2d_float(name, values):
    """Return ``(array, feature_names)`` for one modality; no copy for float arrays."""
    feature_names = None
    if _is_dataframe(values):
        feature_names = np.asarray([str(c) for c in values.columns], dtype=object)
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(
            f"Modality {name!r} must be a 2-D array of shape (n_samples, n_features); "
            f"got {array.ndim}-D with shape {array.shape}. Reshape a single feature "
            "with array.reshape(-1, 1)."
        )
    if array.dtype.kind not in "fiub":
        if array.dtype.kind == "c":
            raise TypeError(f"Modality {name!r} has complex dtype; skmm needs real numbers.")
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Modality {name!r} has non-numeric dtype {array.dtype}; "
                "convert it to float first."
            ) from exc
    elif array.dtype.kind != "f" or array.dtype.itemsize < 4:
        array = array.astype(np.float64)
    if feature_names is None:
        feature_names = np.asarray([str(j) for j in range(array.shape[1])], dtype=object)
    return array, feature_names


class MultiModalData(Mapping):
    """Aligned per-modality feature arrays in which whole rows may be missing.

    A mapping ``{modality name: 2-D float array (n_samples, d_m)}``; a modality is
    *missing* for a sample when its whole row is NaN. The container also behaves like a
    2-D array of shape ``(n_samples, sum d_m)`` so that scikit-learn's splitters,
    ``cross_val_score``, ``GridSearchCV`` and plain estimators accept it.

    Parameters
    ----------
    data : mapping, MultiModalData or list of arrays, optional
        ``{name: array or DataFrame}``; a list or tuple of arrays gets names
        ``m0, m1, ...``. DataFrame column names are kept as feature names.
    **modalities : array-like
        Further modalities as keyword arguments.

    Attributes
    ----------
    modalities : tuple of str
        Modality names, in order.
    n_features : dict
        Width ``d_m`` of each modality.
    feature_names : dict
        Feature names of each modality (DataFrame columns, else ``"0", "1", ...``).
    observed : ndarray of shape (n_samples, n_modalities), dtype bool
        Whether each modality is present (its row is not all NaN) for each sample.

    Notes
    -----
    ``len(X)`` is the number of samples (as for arrays), while iterating yields the
    modality names (as for mappings). ``X[name]`` returns a modality's array,
    ``X[rows]`` or ``X[rows, ...]`` a new container with those rows; indexing columns
    raises ``TypeError``. Arrays are stored without copying: integer and boolean inputs
    are converted to float64, float32 is kept.

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
    """

    def __init__(self, data=None, /, **modalities):
        if isinstance(data, MultiModalData):
            items = list(data._arrays.items())
            names = dict(data.feature_names)
        else:
            if data is None:
                items = []
            elif isinstance(data, Mapping):
                items = list(data.items())
            elif isinstance(data, (list, tuple)):
                items = [(f"m{i}", a) for i, a in enumerate(data)]
            else:
                raise TypeError(
                    "MultiModalData expects a mapping {modality: array}, a list of "
                    f"arrays or keyword arrays; got {type(data).__name__}. For one "
                    "stacked array use MultiModalData.from_array(X, widths=...)."
                )
            names = {}
        for key, value in modalities.items():
            if any(key == k for k, _ in items):
                raise ValueError(f"Modality {key!r} given twice.")
            items.append((key, value))
        if not items:
            raise ValueError("MultiModalData needs at least one modality; got none.")

        arrays = {}
        for key, value in items:
            if not isinstance(key, str):
                raise TypeError(f"Modality names must be str; got {key!r}.")
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

    @classmethod
    def from_array(cls, X, widths):
        """Split a horizontally stacked 2-D array into modalities.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum of widths)
        widths : dict
            ``{modality: width}`` in column order.

        Returns
        -------
        MultiModalData
        """
        array, _ = _as_2d_float("X", X)
        if not isinstance(widths, Mapping) or not widths:
            raise TypeError("widths must be a non-empty dict {modality: n_features}.")
        total = sum(int(w) for w in widths.values())
        if total != array.shape[1]:
            raise ValueError(
                f"widths add up to {total} columns but X has {array.shape[1]}."
            )
        bounds = np.cumsum([0] + [int(w) for w in widths.values()])
        return cls({k: array[:, a:b] for k, a, b in zip(widths, bounds[:-1], bounds[1:])})

    @classmethod
    def from_frame(cls, frame):
        """Split a DataFrame with ``"modality__feature"`` columns into modalities.

        This is the inverse of the pandas output of skmm's container-returning
        transformers (``set_output(transform="pandas")``).
        """
        groups = {}
        for j, column in enumerate(frame.columns):
            modality, _, feature = str(column).partition(SEPARATOR)
            groups.setdefault(modality, ([], []))
            groups[modality][0].append(j)
            groups[modality][1].append(feature)
        values = frame.to_numpy()
        out = cls({m: values[:, cols] for m, (cols, _) in groups.items()})
        for m, (_, feats) in groups.items():
            out.feature_names[m] = np.asarray(feats, dtype=object)
        return out

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
            if len(key) != 2 or not (
                key[1] is Ellipsis or key[1] == slice(None)
            ):
                raise TypeError(
                    "MultiModalData supports row indexing only (X[rows] or "
                    "X[rows, ...]); select a modality with X[name]."
                )
            key = key[0]
        return self._take_rows(key)

    def _take_rows(self, rows):
        if isinstance(rows, numbers.Integral) and not isinstance(rows, bool):
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
    def observed(self):
        return np.column_stack(
            [~np.isnan(a).all(axis=1) for a in self._arrays.values()]
        ).reshape(self.n_samples, len(self._arrays))

    def __array__(self, dtype=None, copy=None):
        stacked = np.hstack(list(self._arrays.values()))
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
        out = type(self)({k: a.copy() for k, a in self._arrays.items()})
        out.feature_names = dict(self.feature_names)
        return out

    def __repr__(self):
        n = self.n_samples
        missing = 1.0 - self.observed.mean(axis=0) if n else np.zeros(len(self._arrays))
        width = max(len(k) for k in self._arrays)
        lines = [f"MultiModalData: {n} samples x {len(self._arrays)} modalities"]
        for (k, a), rate in zip(self._arrays.items(), missing):
            lines.append(
                f"  {k:<{width}}  {a.shape[1]:>5} features  {a.dtype}  "
                f"{100 * rate:5.1f}% missing"
            )
        return "\n".join(lines)
