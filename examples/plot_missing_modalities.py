"""
Incomplete multimodal data in scikit-learn pipelines
=====================================================

Load the bundled digits (six modalities), hide modality rows, look at the missing
pattern, and cross-validate pipelines on the incomplete data.
"""

# %%
# A multimodal data set with holes
# --------------------------------
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler

from skmm.compose import MissingModalityIndicator
from skmm.datasets import load_multiple_features, make_missing_modalities
from skmm.plotting import MissingPatternDisplay

X, y = load_multiple_features(return_X_y=True)
X_missing = make_missing_modalities(X, 0.5, random_state=0)
print(X_missing)

# %%
# Each row is a sample, each column a modality; dark cells are observed.
MissingPatternDisplay.from_data(X_missing)

# %%
# Cross-validation splits the container by rows
# ----------------------------------------------
# ``MultiModalData`` behaves like a 2-D array for scikit-learn, so a plain pipeline
# (here: standardise, fill with zeros, append presence bits) cross-validates as usual.
baseline = make_pipeline(
    make_union(
        make_pipeline(StandardScaler(), SimpleImputer(strategy="constant", fill_value=0)),
        MissingModalityIndicator(),
    ),
    LogisticRegression(max_iter=1000),
)
scores = cross_val_score(baseline, X_missing, y, cv=3)
print(f"zero fill + indicators: {scores.mean():.3f} +- {scores.std():.3f}")
