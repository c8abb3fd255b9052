"""Bundled data, synthetic generators and missing-modality simulators."""

from ._mfeat import load_multiple_features
from ._missing import make_missing_modalities

__all__ = [
    "load_multiple_features",
    "make_missing_modalities",
]
