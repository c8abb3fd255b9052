"""Validation and small shared helpers."""

from ._validation import check_modality_param, check_multimodal
from .discovery import all_estimators

__all__ = ["all_estimators", "check_modality_param", "check_multimodal"]
