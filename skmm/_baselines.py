"""Benchmark baselines and references (private for now): late fusion, pattern oracle."""

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


def _new_expert(estimator):
    """An unfitted clone of ``estimator``, or of the default expert when it is None."""
    return clone(estimator) if estimator is not None else _default_expert()


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
                experts[m] = _new_expert(self.estimator).fit(X[m][rows], y[rows])
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
            clf = _new_expert(self.estimator)
            clf.fit(np.hstack([self.X_fit_[m][train] for m in names]), self.y_fit_[train])
            out[rows] = clf.predict(np.hstack([X[m][rows] for m in names]))
        return out
