"""
Aligning six modalities with OVA-IB
===================================

:class:`~skmm.embed.OVAIBEmbedder` learns one unit-norm embedding per modality so that
each modality is predictable from the *span* of the others (One-vs-All sufficiency)
while staying close to their mean (minimality). Because all modalities land in the same
space, a classifier trained on the fused embedding of one set of modalities can be
applied to samples that have any other subset.

We train it and the pairwise CLIP baseline (:class:`~skmm.embed.PairwiseCLIPEmbedder`)
with their default parameters (40 epochs) on 500 complete "Multiple Features" digits
(six feature sets of the same handwritten digits), then test a linear probe with only
1, 2, ..., 6 modalities observed, and retrieve samples across modalities. To show how
much the training budget matters we also train both for 8 epochs only. The small
training set keeps the example fast; ``benchmarks/bench_ovaib.py`` runs the full
comparison (5 folds of 1600 training rows) reported in the user guide, and the landing
page's benchmark compares both embedders with the imputers on incomplete data.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.datasets import load_multiple_features
from skmm.embed import OVAIBEmbedder, PairwiseCLIPEmbedder
from skmm.metrics import recall_at_k

X, y = load_multiple_features(return_X_y=True)
train, test = train_test_split(np.arange(len(y)), train_size=500, test_size=1000,
                               stratify=y, random_state=0)
X_train, X_test = X[train], X[test]

embedders = {
    "OVA-IB": OVAIBEmbedder(random_state=0).fit(X_train),
    "pairwise CLIP": PairwiseCLIPEmbedder(random_state=0).fit(X_train),
}
short = {
    "OVA-IB": OVAIBEmbedder(max_epochs=8, random_state=0).fit(X_train),
    "pairwise CLIP": PairwiseCLIPEmbedder(max_epochs=8, random_state=0).fit(X_train),
}

# %%
# Modality-agnostic evaluation
# ----------------------------
# The probe is trained once, on the fused embedding of all six modalities, and tested
# on samples where only the first ``k`` modalities (in a shuffled order) are observed;
# the others are missing (all-NaN rows).


def keep(data, subset):
    return MultiModalData({
        m: data[m] if m in subset else np.full_like(data[m], np.nan)
        for m in data.modalities
    })


order = list(np.random.default_rng(0).permutation(X.modalities))
sizes = range(1, len(order) + 1)


def agnostic_accuracy(emb):
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(emb.transform(X_train), y[train])
    return [probe.score(emb.transform(keep(X_test, order[:k])), y[test]) for k in sizes]


fig, ax = plt.subplots(figsize=(5.5, 3.8))
for (name, emb), color in zip(embedders.items(), ["C0", "C1"]):
    for epochs, model, style in [(40, emb, "-"), (8, short[name], ":")]:
        accuracy = agnostic_accuracy(model)
        ax.plot(sizes, accuracy, style, color=color, marker="o",
                label=f"{name}, {epochs} epochs")
        print(f"{name:>13}, {epochs:2d} epochs: accuracy with 1..6 modalities "
              + " ".join(f"{a:.3f}" for a in accuracy) + f" (mean {np.mean(accuracy):.3f})")
ax.set_xticks(list(sizes), ["+".join(order[:k]) if k < 3 else f"+{order[k - 1]}"
                            for k in sizes], rotation=30)
ax.set_xlabel("modalities observed at test time")
ax.set_ylabel("accuracy (probe trained on all 6)")
ax.legend()
fig.tight_layout()

# %%
# What these numbers show
# -----------------------
# At the default 40 epochs OVA-IB is level with or above pairwise CLIP whatever the
# modalities observed (mean over the six sizes 0.957 against 0.952 on this split; the
# gap is largest with five modalities). After 8 epochs the order is reversed: CLIP has
# already peaked (mean 0.959, a little above its own 40-epoch model) while OVA-IB is
# still far below its 40-epoch accuracy (0.941). OVA-IB needs its training budget;
# CLIP gets there quickly. One split of 500 training rows is a small sample: the user
# guide's 5-fold comparison on 1600 rows (``benchmarks/bench_ovaib.py``, 40 epochs)
# finds the same order at the defaults, 0.945 against 0.926 with the probe trained on
# all six modalities.
#
# The landing page's benchmark measures something else: embedders trained *and* tested
# on data with 30%, 50% or 70% of the modality slots missing, the embedding plus the
# presence bits fed to the probe, 5 folds, beside imputers and simple baselines, every
# embedder at its default number of epochs. Its table says where OVA-IB and CLIP stand
# there, and by how much OVA-IB's lead exceeds the fold-to-fold spread at each rate; it
# tries no other training budget, so it cannot show CLIP's early peak seen here.

# %%
# Cross-modal retrieval
# ---------------------
# ``retrieval_scores`` scores each query (one modality) against each candidate. For
# OVA-IB the candidate side can be several modalities: the score is the cosine between
# the query embedding and its projection onto the span of the candidate's embeddings.
# OVA-IB's default temperature (0.5) favours class structure, which the probe above
# measures; retrieval wants sharper instance discrimination, so we also fit OVA-IB with
# ``temperature=0.2``. Recall@5 among the 1000 test samples (chance: 0.005):

embedders["OVA-IB, temperature 0.2"] = OVAIBEmbedder(temperature=0.2, random_state=0)
embedders["OVA-IB, temperature 0.2"].fit(X_train)
for name, emb in embedders.items():
    pix_to_fou = recall_at_k(emb.retrieval_scores(X_test, X_test, "pix", "fou"), 5)
    pix_to_rest = recall_at_k(emb.retrieval_scores(X_test, X_test, "pix"), 5)
    print(f"{name:>23}: pix -> fou {pix_to_fou:.3f}, "
          f"pix -> other five {pix_to_rest:.3f}")

# %%
# At its default temperature OVA-IB retrieves worse than CLIP (pix against the other
# five: 0.852 against 0.972 here). At ``temperature=0.2`` it is level with CLIP against
# the span of the five others (0.979 against 0.972) and still below it between two
# single modalities (pix -> fou: 0.107 against 0.148), as in the user guide's retrieval
# results.

plt.show()
