"""
Clustering and completing incomplete multimodal data (UL4M4)
============================================================

:class:`~skmm.cluster.PartialModalityKMeans` clusters samples that lack whole
modalities without filling them first: distances are averaged over the modalities a
sample and a centre share. :class:`~skmm.impute.PartialModalityKMeansImputer` then
fills each missing modality from the centres. We hide half of the modality rows of the
bundled handwritten digits, cluster them, impute them and classify them.
"""

# %%
# Digits described by six modalities, half of the rows hidden
# ------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm.cluster import PartialModalityKMeans
from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.impute import PartialModalityKMeansImputer
from skmm.metrics import imputation_rmse

X, y = load_multiple_features(return_X_y=True)
X_missing, hidden = make_missing_modalities(X, 0.5, random_state=0, return_mask=True)
print(X_missing)

# %%
# Clustering without imputing
# ---------------------------
# Ten clusters on the incomplete data, against k-means on mean-imputed,
# standardised data. The adjusted Rand index compares the clusters with the digits.
km = PartialModalityKMeans(n_clusters=10, n_init=5, random_state=0).fit(X_missing)
print(f"PartialModalityKMeans: ARI {adjusted_rand_score(y, km.labels_):.3f}")
baseline = make_pipeline(SimpleImputer(), StandardScaler(), KMeans(10, random_state=0))
baseline_labels = baseline.fit_predict(X_missing)
print(f"mean imputation + KMeans: ARI {adjusted_rand_score(y, baseline_labels):.3f}")

# %%
# How each cluster's samples split over the digits.
table = np.zeros((10, 10))
np.add.at(table, (km.labels_, y), 1)
fig, ax = plt.subplots(figsize=(5, 4))
ax.imshow(table / table.sum(axis=1, keepdims=True), cmap="Blues")
ax.set_xlabel("digit")
ax.set_ylabel("cluster")
ax.set_title("Share of each cluster's samples per digit")
fig.tight_layout()

# %%
# Completing the missing modalities
# ---------------------------------
# The imputer clusters as above, then fills each missing modality row from the centre
# chosen by the greedy completion. Observed rows are returned unchanged. Errors are in
# units of each feature's standard deviation, on the hidden rows only.
imputer = PartialModalityKMeansImputer(n_clusters=32, random_state=0).fit(X_missing)
filled = imputer.transform(X_missing)
errors = {
    "mean": imputation_rmse(X, SimpleImputer().fit_transform(X_missing), hidden),
    "PartialModalityKMeansImputer": imputation_rmse(X, filled, hidden),
}
modalities = list(X.modalities)
fig, ax = plt.subplots(figsize=(7, 3.5))
for k, (name, rmse) in enumerate(errors.items()):
    ax.bar(np.arange(len(modalities)) + (k - 0.5) * 0.4, [rmse[m] for m in modalities],
           0.4, label=f"{name} (mean {rmse['overall']:.3f})")
ax.set_xticks(np.arange(len(modalities)), modalities)
ax.set_ylabel("RMSE on hidden rows (std units)")
ax.legend()
fig.tight_layout()

# %%
# Classifying the completed data
# ------------------------------
# The imputer goes first in a pipeline and is fitted on the training folds only. A
# ridge classifier keeps this example fast; the user guide reports the same comparison
# with LogisticRegression, where the two imputers are on par in accuracy.
for name, first in [("mean", SimpleImputer()), ("UL4M4", imputer)]:
    model = make_pipeline(first, StandardScaler(), RidgeClassifier())
    scores = cross_val_score(model, X_missing, y, cv=5)
    print(f"{name:>5} imputation: accuracy {scores.mean():.3f}")
