"""Presence bits of each modality, to append to features or embeddings."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from ..utils._param_validation import StrOptions

__all__ = ["MissingModalityIndicator"]


class MissingModalityIndicator(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """Binary indicators of which modalities each sample has.

    The multimodal analogue of :class:`sklearn.impute.MissingIndicator`: one column per
    modality, 1.0 where the modality is observed and 0.0 where its row is missing
    (or the reverse with ``presence=False``). Combine it with a zero-filled or imputed
    representation in a :class:`~sklearn.pipeline.FeatureUnion`.

    .. note::
       By default the bits are *presence* bits, 1 = observed, the convention of skmm's
       masks (:attr:`skmm.MultiModalData.observed`) and of the embedders' presence
       bits. scikit-learn's :class:`~sklearn.impute.MissingIndicator` marks
       1 = missing: pass ``presence=False`` for that convention (columns named
       ``missing__<modality>``). Either is an affine function of the other, so a
       linear model downstream fits the same predictions; only the coefficients'
       signs and the intercept differ. Two other differences from
       :class:`~sklearn.impute.MissingIndicator`: ``features`` defaults to ``"all"``
       (there ``"missing-only"``), and the output is a float64 array (there a boolean
       array).

    Parameters
    ----------
    features : {"all", "missing-only"}, default="all"
        ``"all"``: one column per modality; ``"missing-only"``: only modalities that had
        missing rows at fit.
    presence : bool, default=True
        True gives presence bits (1 = observed, 0 = missing; columns
        ``present__<modality>``); False gives missingness bits (1 = missing, as
        :class:`sklearn.impute.MissingIndicator`; columns ``missing__<modality>``).

    Attributes
    ----------
    features_ : ndarray of int
        Indices of the modalities that get a column.
    modalities_ : tuple of str
        Input modality names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.compose import MissingModalityIndicator
    >>> X = {"a": np.array([[1.0], [np.nan]]), "b": np.array([[2.0], [3.0]])}
    >>> MissingModalityIndicator().fit_transform(X)
    array([[1., 1.],
           [0., 1.]])
    >>> MissingModalityIndicator(presence=False).fit_transform(X)  # 1 = missing
    array([[0., 0.],
           [1., 0.]])
    """

    _parameter_constraints = {
        "features": [StrOptions({"all", "missing-only"})],
        "presence": ["boolean"],
    }

    def __init__(self, features="all", presence=True):
        self.features = features
        self.presence = presence

    @fit_context()
    def fit(self, X, y=None):
        """Record the modalities (and, for ``"missing-only"``, which had missing rows).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        self
        """
        X, _ = self._validate_multimodal(X, reset=True)
        if self.features == "all":
            self.features_ = np.arange(len(X.modalities))
        else:
            self.features_ = np.flatnonzero(~X.observed.all(axis=0))
        return self

    def transform(self, X):
        """Return the indicator matrix.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples, n_indicators), float64
        """
        check_is_fitted(self, "features_")
        X, _ = self._validate_multimodal(X, reset=False)
        bits = X._validated_observed()[:, self.features_]
        return (bits if self.presence else ~bits).astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        """Names ``"present__<modality>"`` (or ``"missing__<modality>"``).

        Parameters
        ----------
        input_features : None
            Unused; present for API consistency.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "features_")
        word = "present" if self.presence else "missing"
        return np.asarray(
            [f"{word}__{self.modalities_[j]}" for j in self.features_], dtype=object
        )
