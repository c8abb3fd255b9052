"""skmm: scikit-learn estimators for multimodal data with missing modalities.

Estimators live in subpackages (:mod:`skmm.cluster`, :mod:`skmm.impute`,
:mod:`skmm.embed`, :mod:`skmm.compose`); this namespace holds the data container and
:func:`show_versions` (for bug reports).
"""

from ._data import MultiModalData
from .utils._show_versions import show_versions

__version__ = "0.2.dev0"

__all__ = ["MultiModalData", "__version__", "show_versions"]
