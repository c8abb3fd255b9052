"""The benchmark's reference rows (private): the per-pattern oracles."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .ensemble._late_fusion import default_expert, default_regression_expert, new_expert
from .utils._validation import check_multimodal


class _PatternOracle(BaseEstimator):
    """For each missing pattern met at prediction, a model fitted on the *complete*
    training rows restricted to that pattern's modalities (see the subclasses)."""

    # The benchmark fits it on the data before modalities were hidden.
    fit_before_hiding = True

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        self.X_fit_ = check_multimodal(X, allow_empty_samples=False)
        self.y_fit_ = np.asarray(y)
        if self.y_fit_.shape != (self.X_fit_.n_samples,):
            raise ValueError(f"y has {len(y)} samples but X has {self.X_fit_.n_samples}.")
        self.modalities_ = self.X_fit_.modalities
        return self

    def _fallback(self, y):
        """The prediction for a sample with no modality, from the targets ``y``."""
        raise NotImplementedError  # pragma: no cover - each subclass sets its own

    def _pattern_model(self, X, y):
        """A model fitted on ``(X, y)``, or ``(value,)`` when the targets allow one
        prediction only (or none: ``()``, the fallback is kept)."""
        return new_expert(self.estimator, self._default_expert).fit(X, y)

    def predict(self, X):
        from .utils._patterns import missing_patterns

        check_is_fitted(self, "X_fit_")
        X = check_multimodal(X, modalities=self.modalities_,
                             n_features=dict(self.X_fit_.n_features))
        patterns, _, pattern_rows = missing_patterns(X.observed)
        train_observed = self.X_fit_.observed
        out = np.full(X.n_samples, self._fallback(self.y_fit_))
        for pattern, rows in zip(patterns, pattern_rows):
            names = [m for m, seen in zip(self.modalities_, pattern) if seen]
            if not names:
                continue
            train = train_observed[:, pattern].all(axis=1)
            model = self._pattern_model(
                np.hstack([self.X_fit_[m][train] for m in names]), self.y_fit_[train]
            )
            if isinstance(model, tuple):
                out[rows] = model[0] if model else out[rows]
                continue
            out[rows] = model.predict(np.hstack([X[m][rows] for m in names]))
        return out


class PatternOracleClassifier(ClassifierMixin, _PatternOracle):
    """A reference, not a method: for each missing pattern met at prediction, a classifier
    fitted on the *complete* training rows restricted to that pattern's modalities.

    Fit it on the data before modalities were hidden: it then shows what a perfect
    imputer could give the same classifier (the ceiling of the benchmark's methods). A
    pattern's classifier is fitted on the training rows that observe all its modalities;
    a sample with no modality gets the majority class.

    Parameters
    ----------
    estimator : classifier, default=None
        None is standardisation followed by ``LogisticRegression(max_iter=2000)``.
    """

    _default_expert = staticmethod(default_expert)

    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = np.unique(self.y_fit_)
        return self

    def _fallback(self, y):
        classes, counts = np.unique(y, return_counts=True)
        return classes[counts.argmax()]

    def _pattern_model(self, X, y):
        seen = np.unique(y)
        if seen.size < 2:
            return tuple(seen)
        return super()._pattern_model(X, y)


class PatternOracleRegressor(RegressorMixin, _PatternOracle):
    """A reference, not a method: for each missing pattern met at prediction, a regressor
    fitted on the *complete* training rows restricted to that pattern's modalities.

    The regression counterpart of :class:`PatternOracleClassifier`: fit it on the data
    before modalities were hidden; a sample with no modality gets the mean training
    target.

    Parameters
    ----------
    estimator : regressor, default=None
        None is standardisation followed by ``RidgeCV(alphas=np.logspace(-3, 3, 13))``.
    """

    _default_expert = staticmethod(default_regression_expert)

    def fit(self, X, y):
        super().fit(X, y)
        self.y_fit_ = self.y_fit_.astype(np.float64)
        return self

    def _fallback(self, y):
        return np.mean(y)

    def _pattern_model(self, X, y):
        if len(y) == 0:
            return ()
        return super()._pattern_model(X, y)
