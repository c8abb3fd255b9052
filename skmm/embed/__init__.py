"""skmm.embed."""

from ._clip import PairwiseCLIPEmbedder
from ._coral import COrALEmbedder
from ._ovaib import OVAIBEmbedder

__all__ = ["COrALEmbedder", "OVAIBEmbedder", "PairwiseCLIPEmbedder"]
