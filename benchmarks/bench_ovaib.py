"""Benchmark OVAIBEmbedder against PairwiseCLIPEmbedder (and raw features) on mfeat.

1. Modality-agnostic evaluation: both embedders are trained (unlabelled, default
   parameters) on the complete six modalities of the training folds of a stratified
   5-fold split; at test time only a subset of the modalities is present (all 6 of size
   1, ``--subsets`` random subsets of each size 2..5, the full set). Linear probe
   (StandardScaler + LogisticRegression) accuracy on the test fold, with the probe
   (a) trained on the same subset of the training fold ("probe per subset", also for
   the raw features of the subset) and (b) trained once on all six modalities and
   applied to the subset ("probe on all 6"; raw features: standardised, zero-filled).
2. 50% of modality slots missing (MCAR, each sample keeps one) at training *and* test
   time, 5-fold: the embedders are fitted on the masked training folds; probe on the
   fused embedding + presence bits (``fusion="mean"``, as in ``python -m skmm``) and on
   ``fusion="concat"`` (zero-filled per-modality blocks + presence bits), against
   zero fill + missing indicators (``skmm.benchmark``'s baseline).
3. Cross-modal retrieval on the test fold of fold 1 (models of part 1, and OVA-IB
   with ``temperature=0.2``, which retrieves better): Recall@1/5 among the fold's
   samples, for every ordered pair of modalities, and one-vs-rest (query = one
   modality, candidate = the span (OVA-IB) / normalised mean (CLIP) of the five
   others).
4. Cost: fit time of the part 1 fits (and per 100 epochs), time of the OVA-IB loss
   forward + backward per batch, and its memory (M = 6, d = 64) at batch 128..1024:
   the bytes of the tensors autograd keeps for the backward pass (measured with
   ``saved_tensors_hooks``), against the N x N x d projections a direct
   implementation would hold.
5. ``--sweep`` only: the protocol of part 2 (probe on the fused embedding + presence
   bits) for other temperatures, epoch counts, ``beta`` and widths: the evidence for
   the defaults (OVA-IB ``temperature=0.5``, both ``max_epochs=40``).
6. ``--throughput`` only (then parts 1-3 and 5 are skipped): training samples per
   second on all 2000 complete mfeat samples (median over the epochs after the first,
   default batch), and the loss table of part 4.

Run: ``.venv/bin/python benchmarks/bench_ovaib.py [--quick] [--threads 1] [--sweep]
[--throughput]``
(``--quick``: 20 epochs, 2 folds, 2 subsets per size). Timings depend on the machine and
its load; compare ratios taken in the same run.
"""

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time

import numpy as np
from common import (
    linear_probe,
    load_masked,
    median_time,
    print_table,
    zero_fill_probe,
)
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.embed import OVAIBEmbedder, PairwiseCLIPEmbedder
from skmm.metrics import recall_at_k


def _keep(X, subset):
    """``X`` with the modalities outside ``subset`` hidden (all-NaN rows)."""
    return MultiModalData(
        {m: X[m] if m in subset else np.full_like(X[m], np.nan) for m in X.modalities}
    )


def _raw(X, subset):
    """Raw features of the modalities in ``subset``, stacked."""
    return np.hstack([np.asarray(X[m], dtype=float) for m in X.modalities if m in subset])


def _subsets(modalities, n_random, rng):
    out = [(m,) for m in modalities]
    for size in range(2, len(modalities)):
        combos = list(itertools.combinations(modalities, size))
        picks = rng.choice(len(combos), size=min(n_random, len(combos)), replace=False)
        out += [combos[i] for i in sorted(picks)]
    return out + [tuple(modalities)]


def _embedders(epochs, seed):
    """Both embedders with their default parameters (``epochs=None``: default too)."""
    epochs = {} if epochs is None else {"max_epochs": epochs}
    return {
        "OVA-IB": OVAIBEmbedder(random_state=seed, **epochs),
        "CLIP": PairwiseCLIPEmbedder(random_state=seed, **epochs),
    }


