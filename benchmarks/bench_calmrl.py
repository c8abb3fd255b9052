"""Benchmark CalMRLImputer against scikit-learn's imputers, and at scale.

1. mfeat (``load_multiple_features``), 50% of modality slots hidden (MCAR), q = 32:
   fit+transform time (on all the masked data), and over 5 stratified folds
   LogisticRegression accuracy and imputation RMSE on the hidden rows of the test folds
   (``imputation_rmse``, standardised units), the imputer fitted on the training folds
   only (``benchmarks/common.py``'s ``probe_imputer``), for CalMRLImputer,
   IterativeImputer(max_iter=5, n_nearest_features=50), KNNImputer and mean imputation,
   all on the same masked data in one run.
2. Scale: 100,000 samples, 3 modalities x 256 features, q = 32, 40% of slots hidden:
   fit time, EM iterations, time per EM iteration (one E-step + one M-step), peak
   memory of the fit (tracemalloc, a separate short fit) and the RMSE on the hidden
   rows (standardised units) beside the noise floor in the same units.
3. EM iteration (``--em-iteration N``, instead of 1 and 2): N samples, 3 modalities x 128
   features, q = 32, 35% of slots hidden: fits with ``tol=0`` and a fixed ``max_iter``
   (1 and 1 + ``--iterations``), in turn, ``--repeats`` times; the time of one EM
   iteration is their difference over ``--iterations`` (median over repeats), the fixed
   cost of ``fit`` is the rest of ``fit(max_iter=1)``; also ``transform`` and
   ``fit_transform(max_iter=1)`` beside ``fit`` + ``transform``, and the peak resident
   memory of the process. The issue's size is ``--em-iteration 1000000`` (3 GB of input,
   about 9 GB peak).

Run: ``.venv/bin/python benchmarks/bench_calmrl.py [--quick] [--threads N]
[--em-iteration N [--iterations K] [--repeats R]]``
(``--quick``: 20,000 samples in part 2). Everything runs under
``threadpool_limits(N)`` (default 1): numpy and scipy wheels each bundle their own
OpenBLAS, and code that alternates between them (IterativeImputer's BayesianRidge,
LogisticRegression) can run tens of times slower with several threads per pool on a busy
machine, which would flatter CalMRLImputer (numpy only). Timings depend on the machine
and its load; compare ratios taken in the same run.
"""

import argparse
import resource
import time
import tracemalloc
import warnings

import numpy as np
from common import load_masked, median_time, print_table, probe_imputer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_info, threadpool_limits

from skmm.datasets import make_missing_modalities, make_shared_latent
from skmm.impute import CalMRLImputer
from skmm.impute import _calmrl_em as em
from skmm.metrics import imputation_rmse


def bench_mfeat(seed=0):
    data = load_masked("mfeat", 0.5, random_state=seed)
    imputers = {
        "CalMRLImputer(q=32)": CalMRLImputer(n_components=32, random_state=seed),
        "CalMRLImputer(q=64)": CalMRLImputer(n_components=64, random_state=seed),
        "IterativeImputer": IterativeImputer(
            max_iter=5, n_nearest_features=50, random_state=seed
        ),
        "KNNImputer": KNNImputer(),
        "SimpleImputer(mean)": SimpleImputer(),
    }
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(
        data.X_missing, data.y
    ))
    rows = {}
    for name, imputer in imputers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # IterativeImputer's ConvergenceWarning
            seconds, _ = median_time(lambda: imputer.fit_transform(data.X_missing))
            print(f"  {name}: fit+transform {seconds:.2f} s", flush=True)
            accuracy, rmse, _ = probe_imputer(imputer, data, folds)
        rows[name] = (seconds, rmse.mean(), accuracy.mean(), accuracy.std())
        print(f"  done: {name} ({seconds:.2f} s)", flush=True)
    base = rows["CalMRLImputer(q=32)"][0]
    print("\nmfeat, 2000 x 649 (6 modalities), 50% of modality slots hidden (MCAR)\n")
    print_table(
        ["imputer", "fit+transform s", "x CalMRL", "RMSE", "5-fold LR acc"],
        [(name, f"{seconds:.2f}", f"{seconds / base:.1f}", rmse,
          f"{acc:.3f} ± {std:.3f}")
         for name, (seconds, rmse, acc, std) in rows.items()],
    )
    return rows


def _mcar_rate(target, n_modalities):
    """Per-slot MCAR rate that hides ``target`` of the slots once samples that would
    lose every modality are redrawn: solves ``(r - r^M) / (1 - r^M) = target``."""
    coefs = np.zeros(n_modalities + 1)
    coefs[0], coefs[-2], coefs[-1] = target - 1.0, 1.0, -target
    roots = np.roots(coefs)
    return float(next(r.real for r in roots if abs(r.imag) < 1e-9 and 0 < r.real < 1))


