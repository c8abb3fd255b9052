"""Out of core: CalMRLImputer and the k-means imputer fitted on data read from disk.

The data (:func:`common.scale_data`: three float32 modalities of 128 features, 40% of
the modality slots missing) are written once to raw files, one per modality, for the
largest ``--rows``; smaller sizes read the first rows of the same files. Each size is
fitted in a fresh process (so that its peak memory is its own) from Dask arrays whose
blocks of ``--block-rows`` rows are read from the files when a task needs them (a
memory map opened and closed per read, so pages do not stay in the process), on Dask's
threaded scheduler with ``--threads`` threads and one BLAS thread each.

Reported per estimator and size: the fit's wall time, its iterations and the median
seconds of one iteration's pass over the data (CalMRLImputer: an E-step over every
block and the M-step; PartialModalityKMeansImputer, k=64: a Lloyd assignment and the
centre update), that per million rows, the seconds of the passes before (validation
scan, column statistics, and CalMRL's totals and PCA rows or k-means++ on 100,000
sampled rows), ``score`` (one lazy pass of inference), and the peak resident memory of
the process during the fit (``VmHWM``, reset before it; the page cache holding the
files is not the process's memory).

Run::

    .venv/bin/python benchmarks/bench_out_of_core.py                 # 1M, 5M, 20M rows
    .venv/bin/python benchmarks/bench_out_of_core.py \
        --estimator PartialModalityKMeansImputer
    .venv/bin/python benchmarks/bench_out_of_core.py --rows 1000000 --max-iter 5
    .venv/bin/python benchmarks/bench_out_of_core.py --quick         # 200k rows, a minute

The files need ``rows x 3 x 128 x 4`` bytes (31 GB for 20M rows) under ``--dir``; they
are deleted at the end unless ``--keep``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread per Dask thread; children inherit it

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import PeakRSS, print_table, scale_data  # noqa: E402

GIB = 2**30

# name: (parameters, Dask computations of a fit before its iterations: the validation
# scan, the column statistics (CalMRL: sums, then deviations), the rows of the start)
ESTIMATORS = {
    "CalMRLImputer": ({"n_components": 32}, 4),
    "PartialModalityKMeansImputer": ({"n_clusters": 64}, 3),
}


class RawRows:
    """A float32 matrix in a raw file, read on indexing (what ``da.from_array``
    needs: ``shape``, ``dtype``, ``ndim`` and ``__getitem__``)."""

    def __init__(self, path, n_rows, width):
        self.path, self.shape, self.dtype, self.ndim = path, (n_rows, width), \
            np.dtype(np.float32), 2

    def __getitem__(self, key):
        full = np.memmap(self.path, dtype=self.dtype, mode="r",
                         shape=(os.path.getsize(self.path) // 4 // self.shape[1],
                                self.shape[1]))
        out = np.array(full[: self.shape[0]][key])  # a copy; the map closes with ``full``
        del full
        return out


def write_data(directory, n, width, n_modalities, rate):
    """Write (or reuse) the raw files of the first ``n`` rows; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = directory / "meta.json"
    spec = {"n": n, "width": width, "modalities": n_modalities, "rate": rate}
    paths = [directory / f"m{j}.f32" for j in range(n_modalities)]
    if meta.exists() and json.loads(meta.read_text()) == spec:
        return paths
    start = time.perf_counter()
    _, blocks = scale_data(n, width, n_modalities, rate, step=250_000)
    files = [open(p, "wb") for p in paths]
    try:
        for _, arrays in blocks:
            for f, a in zip(files, arrays):
                f.write(a.astype(np.float32).tobytes())
    finally:
        for f in files:
            f.close()
    meta.write_text(json.dumps(spec))
    print(f"wrote {n * width * n_modalities * 4 / GIB:.1f} GiB in "
          f"{time.perf_counter() - start:.0f} s to {directory}", flush=True)
    return paths


def _run(paths, n, width, args, queue):
    import dask
    import dask.array as da
    from dask.callbacks import Callback

    from skmm import MultiModalData, impute

    durations = []

    class Timer(Callback):  # the wall time of each Dask computation (one per pass)
        def _start(self, dsk):
            self.begin = time.perf_counter()

        def _finish(self, dsk, state, errored):
            durations.append(time.perf_counter() - self.begin)

    X = MultiModalData({
        f"m{j}": da.from_array(RawRows(str(p), n, width), chunks=(args.block_rows, -1),
                               name=f"m{j}-{n}")
        for j, p in enumerate(paths)
    })
    params, n_before = ESTIMATORS[args.estimator]
    imputer = getattr(impute, args.estimator)(**params, max_iter=args.max_iter,
                                              random_state=0)
    rss = PeakRSS()
    with dask.config.set(scheduler="threads", num_workers=args.threads), Timer():
        rss.reset()
        start = time.perf_counter()
        imputer.fit(X)
        fit_s = time.perf_counter() - start
        fit_peak = rss.peak()
        start = time.perf_counter()
        imputer.score(X)
        score_s = time.perf_counter() - start
    em = durations[n_before:-1]  # the last computation is score's
    queue.put(dict(fit_s=fit_s, n_iter=imputer.n_iter_, em_s=float(np.median(em)),
                   before_s=float(sum(durations[:n_before])), score_s=score_s,
                   peak=fit_peak, exact=getattr(rss, "resettable", False),
                   passes=len(em)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+",
                        default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--modalities", type=int, default=3)
    parser.add_argument("--rate", type=float, default=0.4)
    parser.add_argument("--estimator", choices=list(ESTIMATORS), default="CalMRLImputer")
    parser.add_argument("--block-rows", type=int, default=250_000)
    parser.add_argument("--max-iter", type=int, default=10,
                        help="EM iterations at most (the figure is per iteration)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/skmm_out_of_core"))
    parser.add_argument("--keep", action="store_true", help="keep the data files")
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    args = parser.parse_args(argv)
    rows = [200_000] if args.quick else sorted(args.rows)
    paths = write_data(args.dir, rows[-1], args.width, args.modalities, args.rate)
    print(f"{args.estimator}({ESTIMATORS[args.estimator][0]}), {args.modalities} x "
          f"{args.width} float32, {args.rate:.0%} of the slots missing, blocks of "
          f"{args.block_rows} rows, {args.threads} Dask threads; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    ctx = mp.get_context("spawn")

    def row(n):
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(paths, n, args.width, args, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            return [n] + [""] * 8 + [f"failed (exit code {proc.exitcode})"]
        r = queue.get()
        return [n, n * args.width * args.modalities * 4 / GIB, r["fit_s"], r["n_iter"],
                r["em_s"], r["em_s"] / (n / 1e6), r["before_s"], r["score_s"],
                r["peak"] / GIB, ("" if r["exact"] else "lifetime peak; ")
                + f"{r['passes']} iteration passes; load {os.getloadavg()[0]:.2f}"]

    try:
        print_table(["rows", "data GiB", "fit s", "iterations", "s per iteration",
                     "s per iteration per 1M rows", "passes before s", "score s",
                     "peak RSS GiB", "notes"], (row(n) for n in rows), digits=2)
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
