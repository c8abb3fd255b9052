"""The benchmark's reference row (private): the per-pattern oracle."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .ensemble._late_fusion import new_expert
from .utils._validation import check_multimodal


class PatternOracleClassifier(ClassifierMixin, BaseEstimator):
    """A reference, not a method: for each missing pattern met at prediction, a classifier
    fitted on the *complete* training rows restricted to that pattern's modalities.

    Fit it on the data before modalities were hidden: it then shows what a perfect
    imputer could give the same classifier (the ceiling of the benchmark's methods). A
    pattern's classifier is fitted on the training rows that observe all its modalities.

    Parameters
    ----------
    estimator : classifier, default=None
        None is standardisation followed by ``LogisticRegression(max_iter=2000)``.
    """

    # The benchmark fits it on the data before modalities were hidden.
    fit_before_hiding = True

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        self.X_fit_ = check_multimodal(X, allow_empty_samples=False)
        self.y_fit_ = np.asarray(y)
        if self.y_fit_.shape != (self.X_fit_.n_samples,):
            raise ValueError(f"y has {len(y)} samples but X has {self.X_fit_.n_samples}.")
        self.classes_ = np.unique(self.y_fit_)
        self.modalities_ = self.X_fit_.modalities
        return self

    def predict(self, X):
        from .utils._patterns import missing_patterns

        check_is_fitted(self, "X_fit_")
        X = check_multimodal(X, modalities=self.modalities_,
                             n_features=dict(self.X_fit_.n_features))
        patterns, _, pattern_rows = missing_patterns(X.observed)
        train_observed = self.X_fit_.observed
        # a sample with no modality gets the majority class
        classes, counts = np.unique(self.y_fit_, return_counts=True)
        out = np.full(X.n_samples, classes[counts.argmax()])
        for pattern, rows in zip(patterns, pattern_rows):
            names = [m for m, seen in zip(self.modalities_, pattern) if seen]
            if not names:
                continue
            train = train_observed[:, pattern].all(axis=1)
            seen = np.unique(self.y_fit_[train])
            if seen.size < 2:
                out[rows] = seen[0] if seen.size else out[rows]
                continue
            clf = new_expert(self.estimator)
            clf.fit(np.hstack([self.X_fit_[m][train] for m in names]), self.y_fit_[train])
            out[rows] = clf.predict(np.hstack([X[m][rows] for m in names]))
        return out
