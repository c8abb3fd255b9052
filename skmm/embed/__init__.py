"""skmm.embed."""

__all__ = []
