"""skmm.impute."""

__all__ = []
