"""Scale: every imputer on 1,000,000 x 3 x 128 (40% of slots missing), every embedder for
one epoch on 200,000 rows, with wall time and peak resident memory.

Each case runs in its own process so that its peak RSS is its own. The input itself
(1e6 x 384 float64 = 3.1 GB) is included in the imputers' peak.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--quick]`` (``--quick``: 10x fewer rows).
"""

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np


def _data(n, d, rate, seed=0):
    from skmm import MultiModalData
    from skmm.datasets import make_missing_modalities

    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 8))
    arrays = {}
    for m in ("a", "b", "c"):
        W = rng.normal(size=(8, d))
        arrays[m] = latent @ W + 0.5 * rng.normal(size=(n, d))
    return make_missing_modalities(MultiModalData(arrays), rate, random_state=seed)


def _imputer(name):
    from skmm.impute import CalMRLImputer, PartialModalityKMeansImputer

    return {
        "PartialModalityKMeansImputer(k=64, max_iter=10)": lambda: PartialModalityKMeansImputer(
            n_clusters=64, max_iter=10, random_state=0
        ),
        "CalMRLImputer(q=32, max_iter=20)": lambda: CalMRLImputer(
            n_components=32, max_iter=20, random_state=0
        ),
    }[name]()


IMPUTERS = ["PartialModalityKMeansImputer(k=64, max_iter=10)", "CalMRLImputer(q=32, max_iter=20)"]
EMBEDDERS = ["COrALEmbedder", "OVAIBEmbedder", "PairwiseCLIPEmbedder", "CalMRLEmbedder"]


def _run_case(kind, name, n, d, queue):
    import warnings

    warnings.simplefilter("ignore")
    X = _data(n, d, 0.4)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    if kind == "imputer":
        est = _imputer(name).fit(X)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        out = est.transform(X)
        assert all(np.isfinite(a).all() for a in out.values())
    else:
        from skmm import embed

        est = getattr(embed, name)(max_epochs=1, batch_size=512, random_state=0).fit(X)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        out = est.transform(X)
        assert np.isfinite(out).all()
    transform = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    queue.put((fit, transform, base_rss, peak))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    cases = [("imputer", name, 1_000_000 // scale, 128) for name in IMPUTERS]
    cases += [("embedder", name, 200_000 // scale, 128) for name in EMBEDDERS]
    ctx = mp.get_context("spawn")
    print(f"{'estimator':<50} {'rows':>9} {'fit s':>8} {'transform s':>12} "
          f"{'data GiB':>9} {'peak GiB':>9}")
    for kind, name, n, d in cases:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_case, args=(kind, name, n, d, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            print(f"{name:<50} {n:>9} failed (exit code {proc.exitcode})")
            continue
        fit, transform, base, peak = queue.get()
        print(f"{name:<50} {n:>9} {fit:>8.1f} {transform:>12.1f} {base:>9.2f} {peak:>9.2f}",
              flush=True)


if __name__ == "__main__":
    main()
