"""Apply a scikit-learn transformer to each modality, on its observed rows only."""

from collections.abc import Mapping

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._data import SEPARATOR, MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from ..utils._param_validation import HasMethods, StrOptions
from ..utils._validation import _first_rows

__all__ = ["ModalityTransformer"]


class ModalityTransformer(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """Fit one scikit-learn transformer per modality on the rows where it is observed.

    Missing rows stay missing (NaN) in the output, so the result can go on to an skmm
    imputer or embedder. Each transformer's parameters are reachable by name, e.g.
    ``GridSearchCV(pipe, {"modalitytransformer__text__n_components": [8, 16]})``.

    Parameters
    ----------
    transformers : dict
        ``{modality: transformer}``; a transformer may be ``"passthrough"`` or
        ``"drop"``. Modalities not named follow ``remainder``.
    remainder : {"passthrough", "drop"} or transformer, default="passthrough"
        What happens to modalities not named in ``transformers``; a transformer is
        cloned and fitted on each of them (``remainder=StandardScaler()`` scales every
        modality).

    Attributes
    ----------
    transformers_ : dict
        Fitted clones, ``"passthrough"`` or ``"drop"`` for every input modality.
    modalities_ : tuple of str
        Input modality names.
    n_features_per_modality_ : dict
        Input width of each modality.
    n_features_in_ : int
        Total input width.
    feature_names_in_ : ndarray of str
        ``"modality__feature"`` input names (multimodal input only).

    See Also
    --------
    sklearn.compose.ColumnTransformer : the same idea over column subsets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skmm import MultiModalData
    >>> from skmm.compose import ModalityTransformer
    >>> rng = np.random.default_rng(0)
    >>> X = MultiModalData(a=rng.normal(size=(20, 5)), b=rng.normal(size=(20, 3)))
    >>> ModalityTransformer({"a": PCA(2)}).fit_transform(X).n_features
    {'a': 2, 'b': 3}
    """

    _parameter_constraints = {
        "transformers": [Mapping, None],
        "remainder": [StrOptions({"passthrough", "drop"}), HasMethods(["transform"])],
    }

    def __init__(self, transformers=None, *, remainder="passthrough"):
        self.transformers = transformers
        self.remainder = remainder

    # --- nested parameters ("text__n_components") ----------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        if deep and isinstance(self.transformers, Mapping):
            for name, est in self.transformers.items():
                params[name] = est
                if hasattr(est, "get_params"):
                    for key, value in est.get_params(deep=True).items():
                        params[f"{name}{SEPARATOR}{key}"] = value
        return params

    def set_params(self, **params):
        if isinstance(self.transformers, Mapping):
            replaced = {k: params.pop(k) for k in list(params) if k in self.transformers}
            if replaced:
                self.transformers = {**self.transformers, **replaced}
        return super().set_params(**params)

    # --- fit / transform --------------------------------------------------------------
    def _check_transformers(self):
        """Check each entry of ``transformers`` (the dict itself is constrained)."""
        transformers = {} if self.transformers is None else self.transformers
        for m, est in transformers.items():
            if isinstance(est, str) and est not in ("passthrough", "drop"):
                raise ValueError(
                    f"Transformer for {m!r} must be an estimator, "
                    f"'passthrough' or 'drop'; got {est!r}."
                )
            if not isinstance(est, str) and not hasattr(est, "transform"):
                raise TypeError(
                    f"Transformer for {m!r} has no transform method: {est!r}."
                )
        return transformers

    def _check_params_vs_input(self, transformers, modalities):
        """``{modality: transformer}`` for the data's modalities."""
        unknown = [m for m in transformers if m not in modalities]
        if unknown:
            raise ValueError(
                f"transformers names modalities {unknown} that are not in the data "
                f"{list(modalities)}."
            )
        chosen = {m: transformers.get(m, self.remainder) for m in modalities}
        if all(isinstance(est, str) and est == "drop" for est in chosen.values()):
            raise ValueError(
                "transformers and remainder drop every modality; the output would be "
                "empty."
            )
        return chosen

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit each modality's transformer on the rows where that modality is observed.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : array-like of shape (n_samples,), optional
            Passed to each transformer, restricted to the same rows.

        Returns
        -------
        self
        """
        self._fit(X, y)
        return self

    def _fit(self, X, y):
        transformers = self._check_transformers()
        X, _ = self._validate_multimodal(X, reset=True)
        if y is not None:
            y = np.asarray(y)
            if y.shape[:1] != (X.n_samples,):
                raise ValueError(
                    f"y has {y.shape[0] if y.ndim else 0} samples but X has "
                    f"{X.n_samples}; they must have the same number of rows."
                )
        chosen = self._check_params_vs_input(transformers, X.modalities)
        observed = X.observed
        self.transformers_ = {}
        for j, (m, est) in enumerate(chosen.items()):
            if isinstance(est, str):
                self.transformers_[m] = est
                continue
            rows = observed[:, j]
            self.transformers_[m] = clone(est).fit(
                X[m][rows], None if y is None else y[rows]
            )

    def transform(self, X):
        """Transform each modality's observed rows; missing rows stay NaN.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        MultiModalData, ndarray or DataFrame
            Same kind as the input (see :class:`~skmm.base.MultiModalTransformerMixin`).
        """
        check_is_fitted(self, "transformers_")
        X, _ = self._validate_multimodal(X, reset=False)
        observed = X._validated_observed()
        out = {}
        for j, (m, est) in enumerate(self.transformers_.items()):
            if est == "drop":
                continue
            if est == "passthrough":
                out[m] = X[m]
                continue
            rows = observed[:, j]
            block = est.transform(X[m][rows]) if rows.any() else None
            if block is None:
                width = len(self._modality_names_out(m, est))
                out[m] = np.full((X.n_samples, width), np.nan)
                continue
            block = self._check_block(block, m, est, int(rows.sum()))
            bad = ~np.isfinite(block).all(axis=1)
            if bad.any():
                raise ValueError(
                    f"The transformer of modality {m!r} ({type(est).__name__}) returned "
                    "NaN or infinite values for finite input in rows "
                    f"{_first_rows(np.flatnonzero(rows)[bad])}; check the scale of "
                    "those rows (values near the float range overflow in many "
                    "transformers)."
                )
            full = np.full((X.n_samples, block.shape[1]), np.nan, dtype=block.dtype)
            full[rows] = block
            out[m] = full
        if not out:
            raise ValueError("Every modality was dropped; the output would be empty.")
        return MultiModalData(out, index=X.index, feature_names={
            m: self._modality_names_out(m, self.transformers_[m]) for m in out
        })

    @staticmethod
    def _check_block(block, modality, est, n_rows):
        """A transformer's output as a 2-D float array (DataFrames, under a pandas
        output config, and sparse matrices included), or a ValueError naming the
        modality."""
        if sparse.issparse(block):
            block = block.toarray()
        elif hasattr(block, "to_numpy"):
            block = block.to_numpy()
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[0] != n_rows or block.shape[1] == 0:
            raise ValueError(
                f"The transformer of modality {modality!r} ({type(est).__name__}) "
                f"returned shape {block.shape} for {n_rows} rows; a 2-D array with one "
                "row per input row and at least one column is needed."
            )
        if block.dtype.kind not in "fiub":
            raise TypeError(
                f"The transformer of modality {modality!r} ({type(est).__name__}) "
                f"returned non-numeric values (dtype {block.dtype})."
            )
        return block if block.dtype.kind == "f" else block.astype(np.float64)

    def _modality_names_out(self, modality, est):
        names_in = self._modality_feature_names(modality)
        if est == "passthrough":
            return np.asarray(names_in, dtype=object)
        if hasattr(est, "get_feature_names_out"):
            return np.asarray(est.get_feature_names_out(names_in), dtype=object)
        width = np.shape(est.transform(np.zeros((1, len(names_in)))))[1]
        return np.asarray([str(j) for j in range(width)], dtype=object)

    def get_feature_names_out(self, input_features=None):
        """Output names ``"modality__feature"`` (feature names from each transformer).

        Parameters
        ----------
        input_features : None
            Unused; present for API consistency.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "transformers_")
        return self._join_feature_names(
            {
                m: self._modality_names_out(m, est)
                for m, est in self.transformers_.items()
                if est != "drop"
            }
        )
