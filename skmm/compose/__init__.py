"""Per-modality transformers, presence indicators and modality selection."""

from ._indicator import MissingModalityIndicator
from ._modality_transformer import ModalityTransformer
from ._selector import ModalitySelector

__all__ = ["MissingModalityIndicator", "ModalitySelector", "ModalityTransformer"]
