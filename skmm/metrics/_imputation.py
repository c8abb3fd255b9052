"""Imputation error on hidden modality rows, and a scorer to cross-validate imputers."""

import numpy as np

from .._data import MultiModalData
from ..utils._validation import check_multimodal

__all__ = ["imputation_rmse", "make_imputation_scorer"]


def imputation_rmse(X_true, X_imputed, hidden, *, standardize=True):
    """Root-mean-square error of imputed modality rows against the truth.

    Parameters
    ----------
    X_true : MultiModalData or dict of arrays
        Ground truth (observed on every row counted).
    X_imputed : MultiModalData, dict of arrays or 2-D array
        Imputer output with the same modalities (a 2-D array is split by the widths of
        ``X_true``).
    hidden : ndarray of shape (n_samples, n_modalities) or MultiModalData
        Which rows were hidden (True = hidden), e.g. the mask returned by
        :func:`~skmm.datasets.make_missing_modalities`; or the masked data, in which case
        the hidden rows are those observed in ``X_true`` and missing in it.
    standardize : bool, default=True
        Divide errors by each feature's standard deviation in ``X_true`` (so modalities
        of different scales are comparable); False gives raw units.

    Returns
    -------
    dict
        ``{modality: rmse}`` over the hidden rows of each modality (NaN if none), plus
        ``"overall"``: the mean over modalities with hidden rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.metrics import imputation_rmse
    >>> truth = {"a": np.array([[0.0], [2.0]])}
    >>> imputation_rmse(truth, {"a": np.array([[0.0], [1.0]])}, np.array([[False], [True]]))
    {'a': 1.0, 'overall': 1.0}
    """
    X_true = check_multimodal(X_true)
    if not isinstance(X_imputed, dict | MultiModalData) and np.ndim(X_imputed) == 2:
        X_imputed = MultiModalData.from_array(np.asarray(X_imputed), X_true.n_features)
    X_imputed = check_multimodal(
        X_imputed, modalities=X_true.modalities, n_features=X_true.n_features
    )
    if isinstance(hidden, dict | MultiModalData):
        masked = check_multimodal(hidden, modalities=X_true.modalities)
        hidden = X_true.observed & ~masked.observed
    hidden = np.asarray(hidden, dtype=bool)
    if hidden.shape != (X_true.n_samples, len(X_true.modalities)):
        raise ValueError(
            f"hidden must have shape {(X_true.n_samples, len(X_true.modalities))}; "
            f"got {hidden.shape}."
        )
    scores = {}
    for j, m in enumerate(X_true.modalities):
        rows = hidden[:, j]
        if not rows.any():
            scores[m] = float("nan")
            continue
        truth, guess = X_true[m][rows], X_imputed[m][rows]
        if np.isnan(truth).any():
            raise ValueError(f"X_true has missing rows of modality {m!r} marked hidden.")
        if np.isnan(guess).any():
            raise ValueError(f"X_imputed leaves hidden rows of modality {m!r} missing.")
        err = guess - truth
        if standardize:
            scale = np.nanstd(X_true[m], axis=0)
            err = err / np.where(scale > 0, scale, 1.0)
        scores[m] = float(np.sqrt(np.mean(err**2)))
    valid = [v for v in scores.values() if not np.isnan(v)]
    scores["overall"] = float(np.mean(valid)) if valid else float("nan")
    return scores


def make_imputation_scorer(rate=0.2, *, random_state=0, standardize=True):
    """A scorer that hides observed modalities, imputes them and returns -RMSE.

    With it, ``GridSearchCV(imputer, grid, scoring=make_imputation_scorer())`` or
    ``cross_val_score`` tunes and compares imputers with no labels and no ground truth:
    on each validation fold, a further ``rate`` of the observed modality slots is hidden
    (every sample keeps one), the fitted imputer fills them, and the score is minus
    the RMSE against the hidden values (higher is better).

    Parameters
    ----------
    rate : float or dict, default=0.2
        Share of observed slots to hide, per modality if a dict.
    random_state : int, default=0
        Seed of the hiding mask; fixed so that every candidate is scored on the same rows.
    standardize : bool, default=True
        See :func:`imputation_rmse`.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None) -> float``.
    """
    from ..datasets import make_missing_modalities

    def imputation_scorer(estimator, X, y=None):
        X_val = check_multimodal(X)
        X_masked, hidden = make_missing_modalities(
            X_val, rate, random_state=random_state, return_mask=True
        )
        X_filled = estimator.transform(X_masked)
        return -imputation_rmse(X_val, X_filled, hidden, standardize=standardize)["overall"]

    return imputation_scorer
