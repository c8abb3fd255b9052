"""skmm.impute."""

from ._calmrl_imputer import CalMRLImputer

__all__ = ["CalMRLImputer"]
