"""The shared harness of the benchmark scripts.

After scikit-learn's ``asv_benchmarks/benchmarks/common.py``: a script declares its data
(a name of :data:`skmm.datasets.BENCHMARK_DATASETS` and missing rates) and its methods;
the loops it would otherwise repeat live here, with one protocol for all:

- data: ``BENCHMARK_DATASETS[name](return_X_y=True)``, then
  ``make_missing_modalities(X, rate, pattern="mcar", random_state=0,
  return_mask=True)`` (:func:`load_masked`), and one ``train_test_split`` of the rows
  (:func:`split`);
- imputation error: :func:`skmm.metrics.imputation_rmse` on the hidden rows of held-out
  samples, standardised units, the imputer fitted on the other rows (:func:`heldout_rmse`);
- scores: a clone of each method fitted on every training fold, scored on its test fold
  (:func:`fold_scores`);
- an imputer downstream: ``make_pipeline(imputer, StandardScaler(),
  LogisticRegression(max_iter=2000))`` per fold, its accuracy and the held-out RMSE
  (:func:`probe_imputer`);
- an embedding downstream: ``[embedding, presence bits] -> StandardScaler ->
  LogisticRegression`` (:func:`embedding_probe`), beside the zero-fill + indicators
  baseline (:func:`zero_fill_probe`), scored by cross-validation (:func:`cv_accuracy`);
  a matrix: ``StandardScaler -> LogisticRegression`` (:func:`linear_probe`); these are
  the pipelines of :mod:`skmm.benchmark` (``python -m skmm``), built there;
- time: ``time.perf_counter`` around the call, the median of ``repeats`` calls
  (:func:`median_time`);
- output: a markdown table (:func:`print_table`).

Scripts import it as ``from common import ...``: Python puts the script's folder on the
path when it runs ``benchmarks/<script>.py``.
"""

import time
from collections import namedtuple

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm import benchmark
from skmm.datasets import BENCHMARK_DATASETS, make_missing_modalities
from skmm.metrics import imputation_rmse

__all__ = ["Masked", "cv_accuracy", "embedding_probe", "fold_scores", "heldout_rmse",
           "linear_probe", "load_masked", "median_time", "print_table", "probe_imputer",
           "split", "zero_fill_probe"]

#: A data set with modalities hidden: the complete data ``X`` (what was observed before
#: hiding), labels ``y``, the masked data ``X_missing`` and the ``hidden`` mask
#: (n_samples, n_modalities), True where the benchmark hid an observed modality row.
Masked = namedtuple("Masked", "X y X_missing hidden")


def load_masked(name, rate, *, pattern="mcar", random_state=0, loader_kwargs=None):
    """Load ``BENCHMARK_DATASETS[name]`` and hide ``rate`` of its modality slots.

    ``random_state`` seeds the mask; ``loader_kwargs`` (a dict) go to the loader, e.g.
    ``{"shuffle": True, "random_state": 0}``. Returns a :data:`Masked`.
    """
    X, y = BENCHMARK_DATASETS[name](return_X_y=True, **(loader_kwargs or {}))
    X_missing, hidden = make_missing_modalities(
        X, rate, pattern=pattern, random_state=random_state, return_mask=True
    )
    return Masked(X, y, X_missing, hidden)


def split(n_samples, *, test_size=0.2, random_state=0):
    """Row indices ``(train, test)`` of one ``train_test_split``."""
    return train_test_split(np.arange(n_samples), test_size=test_size,
                            random_state=random_state)


def fold_scores(estimator, folds, X, y, score, *, X_fit=None):
    """``score(y[test], predictions)`` of a clone fitted on each training fold.

    ``folds`` is a list of ``(train, test)`` index pairs; the clone is fitted on
    ``X_fit[train]`` (default ``X``, e.g. the complete data for an oracle) and predicts
    ``X[test]``. Returns an array, one score per fold.
    """
    X_fit = X if X_fit is None else X_fit
    return np.array([
        score(y[test], clone(estimator).fit(X_fit[train], y[train]).predict(X[test]))
        for train, test in folds
    ])


def heldout_rmse(imputer, data, test):
    """RMSE of a fitted imputer on the hidden rows of the ``test`` samples.

    ``imputation_rmse(...)["overall"]`` in standardised units; ``imputer`` was fitted
    on other rows of ``data.X_missing`` (a :data:`Masked`). Returns ``(rmse, seconds)``,
    the time of the ``transform``.
    """
    seconds, filled = median_time(lambda: imputer.transform(data.X_missing[test]))
    return imputation_rmse(data.X[test], filled, data.hidden[test])["overall"], seconds


def probe_imputer(imputer, data, folds):
    """An imputer, fitted on each training fold, before a logistic-regression probe.

    For every ``(train, test)`` of ``folds``: ``make_pipeline(clone(imputer),
    StandardScaler(), LogisticRegression(max_iter=2000))`` fitted on the training rows
    of ``data.X_missing``, its accuracy on the test rows and :func:`heldout_rmse` of its
    imputer. Returns ``(accuracy, rmse, fit_seconds)``, arrays with one entry per fold.
    """
    accuracy, rmse, seconds = [], [], []
    for train, test in folds:
        pipe = benchmark._imputer_pipeline(clone(imputer), regression=False)
        fit_time, _ = median_time(
            lambda: pipe.fit(data.X_missing[train], data.y[train])
        )
        accuracy.append(pipe.score(data.X_missing[test], data.y[test]))
        rmse.append(heldout_rmse(pipe[0], data, test)[0])
        seconds.append(fit_time)
    return np.array(accuracy), np.array(rmse), np.array(seconds)


def linear_probe():
    """``StandardScaler -> LogisticRegression(max_iter=2000)``: the probe of a matrix."""
    return make_pipeline(StandardScaler(), benchmark._probe())


def embedding_probe(embedder):
    """``[embedder's output, presence bits] -> StandardScaler -> LogisticRegression``:
    the linear probe of an embedding, as ``python -m skmm`` builds it."""
    return benchmark._embedder_pipeline(embedder, regression=False)


def zero_fill_probe():
    """The practitioner's baseline of ``python -m skmm``: standardise, fill missing rows
    with 0, append the missing-modality indicators, then ``LogisticRegression``."""
    return benchmark.make_method("zero+indicator")[0]


def cv_accuracy(estimator, X, y, cv):
    """``cross_val_score(estimator, X, y, cv=cv)``: ``(mean, std, seconds)``."""
    seconds, scores = median_time(lambda: cross_val_score(estimator, X, y, cv=cv))
    return scores.mean(), scores.std(), seconds


def median_time(func, repeats=1):
    """Median wall-clock seconds of ``repeats`` calls of ``func()``, and its last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def _cell(value, digits):
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(columns, rows, *, digits=3):
    """Print ``rows`` (sequences of cells, floats with ``digits`` decimals) as markdown.

    ``rows`` may be a generator: each row is printed (and flushed) as it comes, so a
    long benchmark shows its progress.
    """
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(_cell(v, digits) for v in row) + " |", flush=True)
