"""Side-by-side benchmark of skmm's estimators and the baselines users would try instead.

Each method is a scikit-learn Pipeline ending in a classifier (class labels) or a
regressor (a continuous target). For every missing rate, the data are masked once
(``make_missing_modalities``), split by K-fold (stratified for classes), and every method
is fitted on the training folds only. Reported per method: accuracy (or R^2) on the
test folds (mean and std), imputation RMSE on the hidden rows of the test folds (imputers
only, standardised units), fit time, and the share of modality rows that are missing: those
already missing in the data, those the benchmark hid on top, and the total.
"""

import json
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.multiclass import type_of_target

from .datasets import make_missing_modalities
from .metrics import imputation_rmse
from .utils import check_multimodal

__all__ = [
    "METHODS", "TASKS", "BenchmarkResult", "benchmark_task", "check_benchmark_data",
    "format_missing", "format_table",
    "make_method", "missing_shares", "run_benchmark", "save_figure", "write_results",
]


def _probe(regression=False):
    """The linear model every representation is scored with."""
    if regression:
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=np.logspace(-3, 3, 13))
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def _imputer_pipeline(imputer, regression):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(imputer, StandardScaler(), _probe(regression))


def _embedder_pipeline(embedder, regression):
    """Embedding + presence bits -> standardised linear probe."""
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    from .compose import MissingModalityIndicator

    return make_pipeline(
        make_union(embedder, MissingModalityIndicator()), StandardScaler(),
        _probe(regression),
    )


def _zero_fill_indicators(random_state, quick, regression):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    from .compose import MissingModalityIndicator

    # Standardise first so that 0 is the observed mean of every feature.
    scale_then_fill = make_pipeline(
        StandardScaler(), SimpleImputer(strategy="constant", fill_value=0.0)
    )
    return make_pipeline(
        make_union(scale_then_fill, MissingModalityIndicator()), _probe(regression)
    ), False


def _mean(random_state, quick, regression):
    from sklearn.impute import SimpleImputer

    return _imputer_pipeline(SimpleImputer(keep_empty_features=True), regression), True


def _knn(random_state, quick, regression):
    from sklearn.impute import KNNImputer

    return _imputer_pipeline(KNNImputer(keep_empty_features=True), regression), True


def _iterative(random_state, quick, regression):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    imputer = IterativeImputer(
        max_iter=3 if quick else 5, n_nearest_features=50, random_state=random_state,
        keep_empty_features=True,
    )
    return _imputer_pipeline(imputer, regression), True


def _softimpute(random_state, quick, regression):
    from ._transductive import SoftImputeImputer

    # whole missing rows make SoftImpute slow to converge: 100 steps are not enough
    imputer = SoftImputeImputer(max_iter=1000, random_state=random_state)
    return _imputer_pipeline(imputer, regression), True


def _mofa(random_state, quick, regression):
    from ._transductive import MOFAImputer

    imputer = MOFAImputer(n_factors=10, random_state=random_state)
    return _imputer_pipeline(imputer, regression), True


def _hgb(random_state, quick, regression):
    from sklearn import ensemble

    cls = (ensemble.HistGradientBoostingRegressor if regression
           else ensemble.HistGradientBoostingClassifier)
    return cls(max_iter=50 if quick else 200, random_state=random_state), False


def _late_fusion_model(regression, **params):
    from . import ensemble

    cls = ensemble.LateFusionRegressor if regression else ensemble.LateFusionClassifier
    return cls(**params)


def _late_fusion(random_state, quick, regression):
    # the textbook late fusion: sum the experts' log-probabilities, average their values
    return _late_fusion_model(regression, fusion="mean" if regression else "product"), False


def _stacking(random_state, quick, regression):
    model = _late_fusion_model(regression, fusion="stacking", random_state=random_state)
    return model, False


def _fusion(random_state, quick, regression):
    from .impute import CalMRLImputer

    imputer = CalMRLImputer(n_components=64, clip=True, random_state=random_state)
    return _late_fusion_model(regression, imputer=imputer, random_state=random_state), False


def _oracle(random_state, quick, regression):
    from . import _baselines

    cls = (_baselines.PatternOracleRegressor if regression
           else _baselines.PatternOracleClassifier)
    return cls(), False


