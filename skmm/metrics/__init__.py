"""Imputation errors, retrieval recall and scorers."""

from ._imputation import imputation_rmse, make_imputation_scorer
from ._retrieval import recall_at_k

__all__ = ["imputation_rmse", "make_imputation_scorer", "recall_at_k"]
