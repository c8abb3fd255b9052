"""Bundled data, synthetic generators and missing-modality simulators."""

from ._mfeat import load_multiple_features
from ._missing import make_missing_modalities
from ._nutrimouse import load_nutrimouse
from ._registry import BENCHMARK_DATASETS
from ._shared_latent import make_shared_latent
from ._sklearn_views import (
    load_breast_cancer_views,
    load_diabetes_views,
    load_digits_views,
)
from ._synergy import make_redundant_unique_synergistic

__all__ = [
    "BENCHMARK_DATASETS",
    "load_breast_cancer_views",
    "load_diabetes_views",
    "load_digits_views",
    "load_multiple_features",
    "load_nutrimouse",
    "make_missing_modalities",
    "make_redundant_unique_synergistic",
    "make_shared_latent",
]
