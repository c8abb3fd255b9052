"""Late fusion: one expert per modality, fused over each sample's present modalities."""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..base import MultiModalMixin, fit_atomically
from ..utils._scaling import is_unit, max_abs, power_of_two_scale
from ..utils._validation import (
    InvalidParameterError,
    check_option_param,
    check_random_state_param,
)

__all__ = ["LateFusionClassifier"]

# Log-probability given to a class an expert never saw in training (and the floor of
# every expert's log-probabilities, so that one confident expert cannot veto a class).
_LOG_PROBA_FLOOR = np.log(1e-12)
# L2 pull of the learned fusion weights towards naive-Bayes fusion (weights 1, the joint
# expert 0, intercepts 0), as strong as the log-loss of ten training samples: it keeps
# the fusion near naive Bayes on tiny data and fades as the data grow.
_FUSION_PENALTY = 10.0
# Name of the expert fitted on the imputed stack of all modalities.
JOINT = "joint"


def default_expert():
    """Standardisation followed by ``LogisticRegression(max_iter=2000)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def new_expert(estimator):
    """An unfitted clone of ``estimator``, or the default expert when it is None."""
    return clone(estimator) if estimator is not None else default_expert()


def _fit_expert(expert, X, y):
    """Fit ``expert`` on ``(X, y)``; the only class when ``y`` holds one."""
    seen = np.unique(y)
    if seen.size == 1:
        return seen[0]  # a constant vote for the only class it saw
    return expert.fit(X, y)


def _expert_log_proba(expert, X, classes):
    """Floored log-probabilities of ``classes`` (columns) from one fitted expert."""
    out = np.full((len(X), len(classes)), _LOG_PROBA_FLOOR)
    if isinstance(expert, BaseEstimator):
        with np.errstate(divide="ignore"):
            log_proba = np.log(expert.predict_proba(X))
        out[:, np.searchsorted(classes, expert.classes_)] = log_proba
    else:
        out[:, np.searchsorted(classes, expert)] = 0.0
    return np.maximum(out, _LOG_PROBA_FLOOR)


def _oof_task(expert, X, y, train, test, classes):
    """Log-probabilities of the ``test`` rows from ``expert`` fitted on ``train``."""
    fitted = _fit_expert(expert, X[train], y[train])
    return _expert_log_proba(fitted, X[test], classes)


def _weighted_fusion_loss(params, evidence, log_prior, onehot, target):
    """Multinomial log-loss of ``log_prior + b + sum_k w_k evidence_k`` and its gradient.

    ``params`` is ``[w (n_experts), b (n_classes)]``; the penalty pulls ``w`` to
    ``target`` and ``b`` to 0.
    """
    n_experts = evidence.shape[1]
    w, b = params[:n_experts], params[n_experts:]
    scores = log_prior + b + np.einsum("ikc,k->ic", evidence, w)
    log_p = log_softmax(scores, axis=1)
    residual = np.exp(log_p) - onehot
    loss = -np.sum(log_p * onehot) + 0.5 * _FUSION_PENALTY * (
        np.sum((w - target) ** 2) + np.sum(b**2)
    )
    grad_w = np.einsum("ic,ikc->k", residual, evidence) + _FUSION_PENALTY * (w - target)
    grad_b = residual.sum(axis=0) + _FUSION_PENALTY * b
    return loss, np.concatenate([grad_w, grad_b])


class LateFusionClassifier(MultiModalMixin, ClassifierMixin, BaseEstimator):
    """One classifier per modality, fused over the modalities each sample has.

    Each modality gets its own expert (a clone of ``estimator``), fitted on the
    training rows that observe it: no modality is imputed, and a sample is classified
    from whatever modalities it has. ``fusion`` chooses how the experts' class
    log-probabilities are combined; with ``imputer``, one more expert is fitted on the
    imputed stack of all modalities, so that the fusion can also use what the
    modalities say jointly. See :ref:`late_fusion` for the formulas.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        The expert cloned for each modality (and for the joint expert). None is
        :class:`~sklearn.preprocessing.StandardScaler` followed by
        ``LogisticRegression(max_iter=2000)``.
    fusion : {"weighted", "product", "stacking"}, default="weighted"
        - ``"product"``: sum the present experts' log-probabilities (the product rule;
          no cross-validation);
        - ``"weighted"``: naive-Bayes fusion with learned weights: each expert's
          log-probabilities minus the log class prior of its training rows (its
          *evidence*), weighted by one non-negative weight per expert, plus the
          training prior and a learned intercept per class; the weights and
          intercepts minimise the log-loss of the experts' out-of-fold
          log-probabilities, with an L2 pull towards plain naive-Bayes fusion (weights
          1, intercepts 0; the joint expert's weight towards 0), which keeps small data
          safe;
        - ``"stacking"``: ``final_estimator`` fitted on the experts' out-of-fold
          evidence (0 where a modality is missing) and the presence bits.
    imputer : transformer or None, default=None
        Adds a ``"joint"`` expert: ``make_pipeline(clone(imputer), clone(estimator))``
        fitted on all training rows, e.g. :class:`~skmm.impute.CalMRLImputer`. None
        fits the per-modality experts only.
    final_estimator : classifier or None, default=None
        The stacking model (``fusion="stacking"`` only). None is the default expert
        (standardisation and ``LogisticRegression(max_iter=2000)``).
    cv : int or cross-validation splitter, default=5
        Folds of the out-of-fold log-probabilities that ``"weighted"`` and
        ``"stacking"`` learn from (each expert's folds are over its own rows). An int
        is a shuffled :class:`~sklearn.model_selection.StratifiedKFold` (fewer folds
        when an expert has fewer rows). Unused by ``"product"``.
    n_jobs : int or None, default=None
        Parallel fits of the experts (joblib).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds of an int ``cv``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    estimators_ : dict
        ``{name: fitted expert}`` for each modality (and ``"joint"``); an expert whose
        training rows hold a single class is that class (a constant vote).
    weights_ : dict or None
        ``{name: weight}`` of the experts (``"weighted"``; ``None`` otherwise).
    intercept_ : ndarray of shape (n_classes,) or None
        Learned per-class intercept (``"weighted"``; ``None`` otherwise).
    final_estimator_ : classifier or None
        The fitted stacking model (``"stacking"``; ``None`` otherwise).
    modalities_ : tuple of str
        Modality names seen at fit.
    n_features_per_modality_ : dict
        Width of each modality.
    n_features_in_ : int
        Total width.
    feature_names_in_ : ndarray of str
        ``"modality__feature"`` names (multimodal input) or a DataFrame's columns.

    See Also
    --------
    sklearn.ensemble.StackingClassifier : stacking on complete data.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.ensemble import LateFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(60) % 2
    >>> a = rng.normal(size=(60, 3)) + y[:, None]
    >>> b = rng.normal(size=(60, 2)) - y[:, None]
    >>> a[::3] = np.nan  # a is missing in every third sample
    >>> clf = LateFusionClassifier(cv=3, random_state=0).fit({"a": a, "b": b}, y)
    >>> sorted(clf.weights_)
    ['a', 'b']
    >>> clf.predict_proba({"a": a[:2], "b": b[:2]}).shape
    (2, 2)
    """

    def __init__(self, estimator=None, *, fusion="weighted", imputer=None,
                 final_estimator=None, cv=5, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.fusion = fusion
        self.imputer = imputer
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self):
        check_option_param(self.fusion, "fusion", ("weighted", "product", "stacking"))
        cv = self.cv
        if isinstance(cv, numbers.Integral) and not isinstance(cv, (bool, np.bool_)):
            if cv < 2:
                raise ValueError(f"cv must be >= 2 folds; got {cv!r}.")
        elif isinstance(cv, str) or not hasattr(cv, "split"):
            raise InvalidParameterError(
                f"cv must be an int >= 2 or a cross-validation splitter; got {cv!r}."
            )
        for name in ("estimator", "final_estimator"):
            value = getattr(self, name)
            if value is not None and not (hasattr(value, "fit")
                                          and hasattr(value, "predict_proba")):
                raise InvalidParameterError(
                    f"{name} must be a classifier (with fit and predict_proba) or None; "
                    f"got {value!r}."
                )
        if self.imputer is not None and not hasattr(self.imputer, "transform"):
            raise InvalidParameterError(
                f"imputer must be a transformer (with fit and transform) or None; got "
                f"{self.imputer!r}."
            )
        return check_random_state_param(self.random_state)

    def _splits(self, y, rng):
        """Train/test index pairs over one expert's rows (labels ``y``)."""
        if hasattr(self.cv, "split"):
            return list(self.cv.split(np.zeros((len(y), 1)), y))
        n_splits = min(self.cv, len(y))
        seed = rng.randint(np.iinfo(np.int32).max)
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            # small classes are expected: an expert just sees fewer of them per fold
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            try:
                return list(splitter.split(np.zeros((len(y), 1)), y))
            except ValueError:  # every class smaller than the folds: do not stratify
                from sklearn.model_selection import KFold

                return list(KFold(n_splits, shuffle=True, random_state=seed).split(y))

    def _modality_rows(self, X, j):
        """Observed rows of modality ``j`` and their values, in the fitted units."""
        m = self.modalities_[j]
        rows = np.flatnonzero(X.observed[:, j])
        data = X[m][rows]
        scale = self._input_scales[m]
        return rows, data if is_unit(scale) else data / scale

    def _experts(self, X):
        """``[(name, rows, data)]``: one per modality (its observed rows), and joint."""
        # exact power-of-two units for features whose squares would overflow (ordinary
        # data is left as it is): the experts then see finite standardised values
        self._input_scales = {m: power_of_two_scale(max_abs(X[m], axis=0))
                              for m in X.modalities}
        experts = [(m, *self._modality_rows(X, j)) for j, m in enumerate(X.modalities)]
        if self.imputer is not None:
            experts.append((JOINT, np.arange(X.n_samples), X))
        return experts

    def _new_expert(self, name):
        if name == JOINT:
            from sklearn.pipeline import make_pipeline

            return make_pipeline(clone(self.imputer), new_expert(self.estimator))
        return new_expert(self.estimator)

    @fit_atomically
    def fit(self, X, y):
        """Fit the experts on their modalities' observed rows, then the fusion.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Training modalities; NaN rows mark missing ones. Every modality must be
            observed in some sample and every sample must have a modality.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        rng = self._check_params()
        X, _ = self._validate_multimodal(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != X.n_samples:
            raise ValueError(f"y has {len(y)} samples but X has {X.n_samples}.")
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "LateFusionClassifier needs samples of at least 2 classes; got 1 class "
                f"({classes[0]!r})."
            )
        experts = self._experts(X)
        cross_validate = self.fusion != "product"
        splits = [self._splits(y[rows], rng) if cross_validate else []
                  for _, rows, _ in experts]
        tasks = [delayed(_fit_expert)(self._new_expert(name), data, y[rows])
                 for name, rows, data in experts]
        for (name, rows, data), folds in zip(experts, splits):
            tasks += [delayed(_oof_task)(self._new_expert(name), data, y[rows], train,
                                         test, classes) for train, test in folds]
        done = Parallel(n_jobs=self.n_jobs)(tasks)
        fitted, oof = done[:len(experts)], iter(done[len(experts):])
        self.classes_ = classes
        self.estimators_ = {name: est for (name, _, _), est in zip(experts, fitted)}
        self._log_priors = {
            name: self._log_prior(y[rows]) for name, rows, _ in experts
        }
        self.weights_ = self.intercept_ = self.final_estimator_ = None
        if not cross_validate:
            return self
        log_proba = np.zeros((X.n_samples, len(experts), classes.size))
        present = np.zeros((X.n_samples, len(experts)), dtype=bool)
        for k, ((_, rows, _), folds) in enumerate(zip(experts, splits)):
            for _, test in folds:
                log_proba[rows[test], k] = next(oof)
            present[rows, k] = True
        evidence = self._evidence(log_proba, present)
        if self.fusion == "weighted":
            self._fit_weights(evidence, y)
        else:
            final = new_expert(self.final_estimator)
            self.final_estimator_ = final.fit(self._stack(evidence, present), y)
        return self

    def _log_prior(self, y):
        """Floored log class frequencies of ``y`` over ``classes_``."""
        counts = np.array([np.sum(y == c) for c in self.classes_], dtype=float)
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(counts / counts.sum()), _LOG_PROBA_FLOOR)

    def _evidence(self, log_proba, present):
        """Each expert's log-probabilities minus its log prior; 0 where it is absent."""
        priors = np.stack(list(self._log_priors.values()))  # (n_experts, n_classes)
        return np.where(present[:, :, None], log_proba - priors, 0.0)

    def _stack(self, evidence, present):
        """Stacking features: the flattened evidence and the experts' presence bits."""
        return np.hstack([evidence.reshape(len(evidence), -1), present.astype(float)])

    def _fit_weights(self, evidence, y):
        n_experts, n_classes = evidence.shape[1], evidence.shape[2]
        onehot = (y[:, None] == self.classes_).astype(float)
        log_prior = self._log_prior(y)
        # naive-Bayes fusion of the modalities; the joint expert enters as far as the
        # out-of-fold data say it adds to them
        target = np.array([0.0 if name == JOINT else 1.0 for name in self.estimators_])
        start = np.concatenate([target, np.zeros(n_classes)])
        bounds = [(0.0, None)] * n_experts + [(None, None)] * n_classes
        solution = minimize(
            _weighted_fusion_loss, start, args=(evidence, log_prior, onehot, target),
            jac=True, method="L-BFGS-B", bounds=bounds,
        )
        self.weights_ = dict(zip(self.estimators_, solution.x[:n_experts].tolist()))
        self.intercept_ = solution.x[n_experts:]
        self._fit_log_prior = log_prior

    def _expert_outputs(self, X):
        """Log-probabilities ``(n_samples, n_experts, n_classes)`` and presence."""
        names = list(self.estimators_)
        log_proba = np.zeros((X.n_samples, len(names), self.classes_.size))
        present = np.zeros((X.n_samples, len(names)), dtype=bool)
        for k, name in enumerate(names):
            if name == JOINT:
                rows, data = np.arange(X.n_samples), X
            else:
                rows, data = self._modality_rows(X, self.modalities_.index(name))
            if rows.size:
                log_proba[rows, k] = _expert_log_proba(
                    self.estimators_[name], data, self.classes_
                )
                present[rows, k] = True
        return log_proba, present

    def _fused_scores(self, X):
        """Unnormalised fused log-scores, ``(n_samples, n_classes)``."""
        check_is_fitted(self, "estimators_")
        X, _ = self._validate_multimodal(X, reset=False)
        log_proba, present = self._expert_outputs(X)
        if self.fusion == "product":
            return np.where(present[:, :, None], log_proba, 0.0).sum(axis=1)
        evidence = self._evidence(log_proba, present)
        if self.fusion == "weighted":
            weights = np.array(list(self.weights_.values()))
            return (self._fit_log_prior + self.intercept_
                    + np.einsum("ikc,k->ic", evidence, weights))
        final = self.final_estimator_
        out = np.full((X.n_samples, self.classes_.size), _LOG_PROBA_FLOOR)
        with np.errstate(divide="ignore"):
            out[:, np.searchsorted(self.classes_, final.classes_)] = np.log(
                final.predict_proba(self._stack(evidence, present))
            )
        return np.maximum(out, _LOG_PROBA_FLOOR)

    def predict_log_proba(self, X):
        """Fused class log-probabilities.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            The fitted modalities; a sample may miss any of them (one with none gets
            the training prior, or uniform scores with ``"product"``).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._fused_scores(X), axis=1)

    def predict_proba(self, X):
        """Fused class probabilities, ``(n_samples, n_classes)``; see
        :meth:`predict_log_proba`."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Fused log-probabilities; for two classes, the log-odds of ``classes_[1]``.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        log_proba = self.predict_log_proba(X)
        if log_proba.shape[1] == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = self._fused_scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``(X, y)``.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return super().score(X, y, sample_weight=sample_weight)
