"""Displays in scikit-learn's style (matplotlib is optional; imported on first use)."""

from ._benchmark import BenchmarkDisplay
from ._missing_pattern import MissingPatternDisplay
from ._training_curve import TrainingCurveDisplay

__all__ = ["BenchmarkDisplay", "MissingPatternDisplay", "TrainingCurveDisplay"]
