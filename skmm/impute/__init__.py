"""skmm.impute."""

from ._calmrl_imputer import CalMRLImputer
from ._partial_kmeans_imputer import PartialModalityKMeansImputer

__all__ = ["CalMRLImputer", "PartialModalityKMeansImputer"]
