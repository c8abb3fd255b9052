"""skmm.cluster."""

from ._partial_kmeans import PartialModalityKMeans

__all__ = ["PartialModalityKMeans"]
