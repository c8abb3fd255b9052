"""COrALEmbedder: evidence for issue 5.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_coral.py --threads 1``
(``--quick`` for a smoke run, ``--only synthetic,mfeat,cost`` to pick parts).

1. Synthetic redundant / unique / synergistic set (make_redundant_unique_synergistic):
   balanced accuracy of a logistic-regression probe on the embedding for each target, for
   COrALEmbedder and for a plain pairwise-InfoNCE embedding of the same width trained the
   same way (same base class, optimiser, epochs, batch size; per-modality MLPs aligned by
   CLIP's symmetric InfoNCE, embedding = concatenated per-modality vectors). The
   embedders are fitted on a training split without labels; the probe is fitted on the
   training embeddings and scored on the test split. A probe on the raw features is the
   reference. Whether synergy emerges depends on the draw of the data and weights, so
   the set is drawn ``--seeds`` times (data and weights seeded alike); per-seed rows and
   the mean and minimum are printed.
2. mfeat with 50% of modality slots missing (MCAR, each sample keeps one): 5-fold
   accuracy of Pipeline(embedding + presence bits -> StandardScaler -> LogisticRegression),
   the embedder fitted on the training folds only, against zero-fill + indicators and
   against complete data (same folds, same probe).
3. Training cost: COrALEmbedder, 100 epochs on mfeat (2,000 x 6 modalities, 50% missing),
   seconds and samples/s; overhead of the base's training loop over a bare torch loop
   (same module, loss, batches, AdamW) for COrAL and for a small module, where the loop's
   bookkeeping weighs most.

Every figure is measured in one run on the same data; timings depend on the machine and
its load (torch's intra-op threads, ``--threads`` or torch's default, are reported).
"""

import argparse
import time

import numpy as np
from common import (
    cv_accuracy,
    embedding_probe,
    linear_probe,
    load_masked,
    median_time,
    print_table,
    zero_fill_probe,
)
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold

from skmm.datasets import make_redundant_unique_synergistic
from skmm.embed import COrALEmbedder
from skmm.embed import TorchEmbedder


class _PairwiseInfoNCE(TorchEmbedder):
    """Baseline: per-modality MLPs aligned by symmetric InfoNCE over observed pairs.

    ``transform`` concatenates the per-modality vectors (zero where missing): a linear
    probe on it is additive over modalities, like any cross-modal alignment embedding.
    """

    def __init__(self, embedding_dim=64, *, hidden_dim=256, temperature=0.1,
                 max_epochs=100, batch_size=256, lr=1e-3, weight_decay=1e-3,
                 device="cpu", random_state=None, verbose=0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False):
        super().__init__(max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                         weight_decay=weight_decay, device=device,
                         random_state=random_state, verbose=verbose,
                         early_stopping=early_stopping,
                         validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, tol=tol,
                         warm_start=warm_start)
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.temperature = temperature

    def build_module(self, n_features):
        from skmm.embed._modules import ModalityEncoders

        return ModalityEncoders(list(n_features.values()), self.hidden_dim,
                                self.embedding_dim)

    def batch_loss(self, module, xs, observed, *, epoch, generator):
        import torch

        from skmm.embed._losses import info_nce

        z = module(xs)
        terms = []
        M = observed.shape[1]
        for i in range(M):
            for j in range(i + 1, M):
                both = observed[:, i] & observed[:, j]
                if both.sum() >= 2:
                    terms.append(info_nce(z[both, i], z[both, j], self.temperature))
        loss = torch.stack(terms).mean() if terms else z.sum() * 0.0
        return loss, {"clip": loss}

    def encode(self, module, xs, observed):
        z = module(xs) * observed[:, :, None].to(xs[0].dtype)
        return z.reshape(z.shape[0], -1)

    def _feature_names(self):
        return [f"{m}__z{i}" for m in self.modalities_ for i in range(self.embedding_dim)]


# --- 1. synthetic ---------------------------------------------------------------------
_TARGETS = ("redundant", "unique", "synergistic")


