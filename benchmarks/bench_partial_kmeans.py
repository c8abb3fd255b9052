"""Benchmark PartialModalityKMeans and PartialModalityKMeansImputer (UL4M4).

1. Fit speed: 40,000 samples, 3 modalities x 128 features, k = 64, against
   scikit-learn's ``KMeans(algorithm="lloyd", n_init=1, init=<same centres>, tol=0)``
   on the complete data, from identical initial centres: 10 iterations and the fixed
   per-fit cost (``max_iter=1``), on the complete data and with 30% of modality slots
   missing (MCAR, every sample keeps one). CPU time with one thread per side
   (``threadpool_limits(1)``), runs in turn, median of the pairwise ratios.
2. Greedy completion (``transform``) of those 40,000 samples against
   ``KMeans.predict`` on the complete data (same protocol). Twice: with the fitted
   centres (all complete, so the first candidate is the nearest centre) and with one
   modality taken out of one centre, which forces the general k x k path for every
   sample. (Correctness against the per-sample reference of the specification is the
   tests' job: ``tests/impute/test_partial_kmeans_imputer.py``.)
3. Peak memory at 1,000,000 samples x 3 modalities x 256 float32 features (``--quick``:
   200,000), 30% missing, k = 64: peak of the allocations made during ``fit``
   (2 iterations) and during the imputer's ``transform`` (tracemalloc), next to the
   size of the input and of the n x k x d tensor a naive implementation would build.
4. Quality on mfeat (``load_multiple_features``), 50% of modality slots hidden (MCAR):
   5-fold accuracy of ``make_pipeline(imputer, StandardScaler(),
   LogisticRegression(max_iter=2000))`` and imputation RMSE on the hidden rows of the
   test folds (standardised units, imputer fitted on the training folds;
   ``benchmarks/common.py``'s ``probe_imputer``), for
   PartialModalityKMeansImputer and scikit-learn's SimpleImputer, KNNImputer and
   IterativeImputer, on the same masked data and folds.

Run: ``.venv/bin/python benchmarks/bench_partial_kmeans.py [--quick] [--parts 1 2 3 4]``.
Timings depend on the machine and its load; compare the ratios taken in the same run.
"""

import argparse
import copy
import time
import tracemalloc
import warnings

import numpy as np
from common import load_masked, print_table, probe_imputer
from sklearn.cluster import KMeans
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from skmm import MultiModalData
from skmm.cluster import PartialModalityKMeans
from skmm.impute import PartialModalityKMeansImputer


def make_blobs_with_missing(n, n_modalities, width, k, rate, seed=0, dtype=np.float64):
    """Gaussian clusters over all modalities, then MCAR missing modality rows.

    Returns ``(complete, masked)``: the complete arrays stacked (None when ``n`` is
    large, to save memory) and a MultiModalData with ~``rate`` of the slots missing
    (whole rows NaN, every sample keeps one modality).
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=0.5, size=(k, n_modalities, width)).astype(dtype)
    labels = rng.integers(k, size=n)
    observed = rng.random((n, n_modalities)) >= rate
    empty = np.flatnonzero(~observed.any(axis=1))
    observed[empty, rng.integers(n_modalities, size=empty.size)] = True
    arrays = {}
    for j in range(n_modalities):
        a = centres[labels, j]
        a += rng.standard_normal(a.shape, dtype=dtype)
        arrays[f"m{j}"] = a
    complete = np.hstack(list(arrays.values())) if n <= 100_000 else None
    for j, a in enumerate(arrays.values()):
        a[~observed[:, j]] = np.nan
    return complete, MultiModalData(arrays)


def _split(full, n_modalities):
    """A MultiModalData of ``n_modalities`` equal-width modalities from a 2-D array."""
    return MultiModalData(
        {f"m{j}": np.ascontiguousarray(a)
         for j, a in enumerate(np.hsplit(full, n_modalities))}
    )


def _in_turn(ours, theirs, repeats):
    """CPU seconds of two callables run in turn ``repeats`` times, one thread each.

    Returns the median time of each and the median of the pairwise ratios.
    """
    times = ([], [])
    with threadpool_limits(1):
        for _ in range(repeats):
            for func, store in zip((ours, theirs), times):
                start = time.process_time()
                func()
                store.append(time.process_time() - start)
    a, b = map(np.asarray, times)
    return np.median(a), np.median(b), np.median(a / b)


def bench_fit(n=40_000, k=64, repeats=5):
    """Fit against KMeans(lloyd) from identical initial centres, one thread per side."""
    full, X = make_blobs_with_missing(n, 3, 128, k, 0.3)
    init = full[np.random.default_rng(0).choice(n, k, replace=False)]
    cases = [("complete", _split(full, 3)), ("30% missing", X)]
    missing = 1 - X.observed.mean()
    print(f"\n1. fit: {n} x 3 x 128, k={k}, identical initial centres, tol=0, CPU time "
          f"with one thread per side, median of {repeats} runs in turn "
          f"({100 * missing:.0f}% of slots missing in the second case; KMeans always "
          "runs on the complete data)")
    print(f"   {'case':<12} {'max_iter':>8} {'ours s':>8} {'KMeans s':>9} {'ratio':>6}"
          f"  target")
    for max_iter, target in [(10, 1.1), (1, 0.25 / 0.23)]:
        for name, data in cases:
            km = PartialModalityKMeans(k, init=_split(init, 3), max_iter=max_iter, tol=0)
            sk = KMeans(k, init=init, algorithm="lloyd", n_init=1, max_iter=max_iter,
                        tol=0)
            ours, theirs, ratio = _in_turn(
                lambda: km.fit(data), lambda: sk.fit(full), repeats
            )
            print(f"   {name:<12} {max_iter:>8} {ours:8.2f} {theirs:9.2f} {ratio:6.2f}"
                  f"  <= {target:.2f}  (n_iter {km.n_iter_} / {sk.n_iter_})", flush=True)
    return full, X


def bench_completion(full, X, k=64, repeats=5):
    """The imputer's transform against KMeans.predict."""
    imp = PartialModalityKMeansImputer(k, max_iter=10, tol=0, random_state=0).fit(X)
    sk = KMeans(k, init=np.asarray(imp.cluster_centers_), n_init=1, max_iter=1).fit(full)
    # Same centres with modality 0 taken out of centre 0: the general k x k path.
    partial = copy.deepcopy(imp)
    partial.kmeans_.cluster_presence_[0, 0] = False
    partial.kmeans_.cluster_centers_ = partial.kmeans_._centres_in_input_space()
    print(f"\n2. greedy completion (transform) of {X.n_samples} samples, k={k}, against "
          f"KMeans.predict on the complete data (CPU time, one thread per side, median "
          f"of {repeats} runs in turn)")
    for name, est, target in [
        ("complete centres", imp, 3), ("one partial centre", partial, 6)
    ]:
        fast, predict, ratio = _in_turn(
            lambda: est.transform(X), lambda: sk.predict(full), repeats
        )
        print(f"   {name:<19} {fast:6.2f} s, {ratio:5.2f} x KMeans.predict ({predict:.3f}"
              f" s; target <= {target})", flush=True)


