"""Benchmark CalMRLEmbedder: what calibration changes, everything else equal.

Every comparison pits ``CalMRLEmbedder()`` (calibrated) against
``CalMRLEmbedder(calibrate=False)`` (same network, loss, schedule and seed; the stack
holds the observed modalities only), on the same masked data in one run.

1. Anchor shift. mfeat (complete, so every hidden modality is known) with 50% of the
   modality slots hidden (MCAR), and a synthetic shared-latent set passed through a
   fixed random nonlinearity (30% hidden). Each embedder is trained on the masked data;
   for every sample that lost a modality, the distance between its anchor computed from
   all its modalities and from its observed subset, ``||u(X_full) - u(X_observed)||``,
   averaged. Calibration should shrink it.
2. Linear probe on mfeat, 50% missing: 5-fold stratified CV of
   ``[embedding, presence bits] -> StandardScaler -> LogisticRegression``, the embedder
   fitted on the training folds only (the protocol of ``python -m skmm``), against
   PairwiseCLIPEmbedder (if available), zero-fill + missing indicators, the reported
   temperatures and PMRL's anchor-anchor inter loss (``inter_loss="anchor_anchor"``).
3. Cross-modal retrieval on mfeat: train on 1500 samples with 50% of the slots hidden;
   on the 500 held-out complete samples, the anchor of each single modality retrieves
   the anchor of another (Recall@1 over the 500 candidates, averaged over the 30
   ordered pairs of modalities; chance 0.002).
4. Training cost: wall and process CPU time of 100 epochs on mfeat (2000 samples, 50%
   missing) with and without calibration, and the share of the wall time spent in the
   calibration refits.

Run: ``.venv/bin/python benchmarks/bench_calmrl_embedder.py [--quick] [--threads N]
[--only shift|probe|retrieval]`` (``--quick``: 20 epochs, 2 folds, parts 1 and 2 only
on mfeat). Timings depend on the machine and its load; compare ratios taken in the
same run, preferably of process CPU time. ``--threads`` (default 1) sets torch's
intra-op threads: on a loaded machine more threads can be much slower.
"""

import argparse
import time

import numpy as np
from common import (
    cv_accuracy,
    embedding_probe,
    print_table,
    zero_fill_probe,
)
from sklearn.model_selection import StratifiedKFold

from skmm import MultiModalData
from skmm.datasets import (
    BENCHMARK_DATASETS,
    make_missing_modalities,
    make_shared_latent,
)
from skmm.embed import CalMRLEmbedder
from skmm.metrics import recall_at_k

try:  # written in parallel; skipped if absent
    from skmm.embed import PairwiseCLIPEmbedder
except ImportError:  # pragma: no cover
    PairwiseCLIPEmbedder = None


def _embedders(epochs, seed, clip=False):
    out = {
        "CalMRL (calibrated)": CalMRLEmbedder(max_epochs=epochs, random_state=seed),
        "CalMRL (calibrate=False)": CalMRLEmbedder(
            max_epochs=epochs, calibrate=False, random_state=seed
        ),
    }
    if clip and PairwiseCLIPEmbedder is not None:
        out["PairwiseCLIP"] = PairwiseCLIPEmbedder(max_epochs=epochs, random_state=seed)
    return out


def _single_modality(X, modality):
    """``X`` with every modality but ``modality`` hidden."""
    return MultiModalData(
        {m: X[m] if m == modality else np.full_like(X[m], np.nan) for m in X.modalities}
    )


def _nonlinear_shared_latent(n, seed):
    """Shared-latent data seen through a fixed random tanh layer per modality."""
    X = make_shared_latent(
        n, n_features={"a": 20, "b": 30, "c": 25, "d": 15}, n_components=6,
        noise=0.3, random_state=seed,
    )
    rng = np.random.default_rng(seed)
    return MultiModalData(
        {m: np.tanh(X[m] @ rng.normal(scale=0.3, size=(w, w))) for m, w in
         X.n_features.items()}
    )


# --- 1 + 4: anchor shift and training cost --------------------------------------------
def anchor_shift(X, rate, epochs, seed, name, timing=False):
    X_missing, hidden = make_missing_modalities(X, rate, random_state=seed,
                                                return_mask=True)
    lost = hidden.any(axis=1)
    rows = {}
    for label, emb in _embedders(epochs, seed).items():
        start, cpu = time.perf_counter(), time.process_time()
        emb.fit(X_missing)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        shift = np.linalg.norm(emb.transform(X) - emb.transform(X_missing), axis=1)
        calib = sum(h["dur"] for h in emb.calibration_history_)
        rows[label] = (shift[lost].mean(), np.median(shift[lost]), seconds, cpu, calib,
                       len(emb.calibration_history_))
    print(f"\n1. Anchor shift ||u(all) - u(observed)||, {name}, {rate:.0%} of slots "
          f"hidden, {lost.sum()} samples lost a modality, {epochs} epochs")
    print_table(["embedder", "mean shift", "median"],
                [[label, mean, median] for label, (mean, median, *_) in rows.items()])
    if timing:
        base = rows["CalMRL (calibrate=False)"][3]
        print(f"\n4. Training cost, {name} ({X.n_samples} samples), {epochs} epochs "
              "(wall and process CPU seconds; CPU time is less sensitive to load)")
        print_table(
            ["embedder", "wall s", "CPU s", "x uncal.", "CPU s/epoch", "refits",
             "EM wall s", "EM share"],
            [[label, f"{seconds:.1f}", f"{cpu:.1f}", f"{cpu / base:.2f}",
              f"{cpu / epochs:.3f}", n_refits, f"{calib:.2f}", f"{calib / seconds:.1%}"]
             for label, (_, _, seconds, cpu, calib, n_refits) in rows.items()],
        )
    return rows


