"""Keep a subset of modalities."""


from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._data import MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context

__all__ = ["ModalitySelector"]


class ModalitySelector(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """Keep only the named modalities (in the given order).

    Useful in a Pipeline to compare modality subsets with GridSearchCV, e.g.
    ``{"modalityselector__modalities": [["fou"], ["fou", "pix"]]}``.

    Parameters
    ----------
    modalities : list of str or None, default=None
        Modalities to keep; None keeps all.

    Attributes
    ----------
    modalities_ : tuple of str
        Input modality names.
    selected_ : tuple of str
        Output modality names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.compose import ModalitySelector
    >>> X = {"a": np.ones((2, 1)), "b": np.zeros((2, 3))}
    >>> ModalitySelector(["b"]).fit_transform(X).modalities
    ('b',)
    """

    _parameter_constraints = {"modalities": ["array-like", None]}

    def __init__(self, modalities=None):
        self.modalities = modalities

    @fit_context()
    def fit(self, X, y=None):
        """Check that the requested modalities exist.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        self
        """
        keep = self.modalities
        X, _ = self._validate_multimodal(X, reset=True)
        keep = X.modalities if keep is None else tuple(keep)
        unknown = [m for m in keep if m not in X.modalities]
        if unknown or not keep or len(set(keep)) != len(keep):
            raise ValueError(
                f"modalities must be distinct names among {list(X.modalities)}; got "
                f"{list(keep)}" + (f" (unknown: {unknown})." if unknown else ".")
            )
        self.selected_ = keep
        return self

    def transform(self, X):
        """Return the selected modalities.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        MultiModalData, ndarray or DataFrame
        """
        check_is_fitted(self, "selected_")
        X, _ = self._validate_multimodal(X, reset=False)
        return MultiModalData(
            {m: X[m] for m in self.selected_}, index=X.index,
            feature_names={m: X.feature_names[m] for m in self.selected_},
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the kept features, ``"modality__feature"``.

        Parameters
        ----------
        input_features : None
            Unused; present for API consistency.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "selected_")
        return self._join_feature_names(
            {m: self._modality_feature_names(m) for m in self.selected_}
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
