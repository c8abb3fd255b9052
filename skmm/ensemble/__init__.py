"""Supervised meta-estimators for data with missing modalities."""

from ._late_fusion import LateFusionClassifier, LateFusionRegressor

__all__ = ["LateFusionClassifier", "LateFusionRegressor"]
