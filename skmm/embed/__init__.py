"""skmm.embed."""

from ._base import TorchEmbedder
from ._calmrl import CalMRLEmbedder
from ._clip import PairwiseCLIPEmbedder
from ._coral import COrALEmbedder
from ._ovaib import OVAIBEmbedder

__all__ = [
    "CalMRLEmbedder", "COrALEmbedder", "OVAIBEmbedder", "PairwiseCLIPEmbedder",
    "TorchEmbedder",
]