# --- 2: linear probe ---------------------------------------------------------------------
def linear_probe(X, y, rate, epochs, n_folds, seed):
    X_missing = make_missing_modalities(X, rate, random_state=seed)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    embedders = _embedders(epochs, seed, clip=True)
    embedders["CalMRL temps .05/.1"] = CalMRLEmbedder(  # the reported temperatures
        singular_value_temperature=0.05, temperature=0.1, max_epochs=epochs,
        random_state=seed,
    )
    embedders["CalMRL PMRL inter loss"] = CalMRLEmbedder(  # anchors against anchors
        inter_loss="anchor_anchor", max_epochs=epochs, random_state=seed
    )
    methods = {label: embedding_probe(emb) for label, emb in embedders.items()}
    methods["zero-fill + indicators"] = zero_fill_probe()
    print(f"\n2. Linear probe on mfeat, {rate:.0%} of slots hidden, {n_folds}-fold CV "
          f"(embedders fitted on the training folds, {epochs} epochs)")
    rows, table = {}, []
    for label, pipe in methods.items():
        mean, std, seconds = cv_accuracy(pipe, X_missing, y, folds)
        rows[label] = (mean, std)
        table.append([label, mean, std, f"{seconds:.1f}"])
    print_table(["method", "accuracy", "std", "fit+probe s"], table)
    return rows


# --- 3: retrieval ----------------------------------------------------------------------
def retrieval(X, y, rate, epochs, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(X.n_samples)
    test, train = order[:500], order[500:]
    X_train = make_missing_modalities(X[train], rate, random_state=seed)
    X_test = X[test]
    modalities = X.modalities
    print(f"\n3. Cross-modal Recall@1 on mfeat: trained on {len(train)} samples with "
          f"{rate:.0%} of slots hidden, {len(test)} held-out complete samples, "
          f"{epochs} epochs")
    rows = {}
    for label, emb in _embedders(epochs, seed, clip=True).items():
        emb.fit(X_train)
        single = {m: emb.transform(_single_modality(X_test, m)) for m in modalities}
        recalls = np.array([
            [recall_at_k(single[a] @ single[b].T, 1) if a != b else np.nan
             for b in modalities] for a in modalities
        ])
        rows[label] = recalls
    print_table(["embedder", "mean R@1", "min pair", "max pair"], [
        [label, np.nanmean(r), np.nanmin(r), np.nanmax(r)] for label, r in rows.items()
    ])
    print("Recall@1 per query (row) -> candidate (column) modality, calibrated minus "
          "uncalibrated:")
    diff = rows["CalMRL (calibrated)"] - rows["CalMRL (calibrate=False)"]
    print(" " * 6 + "".join(f"{m:>7}" for m in modalities))
    for a, line in zip(modalities, diff):
        print(f"{a:<6}" + "".join("      -" if np.isnan(v) else f"{v:>+7.3f}"
                                  for v in line))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("shift", "probe", "retrieval"),
                        help="run one part: anchor shift + cost, probe or retrieval")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    epochs = 20 if args.quick else 100
    X, y = BENCHMARK_DATASETS["mfeat"](return_X_y=True)
    # warm-up: the first fit of a process pays torch's lazy imports and allocations
    for emb in _embedders(2, args.seed, clip=True).values():
        emb.fit(make_missing_modalities(X[:200], 0.5, random_state=args.seed))
    print(f"torch threads: {args.threads}; epochs: {epochs}; seed: {args.seed}")
    if args.only in (None, "shift"):
        anchor_shift(X, 0.5, epochs, args.seed, "mfeat", timing=True)
        if not args.quick:
            anchor_shift(_nonlinear_shared_latent(2000, args.seed), 0.3, epochs,
                         args.seed, "nonlinear shared-latent synthetic (4 modalities)")
    if args.only in (None, "probe"):
        linear_probe(X, y, 0.5, epochs, 2 if args.quick else 5, args.seed)
    if args.only in (None, "retrieval") and not args.quick:
        retrieval(X, y, 0.5, epochs, args.seed)


if __name__ == "__main__":
    main()
