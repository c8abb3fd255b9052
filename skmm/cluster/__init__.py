"""skmm.cluster."""

__all__ = []
