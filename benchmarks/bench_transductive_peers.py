"""Transductive peers (SoftImpute, MOFA+) against CalMRLImputer and mean imputation.

mfeat (``load_multiple_features``, shuffled with seed 0), MCAR over modality slots at
30%, 50% and 70% (``make_missing_modalities(..., pattern="mcar", random_state=0)``),
one 80/20 split (``train_test_split(random_state=0)``): the protocol of
``benchmarks/common.py``. Each imputer is fitted on the training rows and fills the test
rows; the table gives the imputation RMSE on the hidden test rows
(``imputation_rmse(...)["overall"]``, standardised units) and the fit and transform
times. The transductive peers refit at transform on the training rows stacked with the
test rows, so their transform costs a fit. ``n_iter_`` is that of the fit on the
training rows. MOFA+ is skipped when mofapy2 is not installed.

Run: ``flock /tmp/bench.lock .venv/bin/python benchmarks/bench_transductive_peers.py
[--threads N] [--rates R ...]`` (default 1 thread per BLAS pool). Timings depend on the
machine and its load; compare ratios taken in the same run.
"""

import argparse
import importlib.util
import warnings

from common import heldout_rmse, load_masked, median_time, print_table, split
from sklearn.impute import SimpleImputer
from threadpoolctl import threadpool_limits

from skmm._transductive import MOFAImputer, SoftImputeImputer
from skmm.impute import CalMRLImputer

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


def run(rates):
    rows = []
    for rate in rates:
        data = load_masked("mfeat", rate,
                           loader_kwargs={"shuffle": True, "random_state": 0})
        train, test = split(data.X.n_samples)
        for name, imputer in _imputers().items():
            X_train = data.X_missing[train]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit_time, _ = median_time(lambda: imputer.fit(X_train))
                rmse, transform_time = heldout_rmse(imputer, data, test)
            note = []
            if any("converge" in str(w.message) for w in caught):
                note.append("not converged")
            if hasattr(imputer, "n_iter_"):
                note.append(f"n_iter_={imputer.n_iter_}")
            rows.append((f"{rate:.0%}", name, rmse, fit_time, transform_time,
                         fit_time + transform_time, ", ".join(note)))
            print(f"  done: {rate:.0%} {name}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rates", type=float, nargs="+", default=RATES)
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        rows = run(args.rates)
    print_table(["missing", "imputer", "RMSE", "fit s", "transform s", "total s",
                 "notes"], rows)


if __name__ == "__main__":
    main()