def _pmkmeans(random_state, quick, regression):
    from .impute import PartialModalityKMeansImputer

    imputer = PartialModalityKMeansImputer(n_clusters=64, random_state=random_state)
    return _imputer_pipeline(imputer, regression), True


def _calmrl(random_state, quick, regression, noise="modality"):
    from .impute import CalMRLImputer

    imputer = CalMRLImputer(n_components=64, noise=noise, clip=True,
                            random_state=random_state)
    return _imputer_pipeline(imputer, regression), True


def _calmrl_feature(random_state, quick, regression):
    return _calmrl(random_state, quick, regression, noise="feature")


def _embedder(class_name, **params):
    def factory(random_state, quick, regression):
        from . import embed

        cls = getattr(embed, class_name)
        kwargs = {"max_epochs": 20, **params} if quick else params
        est = cls(random_state=random_state, **kwargs)
        return _embedder_pipeline(est, regression), False

    return factory


# name -> (factory(random_state, quick, regression) -> (estimator, is_imputer),
#          description). The probe and experts are logistic regressions on class labels
# and ridge regressions on a continuous target.
METHODS = {
    "zero+indicator": (_zero_fill_indicators, "zero fill + missing indicators (baseline)"),
    "mean": (_mean, "SimpleImputer(mean) (baseline)"),
    "knn": (_knn, "KNNImputer (baseline)"),
    "iterative": (_iterative, "IterativeImputer (baseline)"),
    "softimpute": (_softimpute, "SoftImpute, soft-thresholded SVD (peer, transductive: "
                   "refits on the training rows and the rows it imputes)"),
    "mofa": (_mofa, "MOFA+ with 10 factors, mofapy2 (peer, transductive: refits on the "
             "training rows and the rows it imputes; pip install 'skmm[mofa]')"),
    "hgb": (_hgb, "HistGradientBoosting on raw NaN (baseline)"),
    "late-fusion": (_late_fusion, "one linear model per modality on its observed rows; "
                    "log-probabilities summed (classes) or predictions averaged (a "
                    "continuous target) over the present modalities (baseline)"),
    "stacking": (_stacking, "per-modality linear models, out-of-fold outputs and "
                 "presence bits stacked by a linear model (baseline)"),
    "oracle": (_oracle, "per-pattern linear model on the complete training data "
               "(reference: what a perfect imputer could give; fitted before hiding, its "
               "work happens at prediction, so its fit time is ~0)"),
    "pmkmeans": (_pmkmeans, "PartialModalityKMeansImputer (UL4M4)"),
    "calmrl": (_calmrl, "CalMRLImputer (CalMRL), imputations clipped to the observed "
               "range"),
    "calmrl-feature": (_calmrl_feature, "CalMRLImputer with per-feature noise "
                       "(noise='feature'), clipped"),
    "fusion": (_fusion, "LateFusionClassifier / LateFusionRegressor: weighted fusion of "
               "per-modality experts and a CalMRLImputer-imputed joint expert"),
    "coral": (_embedder("COrALEmbedder"), "COrALEmbedder + presence bits"),
    "ovaib": (_embedder("OVAIBEmbedder"), "OVAIBEmbedder + presence bits"),
    "clip": (_embedder("PairwiseCLIPEmbedder"), "PairwiseCLIPEmbedder + presence bits"),
    "calmrl-embed": (_embedder("CalMRLEmbedder"), "CalMRLEmbedder + presence bits"),
}

#: ``{task: metric}``: the benchmark scores classifiers by accuracy and regressors by
#: the coefficient of determination R^2, on the test folds.
TASKS = {"classification": "accuracy", "regression": "r2"}

QUICK_METHODS = (
    "zero+indicator", "late-fusion", "stacking", "mean", "knn", "pmkmeans", "calmrl",
    "coral", "ovaib", "fusion", "oracle",
)


