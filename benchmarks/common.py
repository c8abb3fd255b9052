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
- memory: the peak resident set size of a phase (:class:`PeakRSS`);
- missing slots: the per-slot rate that hides a target fraction once samples left with
  no modality are redrawn (:func:`slot_rate`);
- output: a markdown table (:func:`print_table`).

Scripts import it as ``from common import ...``: Python puts the script's folder on the
path when it runs ``benchmarks/<script>.py``.
"""

import resource
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
           "linear_probe", "load_masked", "median_time", "PeakRSS", "print_table",
           "probe_imputer", "scale_data", "slot_rate", "split", "zero_fill_probe"]

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


def slot_rate(target, n_modalities):
    """Per-slot rate ``r`` hiding ``target`` of the slots once samples that would lose
    every modality are redrawn: the root in (0, 1) of ``(r - r^M) / (1 - r^M) = target``.
    """
    coefs = np.zeros(n_modalities + 1)
    coefs[0], coefs[-2], coefs[-1] = target - 1.0, 1.0, -target
    roots = np.roots(coefs)
    return float(next(r.real for r in roots if abs(r.imag) < 1e-9 and 0 < r.real < 1))


def scale_data(n, width=128, n_modalities=3, rate=0.4, rank=8, seed=0, step=100_000):
    """Synthetic data at any scale: a rank-``rank`` signal plus noise per modality,
    ``rate`` of the (sample, modality) slots missing (MCAR at :func:`slot_rate`,
    samples left with no modality redrawn).

    Returns ``(observed, blocks)``: the ``(n, n_modalities)`` mask, and an iterator
    of ``(rows, arrays)``, ``step`` rows at a time (float64, NaN rows where missing),
    so that no temporary is larger than a block.
    """
    rng = np.random.default_rng(seed)
    per_slot = slot_rate(rate, n_modalities)
    observed = rng.random((n, n_modalities)) >= per_slot
    empty = np.flatnonzero(~observed.any(axis=1))
    while empty.size:  # redraw samples left with no modality
        observed[empty] = rng.random((empty.size, n_modalities)) >= per_slot
        empty = empty[~observed[empty].any(axis=1)]

    def blocks():
        loadings = [rng.normal(size=(rank, width)) for _ in range(n_modalities)]
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            latent = rng.normal(size=(rows.stop - start, rank))
            arrays = []
            for j in range(n_modalities):
                a = latent @ loadings[j]
                a += 0.5 * rng.standard_normal((rows.stop - start, width))
                a[~observed[rows, j]] = np.nan
                arrays.append(a)
            yield rows, arrays

    return observed, blocks()


class PeakRSS:
    """Peak resident memory of this process since the last :meth:`reset`, in bytes.

    Resets the kernel's high-water mark (``/proc/self/clear_refs``, Linux >= 4.0);
    where that is refused it falls back to the lifetime peak (``ru_maxrss``).
    """

    def reset(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.resettable = True
        except OSError:
            self.resettable = False

    @staticmethod
    def _status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def current(self):
        return self._status("VmRSS") or 0

    def peak(self):
        if getattr(self, "resettable", False):
            value = self._status("VmHWM")
            if value is not None:
                return value
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
