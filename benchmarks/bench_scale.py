"""Scale: every imputer on 1,000,000 x 3 x 128 (40% of modality slots missing), every
embedder for one epoch on 200,000 rows; wall time and peak resident memory.

Each estimator runs alone in a fresh process (so that its peak memory is its own),
single-threaded (BLAS, OpenMP and torch limited to one thread), one after the other.
The data are generated in that process with no copy: a low-rank signal plus noise per
modality, then whole rows set to NaN, MCAR per (sample, modality) slot, at a per-slot
rate chosen so that ``--rate`` of the slots are hidden once samples left with no
modality are redrawn. Memory figures are the process's resident set size (RSS):

- ``input``: the bytes of the input arrays;
- ``RSS data``: after generating the data, before fitting;
- ``peak fit`` / ``peak transform``: the highest RSS during ``fit`` / ``transform``
  (the kernel's high-water mark, reset before each phase where Linux allows it; the
  input is included, and for imputers ``transform`` returns a filled copy of it).

Run::

    .venv/bin/python benchmarks/bench_scale.py                      # everything
    .venv/bin/python benchmarks/bench_scale.py --only CalMRLImputer --rows 300000
    .venv/bin/python benchmarks/bench_scale.py --quick              # 10x fewer rows

Timings are noisy on a shared machine: the load average is printed beside them.

Figures (2 shared cores, load average ~4, so each process got about half a core: CPU
seconds are the steadier number; 24 GiB machine; ``bench_scale.py`` with no options)::

    estimator                        rows  fit s  fit cpu s  transform s  input GiB
    PartialModalityKMeansImputer  1000000   93.4       58.5         22.8       2.86
    CalMRLImputer                 1000000  115.8       69.0         20.5       2.86
    COrALEmbedder                  200000  118.6       58.3         12.8       0.57
    OVAIBEmbedder                  200000   48.3       23.9          5.9       0.57
    PairwiseCLIPEmbedder           200000   27.4       14.7          4.4       0.57
    CalMRLEmbedder                 200000   30.2       14.9          4.2       0.57

    estimator                     RSS data  peak fit  peak transform  (GiB)
    PartialModalityKMeansImputer      3.19      3.44            6.20
    CalMRLImputer                     3.19      5.94            6.43
    COrALEmbedder                     0.89      1.34            1.60
    OVAIBEmbedder                     0.89      1.30            1.27
    PairwiseCLIPEmbedder              0.89      1.28            1.25
    CalMRLEmbedder                    0.89      1.99            1.27

PartialModalityKMeansImputer: k=64, 10 Lloyd iterations (capped; k-means++ included);
CalMRLImputer: q=32, converged in 14 EM iterations; embedders: their defaults
(batch_size=256), one epoch; CalMRLEmbedder's calibration runs once, after that epoch
(warmup_epochs=5). An imputer's transform peak holds the input and its filled copy
(2 x 2.86 GiB).
"""

import os

# One thread everywhere, set before numpy / torch are imported (children inherit it).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from common import PeakRSS, print_table, scale_data  # noqa: E402

GIB = 2**30

# {name: (kind, constructor kwargs)}; embedders use their defaults but for max_epochs.
ESTIMATORS = {
    "PartialModalityKMeansImputer": (
        "imputer", {"n_clusters": 64, "max_iter": 10, "random_state": 0}
    ),
    "CalMRLImputer": ("imputer", {"n_components": 32, "random_state": 0}),
    "COrALEmbedder": ("embedder", {"max_epochs": 1, "random_state": 0}),
    "OVAIBEmbedder": ("embedder", {"max_epochs": 1, "random_state": 0}),
    "PairwiseCLIPEmbedder": ("embedder", {"max_epochs": 1, "random_state": 0}),
    "CalMRLEmbedder": ("embedder", {"max_epochs": 1, "random_state": 0}),
}


def make_scale_data(n, width=128, n_modalities=3, rate=0.4, rank=8, seed=0):
    """``n`` samples of ``n_modalities`` float64 modalities, ``rate`` of the slots
    missing (:func:`common.scale_data`, in memory).

    Returns
    -------
    X : MultiModalData
    realised_rate : float
        Fraction of (sample, modality) slots hidden.
    """
    from skmm import MultiModalData

    observed, blocks = scale_data(n, width, n_modalities, rate, rank, seed)
    arrays = [np.empty((n, width)) for _ in range(n_modalities)]
    for rows, values in blocks:
        for a, v in zip(arrays, values):
            a[rows] = v
    X = MultiModalData({f"m{j}": a for j, a in enumerate(arrays)})
    return X, float(1.0 - observed.mean())


def _run_case(name, n, width, rate, queue):
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    from skmm import embed, impute

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    kind, params = ESTIMATORS[name]
    rss = PeakRSS()
    X, realised = make_scale_data(n, width, rate=rate)
    input_bytes = sum(a.nbytes for a in X.values())
    data_rss = rss.current()
    est = getattr(impute if kind == "imputer" else embed, name)(**params)
    with threadpool_limits(1):
        rss.reset()
        cpu, start = time.process_time(), time.perf_counter()
        est.fit(X)
        fit_s, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
        fit_peak = rss.peak()
        rss.reset()
        start = time.perf_counter()
        out = est.transform(X)
        transform_s = time.perf_counter() - start
        transform_peak = rss.peak()
    finite = bool(np.isfinite(np.asarray(out)).all())
    detail = {
        "imputer": lambda: f"{est.n_iter_} iterations",
        "embedder": lambda: f"{est.n_iter_} epoch, loss {est.loss_curve_[-1]:.3f}",
    }[kind]()
    queue.put(dict(
        fit_s=fit_s, fit_cpu=fit_cpu, transform_s=transform_s, input=input_bytes,
        data_rss=data_rss, fit_peak=fit_peak, transform_peak=transform_peak,
        finite=finite, realised=realised, detail=detail,
        exact_peak=getattr(rss, "resettable", False),
    ))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(ESTIMATORS),
                        default=list(ESTIMATORS), help="estimators to run, in order")
    parser.add_argument("--rows", type=int, default=None,
                        help="rows for every selected estimator (default: 1,000,000 "
                        "for imputers, 200,000 for embedders)")
    parser.add_argument("--width", type=int, default=128, help="features per modality")
    parser.add_argument("--rate", type=float, default=0.4, help="missing slot fraction")
    parser.add_argument("--quick", action="store_true", help="10x fewer rows")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    print_table(
        ["estimator", "rows", "fit s", "fit cpu s", "transform s", "input GiB",
         "RSS data", "peak fit", "peak transform", "details"],
        (_row(name, args) for name in args.only), digits=2,
    )


def _row(name, args):
    """Run ``name`` in a fresh process; its table row."""
    kind = ESTIMATORS[name][0]
    n = args.rows or (1_000_000 if kind == "imputer" else 200_000)
    if args.quick:
        n //= 10
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run_case, args=(name, n, args.width, args.rate, queue))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        return [name, n] + [""] * 7 + [f"failed (exit code {proc.exitcode})"]
    r = queue.get()
    note = "" if r["exact_peak"] else " (lifetime peaks)"
    return [
        name, n, r["fit_s"], r["fit_cpu"], r["transform_s"], r["input"] / GIB,
        r["data_rss"] / GIB, r["fit_peak"] / GIB, r["transform_peak"] / GIB,
        f"{r['detail']}, {100 * r['realised']:.1f}% slots missing, output finite: "
        f"{r['finite']}{note}; load {os.getloadavg()[0]:.2f}",
    ]


if __name__ == "__main__":
    main()