def _probe_missing(est, Xtr, Xte, ytr, yte):
    """Probe accuracy on the fitted ``est``'s embedding (mean fusion: + presence bits)."""
    Ztr, Zte = est.transform(Xtr), est.transform(Xte)
    if est.fusion == "mean":  # presence bits, as in python -m skmm
        Ztr = np.hstack([Ztr, Xtr.observed])
        Zte = np.hstack([Zte, Xte.observed])
    return linear_probe().fit(Ztr, ytr).score(Zte, yte)


def bench_agnostic(X, y, folds, subsets, epochs, seed=0):
    """Part 1 (also returns the fold-1 models and test rows, and fit times)."""
    names = ["OVA-IB", "CLIP", "raw"]
    per_subset = {n: np.zeros((len(subsets), len(folds))) for n in names}
    on_all = {n: np.zeros((len(subsets), len(folds))) for n in names}
    fit_times = {n: [] for n in names[:2]}
    first = None
    for f, (train, test) in enumerate(folds):
        Xtr, Xte, ytr, yte = X[train], X[test], y[train], y[test]
        models = {}
        for name, est in _embedders(epochs, seed).items():
            seconds, models[name] = median_time(lambda: est.fit(Xtr))
            fit_times[name].append(seconds)
        if first is None:
            first = (models, test)
        full = tuple(X.modalities)
        probes_all = {name: linear_probe().fit(est.transform(Xtr), ytr)
                      for name, est in models.items()}
        scaler = StandardScaler().fit(_raw(Xtr, full))
        probes_all["raw"] = LogisticRegression(max_iter=2000).fit(
            scaler.transform(_raw(Xtr, full)), ytr
        )
        for s, subset in enumerate(subsets):
            Xtr_s, Xte_s = _keep(Xtr, subset), _keep(Xte, subset)
            for name, est in models.items():
                Ztr, Zte = est.transform(Xtr_s), est.transform(Xte_s)
                per_subset[name][s, f] = linear_probe().fit(Ztr, ytr).score(Zte, yte)
                on_all[name][s, f] = probes_all[name].score(Zte, yte)
            per_subset["raw"][s, f] = linear_probe().fit(_raw(Xtr, subset), ytr).score(
                _raw(Xte, subset), yte
            )
            # raw, probe on all 6: standardise with the full-data scaler, then
            # zero-fill the hidden modalities (= mean imputation)
            mask = np.concatenate([
                np.full(X.n_features[m], m in subset) for m in X.modalities
            ])
            on_all["raw"][s, f] = probes_all["raw"].score(
                scaler.transform(_raw(Xte, full)) * mask, yte
            )
        ova, clip = fit_times["OVA-IB"][-1], fit_times["CLIP"][-1]
        print(f"  fold {f + 1}/{len(folds)} done (fit OVA-IB {ova:.0f}s, CLIP {clip:.0f}s)",
              flush=True)

    sizes = np.array([len(s) for s in subsets])
    print("\n[1] mfeat, modality-agnostic evaluation: trained on all 6 modalities, "
          f"tested with a subset ({len(folds)}-fold linear-probe accuracy, mean over "
          "the subsets of each size)")
    groups = [(size, sizes == size) for size in range(1, len(X.modalities) + 1)]
    print_table(
        ["#mod", "#subsets"] + [f"per subset: {n}" for n in names]
        + [f"on all 6: {n}" for n in names],
        [[size, int(rows.sum())] + [per_subset[n][rows].mean() for n in names]
         + [on_all[n][rows].mean() for n in names]
         for size, rows in groups + [("all", np.ones(len(subsets), dtype=bool))]],
    )
    wins = (per_subset["OVA-IB"].mean(1) >= per_subset["CLIP"].mean(1)).sum()
    wins_all = (on_all["OVA-IB"].mean(1) >= on_all["CLIP"].mean(1)).sum()
    print(f"OVA-IB >= CLIP on {wins}/{len(subsets)} subsets (probe per subset), "
          f"{wins_all}/{len(subsets)} (probe on all 6)")
    print("single modalities (probe per subset): " + ", ".join(
        f"{s[0]} {per_subset['OVA-IB'][i].mean():.3f}/{per_subset['CLIP'][i].mean():.3f}/"
        f"{per_subset['raw'][i].mean():.3f}" for i, s in enumerate(subsets) if len(s) == 1
    ) + "  (OVA-IB/CLIP/raw)")
    return {
        "subsets": ["+".join(s) for s in subsets],
        "per_subset": {n: v.mean(1).tolist() for n, v in per_subset.items()},
        "probe_on_all": {n: v.mean(1).tolist() for n, v in on_all.items()},
        "fit_times": fit_times,
    }, first


