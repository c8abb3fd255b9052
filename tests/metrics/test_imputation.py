import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV

from skmm import MultiModalData
from skmm.compose import ModalityTransformer
from skmm.datasets import make_missing_modalities
from skmm.metrics import imputation_rmse, make_imputation_scorer


def test_rmse_per_modality_in_standard_units():
    truth = MultiModalData(a=np.array([[0.0], [2.0], [4.0]]), b=np.ones((3, 2)))
    guess = MultiModalData(a=np.array([[0.0], [2.0], [1.0]]), b=np.ones((3, 2)))
    hidden = np.array([[False, False], [False, False], [True, False]])
    raw = imputation_rmse(truth, guess, hidden, standardize=False)
    assert raw["a"] == 3.0 and np.isnan(raw["b"]) and raw["overall"] == 3.0
    std = imputation_rmse(truth, guess, hidden)
    assert std["a"] == pytest.approx(3.0 / np.std([0.0, 2.0, 4.0]))
    masked = MultiModalData(a=np.array([[0.0], [2.0], [np.nan]]), b=np.ones((3, 2)))
    assert imputation_rmse(truth, np.asarray(guess), masked)["a"] == std["a"]


def test_unfilled_rows_are_an_error():
    truth = {"a": np.ones((2, 1))}
    with pytest.raises(ValueError, match="'a'"):
        imputation_rmse(
            truth, {"a": np.array([[1.0], [np.nan]])}, np.array([[False], [True]])
        )


class _MeanImputer(ModalityTransformer):
    """Column-mean fill through the stacked array (a test double for an imputer)."""

    def transform(self, X):
        X = MultiModalData(X)
        stacked = np.asarray(X)
        filled = SimpleImputer(keep_empty_features=True).fit(stacked).transform(stacked)
        return MultiModalData.from_array(filled, X.n_features)


def test_masking_scorer_cross_validates_without_labels():
    rng = np.random.default_rng(0)
    X = make_missing_modalities(
        MultiModalData(a=rng.normal(size=(90, 3)), b=rng.normal(size=(90, 2))),
        0.2,
        random_state=0,
    )
    search = GridSearchCV(_MeanImputer(), {"remainder": ["passthrough"]}, cv=3,
                          scoring=make_imputation_scorer(0.3))
    search.fit(X)
    assert -1.5 < search.best_score_ < -0.5
