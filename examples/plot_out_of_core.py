"""
Out of core: fitting on Dask arrays block by block
==================================================

Data too large for memory usually live in Zarr, HDF5 or NumPy memmaps, opened as
``dask.array`` arrays cut into row blocks. skmm's closed-form models take such
modalities as they are: :class:`~skmm.impute.CalMRLImputer`'s EM and
:class:`~skmm.cluster.PartialModalityKMeans`' Lloyd iterations are sums over rows, so
each pass reads one block at a time, reduces it to a few statistics and adds them up,
on whatever Dask scheduler is active (threads here; a ``dask.distributed`` cluster
the same way). Their outputs are lazy Dask arrays, computed block by block. The torch
embedders stream the blocks through ``partial_fit``.

Here mfeat (2,000 samples, six modalities, 40% of the modality rows missing) is cut
into blocks of 250 rows, small enough to show the mechanics; the fits are compared
with the same fits in memory.
"""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmm import MultiModalData
from skmm.cluster import PartialModalityKMeans
from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.embed import PairwiseCLIPEmbedder
from skmm.impute import CalMRLImputer

X, y = load_multiple_features(return_X_y=True)
X = make_missing_modalities(X, 0.4, random_state=0)
lazy = MultiModalData({m: da.from_array(a, chunks=(250, -1)) for m, a in X.items()})
print(lazy)

# %%
# The EM of the shared-latent imputer over the blocks
# ---------------------------------------------------
# The fit reads the blocks once per EM iteration (plus the validation scan and two
# passes for the standardisation); it follows the in-memory fit step for step.
blocks = CalMRLImputer(n_components=16, random_state=0).fit(lazy)
memory = CalMRLImputer(n_components=16, random_state=0).fit(X)
gap = np.abs(blocks.log_likelihood_ - memory.log_likelihood_).max()
print(f"EM iterations: {blocks.n_iter_} (in memory {memory.n_iter_}); largest "
      f"log-likelihood difference {gap:.1e}")

filled = blocks.transform(lazy)  # lazy: nothing is computed yet
print(type(filled["fou"]).__name__, filled["fou"].shape, "in",
      len(filled["fou"].chunks[0]), "blocks")
same = max(np.abs(filled[m].compute() - memory.transform(X)[m]).max()
           for m in X.modalities)
print(f"largest difference from the in-memory imputation: {same:.1e}")

# %%
# k-means over the blocks
# -----------------------
# Every Lloyd iteration is one pass; below 100,000 samples k-means++ seeds from every
# row, exactly as in memory, so the clusterings are the same.
kmeans = PartialModalityKMeans(n_clusters=10, random_state=0).fit(lazy)
in_memory = PartialModalityKMeans(n_clusters=10, random_state=0).fit(X)
print("same labels as in memory:", np.array_equal(kmeans.labels_, in_memory.labels_))
labels = kmeans.predict(lazy).compute()

# %%
# An embedder streamed through ``partial_fit``
# --------------------------------------------
# Each ``partial_fit`` call on Dask modalities trains one epoch on each block in turn;
# ``transform`` is lazy again. A linear probe scores the embedding.
embedder = PairwiseCLIPEmbedder(random_state=0)
for _ in range(8):
    embedder.partial_fit(lazy)
Z = embedder.transform(lazy).compute()
train, test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y,
                               random_state=0)
probe = LogisticRegression(max_iter=2000).fit(Z[train], y[train])
print(f"probe accuracy on the streamed embedding: {probe.score(Z[test], y[test]):.3f}")

# %%
# The two EM fits, iteration by iteration
# ---------------------------------------
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(memory.log_likelihood_, marker="o", label="in memory")
ax.plot(blocks.log_likelihood_, marker="x", linestyle="--", label="8 blocks (Dask)")
ax.set(xlabel="EM iteration", ylabel="mean log-likelihood")
ax.legend()
fig.tight_layout()
plt.show()