def bench_missing(X_missing, y, folds, epochs, seed=0, rate=0.5):
    """Part 2: missing modalities (``rate`` of the slots) at training and test time."""
    scores = {k: [] for k in ("OVA-IB mean+bits", "OVA-IB concat", "CLIP mean+bits",
                              "CLIP concat", "zero fill + indicators")}
    baseline = zero_fill_probe()
    for train, test in folds:
        Xtr, Xte, ytr, yte = X_missing[train], X_missing[test], y[train], y[test]
        for name, est in _embedders(epochs, seed).items():
            est.fit(Xtr)
            for fusion in ("mean", "concat"):
                est.set_params(fusion=fusion)
                key = f"{name} {'mean+bits' if fusion == 'mean' else 'concat'}"
                scores[key].append(_probe_missing(est, Xtr, Xte, ytr, yte))
        scores["zero fill + indicators"].append(
            clone(baseline).fit(Xtr, ytr).score(Xte, yte)
        )
    print(f"\n[2] mfeat, {rate:.0%} of modality slots missing (MCAR) at training and "
          f"test time, {len(folds)}-fold linear-probe accuracy")
    print_table(["method", "accuracy", "std", "per fold"], [
        [name, np.mean(v), np.std(v), " ".join(f"{f:.3f}" for f in v)]
        for name, v in scores.items()
    ])
    base = np.array(scores["zero fill + indicators"])
    for name in ("OVA-IB mean+bits", "CLIP mean+bits"):
        above = int((np.array(scores[name]) > base).sum())
        print(f"{name} above zero fill + indicators on {above}/{len(folds)} folds")
    return {k: float(np.mean(v)) for k, v in scores.items()}


# Part 5: (label, class, parameters) screened with the protocol of part 2.
SWEEP = (
    [("OVA-IB", OVAIBEmbedder, {"temperature": t}) for t in (0.1, 0.2, 0.3, 0.5, 1.0)]
    + [("OVA-IB", OVAIBEmbedder, {"temperature": 0.2, "max_epochs": e})
       for e in (20, 100)]
    + [("OVA-IB", OVAIBEmbedder, {"temperature": 0.5, "max_epochs": e})
       for e in (20, 60, 100)]
    + [("OVA-IB", OVAIBEmbedder, p) for p in (
        {"beta": 0.5}, {"beta": 3.0}, {"embedding_dim": 32}, {"embedding_dim": 128})]
    + [("CLIP", PairwiseCLIPEmbedder, {"temperature": t}) for t in (0.1, 0.2, 0.5)]
    + [("CLIP", PairwiseCLIPEmbedder, {"max_epochs": 100})]
)


def bench_sweep(X_missing, y, folds, seed=0, rate=0.5):
    """Part 5: the protocol of part 2 (mean fusion + presence bits) for :data:`SWEEP`."""
    print(f"\n[5] parameter screen, {rate:.0%} missing at training and test time, "
          f"{len(folds)}-fold probe on the mean embedding + presence bits (parameters "
          "not listed: defaults)", flush=True)
    out = []

    def rows():
        for label, cls, params in SWEEP:
            values = []
            for train, test in folds:
                Xtr, Xte = X_missing[train], X_missing[test]
                est = cls(random_state=seed, **params).fit(Xtr)
                values.append(_probe_missing(est, Xtr, Xte, y[train], y[test]))
            out.append({"method": label, "params": params, "accuracy": values})
            yield [label, json.dumps(params), np.mean(values),
                   " ".join(f"{v:.3f}" for v in values)]

    print_table(["method", "parameters", "accuracy", "per fold"], rows())
    return out


