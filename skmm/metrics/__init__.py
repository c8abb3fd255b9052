"""Imputation errors and scorers."""

from ._imputation import imputation_rmse, make_imputation_scorer

__all__ = ["imputation_rmse", "make_imputation_scorer"]
