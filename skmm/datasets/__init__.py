"""Bundled data, synthetic generators and missing-modality simulators."""

from ._mfeat import load_multiple_features
from ._missing import make_missing_modalities
from ._shared_latent import make_shared_latent
from ._synergy import make_redundant_unique_synergistic

__all__ = [
    "load_multiple_features",
    "make_missing_modalities",
    "make_redundant_unique_synergistic",
    "make_shared_latent",
]