def make_method(name, random_state=0, quick=False, max_epochs=None,
                task="classification"):
    """Return ``(estimator, is_imputer)`` for a method name of :data:`METHODS`.

    ``max_epochs``, when given, replaces the training epochs of torch embedders;
    ``task`` is ``"classification"`` (classifiers) or ``"regression"`` (regressors).
    """
    if name not in METHODS:
        raise ValueError(f"Unknown method {name!r}; choose from {sorted(METHODS)}.")
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}; got {task!r}.")
    est, is_imputer = METHODS[name][0](random_state, quick, task == "regression")
    if max_epochs is not None:
        est.set_params(
            **{k: max_epochs for k in est.get_params() if k.endswith("__max_epochs")}
        )
    return est, is_imputer


@dataclass
class BenchmarkResult:
    """Scores of one method at one missing rate, over the CV folds.

    Attributes
    ----------
    method : str
        Name of the method in :data:`METHODS`.
    missing_rate : float
        Missing rate the data were masked with.
    score_mean, score_std : float
        Mean and standard deviation of the test-fold scores (see ``metric``).
    rmse : float
        Mean imputation RMSE on the hidden rows of the test folds (standardised units);
        NaN for methods that do not impute.
    fit_time : float
        Mean fit time per training fold, in seconds.
    scores : list of float
        Score on each test fold.
    missing_in_data : float
        Share of the modality rows (sample, modality slots) already missing in the data
        given to the benchmark, before it hid any.
    missing_added : float
        Share of the modality rows the benchmark hid on top (``missing_rate`` applies to
        the rows still observed, so this is about ``missing_rate * (1 -
        missing_in_data)``).
    missing_total : float
        ``missing_in_data + missing_added``: the share of modality rows the methods
        actually see missing.
    missing_by_modality : dict
        ``{modality: {"in_data": share, "added": share, "total": share}}``, the same
        three shares for each modality (shares of the samples).
    metric : {"accuracy", "r2"}
        What the scores are: accuracy for class labels, the coefficient of
        determination R^2 for a continuous target (see :data:`TASKS`).
    accuracy_mean, accuracy_std, accuracies
        Read-only aliases of ``score_mean``, ``score_std`` and ``scores``, the names
        of skmm 0.1 (when the benchmark scored classifiers only).
    """

    method: str
    missing_rate: float
    score_mean: float
    score_std: float
    rmse: float
    fit_time: float
    scores: list = field(default_factory=list)
    missing_in_data: float = float("nan")
    missing_added: float = float("nan")
    missing_total: float = float("nan")
    missing_by_modality: dict = field(default_factory=dict)
    metric: str = "accuracy"

    accuracy_mean = property(lambda self: self.score_mean)
    accuracy_std = property(lambda self: self.score_std)
    accuracies = property(lambda self: self.scores)


def missing_shares(observed, hidden, modalities):
    """Compute the shares of missing modality rows: in the data, hidden, in total.

    Parameters
    ----------
    observed : ndarray of shape (n_samples, n_modalities), dtype bool
        Rows observed in the data before masking (:attr:`skmm.MultiModalData.observed`).
    hidden : ndarray of shape (n_samples, n_modalities), dtype bool
        Rows hidden by the benchmark (a subset of ``observed``).
    modalities : sequence of str
        Names of the columns.

    Returns
    -------
    overall : dict
        ``{"in_data", "added", "total"}``: shares of all (sample, modality) slots.
    by_modality : dict
        ``{modality: {"in_data", "added", "total"}}``: shares of the samples.
    """
    observed = np.asarray(observed, dtype=bool)
    hidden = np.asarray(hidden, dtype=bool) & observed
    absent = ~observed

    def shares(axis):
        return {
            "in_data": absent.mean(axis=axis),
            "added": hidden.mean(axis=axis),
            "total": (absent | hidden).mean(axis=axis),
        }

    overall = {k: float(v) for k, v in shares(None).items()}
    per = shares(0)
    by_modality = {
        m: {k: float(v[j]) for k, v in per.items()} for j, m in enumerate(modalities)
    }
    return overall, by_modality


def _first(indices, n=5):
    shown = ", ".join(str(i) for i in indices[:n])
    return shown + (", ..." if len(indices) > n else "")


# A float target with more distinct values than this is a quantity, not class labels.
_MAX_FLOAT_CLASSES = 20


