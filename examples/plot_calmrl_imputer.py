"""
Imputing missing modalities with a shared latent (CalMRLImputer)
================================================================

:class:`~skmm.impute.CalMRLImputer` fits one Gaussian latent shared by all modalities
by closed-form EM, then fills each missing modality with its posterior predictive mean.
We hide half of the modality rows of the bundled digits, compare the imputation error
with mean imputation, pick the latent size by held-out likelihood (no labels, shuffled
folds: the bundled rows are sorted by digit), and look at the predictive uncertainty and
multiple imputations. ``benchmarks/bench_calmrl.py``
compares it with ``KNNImputer`` and ``IterativeImputer`` as well.
"""

# %%
# Data with half of the modality rows hidden
# ------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skmm import MultiModalData
from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.impute import CalMRLImputer
from skmm.metrics import imputation_rmse, make_imputation_scorer

X, y = load_multiple_features(return_X_y=True)
X_missing, hidden = make_missing_modalities(X, 0.5, random_state=0, return_mask=True)
print(X_missing)

# %%
# Imputation error on the hidden rows
# -----------------------------------
# Errors are in units of each feature's standard deviation, per modality.
imputer = CalMRLImputer(n_components=32, random_state=0).fit(X_missing)
print(f"EM iterations: {imputer.n_iter_}, converged: {imputer.converged_}")

errors = {
    "mean": SimpleImputer().fit_transform(X_missing),
    "CalMRL": imputer.transform(X_missing),
}
errors = {
    name: imputation_rmse(X, MultiModalData.from_array(np.asarray(out), X.n_features),
                          hidden)
    for name, out in errors.items()
}
modalities = list(X.modalities)
width = 0.4
fig, ax = plt.subplots(figsize=(7, 3.5))
for k, (name, rmse) in enumerate(errors.items()):
    ax.bar(np.arange(len(modalities)) + (k - 0.5) * width, [rmse[m] for m in modalities],
           width, label=f"{name} (mean {rmse['overall']:.3f})")
ax.set_xticks(np.arange(len(modalities)), modalities)
ax.set_ylabel("RMSE on hidden rows (std units)")
ax.set_ylim(0, 1.3)
ax.legend(ncol=2, loc="upper center")
fig.tight_layout()

# %%
# The log-likelihood rises at every EM iteration
# ----------------------------------------------
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(imputer.log_likelihood_, marker="o")
ax.set_xlabel("EM iteration")
ax.set_ylabel("mean log-likelihood per sample")
fig.tight_layout()

# %%
# Choosing the latent size by held-out likelihood
# -----------------------------------------------
# ``score`` is the mean observed-data log-likelihood, so ``GridSearchCV`` needs no
# labels. The bundled rows are sorted by digit, and with no ``y`` an integer ``cv`` is
# an unshuffled ``KFold``: pass shuffled folds (next section shows why). Here the
# held-out likelihood still rises at the largest size tried (see the user guide's
# caution about standardised data with heteroscedastic noise).
folds = KFold(3, shuffle=True, random_state=0)
search = GridSearchCV(
    CalMRLImputer(random_state=0), {"n_components": [8, 16, 32, 48, 64]}, cv=folds
).fit(X_missing)
print("best n_components:", search.best_params_["n_components"])
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(search.cv_results_["param_n_components"].data.astype(int),
        search.cv_results_["mean_test_score"], marker="o")
ax.set_xlabel("n_components")
ax.set_ylabel("held-out log-likelihood")
fig.tight_layout()

# %%
# Label-free cross-validation needs shuffled folds
# ------------------------------------------------
# :func:`~skmm.metrics.make_imputation_scorer` hides a further 20% of the observed
# modality rows of each validation fold and scores minus the RMSE of their imputation.
# With the rows in the files' order, ``KFold(5)`` validates on two digits the imputer
# never saw in training, and every imputer looks much worse than it is.
scorer = make_imputation_scorer(rate=0.2, random_state=0)
splits = {"sorted KFold(5)": KFold(5),
          "shuffled KFold(5)": KFold(5, shuffle=True, random_state=0)}
methods = [
    ("mean", SimpleImputer()),
    ("CalMRL", CalMRLImputer(n_components=32, random_state=0)),
]
for name, est in methods:
    for split, cv in splits.items():
        rmse = -cross_val_score(est, X_missing, scoring=scorer, cv=cv)
        line = f"{name:>6}, {split}: held-out imputation RMSE {rmse.mean():.3f}"
        if hasattr(est, "score"):  # CalMRLImputer's held-out log-likelihood as well
            line += f", log-likelihood {cross_val_score(est, X_missing, cv=cv).mean():.1f}"
        print(line)
# ``load_multiple_features(shuffle=True, random_state=0)`` permutes the rows once
# instead, so that any splitter sees every digit in every fold.

# %%
# Predictive uncertainty and multiple imputation
# ----------------------------------------------
# ``transform(X, return_std=True)`` gives the predictive standard deviation of each
# imputed entry; ``sample_imputations`` draws complete data sets from the posterior.
# The error of an entry grows with its predicted standard deviation.
filled, std = imputer.transform(X_missing, return_std=True)
rows = hidden[:, modalities.index("pix")]
scale = X["pix"].std(axis=0)
err = np.abs(filled["pix"][rows] - X["pix"][rows]).mean(axis=1) / scale.mean()
predicted = std["pix"][rows].mean(axis=1) / scale.mean()
draws = imputer.sample_imputations(X_missing, n_imputations=20, random_state=0)
spread = np.std([d["pix"][rows] for d in draws], axis=0).mean(axis=1) / scale.mean()

fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
axes[0].scatter(predicted, err, s=6, alpha=0.5)
axes[0].set_xlabel("predicted std (pix, mean per row)")
axes[0].set_ylabel("absolute error (mean per row)")
axes[1].scatter(predicted, spread, s=6, alpha=0.5)
axes[1].plot([predicted.min(), predicted.max()], [predicted.min(), predicted.max()], "k--")
axes[1].set_xlabel("predicted std")
axes[1].set_ylabel("std over 20 draws")
fig.tight_layout()
plt.show()