def bench_retrieval(X, models, test):
    """Part 3: Recall@1/5 on the test fold."""
    Xte = X[test]
    mods = X.modalities
    res = {}
    for name, est in models.items():
        pairs = {}
        for q, c in itertools.permutations(mods, 2):
            S = est.retrieval_scores(Xte, Xte, q, c)
            pairs[(q, c)] = (recall_at_k(S, 1), recall_at_k(S, 5))
        rest = {}
        for q in mods:
            S = est.retrieval_scores(Xte, Xte, q)
            rest[q] = (recall_at_k(S, 1), recall_at_k(S, 5))
        res[name] = (pairs, rest)
    n = len(test)
    print(f"\n[3] mfeat cross-modal retrieval among the {n} test samples of fold 1 "
          f"(chance R@1 = {1 / n:.4f}, R@5 = {5 / n:.4f})")
    names = list(res)
    mean_pairs = {nm: np.mean(list(res[nm][0].values()), axis=0) for nm in names}
    mean_rest = {nm: np.mean(list(res[nm][1].values()), axis=0) for nm in names}
    rows = [("mean over 30 pairs", mean_pairs)]
    rows += [(f"{q} -> other 5", {nm: res[nm][1][q] for nm in names}) for q in mods]
    rows += [("mean one-vs-rest", mean_rest)]
    print_table(
        ["query -> candidates"] + [f"{nm} R@{k}" for nm in names for k in (1, 5)],
        [[label] + [float(r[nm][i]) for nm in names for i in (0, 1)]
         for label, r in rows],
    )
    return {nm: {"pairs_r1_r5": mean_pairs[nm].tolist(),
                 "one_vs_rest_r1_r5": mean_rest[nm].tolist()} for nm in names}


_MEMORY_CHILD = """
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[2]))
from skmm.embed import OVAIBEmbedder
n, M, d = int(sys.argv[1]), 6, 64
emb = OVAIBEmbedder(embedding_dim=d)
class Net(torch.nn.Module):  # z is the parameter: only the loss's memory is measured
    def __init__(self, rows):
        super().__init__()
        self.z = torch.nn.Parameter(torch.randn(rows, M, d))
    def forward(self, xs):
        return self.z
net, observed = Net(n), torch.ones(n, M, dtype=torch.bool)
saved, largest = {}, [0]
def pack(t):
    nbytes = t.untyped_storage().nbytes()
    saved[t.untyped_storage().data_ptr()] = nbytes
    largest[0] = max(largest[0], nbytes)
    return t
start = time.perf_counter()
with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
    loss, _ = emb.batch_loss(net, None, observed, epoch=1, generator=None)
loss.backward()
seconds = time.perf_counter() - start
print(json.dumps({"saved_mb": sum(saved.values()) / 2**20,
                  "largest_mb": largest[0] / 2**20, "seconds": seconds}))
"""


def bench_throughput(X, epochs=6, seed=0):
    """Part 6: training samples per second (median over the epochs after the first)."""
    out = {}
    for name, est in _embedders(epochs, seed).items():
        durations = [r["dur"] for r in est.fit(X).history_[1:]]
        out[name] = X.n_samples / float(np.median(durations))
    print(f"\n[6] training throughput, {X.n_samples} complete samples, default batch, "
          f"median over epochs 2..{epochs}: " + ", ".join(
              f"{name} {v:.0f} samples/s" for name, v in out.items()))
    return out