def benchmark_task(y, task="auto"):
    """Whether the benchmark classifies ``y`` or regresses on it.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels or target.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` reads ``y``: a continuous target (floats that are not all integers),
        or a float target with more than 20 distinct values (counts, scores, prices
        stored as floats, such as the diabetes progression), is regressed on; integers,
        strings, booleans and floats holding a few integer values are class labels.
        An explicit task is checked against ``y``.

    Returns
    -------
    {"classification", "regression"}

    Raises
    ------
    ValueError
        When ``y`` is neither (multi-output, multilabel, mixed types), a
        regression target is not numeric, or ``task`` is unknown.
    """
    if task not in ("auto", *TASKS):
        raise ValueError(f"task must be 'auto' or one of {list(TASKS)}; got {task!r}.")
    y = np.asarray(y)
    try:
        kind = type_of_target(y)
    except TypeError:  # values numpy cannot sort: strings mixed with numbers, say
        kind = "of mixed types"
    if kind not in ("binary", "multiclass", "continuous"):
        raise ValueError(
            f"The labels y must be class labels or a continuous target (the benchmark "
            f"scores classifiers or regressors); they look {kind} (values such as "
            f"{list(dict.fromkeys(y.ravel().tolist()))[:3]})."
        )
    if task == "auto":
        many = y.dtype.kind == "f" and np.unique(y).size > _MAX_FLOAT_CLASSES
        return "regression" if kind == "continuous" or many else "classification"
    if task == "regression" and y.dtype.kind not in "biuf":
        raise ValueError(f"task='regression' needs a numeric target; y has dtype "
                         f"{y.dtype}.")
    if task == "classification" and kind == "continuous":
        raise ValueError("task='classification' needs class labels; y is continuous "
                         f"(values such as {y[:3].tolist()}).")
    return task


def _check_classes(y, cv):
    """Refuse class labels with a single class, or too few samples for ``cv`` folds."""
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"The labels y hold a single class ({classes[:1].tolist()[0]!r}) in all "
            f"{len(y)} samples; "
            "the benchmark needs at least 2 classes."
        )
    if cv > counts.max():
        raise ValueError(
            f"cv={cv} folds need at least {cv} samples in a class, but the largest class "
            f"has {counts.max()} ({len(y)} samples, {classes.size} classes); use fewer "
            "folds."
        )


def check_benchmark_data(X, y, *, cv=5, pattern="mcar", complete_modality=None,
                         task="auto"):
    """Validate the data and labels of a benchmark before any method runs.

    Parameters
    ----------
    X : MultiModalData, dict of arrays or 2-D array
        The modalities, NaN rows marking missing ones.
    y : array-like of shape (n_samples,)
        Class labels, or a continuous target (regression).
    cv : int, default=5
        Number of folds (stratified for class labels).
    pattern : {"mcar", "standard"}, default="mcar"
        The masking pattern.
    complete_modality : str or None, default=None
        The modality kept by ``pattern="standard"`` (default: the first one).
    task : {"auto", "classification", "regression"}, default="auto"
        See :func:`benchmark_task`.

    Returns
    -------
    X : MultiModalData
        The validated data.
    y : ndarray of shape (n_samples,)
        The labels or target.
    complete_modality : str or None
        The modality ``pattern="standard"`` keeps (``None`` for ``"mcar"``).

    Raises
    ------
    ValueError
        Each message names the bad input and value: malformed modalities (see
        :func:`~skmm.utils.check_multimodal`), a modality missing in every sample, a
        sample missing every modality, labels
        that are not 1-D, not one per sample, NaN or infinite, neither class labels nor
        a continuous target (see :func:`benchmark_task`), or of a single class, more
        folds than the classes (or samples) allow, an unknown ``complete_modality``.
    """
    if pattern not in ("mcar", "standard"):
        raise ValueError(f"pattern must be 'mcar' or 'standard'; got {pattern!r}.")
    X = check_multimodal(X, require_all_observed=True, allow_empty_samples=False)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"The labels y must be a 1-D array with one class label per sample; got an "
            f"array of shape {y.shape}" + (" (use y.ravel())." if y.ndim == 2 and
                                           1 in y.shape else ".")
        )
    if len(y) != X.n_samples:
        raise ValueError(
            f"The labels y have {len(y)} entries but the modalities have {X.n_samples} "
            "samples (rows); one label per sample is needed."
        )
    if y.dtype.kind in "fc":
        bad = np.flatnonzero(~np.isfinite(y))
    elif y.dtype.kind == "O":
        bad = np.flatnonzero([v is None or (isinstance(v, float) and not np.isfinite(v))
                              for v in y])
    else:
        bad = np.array([], dtype=int)
    if bad.size:
        raise ValueError(
            f"The labels y have {bad.size} NaN, infinite or None values (rows "
            f"{_first(bad)}); every sample needs a class label: drop those samples or "
            "label them."
        )
    if benchmark_task(y, task) == "regression":
        if cv > len(y):
            raise ValueError(f"cv={cv} folds need at least {cv} samples; got {len(y)}.")
    else:
        _check_classes(y, cv)
    if pattern == "standard":
        complete_modality = complete_modality or X.modalities[0]
        if complete_modality not in X.modalities:
            raise ValueError(
                f"complete_modality {complete_modality!r} is not a modality of the data; "
                f"choose from {list(X.modalities)}."
            )
    else:
        complete_modality = None
    return X, y, complete_modality