def bench_scale(n_samples=100_000, width=256, q=32, rate=0.4, seed=0):
    widths = {f"m{j}": width for j in range(3)}
    X = make_shared_latent(n_samples, widths, n_components=q, noise=1.0, random_state=seed)
    X_missing, hidden = make_missing_modalities(
        X, _mcar_rate(rate, len(widths)), random_state=seed, return_mask=True
    )
    imputer = CalMRLImputer(n_components=q, random_state=seed)
    start = time.perf_counter()
    imputer.fit(X_missing)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    filled = imputer.transform(X_missing)
    transform_seconds = time.perf_counter() - start
    rmse = imputation_rmse(X, filled, hidden)["overall"]
    # The noise (standard deviation 1.0 in raw units) in the same standardised units.
    floor = np.mean([np.sqrt(np.mean(1.0 / np.var(X[m], axis=0))) for m in widths])

    # One EM iteration on the fitted layout, timed alone.
    observed = X_missing.observed
    data = em.prepare(
        list(X_missing.values()), observed, center=imputer._center, scale=imputer._scale
    )
    floors = em.noise_floors(data, imputer.min_noise_variance)
    start = time.perf_counter()
    post = em.e_step(data, imputer._params)
    em.m_step(data, post, floors)
    iteration_seconds = time.perf_counter() - start
    del data, post

    # Peak memory allocated during a (short) fit, input excluded.
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CalMRLImputer(n_components=q, max_iter=2, random_state=seed).fit(X_missing)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    input_mb = sum(a.nbytes for a in X_missing.values()) / 2**20

    print(
        f"\nscale: {n_samples} x 3 x {width}, q={q}, {100 * hidden.mean():.0f}% of slots "
        "hidden"
    )
    print(f"  fit                 {fit_seconds:8.2f} s  ({imputer.n_iter_} EM iterations, "
          f"converged={imputer.converged_})")
    print(f"  one EM iteration    {iteration_seconds:8.3f} s")
    print(f"  transform           {transform_seconds:8.2f} s")
    print(f"  peak memory of fit  {peak / 2**20:8.0f} MiB  (input: {input_mb:.0f} MiB)")
    print(f"  RMSE hidden rows    {rmse:8.3f}    (standardised; noise floor {floor:.3f})")
    return fit_seconds, iteration_seconds, peak


def bench_em_iteration(n_samples, width=128, q=32, rate=0.35, n_iter=4, repeats=3, seed=0):
    widths = {f"m{j}": width for j in range(3)}
    X = make_shared_latent(n_samples, widths, n_components=q, noise=1.0, random_state=seed)
    X = make_missing_modalities(X, _mcar_rate(rate, len(widths)), random_state=seed)
    hidden = 1.0 - X.observed.mean()

    def timed(fn):
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    def imputer(max_iter):
        return CalMRLImputer(n_components=q, max_iter=max_iter, tol=0, random_state=seed)

    times = {k: [] for k in ("fit1", "fitK", "transform", "fit_transform")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of tol=0
        for _ in range(repeats):
            t, fitted = timed(lambda: imputer(1).fit(X))
            times["fit1"].append(t)
            times["fitK"].append(timed(lambda: imputer(1 + n_iter).fit(X))[0])
            times["transform"].append(timed(lambda: fitted.transform(X))[0])
            times["fit_transform"].append(
                timed(lambda: imputer(1).fit_transform(X))[0]
            )
    med = {k: float(np.median(v)) for k, v in times.items()}
    per_iter = float(np.median(np.subtract(times["fitK"], times["fit1"]) / n_iter))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(
        f"\nEM iteration: {n_samples} x 3 x {width}, q={q}, {100 * hidden:.1f}% of slots "
        f"hidden, median of {repeats}"
    )
    print(f"  one EM iteration          {per_iter:8.3f} s")
    print(f"  fit fixed cost            {med['fit1'] - per_iter:8.3f} s  "
          f"(fit(max_iter=1) {med['fit1']:.3f} s)")
    print(f"  transform                 {med['transform']:8.3f} s")
    print(f"  fit_transform(max_iter=1) {med['fit_transform']:8.3f} s  "
          f"(fit + transform {med['fit1'] + med['transform']:.3f} s)")
    print(f"  peak resident memory      {peak:8.2f} GiB  "
          f"(input {sum(a.nbytes for a in X.values()) / 2**30:.2f} GiB)")
    return per_iter, med


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 samples at scale")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads per pool")
    parser.add_argument(
        "--em-iteration", type=int, metavar="N", help="only part 3, on N samples"
    )
    parser.add_argument("--iterations", type=int, default=4, help="part 3: K")
    parser.add_argument("--repeats", type=int, default=3, help="part 3: R")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        threads = {
            d["filepath"].split("/")[-1]: d["num_threads"] for d in threadpool_info()
        }
        print(f"BLAS/OpenMP threads: {threads}")
        if args.em_iteration:
            bench_em_iteration(args.em_iteration, n_iter=args.iterations,
                               repeats=args.repeats)
            return
        bench_mfeat()
        bench_scale(n_samples=20_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