def bench_cost(fit_times, epochs, n_train, threads, batch_sizes=(128, 256, 512, 1024)):
    """Part 4: training time (``fit_times``; None: not shown), loss time and memory."""
    print(f"\n[4] cost (torch threads = {threads})")
    if fit_times is not None:
        ova, clip = np.mean(fit_times["OVA-IB"]), np.mean(fit_times["CLIP"])
        print(f"fit, {epochs} epochs on {n_train} complete samples, batch 256 (mean over "
              f"folds): OVA-IB {ova:.1f} s, PairwiseCLIP {clip:.1f} s, ratio "
              f"{ova / clip:.2f} (per 100 epochs: OVA-IB {ova * 100 / epochs:.0f} s, "
              f"PairwiseCLIP {clip * 100 / epochs:.0f} s)")
    print("OVA-IB sufficiency + minimality loss alone (M = 6, d = 64; fresh process per "
          "N): tensors autograd keeps for backward (total, largest), against one float64 "
          "value per score input (N^2 M (M-1)) and the N x N x d projections P z of a "
          "direct implementation (N^2 M d):")
    rows, table = {}, []
    for n in batch_sizes:
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(n), str(threads)],
            capture_output=True, text=True, check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        ours = n * n * 6 * 5 * 8 / 2**20
        naive = n * n * 6 * 64 * 8 / 2**20
        rows[n] = r
        table.append([n, r["seconds"], f"{r['saved_mb']:.1f}", f"{r['largest_mb']:.1f}",
                      f"{ours:.1f}", f"{naive:.1f}"])
    print_table(["batch N", "loss fwd+bwd s", "saved MB", "largest MB",
                 "N^2 M(M-1) f64 MB", "N^2 M d f64 MB"], table)
    fit = None if fit_times is None else {"OVA-IB": ova, "CLIP": clip}
    return {"fit_seconds": fit, "loss_per_batch": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (default 1: the machine is shared)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs of the embedders (default: the classes' "
                             "default, 40; quick 20)")
    parser.add_argument("--subsets", type=int, default=None,
                        help="random subsets per size 2..5 (default 5, quick 2)")
    parser.add_argument("--sweep", action="store_true",
                        help="also run part 5, the parameter screen (slow)")
    parser.add_argument("--throughput", action="store_true",
                        help="only part 6, training samples per second, and the loss "
                             "table of part 4 (a minute)")
    args = parser.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    # torch and BLAS threads: oversubscribing a shared machine is much slower
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    epochs = args.epochs or (20 if args.quick else None)
    n_folds = 2 if args.quick else 5
    n_random = args.subsets or (2 if args.quick else 5)
    seed = 0
    X, y, X_missing, _ = load_masked("mfeat", 0.5, random_state=seed)
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(
        np.zeros(len(y)), y))
    subsets = _subsets(X.modalities, n_random, np.random.default_rng(seed))
    shown = epochs or OVAIBEmbedder().max_epochs
    print(f"OVAIBEmbedder vs PairwiseCLIPEmbedder, default parameters, max_epochs="
          f"{shown}, {n_folds} folds, {len(subsets)} test subsets", flush=True)
    start = time.perf_counter()
    if args.throughput:
        part6 = bench_throughput(X)
        part4 = bench_cost(None, shown, X.n_samples, args.threads)
        print(f"\ntotal {time.perf_counter() - start:.0f} s")
        return {"throughput": part6, "cost": part4}
    part1, (models, test) = bench_agnostic(X, y, folds, subsets, epochs, seed)
    sharp = OVAIBEmbedder(temperature=0.2, random_state=seed,
                          **({} if epochs is None else {"max_epochs": epochs}))
    models["OVA-IB t0.2"] = sharp.fit(X[folds[0][0]])
    part3 = bench_retrieval(X, models, test)
    part2 = bench_missing(X_missing, y, folds, epochs, seed)
    part4 = bench_cost(part1["fit_times"], shown, len(folds[0][0]), args.threads)
    part5 = bench_sweep(X_missing, y, folds, seed) if args.sweep else None
    print(f"\ntotal {time.perf_counter() - start:.0f} s; peak RSS of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return {"agnostic": part1, "missing": part2, "retrieval": part3, "cost": part4,
            "sweep": part5}


if __name__ == "__main__":
    main()