def bench_memory(n, k=64, width=256):
    _, X = make_blobs_with_missing(n, 3, width, k, 0.3, seed=1, dtype=np.float32)
    gb = 1e-9
    tensor = n * k * 3 * width * 4
    size = sum(a.nbytes for a in X.values())
    print(f"\n3. memory: {n} x 3 x {width} float32, k={k}: input {size * gb:.2f} GB; "
          f"an n x k x d float32 tensor would be {tensor * gb:.0f} GB")
    tracemalloc.start()
    start = time.perf_counter()
    imp = PartialModalityKMeansImputer(k, max_iter=2, tol=0, random_state=0).fit(X)
    fit_time = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"   fit (k-means++ and 2 iterations)  {fit_time:6.1f} s  peak allocations "
          f"{peak * gb:.2f} GB")
    tracemalloc.start()
    start = time.perf_counter()
    out = imp.transform(X)
    transform_time = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output = sum(a.nbytes for a in out.values())
    print(f"   transform                          {transform_time:6.1f} s  "
          "peak allocations "
          f"{peak * gb:.2f} GB, of which the output {output * gb:.2f} GB")


def bench_mfeat(k_values=(32, 64), seed=0):
    data = load_masked("mfeat", 0.5, random_state=seed)
    imputers = {
        **{
            f"PartialModalityKMeansImputer(k={k})": PartialModalityKMeansImputer(
                k, random_state=seed
            )
            for k in k_values
        },
        "SimpleImputer(mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
        "IterativeImputer": IterativeImputer(
            max_iter=5, n_nearest_features=50, random_state=seed
        ),
    }
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(
        data.X_missing, data.y
    ))
    print(f"\n4. mfeat, {100 * data.hidden.mean():.0f}% of modality slots hidden (MCAR), "
          "5-fold LogisticRegression after the imputer\n")
    rows = []
    for name, imputer in imputers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings
            accuracy, rmse, seconds = probe_imputer(imputer, data, folds)
        rows.append((name, f"{accuracy.mean():.3f} ± {accuracy.std():.3f}", rmse.mean(),
                     f"{seconds.mean():.1f}"))
    print_table(["imputer", "accuracy", "RMSE", "fit s"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller memory run")
    parser.add_argument("--parts", nargs="*", type=int, default=[1, 2, 3, 4])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if 1 in args.parts:
        bench_fit(repeats=args.repeats)
    if 2 in args.parts:
        full, X = make_blobs_with_missing(40_000, 3, 128, 64, 0.3)
        bench_completion(full, X, repeats=args.repeats)
    if 3 in args.parts:
        bench_memory(200_000 if args.quick else 1_000_000)
    if 4 in args.parts:
        bench_mfeat()


if __name__ == "__main__":
    main()