def _synthetic_run(epochs, n_samples, seed):
    """Per-target probe scores of each embedding on one draw of the data (seed)."""
    X, targets = make_redundant_unique_synergistic(n_samples, random_state=seed)
    rng = np.random.RandomState(seed)
    perm = rng.permutation(n_samples)
    train, test = perm[: int(0.75 * n_samples)], perm[int(0.75 * n_samples):]
    coral = COrALEmbedder(max_epochs=epochs, random_state=seed)
    D = coral.embedding_dim
    width = D + 2 * (D // 2)  # COrAL's embedding width for two modalities
    clip = _PairwiseInfoNCE(width // 2, hidden_dim=coral.hidden_dim,
                            temperature=coral.temperature, max_epochs=epochs,
                            batch_size=coral.batch_size, lr=coral.lr,
                            weight_decay=coral.weight_decay, random_state=seed)
    embeddings = {}
    for name, est in [("COrALEmbedder", coral), ("pairwise InfoNCE", clip)]:
        seconds, Z = median_time(lambda: est.fit(X[train]).transform(X))
        embeddings[name] = (Z, seconds)
    embeddings["raw features (reference)"] = (np.asarray(X), 0.0)

    def score(Z, target, cols=slice(None)):
        y = targets[target]
        probe = linear_probe().fit(Z[train][:, cols], y[train])
        return balanced_accuracy_score(y[test], probe.predict(Z[test][:, cols]))

    scores = {name: ([score(Z, t) for t in _TARGETS], Z.shape[1], seconds)
              for name, (Z, seconds) in embeddings.items()}
    # where COrAL's synergy lives: the fused vector s, not the unique blocks u_m
    Z = embeddings["COrALEmbedder"][0]
    blocks = (score(Z, "synergistic", slice(0, D)),
              score(Z, "synergistic", slice(D, None)))
    return scores, blocks


def synthetic(epochs, n_samples, seeds):
    print(f"\n1. Synthetic set: {n_samples} samples, 2 modalities x 16 features, "
          f"{epochs} epochs; probe balanced accuracy on the held-out 25%; "
          f"{len(seeds)} draw(s) of data and weights (seeds {list(seeds)})")
    per_name, block_scores, table = {}, [], []
    for seed in seeds:
        scores, blocks = _synthetic_run(epochs, n_samples, seed)
        block_scores.append(blocks)
        for name, (values, width, seconds) in scores.items():
            per_name.setdefault(name, []).append(values)
            table.append([name, seed, width, *values, f"{seconds:.1f}"])
    print_table(["embedding", "seed", "width", *_TARGETS, "fit (s)"], table)
    print("\n   summary over seeds, mean (min):")
    print_table(["embedding", *_TARGETS], [
        [name] + [f"{m:.3f} ({lo:.3f})" for m, lo in zip(np.mean(r, 0), np.min(r, 0))]
        for name, r in per_name.items()
    ])
    s_block, u_block = np.asarray(block_scores).mean(0)
    print(f"   COrAL synergy probe, mean over seeds: shared block s {s_block:.3f}, "
          f"unique blocks u_m {u_block:.3f}")
    return per_name


# --- 2. mfeat --------------------------------------------------------------------------
def mfeat(epochs, seed=0):
    X, y, Xm, _ = load_masked("mfeat", 0.5, random_state=seed)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    rows = [
        ("complete data (reference)", linear_probe(), X),
        ("zero-fill + indicators", zero_fill_probe(), Xm),
        ("COrALEmbedder + presence bits",
         embedding_probe(COrALEmbedder(max_epochs=epochs, random_state=seed)), Xm),
    ]
    print(f"\n2. mfeat, 50% of modality slots missing (MCAR); 5-fold accuracy, "
          f"COrAL {epochs} epochs, fitted on the training folds")
    out, table = {}, []
    for name, est, data in rows:
        mean, std, seconds = cv_accuracy(est, data, y, cv)
        out[name] = mean
        table.append([name, mean, std, f"{seconds:.1f}"])
    print_table(["method", "accuracy", "std", "time (s)"], table, digits=4)
    return out


# --- 3. cost ---------------------------------------------------------------------------
def _bare_loop(est, X, epochs, seed=0):
    """CPU seconds of the same module, loss, batches and AdamW without the base's
    bookkeeping (validation, history, divergence checks, standardisation, setup)."""
    import torch

    from skmm.embed._base import _batch_sizes

    est._validate_multimodal(X, reset=True)
    est._set_standardization(X)
    data = est._to_tensors(X, "cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = est.build_module(dict(est.n_features_per_modality_))
    optimizer = est._make_optimizer(module)  # AdamW, the same parameter groups
    generator = torch.Generator().manual_seed(seed)
    sizes = _batch_sizes(data.n_samples, est._batch_size(data.n_samples))
    start = time.process_time()
    for _ in range(epochs):
        perm = torch.randperm(data.n_samples, generator=generator)
        for rows in perm.split(sizes):
            loss, _ = est.batch_loss(module, [t[rows] for t in data.tensors],
                                     data.observed[rows], epoch=1, generator=generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return time.process_time() - start


def cost(epochs, overhead_epochs, seed=0):
    import torch

    Xm = load_masked("mfeat", 0.5, random_state=seed).X_missing
    n = Xm.n_samples
    print(f"\n3. Training cost on mfeat ({n} x {len(Xm.modalities)} modalities, 50% "
          f"missing), torch {torch.__version__}, {torch.get_num_threads()} intra-op "
          "threads")
    est = COrALEmbedder(max_epochs=epochs, random_state=seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    est.fit(Xm)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"   COrALEmbedder, {epochs} epochs (defaults): {seconds:.1f} s wall, "
          f"{n * epochs / seconds:.0f} samples/s, {seconds / epochs:.3f} s/epoch; "
          f"{cpu:.1f} s of CPU time ({n * epochs / cpu:.0f} samples per CPU second)")
    seconds, _ = median_time(lambda: est.transform(Xm))
    print(f"   transform of {n} rows: {seconds:.3f} s")

    # CPU time of the process: less sensitive than wall time to other processes on a
    # loaded machine (with one intra-op thread it is close to an idle core's wall time)
    print(f"   base loop (whole fit) vs bare torch loop, {overhead_epochs} epochs each, "
          "CPU seconds, best of 3, alternating:")
    table = []
    for name, make in [
        ("COrAL network", lambda: COrALEmbedder(max_epochs=overhead_epochs,
                                                random_state=seed)),
        ("small pairwise-InfoNCE MLPs", lambda: _PairwiseInfoNCE(
            8, hidden_dim=16, max_epochs=overhead_epochs, random_state=seed)),
    ]:
        base, bare = [], []
        for repeat in range(3):
            if repeat % 2:
                bare.append(_bare_loop(make(), Xm, overhead_epochs, seed))
            est = make()
            start = time.process_time()
            est.fit(Xm)
            base.append(time.process_time() - start)
            if not repeat % 2:
                bare.append(_bare_loop(make(), Xm, overhead_epochs, seed))
        b, r = min(base), min(bare)
        table.append([name, b, r, f"{100 * (b / r - 1):+.1f}%"])
    print_table(["module", "base (s)", "bare (s)", "overhead"], table, digits=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and rows")
    parser.add_argument("--only", default="synthetic,mfeat,cost",
                        help="comma-separated parts to run")
    parser.add_argument("--seeds", type=int, default=None,
                        help="draws of the synthetic set (default: 3, 1 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    parts = set(args.only.split(","))
    epochs = 20 if args.quick else 100
    if "synthetic" in parts:
        n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
        synthetic(epochs, 1000 if args.quick else 2000, range(n_seeds))
    if "mfeat" in parts:
        mfeat(epochs)
    if "cost" in parts:
        cost(epochs, 3 if args.quick else 10)


if __name__ == "__main__":
    main()
