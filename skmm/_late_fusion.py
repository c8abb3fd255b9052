"""Late fusion: the per-modality-experts baseline of the benchmark (private for now)."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .utils._validation import check_multimodal

# Log-probability given to a class a modality's expert never saw in training.
_UNSEEN_CLASS_LOG_PROBA = np.log(1e-12)


def _default_expert():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


class LateFusionClassifier(ClassifierMixin, BaseEstimator):
    """One classifier per modality, fitted on the rows that observe it; at prediction,
    each sample sums the log-probabilities of the experts of its present modalities.

    This is naive-Bayes-style fusion of per-modality posteriors (the class prior is
    counted once per present modality); it needs no imputation.

    Parameters
    ----------
    estimator : classifier with ``predict_log_proba``, default=None
        The expert cloned for each modality; None is standardisation followed by
        ``LogisticRegression(max_iter=2000)``.

    Attributes
    ----------
    classes_ : ndarray
    modalities_ : tuple of str
    estimators_ : dict
        Fitted expert of each modality; a modality whose observed training rows hold a
        single class gets that class's constant log-probabilities instead.
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        X = check_multimodal(X, allow_empty_samples=False)
        y = np.asarray(y)
        if y.shape != (X.n_samples,):
            raise ValueError(f"y has {len(y)} samples but X has {X.n_samples}.")
        self.classes_ = np.unique(y)
        observed = X.observed
        experts = {}
        for j, m in enumerate(X.modalities):
            rows = observed[:, j]
            seen = np.unique(y[rows])
            if seen.size == 1:
                experts[m] = seen[0]  # a constant vote for the only class it saw
            elif seen.size > 1:
                expert = clone(self.estimator if self.estimator is not None
                               else _default_expert())
                experts[m] = expert.fit(X[m][rows], y[rows])
        self.modalities_ = X.modalities
        self.n_features_per_modality_ = dict(X.n_features)
        self.estimators_ = experts
        return self

    def predict_log_proba(self, X):
        """Summed log-probabilities of the present modalities' experts, normalised
        over the classes; shape ``(n_samples, n_classes)``."""
        check_is_fitted(self, "estimators_")
        X = check_multimodal(X, modalities=self.modalities_,
                             n_features=self.n_features_per_modality_)
        total = np.zeros((X.n_samples, len(self.classes_)))
        observed = X.observed
        for j, m in enumerate(self.modalities_):
            rows = np.flatnonzero(observed[:, j])
            if m not in self.estimators_ or rows.size == 0:
                continue
            expert = self.estimators_[m]
            votes = np.full((rows.size, len(self.classes_)), _UNSEEN_CLASS_LOG_PROBA)
            if isinstance(expert, BaseEstimator):
                columns = np.searchsorted(self.classes_, expert.classes_)
                votes[:, columns] = expert.predict_log_proba(X[m][rows])
            else:
                votes[:, np.searchsorted(self.classes_, expert)] = 0.0
            total[rows] += votes
        # normalise: log-softmax over the classes
        total -= total.max(axis=1, keepdims=True)
        return total - np.log(np.exp(total).sum(axis=1, keepdims=True))

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]
