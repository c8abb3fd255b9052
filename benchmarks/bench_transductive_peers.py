"""Transductive peers (SoftImpute, MOFA+) against CalMRLImputer and mean imputation.

mfeat (``load_multiple_features``, shuffled with seed 0), MCAR over modality slots at
30%, 50% and 70% (``make_missing_modalities(..., pattern="mcar", random_state=0)``),
one 80/20 split (``train_test_split(random_state=0)``). Each imputer is fitted on the
training rows and fills the test rows; the table gives the imputation RMSE on the hidden
test rows (``imputation_rmse(...)["overall"]``, standardised units) and the fit and
transform times. The transductive peers refit at transform on the training rows stacked
with the test rows, so their transform costs a fit. ``n_iter_`` is that of the fit on the
training rows. MOFA+ is skipped when mofapy2 is not installed.

Run: ``flock /tmp/bench.lock .venv/bin/python benchmarks/bench_transductive_peers.py
[--threads N]`` (default 1 thread per BLAS pool). Timings depend on the machine and its
load; compare ratios taken in the same run.
"""

import argparse
import importlib.util
import time
import warnings

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skmm._transductive import MOFAImputer, SoftImputeImputer
from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.impute import CalMRLImputer
from skmm.metrics import imputation_rmse

RATES = (0.3, 0.5, 0.7)


def _imputers():
    imputers = {
        "SoftImputeImputer()": SoftImputeImputer(random_state=0),
        # the default max_iter=100 stops before tol=1e-4 on mfeat
        "SoftImputeImputer(max_iter=1000)": SoftImputeImputer(
            max_iter=1000, random_state=0
        ),
    }
    if importlib.util.find_spec("mofapy2") is not None:
        imputers["MOFAImputer(n_factors=10)"] = MOFAImputer(n_factors=10, random_state=0)
    imputers.update({
        "CalMRLImputer(q=64, clip)": CalMRLImputer(
            n_components=64, clip=True, random_state=0
        ),
        "CalMRLImputer(q=10, clip)": CalMRLImputer(
            n_components=10, clip=True, random_state=0
        ),
        # per-feature (factor-analysis) noise: heteroscedastic features
        "CalMRLImputer(q=64, clip, feature)": CalMRLImputer(
            n_components=64, clip=True, noise="feature", random_state=0
        ),
        # as the benchmark's "mean" method: on the stacked modalities
        "SimpleImputer(mean)": SimpleImputer(keep_empty_features=True),
    })
    return imputers


def run():
    X, _ = load_multiple_features(return_X_y=True, shuffle=True, random_state=0)
    rows = []
    for rate in RATES:
        X_missing, hidden = make_missing_modalities(
            X, rate, pattern="mcar", random_state=0, return_mask=True
        )
        train, test = train_test_split(np.arange(X.n_samples), test_size=0.2,
                                       random_state=0)
        for name, imputer in _imputers().items():
            sklearn_imputer = isinstance(imputer, SimpleImputer)
            X_train, X_test = X_missing[train], X_missing[test]
            if sklearn_imputer:
                X_train, X_test = np.asarray(X_train), np.asarray(X_test)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                imputer.fit(X_train)
                fit_time = time.perf_counter() - start
                start = time.perf_counter()
                filled = imputer.transform(X_test)
                transform_time = time.perf_counter() - start
            rmse = imputation_rmse(X[test], filled, hidden[test])
            note = []
            if any("converge" in str(w.message) for w in caught):
                note.append("not converged")
            if hasattr(imputer, "n_iter_"):
                note.append(f"n_iter_={imputer.n_iter_}")
            rows.append((rate, name, rmse["overall"], fit_time, transform_time,
                         ", ".join(note)))
            print(f"  done: {rate:.0%} {name}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        rows = run()
    header = (f"{'missing':>7}  {'imputer':<32} {'RMSE':>6} {'fit s':>7} "
              f"{'transform s':>11} {'total s':>7}  notes")
    print(header)
    print("-" * len(header))
    for rate, name, rmse, fit_time, transform_time, note in rows:
        print(f"{rate:>7.0%}  {name:<32} {rmse:>6.3f} {fit_time:>7.2f} "
              f"{transform_time:>11.2f} {fit_time + transform_time:>7.2f}  {note}")


if __name__ == "__main__":
    main()