def _fit_sizes_to_data(est, n_samples, n_features):
    """Clip a method's sizes to what the data allow; return ``est``.

    The benchmark's imputers use the paper-scale sizes (64 clusters, a 64-dimensional
    latent), which small data cannot hold: ``n_clusters`` is clipped to a tenth of the
    training samples (so that a centre averages about ten samples or more; at least 2),
    and ``n_components`` (MOFA+'s ``n_factors``) to a tenth of the training samples
    too, and to the features (which it cannot exceed).
    """
    # about ten samples per centre and per latent dimension
    latent = min(n_features, max(1, n_samples // 10))
    limits = {"n_clusters": max(2, n_samples // 10), "n_components": latent,
              "n_factors": latent}
    clipped = {}
    for key, value in est.get_params().items():
        limit = limits.get(key.rsplit("__", 1)[-1])
        if limit is not None and isinstance(value, int) and value > limit:
            clipped[key] = limit
    return est.set_params(**clipped)


def _score(task, y_true, y_pred):
    """Accuracy of class predictions, R^2 of continuous ones."""
    if task == "regression":
        from sklearn.metrics import r2_score

        return float(r2_score(y_true, y_pred))
    return float(np.mean(y_pred == y_true))


def _run_fold(name, X_true, X, hidden, y, train, test, random_state, quick, max_epochs,
              task):
    est, is_imputer = make_method(name, random_state, quick, max_epochs, task)
    est = clone(est)
    _fit_sizes_to_data(est, len(train), sum(X.n_features.values()))
    # a reference (the oracle) sees the training data as it was before the hiding
    fit_on = X_true if getattr(est, "fit_before_hiding", False) else X
    start = time.perf_counter()
    est.fit(fit_on[train], y[train])
    fit_time = time.perf_counter() - start
    rmse = float("nan")
    if is_imputer:
        # impute the test fold once: for the RMSE and for the rest of the pipeline
        filled = est[0].transform(X[test])
        predicted = est[1:].predict(filled)
        if hidden[test].any():
            rmse = imputation_rmse(X_true[test], filled, hidden[test])["overall"]
    else:
        predicted = est.predict(X[test])
    return _score(task, y[test], predicted), rmse, fit_time


def _in_order(n_jobs, tasks):
    """Run ``tasks`` (joblib ``delayed`` calls) in one pool; yield results in order.

    One pool for every task keeps both workers busy to the end (a pool per method
    leaves one idle while the other runs that method's last fold); results come as
    they finish, in order.
    """
    yield from Parallel(n_jobs=n_jobs, return_as="generator")(tasks)


def run_benchmark(
    X,
    y,
    *,
    methods=QUICK_METHODS,
    missing_rates=(0.5,),
    pattern="mcar",
    complete_modality=None,
    cv=5,
    task="auto",
    random_state=0,
    quick=False,
    max_epochs=None,
    n_jobs=None,
    progress=None,
):
    """Run every method at every missing rate; return a list of :class:`BenchmarkResult`.

    Parameters
    ----------
    X : MultiModalData
        Complete (or partly missing) data; modalities are hidden on top, and each result
        reports the share missing in ``X``, the share hidden and the total.
    y : array-like of shape (n_samples,)
        Class labels, one per sample, scored by accuracy; or a continuous target, scored
        by R^2 (``task`` tells which). Each method is then built as a classifier or as
        a regressor.
    methods : sequence of str
        Names from :data:`METHODS`.
    missing_rates : sequence of float
        With ``pattern="mcar"``, the rate of hidden modality slots; with
        ``"standard"``, the rate of every modality except ``complete_modality``.
    pattern : {"mcar", "standard"}
        Passed to :func:`~skmm.datasets.make_missing_modalities`: ``"standard"`` keeps
        one modality observed in every sample (the UL4M4 protocol).
    complete_modality : str or None
        The modality kept by ``pattern="standard"`` (default: the first one).
    cv : int
        Number of folds: stratified for class labels, shuffled ``KFold`` for a
        continuous target.
    task : {"auto", "classification", "regression"}, default="auto"
        See :func:`benchmark_task`.
    random_state : int
        Seed of masking, folds and estimators.
    quick : bool
        Smaller models (fewer epochs/iterations) for a fast run.
    max_epochs : int or None
        Training epochs of the torch embedders (default: each embedder's own default;
        20 with ``quick``).
    n_jobs : int or None
        Workers of the one joblib pool that runs every (rate, method, fold) task.
    progress : callable or None
        Called as ``progress(message)`` after each method and rate.

    Raises
    ------
    ValueError
        Unknown method names, or data and labels refused by
        :func:`check_benchmark_data`.
    """
    for name in methods:
        if name not in METHODS:
            raise ValueError(f"Unknown method {name!r}; choose from {sorted(METHODS)}.")
    X_true, y, complete_modality = check_benchmark_data(
        X, y, cv=cv, pattern=pattern, complete_modality=complete_modality, task=task
    )
    task = benchmark_task(y, task)
    splitter = StratifiedKFold if task == "classification" else KFold
    folds = list(
        splitter(cv, shuffle=True, random_state=random_state).split(np.zeros(len(y)), y)
    )
    runs = []  # (rate, method, shares, hidden-masked data) in result order
    for rate in missing_rates:
        if rate > 0:
            rates = rate
            if pattern == "standard":
                rates = {
                    m: 0.0 if m == complete_modality else rate for m in X_true.modalities
                }
            X_missing, hidden = make_missing_modalities(
                X_true, rates, pattern=pattern, random_state=random_state, return_mask=True
            )
        else:
            X_missing, hidden = X_true, np.zeros((len(y), len(X_true.modalities)), bool)
        shares = missing_shares(X_true.observed, hidden, X_true.modalities)
        runs += [(rate, name, shares, X_missing, hidden) for name in methods]
    tasks = (
        delayed(_run_fold)(
            name, X_true, X_missing, hidden, y, train, test, random_state, quick,
            max_epochs, task,
        )
        for _, name, _, X_missing, hidden in runs
        for train, test in folds
    )
    results = []
    with warnings.catch_warnings():
        # loky restarts a worker whose memory grew (importing torch does that) and says
        # so; pending folds go to a fresh worker, so nothing is lost.
        warnings.filterwarnings("ignore", "A worker stopped", UserWarning)
        fold_scores = _in_order(n_jobs, tasks)
        for rate, name, (overall, by_modality), _, _ in runs:
            score, rmse, fit_time = (
                np.array(v) for v in zip(*(next(fold_scores) for _ in folds))
            )
            result = BenchmarkResult(
                method=name,
                missing_rate=float(rate),
                score_mean=float(score.mean()),
                score_std=float(score.std()),
                rmse=float(np.nanmean(rmse)) if np.isfinite(rmse).any() else float("nan"),
                fit_time=float(fit_time.mean()),
                scores=score.tolist(),
                metric=TASKS[task],
                missing_in_data=overall["in_data"],
                missing_added=overall["added"],
                missing_total=overall["total"],
                missing_by_modality=by_modality,
            )
            results.append(result)
            if progress is not None:
                progress(
                    f"[{len(results)}/{len(runs)}] rate {rate:.2f} "
                    f"{name:<15} {result.metric} {result.score_mean:.3f}"
                )
    return results


def format_table(results):
    """Plain-text table of results, one row per (missing rate, method).

    ``rate`` is the missing rate the benchmark hid observed rows with; ``missing`` is the
    share of all modality rows missing in what the methods saw (already missing in the
    data + hidden by the benchmark; ``-`` when the result does not say).
    """
    metric = results[0].metric if results else "accuracy"
    header = (f"{'rate':>5}  {'missing':>7}  {'method':<15} {metric:>15}  "
              f"{'RMSE':>6}  {'fit s':>7}")
    lines = [header, "-" * len(header)]
    for r in results:
        rmse = "-" if np.isnan(r.rmse) else f"{r.rmse:.3f}"
        total = "-" if np.isnan(r.missing_total) else f"{r.missing_total:.1%}"
        lines.append(
            f"{r.missing_rate:>5.2f}  {total:>7}  {r.method:<15} {r.score_mean:.3f} +- "
            f"{r.score_std:.3f}  {rmse:>6}  {r.fit_time:>7.2f}"
        )
    return "\n".join(lines)


def format_missing(results):
    """Plain-text table of the missing shares, per missing rate and modality.

    For each rate: the share of samples missing each modality in the data, the share the
    benchmark hid on top, and the total; then the same over all modality rows.
    """
    width = max([len("all modalities")]
                + [len(m) for r in results for m in r.missing_by_modality])
    header = (f"{'rate':>5}  {'modality':<{width}}  {'in data':>7}  {'hidden':>7}  "
              f"{'total':>7}")
    lines = [header, "-" * len(header)]
    seen = set()
    for r in results:
        if r.missing_rate in seen or not r.missing_by_modality:
            continue
        seen.add(r.missing_rate)
        rows = list(r.missing_by_modality.items())
        rows.append(("all modalities", {"in_data": r.missing_in_data,
                                        "added": r.missing_added,
                                        "total": r.missing_total}))
        for m, share in rows:
            lines.append(
                f"{r.missing_rate:>5.2f}  {m:<{width}}  {share['in_data']:>7.1%}  "
                f"{share['added']:>7.1%}  {share['total']:>7.1%}"
            )
    return "\n".join(lines)


def _json_safe(value):
    """``value`` with every non-finite float (a figure not measured) as ``None``."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_results(results, out_dir, *, data=None):
    """Write ``results.csv`` and ``results.json`` into ``out_dir``; return their paths.

    ``results.json`` is strict JSON: a figure that was not measured (the RMSE of a method
    that does not impute, say) is ``null`` there and an empty cell in the CSV. ``data``,
    when given, names the data set (``"mfeat"``, a file path): every row then records it
    under ``"data"``, so that results of several data sets can be pooled.
    """
    import csv
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [_json_safe(asdict(r)) for r in results]
    if data is not None:
        rows = [{"data": str(data), **row} for row in rows]
    with open(out / "results.json", "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=2, allow_nan=False)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as fh:
        columns = [c for c, v in rows[0].items() if not isinstance(v, (list, dict))]
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return out / "results.csv", out / "results.json"


def save_figure(results, path, *, dpi=110):
    """Save the benchmark figure: accuracy, and imputation RMSE when some method has it.

    Needs matplotlib (``pip install 'skmm[plot]'``); returns ``path``.
    """
    from .plotting import BenchmarkDisplay
    from .plotting._base import import_pyplot

    plt = import_pyplot()
    rows = BenchmarkDisplay(results).results  # dataclasses or JSON rows, as dicts
    has_rmse = any(r["rmse"] is not None and np.isfinite(r["rmse"]) for r in rows)
    fig, axes = plt.subplots(
        1, 1 + has_rmse, figsize=(7 + 5 * has_rmse, 4.5), squeeze=False
    )
    panels = [BenchmarkDisplay.from_results(rows, ax=axes[0, 0])]
    if has_rmse:
        panels.append(BenchmarkDisplay.from_results(rows, metric="rmse", ax=axes[0, 1]))
    # a legend drawn beside its axes needs room of its own
    beside = sum(p.legend_beside_ for p in panels)
    fig.set_size_inches(fig.get_figwidth() + 2 * beside, fig.get_figheight())
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
