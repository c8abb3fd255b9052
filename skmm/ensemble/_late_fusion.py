"""Late fusion: one expert per modality, fused over each sample's present modalities.

:class:`LateFusionClassifier` and :class:`LateFusionRegressor` share
:class:`_BaseLateFusion`: the parameter checks, the experts (one per modality on its
observed rows, and the joint expert on the imputed stack), their folds and the
out-of-fold loop. Each keeps its own fusion rules.
"""

import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from sklearn.utils import check_random_state

from .._data import MultiModalData
from ..base import MultiModalMixin, fit_context
from ..utils._param_validation import HasMethods, Interval, StrOptions
from ..utils._scaling import is_unit, max_abs, power_of_two_scale

__all__ = ["LateFusionClassifier", "LateFusionRegressor"]

# Log-probability given to a class an expert never saw in training (and the floor of
# every expert's log-probabilities, so that one confident expert cannot veto a class).
_LOG_PROBA_FLOOR = np.log(1e-12)
# L2 pull of the learned fusion weights towards naive-Bayes fusion (weights 1, the joint
# expert 0, intercepts 0), as strong as the log-loss of ten training samples: it keeps
# the fusion near naive Bayes on tiny data and fades as the data grow. The regressor's
# prior correction is pulled towards naive Bayes (1) as strongly.
_FUSION_PENALTY = 10.0
# Name of the expert fitted on the imputed stack of all modalities.
JOINT = "joint"


def default_expert():
    """Standardisation followed by ``LogisticRegression(max_iter=2000)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def default_regression_expert():
    """Standardisation followed by ``RidgeCV(alphas=np.logspace(-3, 3, 13))``."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))


def new_expert(estimator, default=default_expert):
    """An unfitted clone of ``estimator``, or ``default()`` when it is None."""
    return clone(estimator) if estimator is not None else default()


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


def _regression_oof_task(expert, X, y, train, test):
    """Predictions for the ``test`` rows from ``expert`` fitted on ``train``."""
    return expert.fit(X[train], y[train]).predict(X[test])


def _fit_regression_expert(expert, X, y):
    """``expert`` fitted on ``(X, y)``."""
    return expert.fit(X, y)


