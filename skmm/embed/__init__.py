"""skmm.embed."""

from ._coral import COrALEmbedder

__all__ = ["COrALEmbedder"]
