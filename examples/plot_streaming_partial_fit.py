"""
Training an embedder on a stream of chunks with ``partial_fit``
===============================================================

When the data arrive in chunks (files, database pages, a data loader) that are not held
in memory together, every torch embedder of skmm can be trained with ``partial_fit``:
each call runs one epoch over the chunk it is given and keeps the model, the optimiser's
state and the training history between calls. The first call fixes the modalities and
the per-modality standardisation, so the first chunk should be representative.

Here the bundled mfeat digits, with 30% of the modality rows missing, are streamed in
chunks of 300 samples, several passes over the training set, and a linear probe scores
the embedding after every pass. One ``fit`` call with as many epochs on the whole
training set is the reference.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.embed import OVAIBEmbedder
from skmm.plotting import TrainingCurveDisplay

X, y = load_multiple_features(return_X_y=True)
X = make_missing_modalities(X, 0.3, random_state=0)
train, test = train_test_split(
    np.arange(len(y)), test_size=0.25, stratify=y, random_state=0
)
X_train, X_test, y_train, y_test = X[train], X[test], y[train], y[test]


def chunks(X, chunk_size, rng):
    """One pass over ``X`` in shuffled chunks, as a data loader would give them."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), chunk_size):
        yield X[order[start:start + chunk_size]]


def probe_accuracy(embedder):
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(embedder.transform(X_train), y_train)
    return probe.score(embedder.transform(X_test), y_test)


# %%
# Stream the chunks
# -----------------
# ``partial_fit`` is called once per chunk; after each pass over the training set the
# embedding is probed.
n_passes = 6
rng = np.random.default_rng(0)
streamed = OVAIBEmbedder(random_state=0)
accuracy_per_pass = []
for _ in range(n_passes):
    for chunk in chunks(X_train, 300, rng):
        streamed.partial_fit(chunk)
    accuracy_per_pass.append(probe_accuracy(streamed))
print(f"partial_fit calls: {streamed.n_iter_}; accuracy per pass: "
      + ", ".join(f"{a:.3f}" for a in accuracy_per_pass))

# %%
# The same number of epochs with one ``fit`` on the whole training set:
full = OVAIBEmbedder(max_epochs=n_passes, random_state=0).fit(X_train)
print(f"fit on the whole training set, {n_passes} epochs: {probe_accuracy(full):.3f}")

# %%
# Training curves
# ---------------
# One point per ``partial_fit`` call (one epoch over one chunk) on the left; the probe's
# accuracy after each pass on the right.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
TrainingCurveDisplay.from_estimator(streamed, ax=ax_loss)
ax_loss.set_xlabel("partial_fit call (chunk)")
ax_acc.plot(np.arange(1, n_passes + 1), accuracy_per_pass, marker="o", label="partial_fit")
ax_acc.axhline(probe_accuracy(full), color="grey", linestyle="--", label="fit")
ax_acc.set(xlabel="pass over the training set", ylabel="probe accuracy")
ax_acc.legend()
fig.tight_layout()
plt.show()