def _constraints(fusions, expert_method):
    """``_parameter_constraints`` of a late-fusion estimator: its ``fusion`` options,
    and the method (besides ``fit``) its experts must have."""
    expert = [HasMethods(["fit", expert_method]), None]
    return {
        "estimator": expert,
        "fusion": [StrOptions(set(fusions))],
        "imputer": [HasMethods(["fit", "transform"]), None],
        "final_estimator": expert,
        "cv": [Interval(Integral, 2, None, closed="left"),
               HasMethods(["split", "get_n_splits"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }


class _BaseLateFusion(MultiModalMixin, BaseEstimator):
    """What the late-fusion classifier and regressor share: their parameters and checks,
    the experts (one per modality on its observed rows, and the joint expert), their
    folds and the out-of-fold loop.

    Subclasses set ``_fusions`` (the ``fusion`` options, the first without
    cross-validation), ``_parameter_constraints`` (:func:`_constraints`) and
    ``_default_expert``, and may override ``_kfold`` (the folds of an int ``cv``).
    """

    _fusions = ()

    def __init__(self, estimator=None, *, fusion="weighted", imputer=None,
                 final_estimator=None, cv=5, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.fusion = fusion
        self.imputer = imputer
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @staticmethod
    def _default_expert():  # pragma: no cover - each subclass sets its own
        raise NotImplementedError

    def _validate_fit(self, X, y):
        """Check ``(X, y)`` (the parameters are checked already); return
        ``(rng, X, y)``."""
        rng = check_random_state(self.random_state)
        X, _ = self._validate_multimodal(X, reset=True)
        y = column_or_1d(y, warn=True)
        if len(y) != X.n_samples:
            raise ValueError(f"y has {len(y)} samples but X has {X.n_samples}.")
        return rng, X, y

    def _splits(self, name, y, rng):
        """Train/test index pairs over the rows of expert ``name`` (targets ``y``)."""
        if len(y) < 2:
            raise ValueError(
                f"The {name!r} expert is fitted on 1 sample; fusion={self.fusion!r} "
                "cross-validates each expert on its rows and needs 2 samples at least."
            )
        if hasattr(self.cv, "split"):
            return list(self.cv.split(np.zeros((len(y), 1)), y))
        n_splits = min(self.cv, len(y))
        seed = rng.randint(np.iinfo(np.int32).max)
        return self._kfold(n_splits, seed, y)

    @staticmethod
    def _kfold(n_splits, seed, y):
        """Shuffled folds of an int ``cv``: a plain :class:`KFold`."""
        return list(KFold(n_splits, shuffle=True, random_state=seed).split(y))

    def _modality_rows(self, X, j):
        """Observed rows of modality ``j`` and their values, in the fitted units."""
        m = self.modalities_[j]
        rows = np.flatnonzero(X.observed[:, j])
        data = X[m][rows]
        scale = self._input_scales[m]
        return rows, data if is_unit(scale) else data / scale

    def _expert_rows(self, X, name):
        """``(rows, data)`` an expert sees: its modality's observed rows, or all (joint)."""
        if name == JOINT:
            scales = self._input_scales
            if all(is_unit(scales[m]) for m in X.modalities):
                return np.arange(X.n_samples), X
            return np.arange(X.n_samples), MultiModalData(
                {m: X[m] if is_unit(scales[m]) else X[m] / scales[m] for m in X.modalities}
            )
        return self._modality_rows(X, self.modalities_.index(name))

    def _experts(self, X):
        """``[(name, rows, data)]``: one per modality (its observed rows), and joint."""
        # exact power-of-two units for features whose squares would overflow (ordinary
        # data is left as it is): the experts then see finite standardised values
        self._input_scales = {m: power_of_two_scale(max_abs(X[m], axis=0))
                              for m in X.modalities}
        names = list(X.modalities) + ([JOINT] if self.imputer is not None else [])
        return [(name, *self._expert_rows(X, name)) for name in names]

    def _new_expert(self, name):
        expert = new_expert(self.estimator, self._default_expert)
        if name == JOINT:
            from sklearn.pipeline import make_pipeline

            return make_pipeline(clone(self.imputer), expert)
        return expert

    def _fit_experts(self, X, y, rng, fit_task, oof_task, *oof_args):
        """Fit every expert on its rows, and its out-of-fold outputs unless ``fusion``
        is the first option (which needs none).

        Sets ``estimators_``; returns ``(experts, oof, present)``: the
        ``[(name, rows, data)]`` of :meth:`_experts`, the out-of-fold outputs
        ``(n_samples, n_experts, ...)`` (0 where an expert is absent) and the presence
        ``(n_samples, n_experts)``; ``oof`` and ``present`` are None without folds.
        """
        experts = self._experts(X)
        cross_validate = self.fusion != self._fusions[0]
        splits = [self._splits(name, y[rows], rng) if cross_validate else []
                  for name, rows, _ in experts]
        tasks = [delayed(fit_task)(self._new_expert(name), data, y[rows])
                 for name, rows, data in experts]
        for (name, rows, data), folds in zip(experts, splits):
            tasks += [delayed(oof_task)(self._new_expert(name), data, y[rows], train,
                                        test, *oof_args) for train, test in folds]
        done = Parallel(n_jobs=self.n_jobs)(tasks)
        fitted, blocks = done[:len(experts)], iter(done[len(experts):])
        self.estimators_ = {name: est for (name, _, _), est in zip(experts, fitted)}
        if not cross_validate:
            return experts, None, None
        oof = None
        present = np.zeros((X.n_samples, len(experts)), dtype=bool)
        for k, ((_, rows, _), folds) in enumerate(zip(experts, splits)):
            for _, test in folds:
                block = next(blocks)
                if oof is None:
                    oof = np.zeros((X.n_samples, len(experts)) + block.shape[1:])
                oof[rows[test], k] = block
            present[rows, k] = True
        return experts, oof, present

    def _expert_outputs(self, X, output, shape=()):
        """Each fitted expert's ``output(expert, data)`` on its rows of ``X``, as
        ``(n_samples, n_experts, *shape)`` (0 where absent), and the presence."""
        names = list(self.estimators_)
        out = np.zeros((X.n_samples, len(names)) + shape)
        present = np.zeros((X.n_samples, len(names)), dtype=bool)
        for k, name in enumerate(names):
            rows, data = self._expert_rows(X, name)
            if rows.size:
                out[rows, k] = output(self.estimators_[name], data)
                present[rows, k] = True
        return out, present

    def _validate_predict(self, X):
        check_is_fitted(self, "estimators_")
        X, _ = self._validate_multimodal(X, reset=False)
        return X


class LateFusionClassifier(ClassifierMixin, _BaseLateFusion):
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

    _fusions = ("product", "weighted", "stacking")
    _parameter_constraints = _constraints(_fusions, "predict_proba")
    _default_expert = staticmethod(default_expert)

    @staticmethod
    def _kfold(n_splits, seed, y):
        """Shuffled stratified folds of an int ``cv`` (plain ones for tiny classes)."""
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            # small classes are expected: an expert just sees fewer of them per fold
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            try:
                return list(splitter.split(np.zeros((len(y), 1)), y))
            except ValueError:  # every class smaller than the folds: do not stratify
                return _BaseLateFusion._kfold(n_splits, seed, y)

    @fit_context(prefer_skip_nested_validation=False)
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
        rng, X, y = self._validate_fit(X, y)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "LateFusionClassifier needs samples of at least 2 classes; got 1 class "
                f"({classes[0]!r})."
            )
        experts, log_proba, present = self._fit_experts(
            X, y, rng, _fit_expert, _oof_task, classes
        )
        self.classes_ = classes
        self._log_priors = {
            name: self._log_prior(y[rows]) for name, rows, _ in experts
        }
        self.weights_ = self.intercept_ = self.final_estimator_ = None
        if log_proba is None:  # the product rule needs no folds
            return self
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

    def _fused_scores(self, X):
        """Unnormalised fused log-scores, ``(n_samples, n_classes)``."""
        X = self._validate_predict(X)
        log_proba, present = self._expert_outputs(
            X, lambda expert, data: _expert_log_proba(expert, data, self.classes_),
            self.classes_.shape,
        )
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


def _gaussian_fusion(pred, present, weights, prior_weights, means, target_mean,
                     correction):
    """Gaussian product of the present experts, with the prior divided out
    ``correction`` times: ``(c mean + sum_k w_k mu_k - c w0_k mean_k) / (c + sum_k w_k -
    c w0_k)`` over the present ``k``; the training mean where no expert is present.

    ``weights`` (``w``) and ``prior_weights`` (``w0``) are the precisions of the
    experts and of their training rows' targets, in units of the training target's
    precision; ``weights >= prior_weights`` keeps the denominator positive.
    """
    w = np.where(present, weights, 0.0)
    w0 = np.where(present, correction * prior_weights, 0.0)
    numerator = correction * target_mean + np.sum(w * pred - w0 * means, axis=1)
    denominator = correction + np.sum(w - w0, axis=1)
    out = np.full(len(pred), target_mean)
    rows = present.any(axis=1)
    out[rows] = numerator[rows] / denominator[rows]
    return out


class LateFusionRegressor(RegressorMixin, _BaseLateFusion):
    """One regressor per modality, fused over the modalities each sample has.

    The regression counterpart of :class:`LateFusionClassifier`. Each modality gets its
    own expert (a clone of ``estimator``), fitted on the training rows that observe it:
    no modality is imputed, and a sample is predicted from whatever modalities it has.
    ``fusion`` chooses how the experts' predictions are combined; with ``imputer``, one
    more expert is fitted on the imputed stack of all modalities. See
    :ref:`late_fusion_regression` for the formulas.

    Parameters
    ----------
    estimator : regressor, default=None
        The expert cloned for each modality (and for the joint expert). None is
        :class:`~sklearn.preprocessing.StandardScaler` followed by
        ``RidgeCV(alphas=np.logspace(-3, 3, 13))``.
    fusion : {"weighted", "mean", "stacking"}, default="weighted"
        - ``"mean"``: the average of the present experts' predictions (no
          cross-validation);
        - ``"weighted"``: a Gaussian product of experts: the present experts'
          predictions averaged with weights ``1 / s_k**2``, the inverse of each
          expert's out-of-fold residual variance, with the target's prior divided out
          of all but one expert (naive Bayes) as far as the out-of-fold predictions
          say (``prior_correction_``, between 0, plain inverse-variance weighting,
          and 1, naive Bayes; pulled towards 1);
        - ``"stacking"``: ``final_estimator`` fitted on the experts' out-of-fold
          predictions minus the mean target of their training rows (0 where a
          modality is missing) and the presence bits.
    imputer : transformer or None, default=None
        Adds a ``"joint"`` expert: ``make_pipeline(clone(imputer), clone(estimator))``
        fitted on all training rows, e.g. :class:`~skmm.impute.CalMRLImputer`. None
        fits the per-modality experts only.
    final_estimator : regressor or None, default=None
        The stacking model (``fusion="stacking"`` only). None is the default expert
        (standardisation and ``RidgeCV``).
    cv : int or cross-validation splitter, default=5
        Folds of the out-of-fold predictions that ``"weighted"`` and ``"stacking"``
        learn from (each expert's folds are over its own rows). An int is a shuffled
        :class:`~sklearn.model_selection.KFold` (fewer folds when an expert has fewer
        rows). Unused by ``"mean"``.
    n_jobs : int or None, default=None
        Parallel fits of the experts (joblib).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds of an int ``cv``.

    Attributes
    ----------
    estimators_ : dict
        ``{name: fitted expert}`` for each modality (and ``"joint"``).
    weights_ : dict or None
        ``{name: weight}``: each expert's precision ``1 / s_k**2`` in units of the
        training target's precision, ``var(y) / s_k**2`` (``1 / (1 - R^2)`` of its
        out-of-fold predictions), at least that of the target on its training rows
        (``"weighted"``; ``None`` otherwise).
    prior_correction_ : float or None
        How much of the prior the weighted fusion divides out of each extra expert,
        in ``[0, 1]`` (``"weighted"``; ``None`` otherwise).
    final_estimator_ : regressor or None
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
    LateFusionClassifier : the same for class labels.
    sklearn.ensemble.StackingRegressor : stacking on complete data.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.ensemble import LateFusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    >>> y = a[:, 0] + b[:, 0] + 0.1 * rng.normal(size=60)
    >>> a[::3] = np.nan  # a is missing in every third sample
    >>> reg = LateFusionRegressor(cv=3, random_state=0).fit({"a": a, "b": b}, y)
    >>> sorted(reg.weights_)
    ['a', 'b']
    >>> reg.predict({"a": a[:2], "b": b[:2]}).shape
    (2,)
    """

    _fusions = ("mean", "weighted", "stacking")
    _parameter_constraints = _constraints(_fusions, "predict")
    _default_expert = staticmethod(default_regression_expert)

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the experts on their modalities' observed rows, then the fusion.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Training modalities; NaN rows mark missing ones. Every modality must be
            observed in some sample and every sample must have a modality.
        y : array-like of shape (n_samples,)
            Target values (finite).

        Returns
        -------
        self
        """
        rng, X, y = self._validate_fit(X, y)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        experts, pred, present = self._fit_experts(
            X, y, rng, _fit_regression_expert, _regression_oof_task
        )
        self._target_mean = float(np.mean(y))
        self._expert_means = np.array([np.mean(y[rows]) for _, rows, _ in experts])
        self.weights_ = self.prior_correction_ = self.final_estimator_ = None
        if pred is None:  # the mean needs no folds
            return self
        if self.fusion == "weighted":
            self._fit_weights(pred, present, y, [rows for _, rows, _ in experts])
        else:
            final = new_expert(self.final_estimator, default_regression_expert)
            self.final_estimator_ = final.fit(self._stack(pred, present), y)
        return self

    def _stack(self, pred, present):
        """Stacking features: each expert's prediction minus its training rows' mean
        target (0 where absent), and the experts' presence bits."""
        return np.hstack([np.where(present, pred - self._expert_means, 0.0),
                          present.astype(float)])

    def _fit_weights(self, pred, present, y, expert_rows):
        # precisions in units of the target's: exact for any scale of y, and finite
        # when an expert fits its rows perfectly (variances floored at 1e-12 var(y))
        unit = float(np.var(y)) or 1.0
        floor = 1e-12 * unit
        residual = [np.mean((y[rows] - pred[rows, k]) ** 2)
                    for k, rows in enumerate(expert_rows)]
        self._prior_weights = unit / np.maximum(
            [np.var(y[rows]) for rows in expert_rows], floor
        )
        # an expert is never less precise than the mean of its training rows
        weights = np.maximum(unit / np.maximum(residual, floor), self._prior_weights)
        self.weights_ = dict(zip(self.estimators_, weights.tolist()))

        def loss(correction):
            fused = _gaussian_fusion(pred, present, weights, self._prior_weights,
                                     self._expert_means, self._target_mean, correction)
            return (0.5 * np.sum((y - fused) ** 2) / unit
                    + 0.5 * _FUSION_PENALTY * (correction - 1.0) ** 2)

        solution = minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded",
                                   options={"xatol": 1e-6})
        self.prior_correction_ = float(solution.x)

    def predict(self, X):
        """Fused predictions.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            The fitted modalities; a sample may miss any of them. One with none (and no
            joint expert) gets the mean training target.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._validate_predict(X)
        pred, present = self._expert_outputs(X, lambda expert, data: expert.predict(data))
        if self.fusion == "weighted":
            weights = np.array(list(self.weights_.values()))
            return _gaussian_fusion(pred, present, weights, self._prior_weights,
                                    self._expert_means, self._target_mean,
                                    self.prior_correction_)
        out = np.full(X.n_samples, self._target_mean)
        rows = present.any(axis=1)
        if self.fusion == "mean":
            out[rows] = pred[rows].sum(axis=1) / present[rows].sum(axis=1)
        elif rows.any():
            out[rows] = self.final_estimator_.predict(
                self._stack(pred[rows], present[rows])
            )
        return out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of :meth:`predict` on ``(X, y)``.

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
